/*
 * config_parse.c - read every *.conf of a directory (libconfig) into an
 * engine_config and select the active plugin instances.
 *
 * Every *.conf keeps its own config_t alive for the life of the
 * engine_config: plugin_conf.settings points into those trees and is handed
 * to plugins as their ald_config. Settings that the engine adds or replaces
 * (environment overrides, host defaults) carry their origin in the libconfig
 * hook pointer, which config_get_where (config_access.c) reports instead of a
 * file:line. Hooks are static strings or strings owned by config_impl; no
 * libconfig destructor is installed, so libconfig never frees them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "command_age.h"
#include "config_impl.h"
#include "log.h"

const char *const engine_keys[KEY_COUNT] = {
    "machine_id", "log_level", "logging_interval", "status_log_interval", "http_port",
    "plc_type",   "data_dir",  "plugin_dir",       "readiness", "command_max_age",
};

static const char *const instance_keys[] = {"name",         "plugin", "role",    "plc_type",
                                            "requires_env", "env",    "settings"};

int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "file:line" of a setting from a file, or its hook origin. */
const char *cfg_where_of(const config_setting_t *s, char *buf, size_t len)
{
    config_get_where((const ald_config *)s, NULL, buf, len);
    if (!buf[0])
        snprintf(buf, len, "line %u", config_setting_source_line(s));
    return buf;
}

int cfg_replace_string(char **slot, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

int cfg_is_uuid(const char *text)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(text) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
            return 0;
    }
    return 1;
}

static int is_instance_name(const char *text)
{
    if (!text[0])
        return 0;
    for (const char *p = text; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return 1;
}

const char *cfg_role_name(plugin_role role)
{
    switch (role) {
    case ROLE_PLC:
        return "plc";
    case ROLE_STORAGE:
        return "storage";
    case ROLE_FALLBACK:
        return "fallback";
    case ROLE_SINK:
        return "sink";
    }
    return "?";
}

static int role_parse(const char *text, plugin_role *out)
{
    static const plugin_role roles[] = {ROLE_PLC, ROLE_STORAGE, ROLE_FALLBACK, ROLE_SINK};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (!strcmp(text, cfg_role_name(roles[i]))) {
            *out = roles[i];
            return 0;
        }
    }
    return -1;
}

static int env_is_set(const char *name)
{
    const char *value = getenv(name);
    return value && value[0];
}

/* ---- defaults -------------------------------------------------------------- */

static int set_defaults(engine_config *cfg, config_impl *impl)
{
    cfg->log_level = ALD_LOG_INFO;
    cfg->logging_interval_s = 1.0;
    cfg->status_log_interval_s = 300;
    cfg->http_port = 8000;
    cfg->command_max_age_s = COMMAND_MAX_AGE_DEFAULT_S;
    for (int k = 0; k < KEY_COUNT; k++)
        snprintf(impl->origin[k], sizeof impl->origin[k], "%s", ORIGIN_DEFAULT);
    if (cfg_replace_string(&cfg->machine_id, DEFAULT_MACHINE_ID) ||
        cfg_replace_string(&cfg->plc_type, "simulation"))
        return -1;
    return 0;
}

/* ---- the engine group ------------------------------------------------------ */

static int engine_key_of(const char *name)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (!strcmp(name, engine_keys[k]))
            return k;
    return -1;
}

static int setting_is_number(const config_setting_t *s)
{
    int type = config_setting_type(s);
    return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64 || type == CONFIG_TYPE_FLOAT;
}

