/* valve_guard.c - the owed-valve retry thread (see valve_guard.h). */
#include "valve_guard.h"

#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "ports/plc_port.h"
#include "state.h"
#include "thread_role.h"

static ald_metric *m_owed;

static void collect_owed(void *ctx)
{
    (void)ctx;
    metrics_set(m_owed, plc_port_owed_count());
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Once, when this engine may drive the tool (not a standby): after a crash
 * or restart a valve may still be ON at the PLC, so close every valve and
 * confirm it; what is not confirmed is owed. Runs refuse until then. */
static void initial_close(valve_guard *g)
{
    int unconfirmed = plc_port_close_all_valves(g->plc, g->tags);
    if (unconfirmed)
        log_error("safety", "start: %d valve(s) not confirmed closed; they stay owed and are "
                  "retried every %d ms", unconfirmed, VALVE_GUARD_PERIOD_MS);
    else
        log_info("safety", "start: every valve commanded closed and confirmed OFF");
    atomic_store(&g_state.valves_unchecked, 0);
}

static void *guard_main(void *arg)
{
    valve_guard *g = arg;
    thread_role_enter("ald-valve-guard", THREAD_TIMED);
    while (!atomic_load(&g->quit)) {
        /* Only once this engine is known to drive the tool (lease held, or a
         * store without leases): before the first lease answer a newcomer
         * may be the standby of a blue/green pair, and closing every valve
         * then would cut the active engine's pulse short. */
        if (atomic_load(&g_state.valves_unchecked) && atomic_load(&g_state.lease_state) == 1)
            initial_close(g);
        plc_port_retry_owed(g->plc, g->tags); /* no I/O while nothing is owed */
        sleep_ms(VALVE_GUARD_PERIOD_MS);
    }
    return NULL;
}

int valve_guard_start(valve_guard *g, plugin_instance *plc, const tagmap *tags)
{
    g->plc = plc;
    g->tags = tags;
    atomic_store(&g->quit, 0);
    m_owed = metrics_gauge("ald_valves_owed",
                           "Valves commanded closed whose close the PLC has not confirmed "
                           "(the engine keeps closing them)", NULL);
    metrics_add_collector(collect_owed, NULL);
    atomic_store(&g_state.valves_unchecked, 1);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0)
        return -1;
    g->started = 1;
    return 0;
}

void valve_guard_stop(valve_guard *g)
{
    if (!g->started)
        return;
    atomic_store(&g->quit, 1);
    pthread_join(g->thread, NULL);
    g->started = 0;
    uint64_t end = clock_mono_ns() + VALVE_GUARD_FINAL_MS * 1000000ull;
    while (plc_port_retry_owed(g->plc, g->tags) > 0 && clock_mono_ns() < end)
        sleep_ms(VALVE_GUARD_PERIOD_MS / 2);
    if (plc_port_owed_count() > 0) {
        char names[256];
        plc_port_owed_names(names, sizeof names);
        log_error("safety", "exiting with valves still owed closed: %s (not confirmed OFF "
                  "within %d ms); they may be OPEN at the PLC", names, VALVE_GUARD_FINAL_MS);
    }
}
