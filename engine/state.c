/* state.c - the engine's live status (see state.h). */
#include "state.h"
#include "clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

engine_state g_state;

/* Errors are rare: a plain mutex is fine and keeps the ring consistent. */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

void state_init(uint64_t logging_interval_ns)
{
    pthread_mutex_lock(&error_lock);
    memset(&g_state, 0, sizeof g_state);
    g_state.start_mono_ns = clock_mono_ns();
    g_state.logging_interval_ns = logging_interval_ns;
    atomic_store(&g_state.lease_state, -1);
    pthread_mutex_unlock(&error_lock);
}

void state_record_error(const char *fmt, ...)
{
    pthread_mutex_lock(&error_lock);
    unsigned slot = atomic_fetch_add(&g_state.error_seq, 1) % STATE_ERROR_RING;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_state.errors[slot], STATE_ERROR_LEN, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&error_lock);
}

unsigned state_recent_errors(char out[][STATE_ERROR_LEN], unsigned max)
{
    pthread_mutex_lock(&error_lock);
    unsigned seq = atomic_load(&g_state.error_seq);
    unsigned have = seq < STATE_ERROR_RING ? seq : STATE_ERROR_RING;
    unsigned n = have < max ? have : max;
    for (unsigned i = 0; i < n; i++)
        memcpy(out[i], g_state.errors[(seq - 1 - i) % STATE_ERROR_RING], STATE_ERROR_LEN);
    pthread_mutex_unlock(&error_lock);
    return n;
}

double state_uptime_seconds(void)
{
    return (double)(clock_mono_ns() - g_state.start_mono_ns) / 1e9;
}
