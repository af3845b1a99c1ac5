/* logger.c - the 1 Hz parameter logger thread (see logger.h). */
#include "logger.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "state.h"
#include "stdmetrics.h"
#include "thread_role.h"

uint64_t logger_next_deadline(uint64_t served, uint64_t now, uint64_t interval,
                              uint64_t *skipped)
{
    uint64_t next = served + interval;
    *skipped = 0;
    if (next <= now) {
        *skipped = (now - next) / interval + 1;
        next += *skipped * interval;
    }
    return next;
}

uint64_t logger_first_deadline(uint64_t mono_now, int64_t realtime_now_ns, uint64_t interval)
{
    if (interval == 0)
        return mono_now;
    uint64_t phase = (uint64_t)realtime_now_ns % interval;
    uint64_t mid = interval / 2;
    return mono_now + (phase <= mid ? mid - phase : interval - phase + mid);
}

int logger_is_late(uint64_t deadline, uint64_t start, uint64_t interval)
{
    return start > deadline && start - deadline > interval / 10;
}

/* Log a PLC failure on the first occurrence and then once a minute. */
static void report_plc_error(ald_status st, const char *why, uint64_t now)
{
    static uint64_t last_report;
    state_record_error("PLC read failed: %s: %s", ald_status_name(st), why);
    if (last_report == 0 || now - last_report > 60ull * 1000000000u) {
        log_warning("logger", "PLC read failed: %s: %s (repeats are counted in "
                    "ald_plc_errors_total)", ald_status_name(st), why);
        last_report = now;
    }
}

void logger_cycle(param_logger *lg, uint64_t mono_ns)
{
    size_t n = lg->tags->tag_count;
    int connected = 0;
    port_error why;
    ald_status st = plc_port_read_all(lg->plc, lg->values, n, &connected, &why);
    if (st != ALD_OK)
        report_plc_error(st, why.text, mono_ns);
    atomic_store(&g_state.plc_connected, connected);

    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        good += lg->values[i].quality == ALD_OK;
    if (good > 0 && batchq_push(lg->queue, clock_realtime_ms(), mono_ns, lg->values, n)) {
        atomic_fetch_add(&g_state.logging_errors_total, 1);
        state_record_error("writer queue full: dropped the oldest sample batch");
    }
    atomic_store(&g_state.writer_queue_depth, batchq_length(lg->queue));
    atomic_fetch_add(&g_state.cycles_total, 1);
    atomic_store(&g_state.last_cycle_mono_ns, clock_mono_ns());
}

/* Sleep until an absolute monotonic deadline or a stop request. 1 = stop. */
static int wait_until(param_logger *lg, uint64_t deadline)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    pthread_mutex_lock(&lg->lock);
    while (!lg->stop_requested) {
        if (pthread_cond_timedwait(&lg->wake, &lg->lock, &ts) == ETIMEDOUT)
            break;
    }
    int stop = lg->stop_requested;
    pthread_mutex_unlock(&lg->lock);
    return stop;
}

static void record_period(uint64_t start, uint64_t *last_start)
{
    if (*last_start) {
        uint64_t period = start - *last_start;
        atomic_store(&g_state.last_interval_us, period / 1000);
        stdmetrics_observe_cycle((double)period / 1e9);
    }
    *last_start = start;
}

static void *logger_main(void *arg)
{
    param_logger *lg = arg;
    thread_role_enter("ald-logger", THREAD_TIMED);
    uint64_t deadline =
                 logger_first_deadline(clock_mono_ns(), clock_realtime_ns(), lg->interval_ns),
             last_start = 0;
    atomic_store(&g_state.logging_running, 1);
    while (!wait_until(lg, deadline)) {
        uint64_t start = clock_mono_ns();
        if (logger_is_late(deadline, start, lg->interval_ns))
            atomic_fetch_add(&g_state.late_cycles_total, 1);
        record_period(start, &last_start);
        logger_cycle(lg, start);
        uint64_t skipped;
        deadline = logger_next_deadline(deadline, clock_mono_ns(), lg->interval_ns, &skipped);
        if (skipped) {
            atomic_fetch_add(&g_state.late_cycles_total, skipped);
            log_debug("logger", "cycle overran: skipped %llu deadline(s)",
                      (unsigned long long)skipped);
        }
    }
    atomic_store(&g_state.logging_running, 0);
    return NULL;
}

int logger_start(param_logger *lg, plugin_instance *plc, const tagmap *tags, batchq *queue,
                 uint64_t interval_ns)
{
    memset(lg, 0, sizeof *lg);
    lg->plc = plc;
    lg->tags = tags;
    lg->queue = queue;
    lg->interval_ns = interval_ns;
    lg->values = calloc(tags->tag_count ? tags->tag_count : 1, sizeof *lg->values);
    if (!lg->values)
        return -1;
    pthread_mutex_init(&lg->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&lg->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&lg->thread, NULL, logger_main, lg) != 0) {
        free(lg->values);
        lg->values = NULL;
        return -1;
    }
    lg->running = 1;
    return 0;
}

void logger_stop(param_logger *lg)
{
    if (!lg->running)
        return;
    pthread_mutex_lock(&lg->lock);
    lg->stop_requested = 1;
    pthread_cond_signal(&lg->wake);
    pthread_mutex_unlock(&lg->lock);
    pthread_join(lg->thread, NULL);
    lg->running = 0;
    pthread_mutex_destroy(&lg->lock);
    pthread_cond_destroy(&lg->wake);
    free(lg->values);
    lg->values = NULL;
}
