/* lease.c - the machine's engine lease, kept by its own thread (see lease.h). */
#include "lease.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine_id.h"
#include "log.h"
#include "metrics.h"
#include "ports/plc_port.h"
#include "state.h"
#include "thread_role.h"

/* Shared with the writer and the HTTP thread. */
static atomic_int keeper_running;
static atomic_uint_fast64_t valid_until_ns; /* monotonic end of the confirmed lease */
static atomic_int store_unreachable;        /* the last renewal could not reach the store */
/* The store cannot give leases at all (a site database without the lease
 * function): samples are still stored, commands are not taken. */
static atomic_int lease_unavailable;
static atomic_int_fast64_t store_from_ms;   /* first cycle stamp this holder may store */

static ald_metric *m_takeovers, *m_renew_failures;

void lease_holder_name(char *out, size_t len)
{
    const char *id = getenv("ALD_ENGINE_ID");
    if (!id || !id[0])
        id = engine_id_name(); /* the name kept in the data directory */
    if (id) {
        snprintf(out, len, "%s", id);
        return;
    }
    char host[64] = "engine";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(out, len, "%s:%d", host, (int)getpid());
}

/* The one place the lease state changes: the workers read g_state, and the
 * PLC plugin is told on every change of "active", so its own writes (the
 * heartbeat) stop on a standby and start on a takeover. */
static void set_lease_state(lease_keeper *k, int state)
{
    atomic_store(&g_state.lease_state, state);
    int active = state == 1;
    if (k->plc && active != k->plc_active) {
        plc_port_set_active(k->plc, active);
        k->plc_active = active;
    }
}

static void become(lease_keeper *k, int held)
{
    if (held && k->held != 1) {
        /* The previous holder stored only cycles stamped before its lease
         * ended, which was before now; every engine samples mid-interval
         * (logger_first_deadline), so ours fall in later intervals. */
        atomic_store(&store_from_ms, clock_realtime_ms());
        atomic_store(&g_state.active_since_mono_ns, clock_mono_ns());
        metrics_add(m_takeovers, 1);
    }
    if (held != k->held)
        log_info("lease",
                 held ? "holding the lease of machine %s as \"%s\": this engine "
                        "drives the tool and stores its data"
                      : "another engine holds the lease of machine %s: standing by "
                        "as \"%s\", storing nothing",
                 k->machine_id, k->holder);
    k->held = held;
    set_lease_state(k, held);
}

/* One acquire-or-renew round trip. */
static void renew_once(lease_keeper *k)
{
    uint64_t sent = clock_mono_ns();
    port_error err;
    ald_status st =
        storage_port_acquire_lease(k->storage, k->machine_id, k->holder, k->ttl_ms, &err);
    char why[STATE_ERROR_LEN];
    snprintf(why, sizeof why, "%s", st == ALD_OK ? "" : err.text);
    if (st != ALD_OK && st != ALD_ERR_CONFLICT && !ald_status_is_transient(st) &&
        st != k->failing)
        /* Not another engine: the store cannot give a lease at all (on a site
         * database without the migrations, the lease function is missing).
         * Said once per episode, with the store's own words. */
        log_warning("lease",
                    "cannot take the lease of machine %s: %s: %s; this engine stores its "
                    "samples but takes no commands until it can",
                    k->machine_id, ald_status_name(st), why);
    k->failing = ald_status_is_transient(st) || st == ALD_ERR_CONFLICT ? ALD_OK : st;
    if (st == ALD_OK) {
        /* A tenth of the TTL covers clock skew between us and the store. */
        atomic_store(&valid_until_ns, sent + (uint64_t)k->ttl_ms * 900000u);
        atomic_store(&store_unreachable, 0);
        atomic_store(&lease_unavailable, 0);
        become(k, 1);
    } else if (st == ALD_ERR_CONFLICT) {
        atomic_store(&valid_until_ns, 0);
        atomic_store(&store_unreachable, 0);
        atomic_store(&lease_unavailable, 0);
        become(k, 0);
    } else {
        /* An outage decides nothing: nobody else can take the lease either. */
        atomic_store(&store_unreachable, ald_status_is_transient(st));
        atomic_store(&lease_unavailable, !ald_status_is_transient(st));
        metrics_add(m_renew_failures, 1);
        log_debug("lease", "lease of machine %s not renewed: %s: %s", k->machine_id,
                  ald_status_name(st), why);
    }
}

