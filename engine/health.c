/* health.c - health rules and the /health JSON documents (see health.h). */
#include "health.h"
#include "clock.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lease.h"
#include "ports/plc_port.h"
#include "procstat.h"
#include "realtime.h"
#include "state.h"

#define MAX_REASONS 12

/* One consistent reading of g_state and the rule applied to it. */
typedef struct health_eval {
    int started, stopping, logging_running, plc, db;
    int lease; /* -1 undecided, 0 standby, 1 active (g_state.lease_state) */
    double interval_s; /* configured logging interval */
    int have_cycle;
    double cycle_age_s; /* valid when have_cycle */
    int stalled;
    int fallback_configured, fallback_open;
    int have_stored;
    double stored_age_s; /* valid when have_stored */
    int no_data; /* the lease holder stored no sample lately */
    int have_procstat;
    procstat proc;
    int memory_high;
    health_level level;
    const char *reasons[MAX_REASONS];
    unsigned reason_count;
    char owed_reason[256]; /* the owed-valve reason's text (reasons[] points here) */
} health_eval;

static double ns_to_s(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void add_reason(health_eval *e, const char *reason)
{
    if (e->reason_count < MAX_REASONS)
        e->reasons[e->reason_count++] = reason;
}

/* Stalled: the last cycle is too old, or the first one never came. */
static void judge_logger(health_eval *e, uint64_t now)
{
    uint64_t interval_ns =
        g_state.logging_interval_ns ? g_state.logging_interval_ns : 1000000000u;
    e->interval_s = ns_to_s(interval_ns);
    uint64_t last = atomic_load(&g_state.last_cycle_mono_ns);
    uint64_t limit = HEALTH_STALL_INTERVALS * interval_ns;
    e->have_cycle = last != 0;
    if (e->have_cycle) {
        uint64_t age = now > last ? now - last : 0;
        e->cycle_age_s = ns_to_s(age);
        e->stalled = age > limit;
    } else {
        uint64_t since_start = now > g_state.start_mono_ns ? now - g_state.start_mono_ns : 0;
        e->stalled = since_start > limit + (uint64_t)(HEALTH_START_GRACE_SECONDS * 1e9);
    }
}

/* No data: the lease holder stored no sample within HEALTH_STALL_INTERVALS
 * intervals of its last store, or of taking the lease (plus the start-up
 * grace, as the first cycle and store take a moment). A standby stores
 * nothing by design; its status says "standby" instead. */
static void judge_storing(health_eval *e, uint64_t now)
{
    uint64_t interval_ns = (uint64_t)(e->interval_s * 1e9);
    uint64_t last = atomic_load(&g_state.last_stored_mono_ns);
    uint64_t active = atomic_load(&g_state.active_since_mono_ns);
    e->have_stored = last != 0;
    e->stored_age_s = last && now > last ? ns_to_s(now - last) : 0;
    if (!e->started || e->stopping || e->lease != 1)
        return;
    uint64_t limit = HEALTH_STALL_INTERVALS * interval_ns;
    uint64_t since = last;
    if (!last || last < active) { /* nothing stored since this engine became active */
        since = active ? active : g_state.start_mono_ns;
        limit += (uint64_t)(HEALTH_START_GRACE_SECONDS * 1e9);
    }
    e->no_data = now > since && now - since > limit;
}

static void evaluate(health_eval *e)
{
    *e = (health_eval){0};
    e->started = atomic_load(&g_state.started);
    e->stopping = atomic_load(&g_state.stopping);
    e->logging_running = atomic_load(&g_state.logging_running);
    e->plc = atomic_load(&g_state.plc_connected);
    e->db = atomic_load(&g_state.db_connected);
    e->lease = atomic_load(&g_state.lease_state);
    e->fallback_configured = atomic_load(&g_state.fallback_configured);
    e->fallback_open = atomic_load(&g_state.fallback_open);
    uint64_t now = clock_mono_ns();
    judge_logger(e, now);
    judge_storing(e, now);
    e->have_procstat = procstat_read(&e->proc) == 0;
    e->memory_high = e->have_procstat && e->proc.resident_mb > HEALTH_MEMORY_HIGH_MB;

    if (!e->started)
        add_reason(e, "engine not started");
    if (e->stopping)
        add_reason(e, "engine stopping");
    if (!e->logging_running)
        add_reason(e, "parameter logger not running");
    else if (e->stalled)
        add_reason(e, "parameter logger stalled (no cycle within 3 intervals)");
    int unhealthy = e->reason_count > 0;
    if (!e->plc)
        add_reason(e, "PLC disconnected");
    if (!e->db)
        add_reason(e, "database disconnected");
    if (e->memory_high)
        add_reason(e, "resident memory over 800 MB");
    if (e->fallback_configured && !e->fallback_open)
        add_reason(e, "fallback store not open: an outage of the primary would lose samples");
    if (e->no_data)
        add_reason(e, "no samples stored for 3 cycles");
    char owed[160];
    plc_port_owed_names(owed, sizeof owed);
    if (owed[0]) {
        snprintf(e->owed_reason, sizeof e->owed_reason,
                 "%s owed closed (commanded closed, not confirmed OFF by the PLC)", owed);
        add_reason(e, e->owed_reason);
    }
    e->level = unhealthy         ? HEALTH_UNHEALTHY
               : e->reason_count ? HEALTH_DEGRADED
                                 : HEALTH_HEALTHY;
}

health_level health_level_now(void)
{
    health_eval e;
    evaluate(&e);
    return e.level;
}

double health_status_value(void)
{
    switch (health_level_now()) {
    case HEALTH_HEALTHY:
        return 1.0;
    case HEALTH_DEGRADED:
        return 0.5;
    case HEALTH_UNHEALTHY:
        break;
    }
    return 0.0;
}

/* ISO-8601 UTC with milliseconds: 2026-11-27T03:29:06.123Z */
static void utc_timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Serialize and free root; NULL (and status 500) when anything failed. */
static char *finish(json_t *root, int status, int *http_status)
{
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(root);
    *http_status = text ? status : 500;
    return text;
}

char *health_basic_json(int *http_status)
{
    char ts[40];
    utc_timestamp(ts, sizeof ts);
    int started = atomic_load(&g_state.started);
    int stopping = atomic_load(&g_state.stopping);
    const char *status = stopping ? "stopping" : started ? "ok" : "starting";
    json_t *root = json_pack("{s:s, s:s, s:f, s:b}", "status", status, "timestamp", ts,
                             "uptime", state_uptime_seconds(), "plc_connected",
                             atomic_load(&g_state.plc_connected) != 0);
    return finish(root, started && !stopping ? 200 : 503, http_status);
}

static const char *level_name(health_level level)
{
    return level == HEALTH_HEALTHY    ? "healthy"
           : level == HEALTH_DEGRADED ? "degraded"
                                      : "unhealthy";
}

static json_int_t counter(atomic_uint_fast64_t *c)
{
    return (json_int_t)atomic_load(c);
}

static double last_interval_s(void)
{
    return (double)atomic_load(&g_state.last_interval_us) / 1e6;
}

static json_t *data_collection_json(const health_eval *e)
{
    const char *status = !e->logging_running ? "stopped" : e->stalled ? "stalled" : "running";
    json_t *age = e->have_cycle ? json_real(e->cycle_age_s) : json_null();
    json_t *stored = e->have_stored ? json_real(e->stored_age_s) : json_null();
    return json_pack("{s:s, s:o, s:o, s:b, s:I, s:I, s:f}", "status", status,
                     "last_cycle_age_seconds", age, "last_stored_age_seconds", stored,
                     "storing", !e->no_data, "cycles", counter(&g_state.cycles_total),
                     "late_cycles", counter(&g_state.late_cycles_total), "interval_seconds",
                     e->interval_s);
}

static json_t *resources_json(const health_eval *e)
{
    if (!e->have_procstat)
        return json_pack("{s:s, s:n, s:n, s:n}", "status", "unknown", "memory_mb", "threads",
                         "cpu_seconds");
    return json_pack("{s:s, s:f, s:i, s:f}", "status", e->memory_high ? "high" : "ok",
                     "memory_mb", e->proc.resident_mb, "threads", (int)e->proc.threads,
                     "cpu_seconds", e->proc.cpu_seconds);
}

/* Age of the oldest record waiting for the primary store (0 when none). */
static double outbox_oldest_age_s(void)
{
    uint64_t oldest = atomic_load(&g_state.outbox_oldest_ms);
    if (!oldest || !atomic_load(&g_state.outbox_depth))
        return 0;
    double now_ms = (double)clock_realtime_ms();
    return now_ms > (double)oldest ? (now_ms - (double)oldest) / 1000.0 : 0;
}

static json_t *services_json(const health_eval *e)
{
    json_t *services = json_pack("{s:{s:s, s:I}, s:{s:s, s:I, s:I, s:I, s:f}, s:o, s:o}", "plc",
                     "status", e->plc ? "connected" : "disconnected", "errors_total",
                     counter(&g_state.plc_errors_total), "database", "status",
                     e->db ? "connected" : "disconnected", "logging_errors_total",
                     counter(&g_state.logging_errors_total), "writer_queue_depth",
                     counter(&g_state.writer_queue_depth), "outbox_depth",
                     counter(&g_state.outbox_depth), "outbox_oldest_age_seconds",
                     outbox_oldest_age_s(), "data_collection", data_collection_json(e),
                     "resources", resources_json(e));
    const char *fallback = !e->fallback_configured ? "none"
                           : e->fallback_open      ? "open"
                                                   : "not open";
    if (services)
        json_object_set_new(services, "fallback", json_pack("{s:s}", "status", fallback));
    return services;
}

static json_t *metrics_json(void)
{
    return json_pack("{s:I, s:f, s:I, s:I, s:I, s:I, s:I}", "parameter_tags",
                     counter(&g_state.tag_count), "last_interval_seconds", last_interval_s(),
                     "writer_queue_depth", counter(&g_state.writer_queue_depth),
                     "plc_errors_total", counter(&g_state.plc_errors_total),
                     "data_logging_errors_total", counter(&g_state.logging_errors_total),
                     "logger_cycles_total", counter(&g_state.cycles_total),
                     "logger_late_cycles_total", counter(&g_state.late_cycles_total));
}

static json_t *errors_json(void)
{
    char errors[STATE_ERROR_RING][STATE_ERROR_LEN];
    unsigned n = state_recent_errors(errors, STATE_ERROR_RING);
    json_t *list = json_array();
    for (unsigned i = 0; list && i < n; i++)
        json_array_append_new(list, json_string(errors[i]));
    return list;
}

static json_t *reasons_json(const health_eval *e)
{
    json_t *list = json_array();
    for (unsigned i = 0; list && i < e->reason_count; i++)
        json_array_append_new(list, json_string(e->reasons[i]));
    return list;
}

static const char *role_name(int lease)
{
    return lease == 1 ? "active" : lease == 0 ? "standby" : "undecided";
}

/* A healthy engine that does not drive the tool is not ready as the live
 * one: it says "standby" (or waits for its first lease answer). */
static const char *full_status(health_eval *e)
{
    if (e->level != HEALTH_HEALTHY || e->lease == 1)
        return level_name(e->level);
    add_reason(e, e->lease == 0 ? "standby: another engine holds the machine's lease"
                                : "lease not decided yet");
    return e->lease == 0 ? "standby" : "starting";
}

char *health_full_json(int *http_status)
{
    health_eval e;
    evaluate(&e);
    char ts[40];
    utc_timestamp(ts, sizeof ts);
    const char *status = full_status(&e);
    int ok = e.level == HEALTH_HEALTHY && e.lease == 1;
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o}", "status", status, "role",
        role_name(e.lease), "timestamp", ts, "uptime", state_uptime_seconds(), "services",
        services_json(&e), "metrics", metrics_json(), "reasons", reasons_json(&e), "errors",
        errors_json(), "realtime", realtime_health_json()); /* never a readiness rule */
    return finish(root, ok ? 200 : 503, http_status);
}

