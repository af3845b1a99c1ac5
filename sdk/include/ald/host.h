/*
 * ald/host.h - services the host gives every plugin instance.
 *
 * The host passes one ald_host table to create(); it stays valid until the
 * instance's destroy() returns, and is specific to that instance (log lines
 * carry the instance name, metrics registered through it are the instance's).
 * Plugins never link against engine symbols: everything they need from the
 * host is in this table. Functions that a given host does not provide are
 * NULL (check struct_size / the pointer before calling anything added after
 * ABI 1.0).
 *
 * THREADING: every function in this table is thread-safe and never blocks on
 * I/O, so it may be called from any thread, including a plugin's own.
 */
#ifndef ALD_HOST_H
#define ALD_HOST_H

#include <stdarg.h>
#include <stdint.h>

#include "ald/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ald_log_level {
    ALD_LOG_ERROR = 0,
    ALD_LOG_WARNING = 1,
    ALD_LOG_INFO = 2,
    ALD_LOG_DEBUG = 3
} ald_log_level;

/*
 * A plugin instance's settings: the `settings` group of its libconfig file,
 * already overlaid with the environment overrides the host applies. Opaque.
 * Paths are libconfig paths relative to the group ("host", "tags.[0].name"
 * is not supported: use ald_host.config_child for list elements).
 *
 * Every instance's settings also hold two the host injects (unless the file
 * sets them): "machine_id" (the engine's machine UUID) and "data_dir" (the
 * engine's writable data directory). Settings are strict: after create()
 * the host refuses, with file:line, every setting that create() did not read
 * through the getters below (injected and environment-mapped ones excepted),
 * so read every setting you accept in create().
 */
typedef struct ald_config ald_config;

typedef enum ald_metric_type {
    ALD_METRIC_COUNTER = 0,  /* only goes up; name ends in _total */
    ALD_METRIC_GAUGE = 1,    /* set to the current value */
    ALD_METRIC_HISTOGRAM = 2 /* observations into fixed buckets */
} ald_metric_type;

/* A metric series owned by the host; updating it is lock-free. */
typedef struct ald_metric ald_metric;

typedef struct ald_metric_desc {
    uint32_t struct_size;  /* sizeof(ald_metric_desc) */
    const char *name;      /* Prometheus name, e.g. "ald_plc_requests_total" */
    const char *help;      /* one line for # HELP */
    ald_metric_type type;
    const char *labels;    /* fixed label pairs, e.g. "device=\"plc0\"", or NULL */
    const double *buckets; /* histograms: ascending upper bounds (without +Inf) */
    uint32_t bucket_count;
} ald_metric_desc;

typedef struct ald_host ald_host;

struct ald_host {
    uint32_t struct_size; /* sizeof(ald_host) as the host built it */
    uint16_t abi_major;
    uint16_t abi_minor;
    void *host_ctx; /* the host's own per-instance data; plugins do not touch it */

    /* ---- logging -------------------------------------------------------- */
    /* Log a line; the host prefixes time, level and instance name. Messages
     * must never contain secrets (keys, passwords, tokens). */
    void (*log)(const ald_host *host, ald_log_level level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    void (*vlog)(const ald_host *host, ald_log_level level, const char *fmt, va_list ap);

    /* ---- typed configuration ------------------------------------------- */
    /* Each getter returns ALD_OK and stores the value, ALD_ERR_NOT_FOUND when
     * the setting is absent (the out value is untouched, so preset defaults),
     * or ALD_ERR_INVALID when it has another type. Strings stay valid as long
     * as the config (until destroy()). Integers accept int and int64 settings;
     * doubles accept floats and integers. */
    ald_status (*config_string)(const ald_config *cfg, const char *path, const char **out);
    ald_status (*config_int)(const ald_config *cfg, const char *path, int64_t *out);
    ald_status (*config_double)(const ald_config *cfg, const char *path, double *out);
    ald_status (*config_bool)(const ald_config *cfg, const char *path, int *out);
    /* Number of elements of a list or array setting (0 when absent). */
    unsigned (*config_count)(const ald_config *cfg, const char *path);
    /* The index-th element of a list of groups, as a config; NULL if none. */
    const ald_config *(*config_child)(const ald_config *cfg, const char *path, unsigned index);
    /* "file:line" of a setting (or of the group when path is NULL), for error
     * messages; writes an empty string when unknown. Returns buf. */
    const char *(*config_where)(const ald_config *cfg, const char *path, char *buf,
                                size_t buflen);

    /* ---- clocks ---------------------------------------------------------- */
    uint64_t (*monotonic_ns)(void); /* CLOCK_MONOTONIC, for deadlines and durations */
    int64_t (*realtime_ns)(void);   /* CLOCK_REALTIME, for timestamps */

    /* ---- metrics ----------------------------------------------------------- */
    /* Register a series; the same name+labels twice returns the same series.
     * The host adds plugin_instance="<instance name>" to the labels (unless
     * the plugin sets that label itself), so instances never share a series.
     * Returns NULL on a bad description (the reason is logged). Updating a
     * NULL series is a harmless no-op, so callers need not check. */
    ald_metric *(*metric_register)(const ald_host *host, const ald_metric_desc *desc);
    void (*metric_add)(ald_metric *m, double delta);   /* counters and gauges */
    void (*metric_set)(ald_metric *m, double value);   /* gauges */
    void (*metric_observe)(ald_metric *m, double value); /* histograms */
};

#ifdef __cplusplus
}
#endif
#endif /* ALD_HOST_H */