/* Sleep until the next round or a stop request; 1 = stop. */
static int wait_round(lease_keeper *k, uint64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    pthread_mutex_lock(&k->lock);
    while (!k->stop_requested && pthread_cond_timedwait(&k->wake, &k->lock, &ts) == 0)
        ;
    int stop = k->stop_requested;
    pthread_mutex_unlock(&k->lock);
    return stop;
}

static void *keeper_main(void *arg)
{
    lease_keeper *k = arg;
    thread_role_enter("ald-lease", THREAD_TIMED);
    uint64_t deadline = clock_mono_ns();
    do {
        renew_once(k);
        deadline += (uint64_t)k->renew_ms * 1000000u;
        uint64_t now = clock_mono_ns();
        if (deadline < now) /* a slow round trip: the next one now, no burst */
            deadline = now;
    } while (!wait_round(k, deadline));
    return NULL;
}

static void register_metrics(void)
{
    m_takeovers =
        metrics_counter("ald_lease_acquisitions_total",
                        "Times this engine took the machine's lease (became active)", NULL);
    m_renew_failures = metrics_counter("ald_lease_renewal_failures_total",
                                       "Lease renewals that could not reach the store", NULL);
}

int lease_start(lease_keeper *k, plugin_instance *storage, plugin_instance *plc,
                const char *machine_id, unsigned ttl_ms, unsigned renew_ms)
{
    memset(k, 0, sizeof *k);
    k->storage = storage;
    k->plc = plc;
    k->machine_id = machine_id;
    k->ttl_ms = ttl_ms ? ttl_ms : LEASE_DEFAULT_TTL_MS;
    k->renew_ms = renew_ms ? renew_ms : LEASE_DEFAULT_RENEW_MS;
    k->held = -1;
    k->failing = ALD_OK;
    lease_holder_name(k->holder, sizeof k->holder);
    register_metrics();
    atomic_store(&store_from_ms, 0);
    if (!storage_port_has(storage, STORAGE_LEASES)) {
        log_info("lease", "storage '%s' has no leases: this engine drives machine %s alone",
                 port_instance_name(storage), machine_id);
        atomic_store(&valid_until_ns, UINT64_MAX);
        atomic_store(&g_state.active_since_mono_ns, clock_mono_ns());
        set_lease_state(k, 1);
        atomic_store(&keeper_running, 1);
        return 0;
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&k->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0)
        return -1;
    k->running = 1;
    atomic_store(&keeper_running, 1);
    return 0;
}

void lease_stop(lease_keeper *k)
{
    atomic_store(&keeper_running, 0);
    if (!k->running) { /* a store without leases: still, we stop driving the tool */
        set_lease_state(k, 0);
        return;
    }
    pthread_mutex_lock(&k->lock);
    k->stop_requested = 1;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    k->running = 0;
    set_lease_state(k, 0); /* the heartbeat stops before a successor may take over */
    atomic_store(&valid_until_ns, 0);
    if (k->held == 1 && storage_port_has(k->storage, STORAGE_LEASES)) {
        storage_port_release_lease(k->storage, k->machine_id, k->holder, NULL);
        log_info("lease", "released the lease of machine %s", k->machine_id);
    }
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
}

int lease_keeper_running(void)
{
    return atomic_load(&keeper_running);
}

int lease_is_held(void)
{
    if (!atomic_load(&keeper_running)) /* unit tests set g_state directly */
        return atomic_load(&g_state.lease_state) == 1;
    return atomic_load(&g_state.lease_state) == 1 &&
           (clock_mono_ns() < atomic_load(&valid_until_ns) ||
            atomic_load(&store_unreachable));
}

lease_gate_result lease_gate(int64_t sample_ts_ms)
{
    int state = atomic_load(&g_state.lease_state);
    if (!atomic_load(&keeper_running))
        return state == 0 ? LEASE_SKIP : LEASE_STORE;
    if (state == 0)
        return LEASE_SKIP;
    if (state < 0) /* no answer yet: wait for it, unless the store is down */
        return atomic_load(&store_unreachable) || atomic_load(&lease_unavailable) ? LEASE_STORE
                                                                                  : LEASE_WAIT;
    if (sample_ts_ms < atomic_load(&store_from_ms))
        return LEASE_SKIP; /* the previous holder may have stored this interval */
    return lease_is_held() ? LEASE_STORE : LEASE_WAIT;
}
