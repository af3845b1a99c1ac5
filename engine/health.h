/*
 * health.h - the engine's health, judged from g_state (and /proc/self).
 *
 * Liveness (/health/basic): the engine is up once g_state.started is set and
 * until shutdown begins.
 * Readiness (/health), one rule shared with the ald_health_status metric:
 *   unhealthy - not started, stopping, the logger thread is not running, or
 *               the logger stalled: its last cycle is older than 3 x the
 *               configured interval (or, before the first cycle, none came
 *               within 3 intervals + 5 s of start);
 *   degraded  - otherwise, but the PLC or the database is disconnected,
 *               resident memory is over HEALTH_MEMORY_HIGH_MB, the configured
 *               fallback store is not open, or this engine holds the lease
 *               and stored no sample for 3 intervals (since its last store,
 *               or since it took the lease plus the start-up grace): a PLC
 *               answering every read with an exception, a store refusing
 *               every write, a writer waiting on the lease;
 *   healthy   - otherwise.
 * /health is 200 only when healthy AND this engine holds the machine's lease
 * (lease.h): a healthy standby answers 503 with status "standby".
 * Can-serve (/health/ready): started, not stopping, the logger cycling, PLC
 * and database connected, the configured fallback open; the lease is not
 * asked, so a standby that could take over is ready (deploy.sh gates a new
 * colour on it, and a new colour is a standby until the old one stops).
 * Active (/health/active): up and holding a confirmed lease; HAProxy routes
 * to the server that answers 200 here, so it follows the lease by itself.
 *
 * THREADING: thread-safe; reads only atomics and the error ring, so a health
 * request never blocks the logger. ERRORS: the JSON builders return NULL on
 * out-of-memory (then *http_status is 500).
 */
#ifndef ALD_ENGINE_HEALTH_H
#define ALD_ENGINE_HEALTH_H

#define HEALTH_MEMORY_HIGH_MB 800.0
#define HEALTH_STALL_INTERVALS 3
#define HEALTH_START_GRACE_SECONDS 5.0

typedef enum health_level {
    HEALTH_UNHEALTHY = 0,
    HEALTH_DEGRADED = 1,
    HEALTH_HEALTHY = 2
} health_level;

health_level health_level_now(void);

/* 1 healthy, 0.5 degraded, 0 unhealthy (the ald_health_status gauge). */
double health_status_value(void);

/* {"status": "ok"|"starting"|"stopping", "timestamp", "uptime",
 * "plc_connected"}; *http_status = 200 when up, else 503.
 * Returns malloc'd JSON; the caller frees it with free(). */
char *health_basic_json(int *http_status);

/* The full report (status, services, metrics, reasons, recent errors);
 * *http_status = 200 only when healthy, else 503. Caller frees. */
char *health_full_json(int *http_status);

/* {"ready", "role", "plc_connected", "database_connected", "reasons"};
 * 200 when this engine can serve (standby or active), else 503. Caller frees. */
char *health_ready_json(int *http_status);

/* {"active", "role"}; 200 while this engine holds the lease. Caller frees. */
char *health_active_json(int *http_status);

#endif
