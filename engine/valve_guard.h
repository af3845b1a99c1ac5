/*
 * valve_guard.h - keeps closing owed valves until the PLC confirms them OFF.
 *
 * A valve is owed when the engine commanded it closed and could not confirm
 * it (engine/ports/plc_port.h, "OWED VALVES"): the PLC link was down, the
 * write failed, or the read-back was not 0. The guard's thread re-commands
 * every owed valve closed each VALVE_GUARD_PERIOD_MS while any is owed, so
 * after the link returns the valve is closed within one period plus the
 * plugin's reconnect. It also exports ald_valves_owed. A standby engine
 * writes no valve: it would cut the active engine's pulse short.
 *
 * THREADING: valve_guard_start/valve_guard_stop from the main thread only.
 */
#ifndef ALD_ENGINE_VALVE_GUARD_H
#define ALD_ENGINE_VALVE_GUARD_H

#include <pthread.h>
#include <stdatomic.h>

#include "ports/plugin_instance.h"
#include "tagmap.h"

#define VALVE_GUARD_PERIOD_MS 250
#define VALVE_GUARD_FINAL_MS 2000 /* how long shutdown keeps trying */

typedef struct valve_guard {
    plugin_instance *plc;
    const tagmap *tags;
    pthread_t thread;
    atomic_int quit;
    int started;
} valve_guard;

/* Start the thread. Its first act, as soon as this engine is not a standby
 * (g_state.lease_state != 0), is to command every valve closed and read each
 * back (unconfirmed ones are owed); until then g_state.valves_unchecked is 1
 * and no recipe runs. Call before the engine takes commands. */
int valve_guard_start(valve_guard *g, plugin_instance *plc, const tagmap *tags);

/* Stop the thread; then, while valves are owed, keep closing them for up to
 * VALVE_GUARD_FINAL_MS and log an ERROR naming those still owed. */
void valve_guard_stop(valve_guard *g);

#endif
