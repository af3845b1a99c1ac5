/*
 * config_defaults.c - where configuration and data live by default, and the
 * one sequence that turns a directory plus the environment into the
 * effective configuration. Shared by ald-engine and aldctl so both always
 * read the same thing.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef ALD_SRCDIR
#define ALD_SRCDIR "."
#endif
#ifndef ALD_SYSCONFDIR
#define ALD_SYSCONFDIR "/etc"
#endif
#ifndef ALD_LOCALSTATEDIR
#define ALD_LOCALSTATEDIR "/var"
#endif

/* Whether the running program sits in a build tree (config.status beside it). */
static int in_build_tree(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    snprintf(slash, sizeof exe - (size_t)(slash - exe), "/config.status");
    return access(exe, F_OK) == 0;
}

const char *config_default_dir(void)
{
    return in_build_tree() ? ALD_SRCDIR "/conf.d" : ALD_SYSCONFDIR "/ald/conf.d";
}

const char *config_default_data_dir(void)
{
    return in_build_tree() ? "./data" : ALD_LOCALSTATEDIR "/lib/ald";
}

int config_load_effective(engine_config *cfg, const char *dir, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (!dir)
        dir = config_default_dir();
    if (config_load_dir(cfg, dir, err, errlen) != 0 || config_apply_env(cfg, err, errlen) != 0 ||
        config_validate(cfg, err, errlen) != 0)
        return -1;
    const char *data_dir = cfg->data_dir ? cfg->data_dir : config_default_data_dir();
    return config_set_plugin_defaults(cfg, data_dir, err, errlen);
}