/* Can serve: up, logging, PLC connected and the store reachable. The lease
 * is not asked: a standby that could take over is ready. */
static void judge_ready(health_eval *e)
{
    e->reason_count = 0;
    if (!e->started)
        add_reason(e, "engine not started");
    if (e->stopping)
        add_reason(e, "engine stopping");
    if (!e->logging_running || e->stalled)
        add_reason(e, "parameter logger not cycling");
    if (!e->plc)
        add_reason(e, "PLC disconnected");
    if (!e->db)
        add_reason(e, "database disconnected");
    if (e->fallback_configured && !e->fallback_open)
        add_reason(e, "fallback store not open");
}

char *health_ready_json(int *http_status)
{
    health_eval e;
    evaluate(&e);
    judge_ready(&e);
    int ready = e.reason_count == 0;
    json_t *root = json_pack("{s:b, s:s, s:b, s:b, s:o}", "ready", ready, "role",
                             role_name(e.lease), "plc_connected", e.plc != 0,
                             "database_connected", e.db != 0, "reasons", reasons_json(&e));
    return finish(root, ready ? 200 : 503, http_status);
}

char *health_active_json(int *http_status)
{
    int started = atomic_load(&g_state.started);
    int stopping = atomic_load(&g_state.stopping);
    int active = started && !stopping && lease_is_held();
    json_t *root = json_pack("{s:b, s:s}", "active", active, "role",
                             role_name(atomic_load(&g_state.lease_state)));
    return finish(root, active ? 200 : 503, http_status);
}
