/*
 * config.c - load conf.d (libconfig), overlay the environment, select the
 * active plugin instances, check the result and log it without secrets.
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
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "env_secret.h"
#include "log.h"

#define LOG_COMPONENT "config"
#define DEFAULT_MACHINE_ID "e3e6e280-0000-4000-8000-000000000001"
#define ORIGIN_DEFAULT "engine default"
#define ORIGIN_ENGINE "engine"
#define MASK "********"

/* The engine group's settings, in the order they are documented and logged. */
enum engine_key {
    KEY_MACHINE_ID,
    KEY_LOG_LEVEL,
    KEY_LOGGING_INTERVAL,
    KEY_STATUS_LOG_INTERVAL,
    KEY_HTTP_PORT,
    KEY_PLC_TYPE,
    KEY_DATA_DIR,
    KEY_PLUGIN_DIR,
    KEY_READINESS,
    KEY_COUNT
};

static const char *const engine_keys[KEY_COUNT] = {
    "machine_id", "log_level", "logging_interval", "status_log_interval",
    "http_port",  "plc_type",  "data_dir",         "plugin_dir", "readiness",
};

static const char *const instance_keys[] = {"name",     "plugin",       "role",
                                            "plc_type", "requires_env", "settings"};

/* What the files declared about an instance; roles are re-derived from it
 * each time the selection runs (load, then again after the environment). */
typedef struct instance_decl {
    plugin_role declared_role;
    char *requires_env;      /* NULL: always active (for storage/fallback) */
    char *origin;            /* copy of plugin_conf.where, long-lived hook text */
    config_setting_t *group; /* the instance group in its file's tree */
} instance_decl;

typedef struct config_impl {
    config_t *trees; /* one per file; never moved (settings point back to them) */
    size_t tree_count;
    char **file_names;
    instance_decl *decls; /* parallel to engine_config.plugins */
    size_t decl_capacity;
    char engine_seen_at[256];    /* where the engine group was, "" if none */
    char origin[KEY_COUNT][256]; /* where each engine setting came from */
} config_impl;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static config_impl *impl_of(const engine_config *cfg)
{
    return (config_impl *)cfg->impl;
}

/* "file:line" of a setting from a file, or its hook origin. */
static const char *where_of(const config_setting_t *s, char *buf, size_t len)
{
    config_get_where((const ald_config *)s, NULL, buf, len);
    if (!buf[0])
        snprintf(buf, len, "line %u", config_setting_source_line(s));
    return buf;
}

