/*
 * config_env.c - the environment overrides: the engine's own variables
 * (MACHINE_ID, LOG_LEVEL, ...), and the variables each plugin instance maps
 * onto its settings in its conf.d file (env = ( ... ), see config.h), each
 * parsed and checked before anything changes, so a bad variable leaves the
 * configuration as it was. The engine knows no plugin setting names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"
#include "env_secret.h"
#include "log.h"

/* ---- environment overrides ------------------------------------------------ */

/* The engine's own variables, parsed and checked before anything changes, so
 * a bad variable leaves the configuration as it was. */
typedef struct env_overrides {
    const char *machine_id, *plc_type, *data_dir, *plugin_dir;
    int log_level;            /* -1: not set */
    long status_log_interval; /* -1: not set */
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
        return cfg_fail(
            err, errlen,
            "environment MACHINE_ID is not a UUID (expected the machines.id, e.g. "
            "%s)",
            DEFAULT_MACHINE_ID);
    env->log_level = -1;
    if ((text = env_value("LOG_LEVEL")) && (env->log_level = log_level_parse(text)) < 0)
        return cfg_fail(
            err, errlen,
            "environment LOG_LEVEL=%s is not a log level: use error, warning, info "
            "or debug",
            text);
    env->status_log_interval = -1;
    if ((text = env_value("STATUS_LOG_INTERVAL")) &&
        parse_long(text, 0, CONFIG_STATUS_LOG_MAX_S, &env->status_log_interval))
        return cfg_fail(err, errlen,
                        "environment STATUS_LOG_INTERVAL=%s must be a whole number of seconds "
                        "from 0 (off) to %d",
                        text, CONFIG_STATUS_LOG_MAX_S);
    /* Any plc_type a configured instance declares ("replay", a site's own);
     * a value no instance declares is refused by config_validate(), which
     * lists the declared ones. The two shipped names keep matching in any case. */
    if ((env->plc_type = env_value("PLC_TYPE"))) {
        if (!strcasecmp(env->plc_type, "simulation"))
            env->plc_type = "simulation";
        else if (!strcasecmp(env->plc_type, "real"))
            env->plc_type = "real";
    }
    env->data_dir = env_value("ALD_DATA_DIR");
    env->plugin_dir = env_value("ALD_PLUGIN_DIR");
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

/* ---- plugin settings: the mappings each instance declares (env = ( ... )) ---- */

/* The first set variable of a mapping, directly (NAME) or from a file
 * (NAME_FILE, a compose secret: env_secret.h), so every mapped variable can
 * keep its value out of the environment. 1 with *value malloc'd and var
 * naming where it came from, 0 when none is set, -1 with err set. */
static int mapping_variable(const config_setting_t *map, char **value, char *var,
                            size_t varlen, char *err, size_t errlen)
{
    const config_setting_t *vars = config_setting_get_member(map, "variables");
    for (int i = 0; vars && i < config_setting_length(vars); i++) {
        const char *name = config_setting_get_string_elem(vars, i);
        int from_file = name ? env_secret(name, value, err, errlen) : 0;
        if (from_file < 0)
            return -1;
        if (*value) {
            snprintf(var, varlen, "%s%s", name, from_file ? "_FILE" : "");
            return 1;
        }
    }
    return 0;
}

/* "abcd, badc, cdab or dcba" */
static void list_words(const config_setting_t *words, char *out, size_t len)
{
    out[0] = '\0';
    int n = config_setting_length(words);
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s",
                 i == 0       ? ""
                 : i == n - 1 ? " or "
                              : ", ",
                 config_setting_get_string_elem(words, i));
    }
}

/* A value from a list of words (any case): the list's spelling, or NULL. */
static const char *one_of(const config_setting_t *words, const char *value)
{
    for (int i = 0; i < config_setting_length(words); i++) {
        const char *w = config_setting_get_string_elem(words, i);
        if (w && !strcasecmp(w, value))
            return w;
    }
    return NULL;
}

static int has_prefix(const config_setting_t *prefixes, const char *value)
{
    for (int i = 0; i < config_setting_length(prefixes); i++) {
        const char *p = config_setting_get_string_elem(prefixes, i);
        if (p && !strncmp(value, p, strlen(p)))
            return 1;
    }
    return 0;
}

static int is_int_mapping(const config_setting_t *map)
{
    const char *type = "string";
    config_setting_lookup_string(map, "type", &type);
    return !strcmp(type, "int");
}

static int check_int(const config_setting_t *map, const char *var, const char *value,
                     long *out, char *err, size_t errlen)
{
    int min = 0, max = 0;
    const char *meaning = "a whole number";
    config_setting_lookup_int(map, "min", &min);
    config_setting_lookup_int(map, "max", &max);
    config_setting_lookup_string(map, "meaning", &meaning);
    if (parse_long(value, min, max, out))
        return cfg_fail(err, errlen, "environment %s=%s is not %s: use a number %d..%d", var,
                        value, meaning, min, max);
    return 0;
}

/* Check one mapping's value; *text is what to store (a word in its list's
 * spelling). Values with a prefix rule may hold credentials: never echoed. */
static int check_value(const config_setting_t *map, const char *var, const char **text,
                       long *number, char *err, size_t errlen)
{
    if (is_int_mapping(map))
        return check_int(map, var, *text, number, err, errlen);
    const config_setting_t *words = config_setting_get_member(map, "one_of");
    const config_setting_t *prefixes = config_setting_get_member(map, "prefix");
    char list[256];
    const char *given = *text;
    if (words && !(*text = one_of(words, given))) {
        list_words(words, list, sizeof list);
        return cfg_fail(err, errlen, "environment %s=%s is unknown: use %s", var, given,
                        list);
    }
    if (prefixes && !has_prefix(prefixes, *text)) {
        list_words(prefixes, list, sizeof list);
        return cfg_fail(err, errlen,
                        "environment %s must start with %s (the value is not "
                        "shown: it may hold credentials)",
                        var, list);
    }
    return 0;
}

