/*
 * config_env.c - the environment overrides: engine settings (MACHINE_ID,
 * LOG_LEVEL, ...) and plugin settings, each parsed and checked before
 * anything changes, so a bad variable leaves the configuration as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"
#include "log.h"

/* ---- environment overrides ------------------------------------------------ */

/* Environment values, parsed and checked before anything changes, so a bad
 * variable leaves the configuration as it was. */
typedef struct env_overrides {
    const char *machine_id, *plc_type, *data_dir, *plugin_dir;
    int log_level;            /* -1: not set */
    long status_log_interval; /* -1: not set */
    const char *plc_host, *plc_host_origin;
    long plc_port; /* 0: not set */
    char byte_order[8];
    const char *supabase_url, *supabase_key;
} env_overrides;

static const char *env_value(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL; /* empty = unset (compose env files) */
}

static int parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int read_engine_env(env_overrides *env, char *err, size_t errlen)
{
    const char *text;
    env->machine_id = env_value("MACHINE_ID");
    if (env->machine_id && !cfg_is_uuid(env->machine_id))
        return cfg_fail(err, errlen,
                    "environment MACHINE_ID is not a UUID (expected the machines.id, e.g. "
                    "%s)",
                    DEFAULT_MACHINE_ID);
    env->log_level = -1;
    if ((text = env_value("LOG_LEVEL")) && (env->log_level = log_level_parse(text)) < 0)
        return cfg_fail(err, errlen,
                    "environment LOG_LEVEL=%s is not a log level: use error, warning, info "
                    "or debug",
                    text);
    env->status_log_interval = -1;
    if ((text = env_value("STATUS_LOG_INTERVAL")) &&
        parse_long(text, 0, 86400L * 365, &env->status_log_interval))
        return cfg_fail(err, errlen,
                    "environment STATUS_LOG_INTERVAL=%s must be a whole number of seconds "
                    ">= 0 (0 = off)",
                    text);
    if ((env->plc_type = env_value("PLC_TYPE"))) {
        if (!strcasecmp(env->plc_type, "simulation"))
            env->plc_type = "simulation";
        else if (!strcasecmp(env->plc_type, "real"))
            env->plc_type = "real";
        else
            return cfg_fail(err, errlen,
                        "environment PLC_TYPE=%s is unknown: use simulation or real",
                        env->plc_type);
    }
    env->data_dir = env_value("ALD_DATA_DIR");
    env->plugin_dir = env_value("ALD_PLUGIN_DIR");
    return 0;
}

static int read_plugin_env(env_overrides *env, char *err, size_t errlen)
{
    const char *text;
    env->plc_host_origin = "environment PLC_HOST";
    if (!(env->plc_host = env_value("PLC_HOST"))) {
        env->plc_host = env_value("PLC_IP");
        env->plc_host_origin = "environment PLC_IP";
    }
    if ((text = env_value("PLC_PORT")) && parse_long(text, 1, 65535, &env->plc_port))
        return cfg_fail(err, errlen,
                    "environment PLC_PORT=%s is not a TCP port: use a number 1..65535", text);
    if ((text = env_value("PLC_BYTE_ORDER"))) {
        static const char *const orders[] = {"abcd", "badc", "cdab", "dcba"};
        for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
            if (!strcasecmp(text, orders[i]))
                snprintf(env->byte_order, sizeof env->byte_order, "%s", orders[i]);
        if (!env->byte_order[0])
            return cfg_fail(err, errlen,
                        "environment PLC_BYTE_ORDER=%s is unknown: use abcd, badc, cdab or "
                        "dcba",
                        text);
    }
    /* The URL may carry credentials: never echo it. */
    env->supabase_url = env_value("SUPABASE_URL");
    if (env->supabase_url && strncmp(env->supabase_url, "https://", 8) &&
        strncmp(env->supabase_url, "http://", 7))
        return cfg_fail(err, errlen,
                    "environment SUPABASE_URL must start with https:// (or http://), e.g. "
                    "https://<project>.supabase.co");
    env->supabase_key = env_value("SUPABASE_KEY");
    return 0;
}

static int apply_engine_env(engine_config *cfg, const env_overrides *env)
{
    config_impl *impl = cfg_impl(cfg);
#define ORIGIN(key, var)                                                                     \
    snprintf(impl->origin[key], sizeof impl->origin[key], "environment " var)
    if (env->machine_id) {
        if (cfg_replace_string(&cfg->machine_id, env->machine_id))
            return -1;
        ORIGIN(KEY_MACHINE_ID, "MACHINE_ID");
    }
    if (env->log_level >= 0) {
        cfg->log_level = (ald_log_level)env->log_level;
        ORIGIN(KEY_LOG_LEVEL, "LOG_LEVEL");
    }
    if (env->status_log_interval >= 0) {
        cfg->status_log_interval_s = (int)env->status_log_interval;
        ORIGIN(KEY_STATUS_LOG_INTERVAL, "STATUS_LOG_INTERVAL");
    }
    if (env->plc_type) {
        if (cfg_replace_string(&cfg->plc_type, env->plc_type))
            return -1;
        ORIGIN(KEY_PLC_TYPE, "PLC_TYPE");
    }
    if (env->data_dir) {
        if (cfg_replace_string(&cfg->data_dir, env->data_dir))
            return -1;
        ORIGIN(KEY_DATA_DIR, "ALD_DATA_DIR");
    }
    if (env->plugin_dir) {
        if (cfg_replace_string(&cfg->plugin_dir, env->plugin_dir))
            return -1;
        ORIGIN(KEY_PLUGIN_DIR, "ALD_PLUGIN_DIR");
    }
#undef ORIGIN
    return 0;
}

static int apply_plugin_env(engine_config *cfg, const env_overrides *env)
{
    config_impl *impl = cfg_impl(cfg);
    int rc = 0;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        const char *needs = impl->decls[i].requires_env;
        if (p->role == ROLE_PLC && p->active && !strcmp(p->plc_type, "real")) {
            if (env->plc_host)
                rc |= cfg_put_string(p->settings, "host", env->plc_host, env->plc_host_origin);
            if (env->plc_port)
                rc |=
                    cfg_put_int(p->settings, "port", (int)env->plc_port, "environment PLC_PORT");
            if (env->byte_order[0])
                rc |= cfg_put_string(p->settings, "legacy_byte_order", env->byte_order,
                                 "environment PLC_BYTE_ORDER");
        }
        if (needs && !strcmp(needs, "SUPABASE_URL")) {
            if (env->supabase_url)
                rc |= cfg_put_string(p->settings, "url", env->supabase_url,
                                 "environment SUPABASE_URL");
            if (env->supabase_key)
                rc |= cfg_put_string(p->settings, "key", env->supabase_key,
                                 "environment SUPABASE_KEY");
        }
    }
    return rc ? -1 : 0;
}

int config_apply_env(engine_config *cfg, char *err, size_t errlen)
{
    if (!cfg->impl)
        return cfg_fail(err, errlen, "configuration not loaded");
    env_overrides env = {0};
    if (read_engine_env(&env, err, errlen) || read_plugin_env(&env, err, errlen))
        return -1;
    if (apply_engine_env(cfg, &env))
        return cfg_fail(err, errlen, "environment overrides: out of memory");
    cfg_select_active(cfg, 1);
    if (apply_plugin_env(cfg, &env))
        return cfg_fail(err, errlen, "environment overrides: cannot set a plugin setting");
    return 0;
}
