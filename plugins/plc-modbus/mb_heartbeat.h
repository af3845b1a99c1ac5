/*
 * mb_heartbeat.h - the PLC heartbeat: a holding register this plugin
 * increments every heartbeat_period_ms, on its own thread and its own
 * connection, so that the PLC program can close every valve output when the
 * engine dies or hangs (docs/safety.md has the PLC logic).
 *
 * It beats only while the engine holds the machine's lease (set_active,
 * ABI 1.2): a standby writes nothing to the PLC, and its beat would keep the
 * PLC's watchdog fed after the active engine died. The thread runs from
 * start to stop either way; it starts inactive, beats at once on becoming
 * active, and writes nothing more (no final value) on becoming inactive.
 *
 * THREADING: start/stop from the host's lifecycle calls (serialised);
 * set_active from any thread (an atomic flag and a wake-up, no I/O); the
 * thread owns its connection and touches nothing else of the instance.
 * Writes never wait for the logger's reads or the valve writes.
 */
#ifndef PLC_MODBUS_HEARTBEAT_H
#define PLC_MODBUS_HEARTBEAT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mb_conn.h"

typedef struct mb_heartbeat {
    const mb_settings *set;
    const ald_host *host;
    mb_conn conn;
    pthread_t thread;
    pthread_mutex_t lock; /* with wake: stop() interrupts the wait at once */
    pthread_cond_t wake;
    int stopping;
    int kicked;         /* under lock: became active, beat now */
    atomic_int active;  /* the engine holds the lease: beat (0 at start) */
    int running; /* a thread was started */
    uint16_t counter;
    atomic_uint_fast64_t beats; /* writes that succeeded, for tests and logs */
} mb_heartbeat;

/* Prepare (no I/O, no thread). A no-op heartbeat when set->heartbeat is off. */
void mb_heartbeat_init(mb_heartbeat *hb, const mb_settings *set, const ald_host *host,
                       const mb_metrics *metrics);
/* Start the thread if the heartbeat is configured. ALD_OK or ALD_ERR_NOMEM. */
ald_status mb_heartbeat_start(mb_heartbeat *hb);
/* Beat (1) or not (0). On 0 no write starts after the call; on 1 the first
 * beat is made at once. Any thread; does no I/O. */
void mb_heartbeat_set_active(mb_heartbeat *hb, int active);
/* Stop and join the thread (the PLC's watchdog then sees the beat stop). */
void mb_heartbeat_stop(mb_heartbeat *hb);
void mb_heartbeat_destroy(mb_heartbeat *hb);

#endif
