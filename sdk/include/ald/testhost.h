/*
 * ald/testhost.h - a host for unit-testing a plugin without the engine:
 * header-only, C11, nothing to link. It gives create() a real ald_host table
 * (logging captured and echoed to stderr, clocks, metrics kept in memory)
 * and settings you set in code, and tells you which settings the plugin did
 * not read (the engine refuses those).
 *
 *     ald_testhost th;
 *     ald_testhost_init(&th);
 *     ald_testhost_set_string(&th, "dir", "/tmp/x");
 *     ald_testhost_set_int(&th, "port", 5020);
 *     void *inst;
 *     char err[256];
 *     assert(vt->create(&th.host, ald_testhost_config(&th), &inst, err, sizeof err) == ALD_OK);
 *     assert(ald_testhost_unread(&th) == NULL);       // every setting was read
 *     assert(ald_testhost_metric(&th, "my_total", NULL) == 0);
 *
 * Limits: flat settings only (config_count is 0 and config_child NULL, as
 * for absent lists); up to ALD_TESTHOST_MAX settings and metrics; one
 * thread at a time for settings (metrics and logging are not locked: keep
 * multi-threaded tests to the engine's own suites). config_where names
 * "testhost:<setting>".
 */
#ifndef ALD_TESTHOST_H
#define ALD_TESTHOST_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ald/host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ALD_TESTHOST_MAX 64

typedef enum ald_testhost_type {
    ALD_TESTHOST_STRING,
    ALD_TESTHOST_INT,
    ALD_TESTHOST_DOUBLE,
    ALD_TESTHOST_BOOL
} ald_testhost_type;

typedef struct ald_testhost_setting {
    char name[64];
    ald_testhost_type type;
    char text[256];
    int64_t i;
    double d;
    int read; /* a getter asked for it */
} ald_testhost_setting;

struct ald_metric {
    char name[128];
    char labels[128];
    double value; /* counters and gauges: the value; histograms: the count */
};

typedef struct ald_testhost {
    ald_host host; /* first: the table's address is the test host's */
    ald_testhost_setting settings[ALD_TESTHOST_MAX];
    int setting_count;
    struct ald_metric metrics[ALD_TESTHOST_MAX];
    int metric_count;
    char last_log[512]; /* the last line logged, without prefix */
    int quiet;          /* 1 = do not echo log lines to stderr */
} ald_testhost;

/* The settings handle to pass to create(). */
static inline const ald_config *ald_testhost_config(ald_testhost *th)
{
    return (const ald_config *)(void *)th;
}

static inline ald_testhost_setting *ald_testhost_find_(const ald_config *cfg, const char *path)
{
    ald_testhost *th = (ald_testhost *)(void *)cfg;
    for (int i = 0; path && i < th->setting_count; i++)
        if (!strcmp(th->settings[i].name, path))
            return &th->settings[i];
    return NULL;
}

static inline ald_testhost_setting *ald_testhost_add_(ald_testhost *th, const char *name,
                                                      ald_testhost_type type)
{
    ald_testhost_setting *s = ald_testhost_find_(ald_testhost_config(th), name);
    if (!s && th->setting_count < ALD_TESTHOST_MAX)
        s = &th->settings[th->setting_count++];
    if (s) {
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%.63s", name);
        s->type = type;
    }
    return s;
}

static inline void ald_testhost_set_string(ald_testhost *th, const char *name, const char *v)
{
    ald_testhost_setting *s = ald_testhost_add_(th, name, ALD_TESTHOST_STRING);
    if (s)
        snprintf(s->text, sizeof s->text, "%.255s", v); /* longer values are cut */
}

static inline void ald_testhost_set_int(ald_testhost *th, const char *name, int64_t v)
{
    ald_testhost_setting *s = ald_testhost_add_(th, name, ALD_TESTHOST_INT);
    if (s)
        s->i = v;
}

static inline void ald_testhost_set_double(ald_testhost *th, const char *name, double v)
{
    ald_testhost_setting *s = ald_testhost_add_(th, name, ALD_TESTHOST_DOUBLE);
    if (s)
        s->d = v;
}

static inline void ald_testhost_set_bool(ald_testhost *th, const char *name, int v)
{
    ald_testhost_setting *s = ald_testhost_add_(th, name, ALD_TESTHOST_BOOL);
    if (s)
        s->i = v != 0;
}

/* The first setting create() did not read (the engine would refuse it), or NULL. */
static inline const char *ald_testhost_unread(const ald_testhost *th)
{
    for (int i = 0; i < th->setting_count; i++)
        if (!th->settings[i].read)
            return th->settings[i].name;
    return NULL;
}

/* ---- the getters, with the contract of ald_host ---- */

static inline ald_status ald_testhost_get_(const ald_config *cfg, const char *path,
                                           ald_testhost_type want, ald_testhost_setting **out)
{
    ald_testhost_setting *s = ald_testhost_find_(cfg, path);
    if (!s)
        return ALD_ERR_NOT_FOUND;
    s->read = 1;
    *out = s;
    int ok = s->type == want || (want == ALD_TESTHOST_DOUBLE && s->type == ALD_TESTHOST_INT);
    return ok ? ALD_OK : ALD_ERR_INVALID;
}

static inline ald_status ald_testhost_string_(const ald_config *cfg, const char *path,
                                              const char **out)
{
    ald_testhost_setting *s;
    ald_status st = ald_testhost_get_(cfg, path, ALD_TESTHOST_STRING, &s);
    if (st == ALD_OK)
        *out = s->text;
    return st;
}

