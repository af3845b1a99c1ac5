/* stdmetrics.c - the engine's standard metric families (see stdmetrics.h). */
#include "stdmetrics.h"

#include <stdatomic.h>
#include <stdio.h>

#include "health.h"
#include "metrics.h"
#include "procstat.h"
#include "state.h"

/* The series the collector refreshes at scrape time. */
typedef struct std_series {
    ald_metric *health, *plc_connected, *db_connected, *logging_running;
    ald_metric *last_interval, *configured_interval;
    ald_metric *cycles, *late_cycles, *plc_errors, *logging_errors;
    ald_metric *queue_depth, *tags;
    ald_metric *memory_mb, *resident_bytes, *cpu_seconds, *threads, *uptime;
} std_series;

static std_series series;

/* Written once by init, read by the logger thread. */
static ald_metric *_Atomic period_histogram;

/* Periods around the 1 s cycle in 1 ms steps near 1 s, then coarser to 5 s. */
static const double period_buckets[] = {0.25,  0.5,  0.9,   0.95,  0.99,  0.995, 0.998,
                                        0.999, 1.0,  1.001, 1.002, 1.005, 1.01,  1.05,
                                        1.1,   1.25, 1.5,   2.0,   3.0,   5.0};

static double as_double(atomic_uint_fast64_t *counter)
{
    return (double)atomic_load(counter);
}

static void collect(void *ctx)
{
    std_series *s = ctx;
    metrics_set(s->health, health_status_value());
    metrics_set(s->plc_connected, atomic_load(&g_state.plc_connected) ? 1 : 0);
    metrics_set(s->db_connected, atomic_load(&g_state.db_connected) ? 1 : 0);
    metrics_set(s->logging_running, atomic_load(&g_state.logging_running) ? 1 : 0);
    metrics_set(s->last_interval, as_double(&g_state.last_interval_us) / 1e6);
    metrics_set(s->configured_interval, (double)g_state.logging_interval_ns / 1e9);
    metrics_set(s->cycles, as_double(&g_state.cycles_total));
    metrics_set(s->late_cycles, as_double(&g_state.late_cycles_total));
    metrics_set(s->plc_errors, as_double(&g_state.plc_errors_total));
    metrics_set(s->logging_errors, as_double(&g_state.logging_errors_total));
    metrics_set(s->queue_depth, as_double(&g_state.writer_queue_depth));
    metrics_set(s->tags, as_double(&g_state.tag_count));
    metrics_set(s->uptime, state_uptime_seconds());
    procstat proc;
    if (procstat_read(&proc) == 0) { /* on failure keep the last good values */
        metrics_set(s->memory_mb, proc.resident_mb);
        metrics_set(s->resident_bytes, (double)proc.resident_bytes);
        metrics_set(s->cpu_seconds, proc.cpu_seconds);
        metrics_set(s->threads, proc.threads);
    }
}

static void register_state_series(std_series *s)
{
    s->health = metrics_gauge("ald_health_status",
                              "Engine health as in /health: 1 healthy, 0.5 degraded, "
                              "0 unhealthy",
                              NULL);
    s->plc_connected =
        metrics_gauge("ald_plc_connected", "1 when the PLC is connected", NULL);
    s->db_connected =
        metrics_gauge("ald_database_connected", "1 when the database is reachable", NULL);
    s->logging_running = metrics_gauge("ald_data_collection_running",
                                       "1 while the parameter logger thread runs", NULL);
    s->last_interval = metrics_gauge("ald_parameter_logging_interval",
                                     "Measured period of the last logger cycle in seconds "
                                     "(0 before the first cycle)",
                                     NULL);
    s->configured_interval =
        metrics_gauge("ald_parameter_logging_configured_interval_seconds",
                      "Configured parameter logging interval in seconds", NULL);
    s->cycles =
        metrics_counter("ald_logger_cycles_total", "Parameter logger cycles run", NULL);
    s->late_cycles = metrics_counter("ald_logger_late_cycles_total",
                                     "Logger cycles that started later than scheduled", NULL);
    s->plc_errors = metrics_counter("ald_plc_errors_total", "Failed PLC operations", NULL);
    s->logging_errors = metrics_counter("ald_data_logging_errors_total",
                                        "Parameter batches that failed to be stored", NULL);
    s->queue_depth = metrics_gauge("ald_writer_queue_depth",
                                   "Batches waiting for the storage writer", NULL);
    s->tags =
        metrics_gauge("ald_parameter_tags", "Parameters the logger reads each cycle", NULL);
}

static void register_process_series(std_series *s)
{
    s->memory_mb =
        metrics_gauge("ald_memory_usage_mb", "Resident memory of the engine in MiB", NULL);
    s->resident_bytes = metrics_gauge("ald_process_resident_memory_bytes",
                                      "Resident memory of the engine in bytes", NULL);
    s->cpu_seconds =
        metrics_counter("ald_process_cpu_seconds_total",
                        "User plus system CPU time of the engine in seconds", NULL);
    s->threads = metrics_gauge("ald_process_threads", "Threads in the engine process", NULL);
    s->uptime = metrics_gauge("ald_uptime_seconds", "Seconds since the engine started", NULL);
}

static void register_build_info(const char *version, const char *abi_version)
{
    char v[128], a[64], labels[256];
    metrics_escape_label_value(v, sizeof v, version ? version : "unknown");
    metrics_escape_label_value(a, sizeof a, abi_version ? abi_version : "unknown");
    snprintf(labels, sizeof labels, "version=\"%s\",abi=\"%s\"", v, a);
    metrics_set(metrics_gauge("ald_build_info",
                              "Engine version and plugin ABI version (always 1)", labels),
                1);
}

void stdmetrics_init(const char *version, const char *abi_version)
{
    register_state_series(&series);
    register_process_series(&series);
    register_build_info(version, abi_version);
    atomic_store(&period_histogram,
                 metrics_histogram("ald_parameter_logging_interval_seconds",
                                   "Measured periods of the parameter logger in seconds",
                                   NULL, period_buckets,
                                   sizeof period_buckets / sizeof period_buckets[0]));
    metrics_add_collector(collect, &series);
}

void stdmetrics_observe_cycle(double period_seconds)
{
    metrics_observe(atomic_load_explicit(&period_histogram, memory_order_acquire),
                    period_seconds);
}
