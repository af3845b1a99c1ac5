/* env_secret.c - secrets from NAME or NAME_FILE (see env_secret.h). */
#include "env_secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A secret file is small; anything bigger is the wrong file. */
#define ENV_SECRET_MAX 65536

static const char *env_text(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL;
}

static int read_secret_file(const char *var, const char *path, char **out, char *err,
                            size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "environment %s: cannot read %s: %s", var, path,
                 strerror(errno));
        return -1;
    }
    char *buf = malloc(ENV_SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, ENV_SECRET_MAX + 1, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed || n > ENV_SECRET_MAX || n == 0) {
        snprintf(err, errlen, "environment %s: %s is %s", var, path,
                 !buf     ? "not readable (out of memory)"
                 : failed ? "not readable"
                 : n == 0 ? "empty: put the secret in it"
                          : "larger than 64 KiB: is it the "
                            "right file?");
        free(buf);
        return -1;
    }
    if (buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    return 0;
}

int env_secret(const char *name, char **out, char *err, size_t errlen)
{
    char file_var[128];
    snprintf(file_var, sizeof file_var, "%s_FILE", name);
    const char *direct = env_text(name);
    const char *path = env_text(file_var);
    *out = NULL;
    if (direct && path) {
        snprintf(err, errlen,
                 "both %s and %s are set: keep one (the file, %s, keeps the "
                 "secret out of the environment)",
                 name, file_var, path);
        return -1;
    }
    if (path)
        return read_secret_file(file_var, path, out, err, errlen) == 0 ? 1 : -1;
    if (direct && !(*out = strdup(direct))) {
        snprintf(err, errlen, "environment %s: out of memory", name);
        return -1;
    }
    return 0;
}