static inline ald_status ald_testhost_int_(const ald_config *cfg, const char *path,
                                           int64_t *out)
{
    ald_testhost_setting *s;
    ald_status st = ald_testhost_get_(cfg, path, ALD_TESTHOST_INT, &s);
    if (st == ALD_OK)
        *out = s->i;
    return st;
}

static inline ald_status ald_testhost_double_(const ald_config *cfg, const char *path,
                                              double *out)
{
    ald_testhost_setting *s;
    ald_status st = ald_testhost_get_(cfg, path, ALD_TESTHOST_DOUBLE, &s);
    if (st == ALD_OK)
        *out = s->type == ALD_TESTHOST_INT ? (double)s->i : s->d;
    return st;
}

static inline ald_status ald_testhost_bool_(const ald_config *cfg, const char *path, int *out)
{
    ald_testhost_setting *s;
    ald_status st = ald_testhost_get_(cfg, path, ALD_TESTHOST_BOOL, &s);
    if (st == ALD_OK)
        *out = (int)s->i;
    return st;
}

static inline unsigned ald_testhost_count_(const ald_config *cfg, const char *path)
{
    (void)cfg, (void)path;
    return 0;
}

static inline const ald_config *ald_testhost_child_(const ald_config *cfg, const char *path,
                                                    unsigned index)
{
    (void)cfg, (void)path, (void)index;
    return NULL;
}

static inline const char *ald_testhost_where_(const ald_config *cfg, const char *path,
                                              char *buf, size_t len)
{
    (void)cfg;
    if (buf && len)
        snprintf(buf, len, "testhost:%s", path ? path : "settings");
    return buf;
}

/* ---- logging, clocks, metrics ---- */

static inline void ald_testhost_vlog_(const ald_host *host, ald_log_level level,
                                      const char *fmt, va_list ap)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 0)))
#endif
    ;

static inline void ald_testhost_vlog_(const ald_host *host, ald_log_level level,
                                      const char *fmt, va_list ap)
{
    ald_testhost *th = (ald_testhost *)(void *)host->host_ctx;
    vsnprintf(th->last_log, sizeof th->last_log, fmt, ap);
    if (!th->quiet)
        fprintf(stderr, "[testhost %d] %s\n", (int)level, th->last_log);
}

static inline void ald_testhost_log_(const ald_host *host, ald_log_level level,
                                     const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static inline void ald_testhost_log_(const ald_host *host, ald_log_level level,
                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ald_testhost_vlog_(host, level, fmt, ap);
    va_end(ap);
}

/* CLOCK_MONOTONIC where <time.h> has it (POSIX feature macros), else the
 * C11 calendar clock. */
static inline uint64_t ald_testhost_mono_(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC
    clock_gettime(CLOCK_MONOTONIC, &ts);
#else
    timespec_get(&ts, TIME_UTC);
#endif
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t ald_testhost_real_(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline ald_metric *ald_testhost_register_(const ald_host *host, const ald_metric_desc *d)
{
    ald_testhost *th = (ald_testhost *)(void *)host->host_ctx;
    if (!d || !d->name || d->struct_size < ALD_FIELD_END(ald_metric_desc, labels))
        return NULL;
    const char *labels = d->labels ? d->labels : "";
    for (int i = 0; i < th->metric_count; i++)
        if (!strcmp(th->metrics[i].name, d->name) && !strcmp(th->metrics[i].labels, labels))
            return &th->metrics[i];
    if (th->metric_count == ALD_TESTHOST_MAX)
        return NULL;
    ald_metric *m = &th->metrics[th->metric_count++];
    snprintf(m->name, sizeof m->name, "%.127s", d->name);
    snprintf(m->labels, sizeof m->labels, "%.127s", labels);
    m->value = 0;
    return m;
}

static inline void ald_testhost_add_metric_(ald_metric *m, double delta)
{
    if (m)
        m->value += delta;
}

static inline void ald_testhost_set_metric_(ald_metric *m, double value)
{
    if (m)
        m->value = value;
}

static inline void ald_testhost_observe_(ald_metric *m, double value)
{
    (void)value;
    if (m)
        m->value += 1;
}

/* A metric's value (histograms: the observation count); -1 when the plugin
 * registered no such series. labels NULL = no labels. */
static inline double ald_testhost_metric(const ald_testhost *th, const char *name,
                                         const char *labels)
{
    for (int i = 0; i < th->metric_count; i++)
        if (!strcmp(th->metrics[i].name, name) &&
            !strcmp(th->metrics[i].labels, labels ? labels : ""))
            return th->metrics[i].value;
    return -1;
}

static inline void ald_testhost_init(ald_testhost *th)
{
    memset(th, 0, sizeof *th);
    th->host.struct_size = sizeof th->host;
    th->host.abi_major = ALD_ABI_MAJOR;
    th->host.abi_minor = ALD_ABI_MINOR;
    th->host.host_ctx = th;
    th->host.log = ald_testhost_log_;
    th->host.vlog = ald_testhost_vlog_;
    th->host.config_string = ald_testhost_string_;
    th->host.config_int = ald_testhost_int_;
    th->host.config_double = ald_testhost_double_;
    th->host.config_bool = ald_testhost_bool_;
    th->host.config_count = ald_testhost_count_;
    th->host.config_child = ald_testhost_child_;
    th->host.config_where = ald_testhost_where_;
    th->host.monotonic_ns = ald_testhost_mono_;
    th->host.realtime_ns = ald_testhost_real_;
    th->host.metric_register = ald_testhost_register_;
    th->host.metric_add = ald_testhost_add_metric_;
    th->host.metric_set = ald_testhost_set_metric_;
    th->host.metric_observe = ald_testhost_observe_;
}

#ifdef __cplusplus
}
#endif
#endif /* ALD_TESTHOST_H */