static int setting_is_integer(const config_setting_t *s)
{
    int type = config_setting_type(s);
    return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

static const char *nonempty_string(const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return NULL;
    const char *text = config_setting_get_string(s);
    return text && text[0] ? text : NULL;
}

/* One engine setting: check its type and range, store it. The message says
 * what a correct value looks like. */
/* readiness = ( { parameter = "<id>"; op = ">="; value = 1.0; }, ... ) */
static int parse_readiness(engine_config *cfg, const config_setting_t *s, const char *at,
                           char *err, size_t errlen)
{
    static const char *const ops[] = {">=", "<=", ">", "<", "=="};
    if (!config_setting_is_list(s))
        return cfg_fail(err, errlen,
                        "%s: readiness must be a list of groups: ( { parameter = "
                        "\"<id>\"; op = \">=\"; value = 1.0; } )",
                        at);
    for (int i = 0; i < config_setting_length(s); i++) {
        config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
        char here[256];
        cfg_where_of(c, here, sizeof here);
        const char *param = NULL, *op = NULL;
        double value;
        int known_op = 0;
        if (config_setting_type(c) != CONFIG_TYPE_GROUP ||
            !config_setting_lookup_string(c, "parameter", &param) || !param[0] ||
            !config_setting_lookup_string(c, "op", &op) ||
            !config_setting_lookup_float(c, "value", &value) || !isfinite(value))
            return cfg_fail(err, errlen,
                            "%s: a readiness condition needs parameter (text), op "
                            "(text) and value (a finite number with a decimal point)",
                            here);
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
            known_op |= !strcmp(op, ops[k]);
        if (!known_op)
            return cfg_fail(err, errlen,
                            "%s: readiness op '%s' is not one of >= <= > < ==", here, op);
    }
    cfg->readiness = (const ald_config *)s;
    return 0;
}

static int parse_engine_setting(engine_config *cfg, int key, const config_setting_t *s,
                                const char *at, char *err, size_t errlen)
{
    if (key == KEY_READINESS)
        return parse_readiness(cfg, s, at, err, errlen);
    const char *text = nonempty_string(s);
    long long whole = setting_is_integer(s) ? config_setting_get_int64(s) : -1;
    switch (key) {
    case KEY_MACHINE_ID:
        if (!text || !cfg_is_uuid(text))
            return cfg_fail(
                err, errlen,
                "%s: machine_id must be the machine's UUID as a string, e.g. \"%s\"", at,
                DEFAULT_MACHINE_ID);
        return cfg_replace_string(&cfg->machine_id, text);
    case KEY_LOG_LEVEL:
        if (!text || log_level_parse(text) < 0)
            return cfg_fail(err, errlen,
                            "%s: log_level must be one of \"error\", \"warning\", \"info\", "
                            "\"debug\"",
                            at);
        cfg->log_level = (ald_log_level)log_level_parse(text);
        return 0;
    case KEY_LOGGING_INTERVAL: {
        double v = setting_is_integer(s) ? (double)whole : config_setting_get_float(s);
        if (!setting_is_number(s))
            return cfg_fail(err, errlen,
                            "%s: logging_interval must be a number of seconds " CONFIG_INTERVAL_RULE,
                            at);
        if (!config_interval_in_bounds(v))
            return cfg_fail(err, errlen,
                            "%s: logging_interval = %g is out of bounds: it must be a number of "
                            "seconds " CONFIG_INTERVAL_RULE,
                            at, v);
        cfg->logging_interval_s = v;
        return 0;
    }
    case KEY_STATUS_LOG_INTERVAL:
        if (!setting_is_integer(s) || whole < 0 || whole > CONFIG_STATUS_LOG_MAX_S)
            return cfg_fail(err, errlen,
                            "%s: status_log_interval must be a whole number of seconds "
                            "from 0 (off) to %d",
                            at, CONFIG_STATUS_LOG_MAX_S);
        cfg->status_log_interval_s = (int)whole;
        return 0;
    case KEY_COMMAND_MAX_AGE:
        if (!setting_is_integer(s) || whole < COMMAND_MAX_AGE_MIN_S ||
            whole > COMMAND_MAX_AGE_MAX_S)
            return cfg_fail(err, errlen,
                            "%s: command_max_age must be a whole number of seconds %d..%d "
                            "(start and set commands older than this are not run)",
                            at, COMMAND_MAX_AGE_MIN_S, COMMAND_MAX_AGE_MAX_S);
        cfg->command_max_age_s = (unsigned)whole;
        return 0;
    case KEY_HTTP_PORT:
        if (!setting_is_integer(s) || whole < 0 || whole > 65535)
            return cfg_fail(err, errlen,
                            "%s: http_port must be a TCP port 1..65535 (0 = HTTP off)", at);
        cfg->http_port = (int)whole;
        return 0;
    case KEY_PLC_TYPE:
        if (!text)
            return cfg_fail(
                err, errlen,
                "%s: plc_type must be a non-empty string (\"simulation\" or \"real\")", at);
        return cfg_replace_string(&cfg->plc_type, text);
    case KEY_DATA_DIR:
    case KEY_PLUGIN_DIR:
        if (!text)
            return cfg_fail(err, errlen, "%s: %s must be a non-empty directory path string",
                            at, engine_keys[key]);
        return cfg_replace_string(key == KEY_DATA_DIR ? &cfg->data_dir : &cfg->plugin_dir,
                                  text);
    }
    return cfg_fail(err, errlen, "%s: internal error: engine key %d", at, key);
}

static int parse_engine_group(engine_config *cfg, config_setting_t *group, char *err,
                              size_t errlen)
{
    config_impl *impl = cfg_impl(cfg);
    char at[256];
    cfg_where_of(group, at, sizeof at);
    if (config_setting_type(group) != CONFIG_TYPE_GROUP)
        return cfg_fail(err, errlen, "%s: engine must be a group: engine: { ... };", at);
    if (impl->engine_seen_at[0])
        return cfg_fail(
            err, errlen,
            "%s: duplicate engine group (the first is at %s): keep one engine group "
            "in the whole directory",
            at, impl->engine_seen_at);
    snprintf(impl->engine_seen_at, sizeof impl->engine_seen_at, "%s", at);

    for (int i = 0; i < config_setting_length(group); i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        cfg_where_of(s, at, sizeof at);
        int key = engine_key_of(name);
        if (key < 0)
            return cfg_fail(err, errlen,
                            "%s: unknown engine setting '%s' (known: machine_id, log_level, "
                            "logging_interval, status_log_interval, http_port, plc_type, "
                            "data_dir, plugin_dir, readiness, command_max_age)",
                            at, name);
        if (parse_engine_setting(cfg, key, s, at, err, errlen) < 0)
            return -1;
        snprintf(impl->origin[key], sizeof impl->origin[key], "%s", at);
    }
    return 0;
}

/* ---- plugin instances ------------------------------------------------------ */

static int is_instance_key(const char *name)
{
    for (size_t i = 0; i < sizeof instance_keys / sizeof instance_keys[0]; i++)
        if (!strcmp(name, instance_keys[i]))
            return 1;
    return 0;
}

static const plugin_conf *find_instance(const engine_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->plugin_count; i++)
        if (!strcmp(cfg->plugins[i].name, name))
            return &cfg->plugins[i];
    return NULL;
}

