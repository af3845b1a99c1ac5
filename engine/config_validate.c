/*
 * config_validate.c - checks an effective configuration: the engine
 * settings, the instance list, and that exactly one plc and one storage
 * instance are active; every message shows what is declared where.
 */
#include <stdio.h>
#include <string.h>

#include "config_impl.h"

/* ---- validation -------------------------------------------------------------- */

/* "sim (simulation) at conf.d/plc-sim.conf:3, ..." for every plc instance
 * (want_plc) or every store, so an error shows the operator what is declared. */
static void describe_declared(const engine_config *cfg, int want_plc, char *buf, size_t len)
{
    const config_impl *impl = cfg_impl(cfg);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->plugin_count && used < len; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        const instance_decl *d = &impl->decls[i];
        if ((d->declared_role == ROLE_PLC) != want_plc)
            continue;
        const char *detail = p->plc_type ? p->plc_type : cfg_role_name(d->declared_role);
        int n;
        if (d->requires_env)
            n = snprintf(buf + used, len - used, "%s%s (%s, requires %s) at %s",
                         used ? ", " : "", p->name, detail, d->requires_env, p->where);
        else
            n = snprintf(buf + used, len - used, "%s%s (%s) at %s", used ? ", " : "", p->name,
                         detail, p->where);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}

/* How the engine's plc_type was chosen, for the error when nothing matches. */
static void describe_plc_type(const engine_config *cfg, char *buf, size_t len)
{
    const char *origin = cfg_impl(cfg)->origin[KEY_PLC_TYPE];
    if (!strncmp(origin, "environment ", 12))
        snprintf(buf, len, "PLC_TYPE=%s", cfg->plc_type);
    else
        snprintf(buf, len, "plc_type \"%s\" (%s)", cfg->plc_type, origin);
}

static size_t count_active(const engine_config *cfg, plugin_role role, char *names,
                           size_t len)
{
    size_t count = 0, used = 0;
    names[0] = '\0';
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        if (!p->active || p->role != role)
            continue;
        count++;
        int n = snprintf(names + used, used < len ? len - used : 0, "%s%s at %s",
                         used ? ", " : "", p->name, p->where);
        if (n > 0 && used + (size_t)n < len)
            used += (size_t)n;
    }
    return count;
}

static int validate_engine(const engine_config *cfg, char *err, size_t errlen)
{
    const config_impl *impl = cfg_impl(cfg);
    if (!cfg->machine_id || !cfg_is_uuid(cfg->machine_id))
        return cfg_fail(err, errlen, "%s: machine_id must be a UUID",
                        impl->origin[KEY_MACHINE_ID]);
    if (!config_interval_in_bounds(cfg->logging_interval_s))
        return cfg_fail(err, errlen,
                        "%s: logging_interval = %g is out of bounds: it must be a number of "
                        "seconds " CONFIG_INTERVAL_RULE,
                        impl->origin[KEY_LOGGING_INTERVAL], cfg->logging_interval_s);
    if (cfg->status_log_interval_s < 0 || cfg->status_log_interval_s > CONFIG_STATUS_LOG_MAX_S)
        return cfg_fail(err, errlen, "%s: status_log_interval must be from 0 (off) to %d",
                        impl->origin[KEY_STATUS_LOG_INTERVAL], CONFIG_STATUS_LOG_MAX_S);
    if (cfg->http_port < 0 || cfg->http_port > 65535)
        return cfg_fail(err, errlen, "%s: http_port must be 0..65535",
                        impl->origin[KEY_HTTP_PORT]);
    if ((unsigned)cfg->log_level > ALD_LOG_DEBUG)
        return cfg_fail(err, errlen, "%s: log_level out of range",
                        impl->origin[KEY_LOG_LEVEL]);
    if (!cfg->plc_type || !cfg->plc_type[0])
        return cfg_fail(err, errlen, "%s: plc_type is empty", impl->origin[KEY_PLC_TYPE]);
    return 0;
}

static int validate_instances(const engine_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        if ((unsigned)p->role > ROLE_SINK)
            return cfg_fail(err, errlen, "%s: instance '%s' has an unknown role", p->where,
                            p->name);
        if (!p->settings || !p->plugin || !p->plugin[0])
            return cfg_fail(err, errlen, "%s: instance '%s' is incomplete", p->where,
                            p->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cfg->plugins[j].name, p->name))
                return cfg_fail(err, errlen, "%s: duplicate instance name '%s' (also at %s)",
                                p->where, p->name, cfg->plugins[j].where);
    }
    return 0;
}

static int validate_selection(const engine_config *cfg, char *err, size_t errlen)
{
    char names[1024], declared[1024], chosen[300];
    size_t plcs = count_active(cfg, ROLE_PLC, names, sizeof names);
    describe_plc_type(cfg, chosen, sizeof chosen);
    if (plcs == 0) {
        describe_declared(cfg, 1, declared, sizeof declared);
        return cfg_fail(err, errlen,
                        "%s but no plc instance has plc_type \"%s\" (declared: %s)", chosen,
                        cfg->plc_type, declared);
    }
    if (plcs > 1)
        return cfg_fail(err, errlen,
                        "%s selects %zu plc instances (%s): give each plc instance its own "
                        "plc_type",
                        chosen, plcs, names);
    size_t stores = count_active(cfg, ROLE_STORAGE, names, sizeof names);
    if (stores != 1) {
        describe_declared(cfg, 0, declared, sizeof declared);
        return cfg_fail(
            err, errlen,
            "%zu active storage instances (active: %s; declared: %s): exactly one "
            "must be active",
            stores, stores ? names : "none", declared);
    }
    if (count_active(cfg, ROLE_FALLBACK, names, sizeof names) > 1)
        return cfg_fail(err, errlen,
                        "more than one active fallback store (%s): keep one embedded store",
                        names);
    return 0;
}

int config_validate(const engine_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->impl)
        return cfg_fail(err, errlen, "configuration not loaded");
    if (validate_engine(cfg, err, errlen) || validate_instances(cfg, err, errlen) ||
        validate_selection(cfg, err, errlen))
        return -1;
    return 0;
}

const plugin_conf *config_active(const engine_config *cfg, plugin_role role)
{
    for (size_t i = 0; cfg && i < cfg->plugin_count; i++)
        if (cfg->plugins[i].active && cfg->plugins[i].role == role)
            return &cfg->plugins[i];
    return NULL;
}