/* "environment NAME", kept as long as the configuration (a setting's origin). */
static const char *env_origin(config_impl *impl, const char *var)
{
    char **grown = realloc(impl->env_origins, (impl->env_origin_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    impl->env_origins = grown;
    size_t len = strlen("environment ") + strlen(var) + 1;
    char *origin = malloc(len);
    if (origin) {
        snprintf(origin, len, "environment %s", var);
        impl->env_origins[impl->env_origin_count++] = origin;
    }
    return origin;
}

/* Check (apply = 0) or apply (apply = 1) every mapping of one instance. */
static int plugin_env(engine_config *cfg, size_t i, int apply, char *err, size_t errlen)
{
    config_impl *impl = cfg_impl(cfg);
    const config_setting_t *maps = config_setting_get_member(impl->decls[i].group, "env");
    const ald_config *settings = cfg->plugins[i].settings;
    for (int m = 0; maps && m < config_setting_length(maps); m++) {
        const config_setting_t *map = config_setting_get_elem(maps, (unsigned)m);
        const char *setting = NULL, *origin;
        char *owned = NULL, var[128];
        long number = 0;
        int found = mapping_variable(map, &owned, var, sizeof var, err, errlen);
        const char *value = owned;
        int rc = found < 0 ? -1 : 0;
        if (found > 0 && check_value(map, var, &value, &number, err, errlen))
            rc = -1;
        if (found > 0 && rc == 0 && apply) {
            config_setting_lookup_string(map, "setting", &setting);
            int failed =
                !(origin = env_origin(impl, var)) ||
                (is_int_mapping(map) ? cfg_put_int(settings, setting, (int)number, origin)
                                     : cfg_put_string(settings, setting, value, origin));
            if (failed)
                rc = cfg_fail(err, errlen, "environment overrides: cannot set %s of '%s'",
                              setting, cfg->plugins[i].name);
        }
        free(owned);
        if (rc)
            return -1;
    }
    return 0;
}

/* Every declared mapping is checked, active instance or not, so a bad
 * variable is refused before anything changes. */
static int check_plugin_env(engine_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->plugin_count; i++)
        if (plugin_env(cfg, i, 0, err, errlen))
            return -1;
    return 0;
}

/* Overrides go to the active instances only. */
static int apply_plugin_env(engine_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->plugin_count; i++)
        if (cfg->plugins[i].active && plugin_env(cfg, i, 1, err, errlen))
            return -1;
    return 0;
}

/* ---- the declarations, checked when the files are read ---- */

static int is_string_list(const config_setting_t *s)
{
    if (!s ||
        (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
         config_setting_type(s) != CONFIG_TYPE_LIST) ||
        config_setting_length(s) == 0)
        return 0;
    for (int i = 0; i < config_setting_length(s); i++)
        if (!config_setting_get_string_elem(s, i))
            return 0;
    return 1;
}

static int check_mapping(const config_setting_t *map, char *err, size_t errlen)
{
    char at[256];
    const char *setting = NULL, *type = "string";
    int lo, hi;
    cfg_where_of(map, at, sizeof at);
    if (config_setting_type(map) != CONFIG_TYPE_GROUP ||
        !config_setting_lookup_string(map, "setting", &setting) ||
        !is_string_list(config_setting_get_member(map, "variables")))
        return cfg_fail(err, errlen,
                        "%s: each env mapping is a group: { setting = \"host\"; "
                        "variables = [\"PLC_HOST\", \"PLC_IP\"]; }",
                        at);
    config_setting_lookup_string(map, "type", &type);
    if (strcmp(type, "string") && strcmp(type, "int"))
        return cfg_fail(err, errlen, "%s: env mapping of %s: type is \"string\" or \"int\"",
                        at, setting);
    if (!strcmp(type, "int") && (!config_setting_lookup_int(map, "min", &lo) ||
                                 !config_setting_lookup_int(map, "max", &hi) || lo > hi))
        return cfg_fail(err, errlen, "%s: env mapping of %s: an int needs min and max", at,
                        setting);
    return 0;
}

int cfg_check_env_mappings(const config_setting_t *env, char *err, size_t errlen)
{
    char at[256];
    if (!env)
        return 0;
    if (config_setting_type(env) != CONFIG_TYPE_LIST)
        return cfg_fail(err, errlen,
                        "%s: env must be a list: env = ( { setting = ...; "
                        "variables = [...]; } );",
                        cfg_where_of(env, at, sizeof at));
    for (int i = 0; i < config_setting_length(env); i++)
        if (check_mapping(config_setting_get_elem(env, (unsigned)i), err, errlen))
            return -1;
    return 0;
}

/* ---- the whole overlay ---- */

int config_apply_env(engine_config *cfg, char *err, size_t errlen)
{
    if (!cfg->impl)
        return cfg_fail(err, errlen, "configuration not loaded");
    env_overrides env = {0};
    if (read_engine_env(&env, err, errlen) || check_plugin_env(cfg, err, errlen))
        return -1;
    if (apply_engine_env(cfg, &env))
        return cfg_fail(err, errlen, "environment overrides: out of memory");
    cfg_select_active(cfg, 1);
    return apply_plugin_env(cfg, err, errlen);
}