static int grow_instances(engine_config *cfg, config_impl *impl)
{
    if (cfg->plugin_count < impl->decl_capacity)
        return 0;
    size_t capacity = impl->decl_capacity ? impl->decl_capacity * 2 : 4;
    plugin_conf *plugins = realloc(cfg->plugins, capacity * sizeof *plugins);
    if (!plugins)
        return -1;
    cfg->plugins = plugins;
    instance_decl *decls = realloc(impl->decls, capacity * sizeof *decls);
    if (!decls)
        return -1;
    impl->decls = decls;
    impl->decl_capacity = capacity;
    return 0;
}

/* A string member of an instance group: NULL when absent; -1 when present but
 * not a non-empty string. */
static int instance_string(const config_setting_t *group, const char *key, const char **out,
                           char *err, size_t errlen)
{
    *out = NULL;
    config_setting_t *s = config_setting_get_member(group, key);
    if (!s)
        return 0;
    *out = nonempty_string(s);
    if (*out)
        return 0;
    char at[256];
    return cfg_fail(err, errlen, "%s: %s must be a non-empty string",
                    cfg_where_of(s, at, sizeof at), key);
}

/* Check an instance group's members before anything is stored. */
static int check_instance_members(const config_setting_t *group, char *err, size_t errlen)
{
    char at[256];
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!is_instance_key(name))
            return cfg_fail(
                err, errlen,
                "%s: unknown instance setting '%s' (known: name, plugin, role, "
                "plc_type, requires_env, env, settings; plugin settings go inside "
                "settings = { ... })",
                cfg_where_of(s, at, sizeof at), name);
    }
    const config_setting_t *settings = config_setting_get_member(group, "settings");
    if (settings && config_setting_type(settings) != CONFIG_TYPE_GROUP)
        return cfg_fail(err, errlen, "%s: settings must be a group: settings = { ... };",
                        cfg_where_of(settings, at, sizeof at));
    return cfg_check_env_mappings(config_setting_get_member(group, "env"), err, errlen);
}

typedef struct instance_fields {
    const char *name, *plugin, *role, *plc_type, *requires_env;
    plugin_role declared_role;
} instance_fields;

