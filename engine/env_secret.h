/*
 * env_secret.h - a secret from the environment, directly (NAME) or from a
 * file (NAME_FILE, e.g. a Docker/compose secret in /run/secrets), so the
 * value never has to sit in the container's environment (`docker inspect`).
 *
 * The file's content is the value, minus one trailing newline ("\n" or
 * "\r\n"). Setting both NAME and NAME_FILE is an error (which one wins would
 * be a guess). Messages name the variable and the path, never the value.
 */
#ifndef ALD_ENGINE_ENV_SECRET_H
#define ALD_ENGINE_ENV_SECRET_H

#include <stddef.h>

/* *out = a malloc'd copy of the value, or NULL when neither is set (an empty
 * variable counts as unset). 0 (from NAME, or unset), 1 (from NAME_FILE), or
 * -1 with a message in err. */
int env_secret(const char *name, char **out, char *err, size_t errlen);

#endif
