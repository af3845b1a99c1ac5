/*
 * mb_heartbeat.c - the PLC heartbeat thread (see mb_heartbeat.h).
 *
 * Each beat writes counter+1 (wrapping at 65535) to the heartbeat register on
 * absolute CLOCK_MONOTONIC deadlines, only while the engine holds the lease
 * (the active flag, set by the host through set_active). A failed write is
 * logged once per outage by the connection's own policy (and recovery once);
 * the next beat tries again after the connection's back-off. A beat that is
 * late never catches up in a burst: the PLC only needs to see the value
 * change.
 */
#include "mb_heartbeat.h"

#include <errno.h>
#include <time.h>

void mb_heartbeat_init(mb_heartbeat *hb, const mb_settings *set, const ald_host *host,
                       const mb_metrics *metrics)
{
    *hb = (mb_heartbeat){.set = set, .host = host};
    mb_conn_init(&hb->conn, set, host, metrics, "heartbeat", NULL);
    pthread_mutex_init(&hb->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hb->wake, &attr);
    pthread_condattr_destroy(&attr);
}

static void beat(mb_heartbeat *hb)
{
    uint16_t next = (uint16_t)(hb->counter + 1u);
    int exception = 0;
    ald_status st = mb_conn_write_registers(&hb->conn, hb->set->heartbeat.addr, 1, &next,
                                            &exception);
    if (st == ALD_OK) {
        hb->counter = next;
        atomic_fetch_add(&hb->beats, 1);
    } else if (exception && hb->host->log != NULL && atomic_load(&hb->beats) == 0) {
        /* The PLC refuses the register itself: a configuration error, said once. */
        hb->host->log(hb->host, ALD_LOG_ERROR,
                      "plc-modbus heartbeat: the PLC refuses hr:%u (%s): check "
                      "heartbeat_address against the PLC program",
                      hb->set->heartbeat.addr, mb_exception_name(exception));
    }
}

typedef enum wake_reason { WOKE_AT_DEADLINE, WOKE_ACTIVE, WOKE_TO_STOP } wake_reason;

/* Waits until the absolute monotonic deadline, a stop, or becoming active. */
static wake_reason wait_until(mb_heartbeat *hb, uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u),
                          (long)(deadline_ns % 1000000000u)};
    pthread_mutex_lock(&hb->lock);
    int rc = 0;
    while (!hb->stopping && !hb->kicked && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&hb->wake, &hb->lock, &ts);
    wake_reason why = hb->stopping ? WOKE_TO_STOP
                      : hb->kicked ? WOKE_ACTIVE
                                   : WOKE_AT_DEADLINE;
    hb->kicked = 0;
    pthread_mutex_unlock(&hb->lock);
    return why;
}

/* The deadline after `deadline`; a late one (a slow PLC) skips, never bursts. */
static uint64_t next_deadline(const mb_heartbeat *hb, uint64_t deadline, uint64_t period)
{
    uint64_t now = hb->host->monotonic_ns();
    deadline += period;
    if (deadline < now)
        deadline = now + period - (now - deadline) % period;
    return deadline;
}

static void *heartbeat_main(void *arg)
{
    mb_heartbeat *hb = arg;
    pthread_setname_np(pthread_self(), "mb-heartbeat"); /* told apart in top -H, perf */
    uint64_t period = (uint64_t)hb->set->heartbeat_period_ms * 1000000u;
    uint64_t deadline = hb->host->monotonic_ns();
    for (;;) {
        if (atomic_load(&hb->active)) /* a standby writes nothing to the PLC */
            beat(hb);
        deadline = next_deadline(hb, deadline, period);
        wake_reason why = wait_until(hb, deadline);
        if (why == WOKE_TO_STOP)
            break;
        if (why == WOKE_ACTIVE) /* just became active: beat now, periods from now */
            deadline = hb->host->monotonic_ns();
    }
    mb_conn_close(&hb->conn);
    return NULL;
}

void mb_heartbeat_set_active(mb_heartbeat *hb, int active)
{
    int was = atomic_exchange(&hb->active, active != 0);
    if (!active || was)
        return; /* becoming inactive: the next beat sees the flag and writes nothing */
    pthread_mutex_lock(&hb->lock);
    hb->kicked = 1;
    pthread_cond_signal(&hb->wake);
    pthread_mutex_unlock(&hb->lock);
}

ald_status mb_heartbeat_start(mb_heartbeat *hb)
{
    if (!hb->set->heartbeat_enabled || hb->running)
        return ALD_OK;
    hb->stopping = 0;
    hb->kicked = 0; /* the first turn beats anyway when already active */
    mb_conn_reset_backoff(&hb->conn);
    if (pthread_create(&hb->thread, NULL, heartbeat_main, hb) != 0)
        return ALD_ERR_NOMEM;
    hb->running = 1;
    return ALD_OK;
}

void mb_heartbeat_stop(mb_heartbeat *hb)
{
    if (!hb->running)
        return;
    pthread_mutex_lock(&hb->lock);
    hb->stopping = 1;
    pthread_cond_signal(&hb->wake);
    pthread_mutex_unlock(&hb->lock);
    pthread_join(hb->thread, NULL);
    hb->running = 0;
}

void mb_heartbeat_destroy(mb_heartbeat *hb)
{
    mb_heartbeat_stop(hb);
    mb_conn_destroy(&hb->conn);
    pthread_mutex_destroy(&hb->lock);
    pthread_cond_destroy(&hb->wake);
}
