/*
 * state.h - the engine's live status, written by the worker threads and read
 * by the HTTP surface and the status line. Every field is atomic, so readers
 * never block writers (the logger must never wait on an HTTP request).
 */
#ifndef ALD_ENGINE_STATE_H
#define ALD_ENGINE_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#define STATE_ERROR_RING 8
#define STATE_ERROR_LEN 256

typedef struct engine_state {
    uint64_t start_mono_ns;        /* set once at start */
    atomic_int started;            /* 1 once plugins are up and the logger runs */
    atomic_int stopping;           /* 1 once shutdown began */
    atomic_int plc_connected;
    atomic_int db_connected;
    atomic_int logging_running;    /* the parameter logger thread is running */
    atomic_int lease_state;        /* -1 unknown, 1 we hold the machine's lease (active),
                                      0 another engine holds it (standby: store nothing) */
    atomic_uint_fast64_t last_cycle_mono_ns; /* end of the last logger cycle, 0 = none */
    atomic_uint_fast64_t cycles_total;
    atomic_uint_fast64_t late_cycles_total;
    atomic_uint_fast64_t plc_errors_total;
    atomic_uint_fast64_t logging_errors_total;
    atomic_uint_fast64_t last_interval_us; /* measured period of the last cycle */
    atomic_uint_fast64_t writer_queue_depth;
    atomic_uint_fast64_t tag_count;
    atomic_uint_fast64_t outbox_depth; /* records waiting for the primary store */
    atomic_uint_fast64_t outbox_oldest_ms; /* wall-clock ms of the oldest, 0 = none */
    uint64_t logging_interval_ns; /* configured; set once before threads start */
    /* Truthful health (health.h): when samples last reached a store (the
     * primary or the outbox), when this engine last became the lease holder,
     * and whether the configured fallback store is open. */
    atomic_uint_fast64_t last_stored_mono_ns; /* 0 = nothing stored yet */
    atomic_uint_fast64_t active_since_mono_ns; /* 0 = not active */
    atomic_int fallback_configured;
    atomic_int fallback_open;
    /* Owed valves (engine/ports/plc_port.c): bit N-1 set while valve N was
     * commanded closed and the PLC has not confirmed it OFF (valves 64 and
     * above share bit 63). Read by /health, /metrics and clear_error. */
    atomic_uint_fast64_t valves_owed;
    /* 1 from engine start until the valve guard has commanded every valve
     * closed and read it back once (it waits while this engine is a
     * standby, so it never cuts the active engine's pulse short). */
    atomic_int valves_unchecked;

    /* Last errors (ring, guarded by a mutex in state.c: errors are rare). */
    atomic_uint error_seq;
    char errors[STATE_ERROR_RING][STATE_ERROR_LEN];
} engine_state;

extern engine_state g_state;

void state_init(uint64_t logging_interval_ns);
/* Remember an error for /health (message must already be secret-free). */
void state_record_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copy up to max recent errors, newest first; returns how many. */
unsigned state_recent_errors(char out[][STATE_ERROR_LEN], unsigned max);
double state_uptime_seconds(void);

#endif
