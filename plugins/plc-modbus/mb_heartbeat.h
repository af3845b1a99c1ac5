/*
 * mb_heartbeat.h - the PLC heartbeat: a holding register this plugin
 * increments every heartbeat_period_ms, on its own thread and its own
 * connection, so that the PLC program can close every valve output when the
 * engine dies or hangs (docs/safety.md has the PLC logic).
 *
 * THREADING: start/stop from the host's lifecycle calls (serialised); the
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
    int running; /* a thread was started */
    uint16_t counter;
    atomic_uint_fast64_t beats; /* writes that succeeded, for tests and logs */
} mb_heartbeat;

/* Prepare (no I/O, no thread). A no-op heartbeat when set->heartbeat is off. */
void mb_heartbeat_init(mb_heartbeat *hb, const mb_settings *set, const ald_host *host,
                       const mb_metrics *metrics);
/* Start the thread if the heartbeat is configured. ALD_OK or ALD_ERR_NOMEM. */
ald_status mb_heartbeat_start(mb_heartbeat *hb);
/* Stop and join the thread (the PLC's watchdog then sees the beat stop). */
void mb_heartbeat_stop(mb_heartbeat *hb);
void mb_heartbeat_destroy(mb_heartbeat *hb);

#endif