static int read_instance_fields(const engine_config *cfg, const config_setting_t *group,
                                const char *at, instance_fields *f, char *err, size_t errlen)
{
    if (instance_string(group, "name", &f->name, err, errlen) ||
        instance_string(group, "plugin", &f->plugin, err, errlen) ||
        instance_string(group, "role", &f->role, err, errlen) ||
        instance_string(group, "plc_type", &f->plc_type, err, errlen) ||
        instance_string(group, "requires_env", &f->requires_env, err, errlen))
        return -1;
    if (!f->name)
        return cfg_fail(err, errlen, "%s: plugin instance has no name: add name = \"...\";",
                        at);
    if (!is_instance_name(f->name))
        return cfg_fail(err, errlen,
                        "%s: instance name '%s' may only hold letters, digits, '-', '_', '.'",
                        at, f->name);
    const plugin_conf *twin = find_instance(cfg, f->name);
    if (twin)
        return cfg_fail(err, errlen,
                        "%s: duplicate instance name '%s' (also at %s): names must be unique",
                        at, f->name, twin->where);
    if (!f->plugin)
        return cfg_fail(
            err, errlen,
            "%s: instance '%s' has no plugin: add plugin = \"<name or path of .so>\";", at,
            f->name);
    if (!f->role)
        return cfg_fail(err, errlen,
                        "%s: instance '%s' has no role: add role = \"plc\" (or \"storage\", "
                        "\"fallback\");",
                        at, f->name);
    if (role_parse(f->role, &f->declared_role) < 0)
        return cfg_fail(
            err, errlen,
            "%s: instance '%s' has unknown role '%s' (use plc, storage, fallback or sink)", at,
            f->name, f->role);
    if (f->declared_role == ROLE_PLC && !f->plc_type)
        return cfg_fail(
            err, errlen,
            "%s: plc instance '%s' has no plc_type: add plc_type = \"simulation\" "
            "(or \"real\");",
            at, f->name);
    if (f->declared_role != ROLE_PLC && f->plc_type)
        return cfg_fail(err, errlen, "%s: instance '%s': plc_type only applies to role plc",
                        at, f->name);
    if (f->declared_role == ROLE_PLC && f->requires_env)
        return cfg_fail(
            err, errlen,
            "%s: plc instance '%s': requires_env only applies to storage instances "
            "(plc instances are chosen by plc_type)",
            at, f->name);
    return 0;
}

/* The settings group the plugin sees; created empty when the file has none,
 * carrying the instance's origin so config_where still points at the file. */
static config_setting_t *instance_settings(config_setting_t *group, const char *origin)
{
    config_setting_t *settings = config_setting_get_member(group, "settings");
    if (settings)
        return settings;
    settings = config_setting_add(group, "settings", CONFIG_TYPE_GROUP);
    if (settings)
        config_setting_set_hook(settings, (void *)origin);
    return settings;
}

static int parse_instance(engine_config *cfg, config_setting_t *group, char *err,
                          size_t errlen)
{
    config_impl *impl = cfg_impl(cfg);
    char at[256];
    cfg_where_of(group, at, sizeof at);
    if (config_setting_type(group) != CONFIG_TYPE_GROUP)
        return cfg_fail(err, errlen,
                        "%s: each element of plugins must be a group: ( { name = ...; } )",
                        at);
    instance_fields f = {0};
    if (check_instance_members(group, err, errlen) ||
        read_instance_fields(cfg, group, at, &f, err, errlen))
        return -1;
    if (grow_instances(cfg, impl) < 0)
        return cfg_fail(err, errlen, "%s: out of memory", at);

    plugin_conf *p = &cfg->plugins[cfg->plugin_count];
    instance_decl *d = &impl->decls[cfg->plugin_count];
    memset(p, 0, sizeof *p);
    memset(d, 0, sizeof *d);
    cfg->plugin_count++; /* counted now so config_free releases what follows */
    snprintf(p->where, sizeof p->where, "%s", at);
    p->name = strdup(f.name);
    p->plugin = strdup(f.plugin);
    p->plc_type = f.plc_type ? strdup(f.plc_type) : NULL;
    p->role = f.declared_role;
    d->declared_role = f.declared_role;
    d->requires_env = f.requires_env ? strdup(f.requires_env) : NULL;
    d->origin = strdup(at);
    d->group = group;
    if (!p->name || !p->plugin || (f.plc_type && !p->plc_type) ||
        (f.requires_env && !d->requires_env) || !d->origin)
        return cfg_fail(err, errlen, "%s: out of memory", at);
    p->settings = (const ald_config *)instance_settings(group, d->origin);
    if (!p->settings)
        return cfg_fail(err, errlen, "%s: cannot create the settings group", at);
    return 0;
}

