/*
 * config.h - the engine's configuration: every *.conf (libconfig) of a
 * directory, overlaid with the operators' environment variables.
 *
 * Files are read in name order. A file holds an `engine` group (at most one
 * across the directory) and/or `plugins` list of instance groups:
 *
 *     engine: { machine_id = "..."; log_level = "info"; logging_interval = 1.0;
 *               status_log_interval = 300; http_port = 8000; plc_type = "simulation";
 *               data_dir = "..."; plugin_dir = "...";
 *               readiness = ( { parameter = "<id>"; op = ">="; value = 1.0; } ); };
 *     plugins = ( { name = "sim"; plugin = "plc-sim"; role = "plc";
 *                   plc_type = "simulation"; settings = { ... }; } );
 *
 * Roles: "plc", "storage" (primary), "fallback" (durable local outbox).
 * Several PLC instances may be declared; the one whose plc_type matches the
 * engine's plc_type (PLC_TYPE) is active, the rest are ignored. Likewise a
 * storage instance may say `requires_env = "SUPABASE_URL"`: it is active only
 * when that variable is set, and when active it takes the storage role,
 * demoting the embedded store to fallback.
 *
 * Environment overrides (applied by config_apply_env, recorded so messages
 * say "environment PLC_HOST" instead of a file:line):
 *   MACHINE_ID, LOG_LEVEL, STATUS_LOG_INTERVAL, PLC_TYPE, ALD_DATA_DIR,
 *   ALD_PLUGIN_DIR                          -> engine settings
 *   anything an instance maps in its file   -> that instance's settings, while
 *                                             it is active:
 *     env = ( { setting = "port"; variables = ["PLC_PORT"]; type = "int";
 *               min = 1; max = 65535; meaning = "a TCP port"; },
 *             { setting = "host"; variables = ["PLC_HOST", "PLC_IP"]; },
 *             { setting = "legacy_byte_order"; variables = ["PLC_BYTE_ORDER"];
 *               one_of = ["abcd", "badc", "cdab", "dcba"]; } );
 *   The first set variable of a mapping wins; type is "string" (default) or
 *   "int" (min, max required); one_of takes a word in any case and stores
 *   the list's spelling; prefix = [...] refuses other values without
 *   showing them (URLs may hold credentials). Every declared mapping is
 *   checked, active instance or not, before anything changes. The shipped
 *   plc-modbus.conf and storage-supabase.conf map PLC_HOST/PLC_IP, PLC_PORT,
 *   PLC_BYTE_ORDER and SUPABASE_URL, SUPABASE_KEY this way. Every mapped
 *   variable NAME may instead be given as NAME_FILE, a file holding the value
 *   (compose secrets; env_secret.h); setting both is an error.
 */
#ifndef ALD_ENGINE_CONFIG_H
#define ALD_ENGINE_CONFIG_H

#include <stddef.h>

#include "ald/host.h"
#include "runtime_env.h"

typedef enum plugin_role {
    ROLE_PLC = 0,
    ROLE_STORAGE = 1,
    ROLE_FALLBACK = 2,
    ROLE_SINK = 3 /* extra write-only stores beside the primary (sink.h) */
} plugin_role;

typedef struct plugin_conf {
    char *name;       /* instance name, unique */
    char *plugin;     /* plugin name ("plc-sim") or a path to a .so */
    plugin_role role; /* effective role after PLC_TYPE / requires_env */
    int active;       /* 0 = declared but not selected (other plc_type, env absent) */
    char *plc_type;   /* for role plc: "simulation" | "real" | other */
    char where[256];  /* "conf.d/plc-sim.conf:3" of the instance group */
    const ald_config *settings; /* never NULL: an empty group when absent */
} plugin_conf;

/* Bounds of the engine's numeric settings, enforced when the files are read
 * and again by config_validate (the environment may have changed them). Below
 * 10 ms the logger would spin (and an interval that truncates to 0 ns divides
 * by zero); above an hour a stalled logger would go unnoticed. */
#define CONFIG_LOGGING_INTERVAL_MIN_S 0.01
#define CONFIG_LOGGING_INTERVAL_MAX_S 3600.0
#define CONFIG_STATUS_LOG_MAX_S (86400 * 365)

typedef struct engine_config {
    char *config_dir;
    char *machine_id;
    ald_log_level log_level;
    double logging_interval_s;   /* default 1.0, CONFIG_LOGGING_INTERVAL_MIN_S..MAX_S */
    int status_log_interval_s;   /* default 300, 0 = off, at most CONFIG_STATUS_LOG_MAX_S */
    int http_port;               /* default 8000, 0 = HTTP off */
    unsigned command_max_age_s;  /* default 60: older start/set commands expire */
    char *plc_type;              /* default "simulation" */
    char *data_dir;              /* NULL = caller's default */
    char *plugin_dir;            /* NULL = default search path */
    const ald_config *readiness; /* list of { parameter; op; value; } or NULL */
    engine_runtime runtime;      /* environment-only process settings */
    plugin_conf *plugins;
    size_t plugin_count;
    void *impl; /* the libconfig trees; private to config_*.c (config_impl.h) */
} engine_config;

/* Load every *.conf in dir. On error returns -1 and writes a message that
 * names the file and line ("conf.d/engine.conf:7: syntax error"). */
int config_load_dir(engine_config *cfg, const char *dir, char *err, size_t errlen);

/* Apply the environment overrides and re-select active instances. Returns -1
 * with a message naming the variable on a bad value (PLC_PORT=abc). */
int config_apply_env(engine_config *cfg, char *err, size_t errlen);

/* Check the engine settings and the instance list (exactly one active plc and
 * one active storage; unique names; known roles). -1 with a message. */
int config_validate(const engine_config *cfg, char *err, size_t errlen);

/* Log the effective configuration at info level, secrets masked (any setting
 * whose name contains key, password, secret or token; URLs lose userinfo). */
void config_log_effective(const engine_config *cfg);

/* Give every plugin instance's settings group the host-provided settings
 * `machine_id` and `data_dir` (strings) unless the file set them itself,
 * marked with origin "engine". Plugins read them like any other setting. */
int config_set_plugin_defaults(engine_config *cfg, const char *data_dir, char *err,
                               size_t errlen);

/* Defaults: the source tree's conf.d and ./data when the program runs from a
 * build tree, else $sysconfdir/ald/conf.d and $localstatedir/lib/ald. */
const char *config_default_dir(void);
const char *config_default_data_dir(void);

/* The whole sequence: load dir (NULL = default), apply the environment,
 * validate, give plugins machine_id and data_dir. 0, or -1 with a message.
 * config_free() is safe afterwards either way. */
int config_load_effective(engine_config *cfg, const char *dir, char *err, size_t errlen);

/* The active instance of a role, or NULL. */
const plugin_conf *config_active(const engine_config *cfg, plugin_role role);

void config_free(engine_config *cfg);

/* Typed access to an ald_config, with the contract of ald_host (host.h). */
ald_status config_get_string(const ald_config *c, const char *path, const char **out);
ald_status config_get_int(const ald_config *c, const char *path, int64_t *out);
ald_status config_get_double(const ald_config *c, const char *path, double *out);
ald_status config_get_bool(const ald_config *c, const char *path, int *out);
unsigned config_get_count(const ald_config *c, const char *path);
const ald_config *config_get_child(const ald_config *c, const char *path, unsigned index);
const char *config_get_where(const ald_config *c, const char *path, char *buf, size_t len);

/* Whether a setting name holds a secret (for masking). */
int config_name_is_secret(const char *name);

#endif
