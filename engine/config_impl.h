/*
 * config_impl.h - what the configuration's files share (private to
 * engine/config_*.c): the engine group's keys, the per-file trees and what
 * each instance declared, and the helpers every stage uses.
 *
 * The jobs, one file each: config_parse.c reads conf.d into an
 * engine_config; config_env.c overlays the environment; config_validate.c
 * checks the result; config_log.c logs it with secrets masked;
 * config_access.c is the typed getters plugins use; config_defaults.c the
 * default places and the whole sequence.
 */
#ifndef ALD_ENGINE_CONFIG_IMPL_H
#define ALD_ENGINE_CONFIG_IMPL_H

#include <libconfig.h>
#include <stddef.h>

#include "config.h"

#define LOG_COMPONENT "config"
#define DEFAULT_MACHINE_ID "e3e6e280-0000-4000-8000-000000000001"
#define ORIGIN_DEFAULT "engine default"
#define ORIGIN_ENGINE "engine"

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
    KEY_COMMAND_MAX_AGE,
    KEY_COUNT
};

extern const char *const engine_keys[KEY_COUNT];

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
    char **env_origins;          /* "environment NAME" texts settings point to */
    size_t env_origin_count;
} config_impl;

static inline config_impl *cfg_impl(const engine_config *cfg)
{
    return (config_impl *)cfg->impl;
}

/* Write a message into err (when given) and return -1. */
int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "file:line" of a setting from a file, or its hook origin. */
const char *cfg_where_of(const config_setting_t *s, char *buf, size_t len);
/* Replace a heap string (value may be NULL). 0, or -1 out of memory. */
int cfg_replace_string(char **slot, const char *value);
int cfg_is_uuid(const char *text);
/* The logging interval's bounds (config.h) and how every message states them. */
#define CONFIG_INTERVAL_RULE "from 0.01 to 3600 (10 ms to 1 h)"
static inline int config_interval_in_bounds(double seconds)
{
    /* also false for NaN */
    return seconds >= CONFIG_LOGGING_INTERVAL_MIN_S && seconds <= CONFIG_LOGGING_INTERVAL_MAX_S;
}
const char *cfg_role_name(plugin_role role);
/* Derive roles and the active instances from the declarations (see config.h);
 * consult_env: whether requires_env variables count yet. */
void cfg_select_active(engine_config *cfg, int consult_env);
/* Set a member of a settings group, replacing one of another type, and record
 * its origin (a static or long-lived string) in the libconfig hook. 0 or -1. */
int cfg_put_string(const ald_config *settings, const char *name, const char *value,
                   const char *origin);
int cfg_put_int(const ald_config *settings, const char *name, int value, const char *origin);
/* Check an instance's env = ( ... ) declaration (NULL: none): a list of
 * groups, each with setting and variables, naming file:line when not. */
int cfg_check_env_mappings(const config_setting_t *env, char *err, size_t errlen);

#endif