static int parse_plugins_list(engine_config *cfg, config_setting_t *list, char *err,
                              size_t errlen)
{
    char at[256];
    if (config_setting_type(list) != CONFIG_TYPE_LIST)
        return cfg_fail(err, errlen,
                        "%s: plugins must be a list of groups: plugins = ( { name = \"...\"; "
                        "plugin = \"...\"; role = \"...\"; } );",
                        cfg_where_of(list, at, sizeof at));
    for (int i = 0; i < config_setting_length(list); i++)
        if (parse_instance(cfg, config_setting_get_elem(list, (unsigned)i), err, errlen))
            return -1;
    return 0;
}

static int parse_tree(engine_config *cfg, config_t *tree, char *err, size_t errlen)
{
    config_setting_t *root = config_root_setting(tree);
    char at[256];
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        int rc;
        if (!strcmp(name, "engine"))
            rc = parse_engine_group(cfg, s, err, errlen);
        else if (!strcmp(name, "plugins"))
            rc = parse_plugins_list(cfg, s, err, errlen);
        else
            rc = cfg_fail(err, errlen,
                          "%s: unknown top-level setting '%s' (a file holds an engine group "
                          "and/or a plugins list)",
                          cfg_where_of(s, at, sizeof at), name);
        if (rc)
            return -1;
    }
    return 0;
}

/* ---- selection of the active instances -------------------------------------- */

/* PLC instances: the one whose plc_type is the engine's. Storage instances
 * with requires_env: active only when consult_env and the variable is set;
 * then the embedded store (no requires_env) steps down to fallback. */
void cfg_select_active(engine_config *cfg, int consult_env)
{
    config_impl *impl = cfg_impl(cfg);
    int conditional_storage_active = 0;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        plugin_conf *p = &cfg->plugins[i];
        const instance_decl *d = &impl->decls[i];
        p->role = d->declared_role;
        if (p->role == ROLE_PLC)
            p->active = p->plc_type && cfg->plc_type && !strcmp(p->plc_type, cfg->plc_type);
        else
            p->active = !d->requires_env || (consult_env && env_is_set(d->requires_env));
        if (p->active && p->role == ROLE_STORAGE && d->requires_env)
            conditional_storage_active = 1;
    }
    if (!conditional_storage_active)
        return;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        plugin_conf *p = &cfg->plugins[i];
        if (p->active && p->role == ROLE_STORAGE && !impl->decls[i].requires_env)
            p->role = ROLE_FALLBACK;
    }
}

/* ---- loading a directory ---------------------------------------------------- */

static int is_conf_file(const struct dirent *entry)
{
    const char *name = entry->d_name;
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".conf");
}

static int read_one_file(engine_config *cfg, config_t *tree, const char *dir,
                         const char *path, char *err, size_t errlen)
{
    config_set_include_dir(tree, dir);
    if (!config_read_file(tree, path)) {
        if (config_error_type(tree) == CONFIG_ERR_FILE_IO)
            return cfg_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        const char *file = config_error_file(tree);
        return cfg_fail(err, errlen, "%s:%d: %s", file ? file : path, config_error_line(tree),
                        config_error_text(tree));
    }
    return parse_tree(cfg, tree, err, errlen);
}

static int open_directory(const char *dir, struct dirent ***entries, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return cfg_fail(err, errlen,
                        "configuration directory %s: %s (point the engine at the conf.d "
                        "directory that holds engine.conf)",
                        dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cfg_fail(err, errlen, "configuration directory %s is not a directory", dir);
    int n = scandir(dir, entries, is_conf_file, alphasort);
    if (n < 0)
        return cfg_fail(err, errlen, "configuration directory %s: %s", dir, strerror(errno));
    if (n == 0) {
        free(*entries);
        *entries = NULL;
        return cfg_fail(
            err, errlen,
            "configuration directory %s holds no *.conf files (expected engine.conf "
            "and one file per plugin instance)",
            dir);
    }
    return n;
}

static int load_files(engine_config *cfg, const char *dir, struct dirent **entries, int n,
                      char *err, size_t errlen)
{
    config_impl *impl = cfg_impl(cfg);
    impl->trees = calloc((size_t)n, sizeof *impl->trees);
    impl->file_names = calloc((size_t)n, sizeof *impl->file_names);
    if (!impl->trees || !impl->file_names)
        return cfg_fail(err, errlen, "configuration directory %s: out of memory", dir);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        config_init(&impl->trees[i]);
        impl->tree_count++; /* counted once initialised: config_free destroys it */
        impl->file_names[i] = strdup(entries[i]->d_name);
        if (!impl->file_names[i])
            return cfg_fail(err, errlen, "%s: out of memory", path);
        if (read_one_file(cfg, &impl->trees[i], dir, path, err, errlen))
            return -1;
    }
    return 0;
}