static int replace_string(char **slot, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static int is_uuid(const char *text)
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

static const char *role_name(plugin_role role)
{
    switch (role) {
    case ROLE_PLC:
        return "plc";
    case ROLE_STORAGE:
        return "storage";
    case ROLE_FALLBACK:
        return "fallback";
    }
    return "?";
}

static int role_parse(const char *text, plugin_role *out)
{
    static const plugin_role roles[] = {ROLE_PLC, ROLE_STORAGE, ROLE_FALLBACK};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (!strcmp(text, role_name(roles[i]))) {
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
    for (int k = 0; k < KEY_COUNT; k++)
        snprintf(impl->origin[k], sizeof impl->origin[k], "%s", ORIGIN_DEFAULT);
    if (replace_string(&cfg->machine_id, DEFAULT_MACHINE_ID) ||
        replace_string(&cfg->plc_type, "simulation"))
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
        return fail(err, errlen, "%s: readiness must be a list of groups: ( { parameter = "
                    "\"<id>\"; op = \">=\"; value = 1.0; } )", at);
    for (int i = 0; i < config_setting_length(s); i++) {
        config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
        char here[256];
        where_of(c, here, sizeof here);
        const char *param = NULL, *op = NULL;
        double value;
        int known_op = 0;
        if (config_setting_type(c) != CONFIG_TYPE_GROUP ||
            !config_setting_lookup_string(c, "parameter", &param) || !param[0] ||
            !config_setting_lookup_string(c, "op", &op) ||
            !config_setting_lookup_float(c, "value", &value))
            return fail(err, errlen, "%s: a readiness condition needs parameter (text), op "
                        "(text) and value (a number with a decimal point)", here);
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
            known_op |= !strcmp(op, ops[k]);
        if (!known_op)
            return fail(err, errlen, "%s: readiness op '%s' is not one of >= <= > < ==", here,
                        op);
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
        if (!text || !is_uuid(text))
            return fail(err, errlen,
                        "%s: machine_id must be the machine's UUID as a string, e.g. \"%s\"",
                        at, DEFAULT_MACHINE_ID);
        return replace_string(&cfg->machine_id, text);
    case KEY_LOG_LEVEL:
        if (!text || log_level_parse(text) < 0)
            return fail(err, errlen,
                        "%s: log_level must be one of \"error\", \"warning\", \"info\", "
                        "\"debug\"",
                        at);
        cfg->log_level = (ald_log_level)log_level_parse(text);
        return 0;
    case KEY_LOGGING_INTERVAL:
        if (!setting_is_number(s) || !(config_setting_get_float(s) > 0 || whole > 0))
            return fail(err, errlen, "%s: logging_interval must be a number of seconds > 0",
                        at);
        cfg->logging_interval_s =
            setting_is_integer(s) ? (double)whole : config_setting_get_float(s);
        return 0;
    case KEY_STATUS_LOG_INTERVAL:
        if (!setting_is_integer(s) || whole < 0 || whole > 86400 * 365)
            return fail(err, errlen,
                        "%s: status_log_interval must be a whole number of seconds >= 0 "
                        "(0 = off)",
                        at);
        cfg->status_log_interval_s = (int)whole;
        return 0;
    case KEY_HTTP_PORT:
        if (!setting_is_integer(s) || whole < 0 || whole > 65535)
            return fail(err, errlen,
                        "%s: http_port must be a TCP port 1..65535 (0 = HTTP off)", at);
        cfg->http_port = (int)whole;
        return 0;
    case KEY_PLC_TYPE:
        if (!text)
            return fail(
                err, errlen,
                "%s: plc_type must be a non-empty string (\"simulation\" or \"real\")", at);
        return replace_string(&cfg->plc_type, text);
    case KEY_DATA_DIR:
    case KEY_PLUGIN_DIR:
        if (!text)
            return fail(err, errlen, "%s: %s must be a non-empty directory path string", at,
                        engine_keys[key]);
        return replace_string(key == KEY_DATA_DIR ? &cfg->data_dir : &cfg->plugin_dir, text);
    }
    return fail(err, errlen, "%s: internal error: engine key %d", at, key);
}

static int parse_engine_group(engine_config *cfg, config_setting_t *group, char *err,
                              size_t errlen)
{
    config_impl *impl = impl_of(cfg);
    char at[256];
    where_of(group, at, sizeof at);
    if (config_setting_type(group) != CONFIG_TYPE_GROUP)
        return fail(err, errlen, "%s: engine must be a group: engine: { ... };", at);
    if (impl->engine_seen_at[0])
        return fail(err, errlen,
                    "%s: duplicate engine group (the first is at %s): keep one engine group "
                    "in the whole directory",
                    at, impl->engine_seen_at);
    snprintf(impl->engine_seen_at, sizeof impl->engine_seen_at, "%s", at);

    for (int i = 0; i < config_setting_length(group); i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        where_of(s, at, sizeof at);
        int key = engine_key_of(name);
        if (key < 0)
            return fail(err, errlen,
                        "%s: unknown engine setting '%s' (known: machine_id, log_level, "
                        "logging_interval, status_log_interval, http_port, plc_type, "
                        "data_dir, plugin_dir, readiness)",
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
    return fail(err, errlen, "%s: %s must be a non-empty string", where_of(s, at, sizeof at),
                key);
}

/* Check an instance group's members before anything is stored. */
static int check_instance_members(const config_setting_t *group, char *err, size_t errlen)
{
    char at[256];
    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!is_instance_key(name))
            return fail(err, errlen,
                        "%s: unknown instance setting '%s' (known: name, plugin, role, "
                        "plc_type, requires_env, settings; plugin settings go inside "
                        "settings = { ... })",
                        where_of(s, at, sizeof at), name);
    }
    const config_setting_t *settings = config_setting_get_member(group, "settings");
    if (settings && config_setting_type(settings) != CONFIG_TYPE_GROUP)
        return fail(err, errlen, "%s: settings must be a group: settings = { ... };",
                    where_of(settings, at, sizeof at));
    return 0;
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
        return fail(err, errlen, "%s: plugin instance has no name: add name = \"...\";", at);
    if (!is_instance_name(f->name))
        return fail(err, errlen,
                    "%s: instance name '%s' may only hold letters, digits, '-', '_', '.'", at,
                    f->name);
    const plugin_conf *twin = find_instance(cfg, f->name);
    if (twin)
        return fail(err, errlen,
                    "%s: duplicate instance name '%s' (also at %s): names must be unique", at,
                    f->name, twin->where);
    if (!f->plugin)
        return fail(
            err, errlen,
            "%s: instance '%s' has no plugin: add plugin = \"<name or path of .so>\";", at,
            f->name);
    if (!f->role)
        return fail(err, errlen,
                    "%s: instance '%s' has no role: add role = \"plc\" (or \"storage\", "
                    "\"fallback\");",
                    at, f->name);
    if (role_parse(f->role, &f->declared_role) < 0)
        return fail(err, errlen,
                    "%s: instance '%s' has unknown role '%s' (use plc, storage or fallback)",
                    at, f->name, f->role);
    if (f->declared_role == ROLE_PLC && !f->plc_type)
        return fail(err, errlen,
                    "%s: plc instance '%s' has no plc_type: add plc_type = \"simulation\" "
                    "(or \"real\");",
                    at, f->name);
    if (f->declared_role != ROLE_PLC && f->plc_type)
        return fail(err, errlen, "%s: instance '%s': plc_type only applies to role plc", at,
                    f->name);
    if (f->declared_role == ROLE_PLC && f->requires_env)
        return fail(err, errlen,
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
    config_impl *impl = impl_of(cfg);
    char at[256];
    where_of(group, at, sizeof at);
    if (config_setting_type(group) != CONFIG_TYPE_GROUP)
        return fail(err, errlen,
                    "%s: each element of plugins must be a group: ( { name = ...; } )", at);
    instance_fields f = {0};
    if (check_instance_members(group, err, errlen) ||
        read_instance_fields(cfg, group, at, &f, err, errlen))
        return -1;
    if (grow_instances(cfg, impl) < 0)
        return fail(err, errlen, "%s: out of memory", at);

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
        return fail(err, errlen, "%s: out of memory", at);
    p->settings = (const ald_config *)instance_settings(group, d->origin);
    if (!p->settings)
        return fail(err, errlen, "%s: cannot create the settings group", at);
    return 0;
}

static int parse_plugins_list(engine_config *cfg, config_setting_t *list, char *err,
                              size_t errlen)
{
    char at[256];
    if (config_setting_type(list) != CONFIG_TYPE_LIST)
        return fail(err, errlen,
                    "%s: plugins must be a list of groups: plugins = ( { name = \"...\"; "
                    "plugin = \"...\"; role = \"...\"; } );",
                    where_of(list, at, sizeof at));
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
            rc = fail(err, errlen,
                      "%s: unknown top-level setting '%s' (a file holds an engine group "
                      "and/or a plugins list)",
                      where_of(s, at, sizeof at), name);
        if (rc)
            return -1;
    }
    return 0;
}

/* ---- selection of the active instances -------------------------------------- */

/* PLC instances: the one whose plc_type is the engine's. Storage instances
 * with requires_env: active only when consult_env and the variable is set;
 * then the embedded store (no requires_env) steps down to fallback. */
static void select_active(engine_config *cfg, int consult_env)
{
    config_impl *impl = impl_of(cfg);
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
            return fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        const char *file = config_error_file(tree);
        return fail(err, errlen, "%s:%d: %s", file ? file : path, config_error_line(tree),
                    config_error_text(tree));
    }
    return parse_tree(cfg, tree, err, errlen);
}

static int open_directory(const char *dir, struct dirent ***entries, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return fail(err, errlen,
                    "configuration directory %s: %s (point the engine at the conf.d "
                    "directory that holds engine.conf)",
                    dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, errlen, "configuration directory %s is not a directory", dir);
    int n = scandir(dir, entries, is_conf_file, alphasort);
    if (n < 0)
        return fail(err, errlen, "configuration directory %s: %s", dir, strerror(errno));
    if (n == 0) {
        free(*entries);
        *entries = NULL;
        return fail(err, errlen,
                    "configuration directory %s holds no *.conf files (expected engine.conf "
                    "and one file per plugin instance)",
                    dir);
    }
    return n;
}

static int load_files(engine_config *cfg, const char *dir, struct dirent **entries, int n,
                      char *err, size_t errlen)
{
    config_impl *impl = impl_of(cfg);
    impl->trees = calloc((size_t)n, sizeof *impl->trees);
    impl->file_names = calloc((size_t)n, sizeof *impl->file_names);
    if (!impl->trees || !impl->file_names)
        return fail(err, errlen, "configuration directory %s: out of memory", dir);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        config_init(&impl->trees[i]);
        impl->tree_count++; /* counted once initialised: config_free destroys it */
        impl->file_names[i] = strdup(entries[i]->d_name);
        if (!impl->file_names[i])
            return fail(err, errlen, "%s: out of memory", path);
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
        return fail(err, errlen, "no configuration directory given");
    config_impl *impl = calloc(1, sizeof *impl);
    cfg->impl = impl;
    cfg->config_dir = strdup(dir);
    if (!impl || !cfg->config_dir || set_defaults(cfg, impl)) {
        config_free(cfg);
        return fail(err, errlen, "configuration directory %s: out of memory", dir);
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
    select_active(cfg, 0);
    return 0;
}

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
    char *supabase_url, *supabase_key; /* malloc'd: NAME or NAME_FILE (env_secret.h) */
    const char *supabase_url_origin, *supabase_key_origin;
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
    if (env->machine_id && !is_uuid(env->machine_id))
        return fail(err, errlen,
                    "environment MACHINE_ID is not a UUID (expected the machines.id, e.g. "
                    "%s)",
                    DEFAULT_MACHINE_ID);
    env->log_level = -1;
    if ((text = env_value("LOG_LEVEL")) && (env->log_level = log_level_parse(text)) < 0)
        return fail(err, errlen,
                    "environment LOG_LEVEL=%s is not a log level: use error, warning, info "
                    "or debug",
                    text);
    env->status_log_interval = -1;
    if ((text = env_value("STATUS_LOG_INTERVAL")) &&
        parse_long(text, 0, 86400L * 365, &env->status_log_interval))
        return fail(err, errlen,
                    "environment STATUS_LOG_INTERVAL=%s must be a whole number of seconds "
                    ">= 0 (0 = off)",
                    text);
    if ((env->plc_type = env_value("PLC_TYPE"))) {
        if (!strcasecmp(env->plc_type, "simulation"))
            env->plc_type = "simulation";
        else if (!strcasecmp(env->plc_type, "real"))
            env->plc_type = "real";
        else
            return fail(err, errlen,
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
        return fail(err, errlen,
                    "environment PLC_PORT=%s is not a TCP port: use a number 1..65535", text);
    if ((text = env_value("PLC_BYTE_ORDER"))) {
        static const char *const orders[] = {"abcd", "badc", "cdab", "dcba"};
        for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
            if (!strcasecmp(text, orders[i]))
                snprintf(env->byte_order, sizeof env->byte_order, "%s", orders[i]);
        if (!env->byte_order[0])
            return fail(err, errlen,
                        "environment PLC_BYTE_ORDER=%s is unknown: use abcd, badc, cdab or "
                        "dcba",
                        text);
    }
    /* The URL may carry credentials: never echo it. */
    int from_file = env_secret("SUPABASE_URL", &env->supabase_url, err, errlen);
    if (from_file < 0)
        return -1;
    env->supabase_url_origin =
        from_file ? "environment SUPABASE_URL_FILE" : "environment SUPABASE_URL";
    if (env->supabase_url && strncmp(env->supabase_url, "https://", 8) &&
        strncmp(env->supabase_url, "http://", 7))
        return fail(err, errlen,
                    "environment SUPABASE_URL must start with https:// (or http://), e.g. "
                    "https://<project>.supabase.co");
    from_file = env_secret("SUPABASE_KEY", &env->supabase_key, err, errlen);
    env->supabase_key_origin =
        from_file ? "environment SUPABASE_KEY_FILE" : "environment SUPABASE_KEY";
    return from_file < 0 ? -1 : 0;
}

static int apply_engine_env(engine_config *cfg, const env_overrides *env)
{
    config_impl *impl = impl_of(cfg);
#define ORIGIN(key, var)                                                                     \
    snprintf(impl->origin[key], sizeof impl->origin[key], "environment " var)
    if (env->machine_id) {
        if (replace_string(&cfg->machine_id, env->machine_id))
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
        if (replace_string(&cfg->plc_type, env->plc_type))
            return -1;
        ORIGIN(KEY_PLC_TYPE, "PLC_TYPE");
    }
    if (env->data_dir) {
        if (replace_string(&cfg->data_dir, env->data_dir))
            return -1;
        ORIGIN(KEY_DATA_DIR, "ALD_DATA_DIR");
    }
    if (env->plugin_dir) {
        if (replace_string(&cfg->plugin_dir, env->plugin_dir))
            return -1;
        ORIGIN(KEY_PLUGIN_DIR, "ALD_PLUGIN_DIR");
    }
#undef ORIGIN
    return 0;
}

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

static int put_string(const ald_config *settings, const char *name, const char *value,
                      const char *origin)
{
    config_setting_t *s =
        typed_member((config_setting_t *)settings, name, CONFIG_TYPE_STRING);
    if (!s || !config_setting_set_string(s, value))
        return -1;
    config_setting_set_hook(s, (void *)origin);
    return 0;
}

static int put_int(const ald_config *settings, const char *name, int value,
                   const char *origin)
{
    config_setting_t *s = typed_member((config_setting_t *)settings, name, CONFIG_TYPE_INT);
    if (!s || !config_setting_set_int(s, value))
        return -1;
    config_setting_set_hook(s, (void *)origin);
    return 0;
}

static int apply_plugin_env(engine_config *cfg, const env_overrides *env)
{
    config_impl *impl = impl_of(cfg);
    int rc = 0;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        const char *needs = impl->decls[i].requires_env;
        if (p->role == ROLE_PLC && p->active && !strcmp(p->plc_type, "real")) {
            if (env->plc_host)
                rc |= put_string(p->settings, "host", env->plc_host, env->plc_host_origin);
            if (env->plc_port)
                rc |=
                    put_int(p->settings, "port", (int)env->plc_port, "environment PLC_PORT");
            if (env->byte_order[0])
                rc |= put_string(p->settings, "legacy_byte_order", env->byte_order,
                                 "environment PLC_BYTE_ORDER");
        }
        if (needs && !strcmp(needs, "SUPABASE_URL")) {
            if (env->supabase_url)
                rc |= put_string(p->settings, "url", env->supabase_url,
                                 env->supabase_url_origin);
            if (env->supabase_key)
                rc |= put_string(p->settings, "key", env->supabase_key,
                                 env->supabase_key_origin);
        }
    }
    return rc ? -1 : 0;
}

int config_apply_env(engine_config *cfg, char *err, size_t errlen)
{
    if (!cfg->impl)
        return fail(err, errlen, "configuration not loaded");
    env_overrides env = {0};
    int rc = 0;
    if (read_engine_env(&env, err, errlen) || read_plugin_env(&env, err, errlen))
        rc = -1;
    else if (apply_engine_env(cfg, &env))
        rc = fail(err, errlen, "environment overrides: out of memory");
    else {
        select_active(cfg, 1);
        if (apply_plugin_env(cfg, &env))
            rc = fail(err, errlen, "environment overrides: cannot set a plugin setting");
    }
    free(env.supabase_url);
    free(env.supabase_key);
    return rc;
}

/* ---- validation -------------------------------------------------------------- */

/* "sim (simulation) at conf.d/plc-sim.conf:3, ..." for every plc instance
 * (want_plc) or every store, so an error shows the operator what is declared. */
static void describe_declared(const engine_config *cfg, int want_plc, char *buf, size_t len)
{
    const config_impl *impl = impl_of(cfg);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->plugin_count && used < len; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        const instance_decl *d = &impl->decls[i];
        if ((d->declared_role == ROLE_PLC) != want_plc)
            continue;
        const char *detail = p->plc_type ? p->plc_type : role_name(d->declared_role);
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
    const char *origin = impl_of(cfg)->origin[KEY_PLC_TYPE];
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
    const config_impl *impl = impl_of(cfg);
    if (!cfg->machine_id || !is_uuid(cfg->machine_id))
        return fail(err, errlen, "%s: machine_id must be a UUID",
                    impl->origin[KEY_MACHINE_ID]);
    if (!(cfg->logging_interval_s > 0))
        return fail(err, errlen, "%s: logging_interval must be a number of seconds > 0",
                    impl->origin[KEY_LOGGING_INTERVAL]);
    if (cfg->status_log_interval_s < 0)
        return fail(err, errlen, "%s: status_log_interval must be >= 0",
                    impl->origin[KEY_STATUS_LOG_INTERVAL]);
    if (cfg->http_port < 0 || cfg->http_port > 65535)
        return fail(err, errlen, "%s: http_port must be 0..65535",
                    impl->origin[KEY_HTTP_PORT]);
    if ((unsigned)cfg->log_level > ALD_LOG_DEBUG)
        return fail(err, errlen, "%s: log_level out of range", impl->origin[KEY_LOG_LEVEL]);
    if (!cfg->plc_type || !cfg->plc_type[0])
        return fail(err, errlen, "%s: plc_type is empty", impl->origin[KEY_PLC_TYPE]);
    return 0;
}

static int validate_instances(const engine_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        if ((unsigned)p->role > ROLE_FALLBACK)
            return fail(err, errlen, "%s: instance '%s' has an unknown role", p->where,
                        p->name);
        if (!p->settings || !p->plugin || !p->plugin[0])
            return fail(err, errlen, "%s: instance '%s' is incomplete", p->where, p->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cfg->plugins[j].name, p->name))
                return fail(err, errlen, "%s: duplicate instance name '%s' (also at %s)",
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
        return fail(err, errlen, "%s but no plc instance has plc_type \"%s\" (declared: %s)",
                    chosen, cfg->plc_type, declared);
    }
    if (plcs > 1)
        return fail(err, errlen,
                    "%s selects %zu plc instances (%s): give each plc instance its own "
                    "plc_type",
                    chosen, plcs, names);
    size_t stores = count_active(cfg, ROLE_STORAGE, names, sizeof names);
    if (stores != 1) {
        describe_declared(cfg, 0, declared, sizeof declared);
        return fail(err, errlen,
                    "%zu active storage instances (active: %s; declared: %s): exactly one "
                    "must be active",
                    stores, stores ? names : "none", declared);
    }
    if (count_active(cfg, ROLE_FALLBACK, names, sizeof names) > 1)
        return fail(err, errlen,
                    "more than one active fallback store (%s): keep one embedded store",
                    names);
    return 0;
}

int config_validate(const engine_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->impl)
        return fail(err, errlen, "configuration not loaded");
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
            put_string(p->settings, "machine_id", cfg->machine_id, ORIGIN_ENGINE))
            return fail(err, errlen, "%s: cannot add machine_id to instance '%s'", p->where,
                        p->name);
        if (data_dir && !config_setting_get_member(group, "data_dir") &&
            put_string(p->settings, "data_dir", data_dir, ORIGIN_ENGINE))
            return fail(err, errlen, "%s: cannot add data_dir to instance '%s'", p->where,
                        p->name);
    }
    return 0;
}

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
        where_of(s, at, sizeof at);
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
    const config_impl *impl = impl_of(cfg);
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
    log_info(LOG_COMPONENT, "engine: readiness = %u condition(s) checked before a recipe "
             "starts (%s)", config_get_count(cfg->readiness, NULL), impl->origin[KEY_READINESS]);
}

void config_log_effective(const engine_config *cfg)
{
    if (!cfg || !cfg->impl)
        return;
    log_engine(cfg);
    const config_impl *impl = impl_of(cfg);
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
            snprintf(why, sizeof why, ", declared %s", role_name(d->declared_role));
        log_info(LOG_COMPONENT, "instance %s: plugin %s, role %s, %s%s (%s)", p->name,
                 p->plugin, role_name(p->role), p->active ? "active" : "inactive", why,
                 p->where);
        log_settings(p->name, (const config_setting_t *)p->settings, "", 0);
    }
}

/* ---- teardown ------------------------------------------------------------------- */

void config_free(engine_config *cfg)
{
    if (!cfg)
        return;
    config_impl *impl = impl_of(cfg);
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
