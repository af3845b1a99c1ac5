/*
 * lease.h - the machine's engine lease, kept by its own thread.
 *
 * One engine drives a tool: the one holding the machine's row in
 * engine_leases. The keeper renews the lease every renew_ms with a ttl_ms
 * lifetime (defaults 500 ms / 1500 ms), on its own thread so a slow command
 * never lets the lease lapse. A standby retries at the same pace, so it takes
 * over within ttl_ms + renew_ms of the holder's death (2 s by default).
 *
 * No duplicate samples, by construction:
 *   - a standby stores nothing (lease_gate says SKIP);
 *   - the holder stores only while its lease is confirmed: a renewal counts
 *     from the moment it was *sent*, minus a tenth for clock skew, so locally
 *     the lease ends before the store lets anyone else take it. When the
 *     confirmation is late the writer WAITs (the queue buffers) until the
 *     keeper knows; when the store is unreachable for everyone (an outage)
 *     nobody can take the lease and the holder keeps storing (to the outbox);
 *   - a new holder stores only cycles stamped after it took the lease; as
 *     every engine samples mid-interval on the wall clock
 *     (logger_first_deadline), the old holder's last interval is never
 *     stored twice;
 *   - an engine that starts while the store is unreachable has no answer
 *     and stores (into its outbox), as a lone engine must: the outage
 *     decides nothing.
 * The PLC follows the lease: every change of the lease state goes through
 * one function, which also tells the PLC plugin (plc_port_set_active), so a
 * plugin's own writes (the plc-modbus heartbeat) happen only while this
 * engine holds the lease, or drives the tool alone on a store without
 * leases; a standby's heartbeat would keep the PLC's watchdog fed after the
 * active engine died (docs/safety.md).
 * An engine reclaims its own lease at once after a restart: its holder name
 * is ALD_ENGINE_ID, or else the id kept in its data directory (engine_id.h),
 * so a restart on the same data directory is the same holder.
 *
 * THREADING: lease_start/lease_stop from the main thread; lease_gate and
 * lease_role from any thread (atomics only).
 */
#ifndef ALD_ENGINE_LEASE_H
#define ALD_ENGINE_LEASE_H

#include <pthread.h>
#include <stdint.h>

#include "ports/storage_port.h"

#define LEASE_DEFAULT_TTL_MS 1500u
#define LEASE_DEFAULT_RENEW_MS 500u

typedef struct lease_keeper {
    plugin_instance *storage;
    plugin_instance *plc; /* told whether we are active; NULL: no PLC to tell */
    int plc_active;       /* what the PLC was told last (instances start inactive) */
    const char *machine_id;
    char holder[96];
    unsigned ttl_ms, renew_ms;
    int held; /* last answer: 1 held, 0 another holds it, -1 none yet */
    ald_status failing; /* a lasting failure already logged (ALD_OK: none) */
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop_requested;
} lease_keeper;

typedef enum lease_gate_result {
    LEASE_STORE = 0, /* we hold a confirmed lease: store */
    LEASE_SKIP = 1,  /* a standby, or a cycle the previous holder owns: drop */
    LEASE_WAIT = 2   /* held but not confirmed lately: ask again shortly */
} lease_gate_result;

/* The holder name: ALD_ENGINE_ID when set, else the claimed engine id
 * (engine_id.h), else host:pid. */
void lease_holder_name(char *out, size_t len);

/* Start the keeper; the first answer comes within one round trip. A store
 * without leases makes this engine the holder for good. plc (may be NULL)
 * is told whether this engine is active on every change. 0 or -1. */
int lease_start(lease_keeper *k, plugin_instance *storage, plugin_instance *plc,
                const char *machine_id, unsigned ttl_ms, unsigned renew_ms);
/* Stop renewing, tell the PLC this engine is no longer active, and release
 * the lease (call after the writer drained). */
void lease_stop(lease_keeper *k);

/* May the writer store a cycle stamped sample_ts_ms (wall clock)? Without a
 * running keeper (unit tests): store unless g_state says standby. */
lease_gate_result lease_gate(int64_t sample_ts_ms);

/* 1 while a keeper runs (commands then ask lease_is_held, not the store). */
int lease_keeper_running(void);
/* 1 while this engine holds a confirmed lease. */
int lease_is_held(void);

#endif
