/*
 * config_log.c - logs the effective configuration at start, each value with
 * where it came from, secrets masked (see config.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"
#include "log.h"

#define MASK "********"

/* ---- logging the effective configuration --------------------------------------- */

/* Copy a string value for the log: URLs lose their userinfo (user:pass@). */
static void redact_url(const char *value, char *out, size_t len)
{
    const char *scheme_end = strstr(value, "://");
    const char *authority = scheme_end ? scheme_end + 3 : NULL;
    const char *at = authority ? strchr(authority, '@') : NULL;
    const char *slash = authority ? strpbrk(authority, "/?#") : NULL;
    if (!at || (slash && slash < at)) {
        snprintf(out, len, "%s", value);
        return;
    }
    snprintf(out, len, "%.*s%s", (int)(authority - value), value, at + 1);
}

static void format_scalar(const config_setting_t *s, int secret, char *out, size_t len)
{
    char text[512];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        if (secret) {
            snprintf(out, len, "\"%s\"", MASK);
            return;
        }
        redact_url(config_setting_get_string(s), text, sizeof text);
        snprintf(out, len, "\"%s\"", text);
        return;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(text, sizeof text, "%lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        snprintf(text, sizeof text, "%g", config_setting_get_float(s));
        break;
    case CONFIG_TYPE_BOOL:
        snprintf(text, sizeof text, "%s", config_setting_get_bool(s) ? "true" : "false");
        break;
    default:
        snprintf(text, sizeof text, "?");
    }
    snprintf(out, len, "%s", secret ? MASK : text);
}

static void log_settings(const char *instance, const config_setting_t *group,
                         const char *prefix, int secret)
{
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int hidden = secret || config_name_is_secret(name);
        char path[256], value[600], at[256];
        snprintf(path, sizeof path, "%s%s", prefix, name);
        cfg_where_of(s, at, sizeof at);
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP: {
            char nested[260];
            snprintf(nested, sizeof nested, "%s.", path);
            log_settings(instance, s, nested, hidden);
            continue;
        }
        case CONFIG_TYPE_LIST:
        case CONFIG_TYPE_ARRAY:
            log_info(LOG_COMPONENT, "instance %s: %s = (%d entries) (%s)", instance, path,
                     config_setting_length(s), at);
            continue;
        default:
            format_scalar(s, hidden, value, sizeof value);
            log_info(LOG_COMPONENT, "instance %s: %s = %s (%s)", instance, path, value, at);
        }
    }
}

static void log_engine(const engine_config *cfg)
{
    const config_impl *impl = cfg_impl(cfg);
    char files[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < impl->tree_count && used < sizeof files; i++) {
        int n = snprintf(files + used, sizeof files - used, "%s%s", i ? ", " : "",
                         impl->file_names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    log_info(LOG_COMPONENT, "configuration directory %s: %s", cfg->config_dir, files);
    log_info(LOG_COMPONENT, "engine: machine_id = %s (%s)", cfg->machine_id,
             impl->origin[KEY_MACHINE_ID]);
    log_info(LOG_COMPONENT, "engine: log_level = %s (%s)", log_level_name(cfg->log_level),
             impl->origin[KEY_LOG_LEVEL]);
    log_info(LOG_COMPONENT, "engine: logging_interval = %g s (%s)", cfg->logging_interval_s,
             impl->origin[KEY_LOGGING_INTERVAL]);
    log_info(LOG_COMPONENT, "engine: status_log_interval = %d s (%s)",
             cfg->status_log_interval_s, impl->origin[KEY_STATUS_LOG_INTERVAL]);
    log_info(LOG_COMPONENT, "engine: command_max_age = %u s (%s)", cfg->command_max_age_s,
             impl->origin[KEY_COMMAND_MAX_AGE]);
    log_info(LOG_COMPONENT, "engine: http_port = %d (%s)", cfg->http_port,
             impl->origin[KEY_HTTP_PORT]);
    log_info(LOG_COMPONENT, "engine: plc_type = %s (%s)", cfg->plc_type,
             impl->origin[KEY_PLC_TYPE]);
    log_info(LOG_COMPONENT, "engine: data_dir = %s (%s)",
             cfg->data_dir ? cfg->data_dir : "(built-in default)",
             impl->origin[KEY_DATA_DIR]);
    log_info(LOG_COMPONENT, "engine: plugin_dir = %s (%s)",
             cfg->plugin_dir ? cfg->plugin_dir : "(built-in search path)",
             impl->origin[KEY_PLUGIN_DIR]);
    log_info(LOG_COMPONENT,
             "engine: readiness = %u condition(s) checked before a recipe "
             "starts (%s)",
             config_get_count(cfg->readiness, NULL), impl->origin[KEY_READINESS]);
}

void config_log_effective(const engine_config *cfg)
{
    if (!cfg || !cfg->impl)
        return;
    log_engine(cfg);
    const config_impl *impl = cfg_impl(cfg);
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        const instance_decl *d = &impl->decls[i];
        char why[160] = "";
        if (!p->active && p->role == ROLE_PLC)
            snprintf(why, sizeof why, ", plc_type %s is not the engine's %s", p->plc_type,
                     cfg->plc_type);
        else if (!p->active && d->requires_env)
            snprintf(why, sizeof why, ", %s is not set", d->requires_env);
        else if (p->role != d->declared_role)
            snprintf(why, sizeof why, ", declared %s", cfg_role_name(d->declared_role));
        log_info(LOG_COMPONENT, "instance %s: plugin %s, role %s, %s%s (%s)", p->name,
                 p->plugin, cfg_role_name(p->role), p->active ? "active" : "inactive", why,
                 p->where);
        log_settings(p->name, (const config_setting_t *)p->settings, "", 0);
    }
}
