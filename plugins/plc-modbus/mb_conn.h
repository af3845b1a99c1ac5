/*
 * mb_conn.h - one Modbus connection with the plugin's failure policy.
 *
 * POLICY: libmodbus's own link recovery is off (MODBUS_ERROR_RECOVERY_NONE),
 * so no call retries or sleeps behind our back. connect() is bounded by
 * connect_timeout_ms (libmodbus uses the response timeout for its
 * non-blocking connect, so we set it for the connect and then restore it),
 * every request by response_timeout_ms. After a timeout, bad data (which
 * includes a transaction-id mismatch) or a broken link the connection is
 * flushed and closed, and the next connect attempt waits a capped exponential
 * back-off; until then requests fail at once with ALD_ERR_DISCONNECTED.
 * An exception response keeps the connection (the peer is alive).
 *
 * THREADING: none inside. Each mb_conn belongs to one caller at a time; the
 * plugin guards each with its own mutex (logger connection, control
 * connection). OWNERSHIP: settings, host and metrics are borrowed and must
 * outlive the connection.
 */
#ifndef PLC_MODBUS_CONN_H
#define PLC_MODBUS_CONN_H

#include <stdatomic.h>
#include <stdint.h>

#include <modbus.h>

#include "mb_metrics.h"
#include "mb_planner.h"
#include "mb_settings.h"

typedef struct mb_conn {
    const mb_settings *set;
    const ald_host *host;
    const mb_metrics *metrics;
    const char *role;   /* "logger" or "control", for messages */
    atomic_int *link_up; /* shared "last I/O succeeded" flag, may be NULL */

    modbus_t *ctx;
    int connected;
    int ever_connected;
    uint64_t retry_at_ns; /* no connect attempt before this (monotonic) */
    uint32_t backoff_ms;  /* the wait after the next failure */
    uint64_t last_request_end_ns;
    int reported_down; /* the loss was logged; log again only after a recovery */
    char error[256]; /* the last failure, for last_error() */
} mb_conn;

void mb_conn_init(mb_conn *c, const mb_settings *set, const ald_host *host,
                  const mb_metrics *metrics, const char *role, atomic_int *link_up);
/* Close and free the libmodbus context. */
void mb_conn_destroy(mb_conn *c);

/* Connect unless connected; honours the back-off. ALD_OK, ALD_ERR_DISCONNECTED
 * (c->error says why and when the next attempt is) or ALD_ERR_NOMEM. */
ald_status mb_conn_open(mb_conn *c);
/* Close without scheduling a back-off (close_after_cycle, stop()). */
void mb_conn_close(mb_conn *c);
/* Allow the next open() to try at once (start() after stop()). */
void mb_conn_reset_backoff(mb_conn *c);

/* Read `count` registers or bits (bits come back as 0/1 words) into dst.
 * On an exception response returns ALD_ERR_PROTOCOL with *exception set to
 * its code (else *exception = 0). */
ald_status mb_conn_read(mb_conn *c, mb_function fn, uint16_t addr, uint16_t count,
                        uint16_t *dst, int *exception);
/* Write one coil (05). */
ald_status mb_conn_write_bit(mb_conn *c, uint16_t addr, int on, int *exception);
/* Write registers: 06 for one, 16 for more. */
ald_status mb_conn_write_registers(mb_conn *c, uint16_t addr, uint16_t count,
                                   const uint16_t *src, int *exception);

/* Text of a Modbus exception code ("illegal data address"). */
const char *mb_exception_name(int code);

#endif