/* The selection made here reads the files alone (instances that require an
 * environment variable stay inactive): only config_apply_env looks at the
 * environment, so a load is repeatable and testable. On failure cfg is left
 * zeroed (config_free on it is a no-op). */
int config_load_dir(engine_config *cfg, const char *dir, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (!dir)
        return cfg_fail(err, errlen, "no configuration directory given");
    config_impl *impl = calloc(1, sizeof *impl);
    cfg->impl = impl;
    cfg->config_dir = strdup(dir);
    if (!impl || !cfg->config_dir || set_defaults(cfg, impl)) {
        config_free(cfg);
        return cfg_fail(err, errlen, "configuration directory %s: out of memory", dir);
    }
    struct dirent **entries = NULL;
    int n = open_directory(dir, &entries, err, errlen);
    int rc = n < 0 ? -1 : load_files(cfg, dir, entries, n, err, errlen);
    for (int i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
    if (rc) {
        config_free(cfg);
        return -1;
    }
    cfg_select_active(cfg, 0);
    return 0;
}

/* ---- settings the engine adds ------------------------------------------------ */

/* The member `name` of a settings group with the given type, replacing a
 * member of another type; NULL when libconfig refuses. */
static config_setting_t *typed_member(config_setting_t *group, const char *name, int type)
{
    config_setting_t *s = config_setting_get_member(group, name);
    if (s && config_setting_type(s) != type) {
        config_setting_remove(group, name);
        s = NULL;
    }
    return s ? s : config_setting_add(group, name, type);
}

int cfg_put_string(const ald_config *settings, const char *name, const char *value,
                   const char *origin)
{
    config_setting_t *s =
        typed_member((config_setting_t *)settings, name, CONFIG_TYPE_STRING);
    if (!s || !config_setting_set_string(s, value))
        return -1;
    config_setting_set_hook(s, (void *)origin);
    return 0;
}

int cfg_put_int(const ald_config *settings, const char *name, int value, const char *origin)
{
    config_setting_t *s = typed_member((config_setting_t *)settings, name, CONFIG_TYPE_INT);
    if (!s || !config_setting_set_int(s, value))
        return -1;
    config_setting_set_hook(s, (void *)origin);
    return 0;
}

/* ---- host defaults for plugins ------------------------------------------------ */

int config_set_plugin_defaults(engine_config *cfg, const char *data_dir, char *err,
                               size_t errlen)
{
    if (!data_dir)
        data_dir = cfg->data_dir;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        config_setting_t *group = (config_setting_t *)p->settings;
        if (!config_setting_get_member(group, "machine_id") &&
            cfg_put_string(p->settings, "machine_id", cfg->machine_id, ORIGIN_ENGINE))
            return cfg_fail(err, errlen, "%s: cannot add machine_id to instance '%s'",
                            p->where, p->name);
        if (data_dir && !config_setting_get_member(group, "data_dir") &&
            cfg_put_string(p->settings, "data_dir", data_dir, ORIGIN_ENGINE))
            return cfg_fail(err, errlen, "%s: cannot add data_dir to instance '%s'", p->where,
                            p->name);
    }
    return 0;
}

/* ---- teardown ------------------------------------------------------------------- */

void config_free(engine_config *cfg)
{
    if (!cfg)
        return;
    config_impl *impl = cfg_impl(cfg);
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].plugin);
        free(cfg->plugins[i].plc_type);
        if (impl) {
            free(impl->decls[i].requires_env);
            free(impl->decls[i].origin);
        }
    }
    free(cfg->plugins);
    if (impl) {
        for (size_t i = 0; i < impl->tree_count; i++) {
            config_destroy(&impl->trees[i]);
            free(impl->file_names[i]);
        }
        for (size_t i = 0; i < impl->env_origin_count; i++)
            free(impl->env_origins[i]);
        free(impl->env_origins);
        free(impl->trees);
        free(impl->file_names);
        free(impl->decls);
        free(impl);
    }
    free(cfg->config_dir);
    free(cfg->machine_id);
    free(cfg->plc_type);
    free(cfg->data_dir);
    free(cfg->plugin_dir);
    memset(cfg, 0, sizeof *cfg);
}
