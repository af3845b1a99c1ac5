/*
 * mb_conn.c - a Modbus connection with timeouts, back-off and metrics.
 */
#include "mb_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Error text; a long host name may truncate it, which is fine. */
static void conn_error(mb_conn *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void conn_error(mb_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
}

static void set_timeout(modbus_t *ctx, uint32_t ms)
{
    modbus_set_response_timeout(ctx, ms / 1000, (ms % 1000) * 1000);
}

/* Record the outcome of an exchange. Only an answered request (not a mere
 * connect, which a hung PLC's kernel still accepts) ends the back-off. */
static void set_link(mb_conn *c, int up)
{
    if (up) {
        c->backoff_ms = c->set->backoff_initial_ms;
        if (c->reported_down && c->host->log != NULL)
            c->host->log(c->host, ALD_LOG_INFO, "plc-modbus %s: %s answers again", c->role,
                         c->set->device_label);
        c->reported_down = 0;
    }
    if (c->link_up != NULL)
        atomic_store(c->link_up, up);
}

const char *mb_exception_name(int code)
{
    static const char *const names[] = {
        "?", "illegal function", "illegal data address", "illegal data value",
        "server device failure", "acknowledge", "server device busy", "negative acknowledge",
        "memory parity error", "?", "gateway path unavailable",
        "gateway target device failed to respond"};
    return (code > 0 && code < (int)(sizeof names / sizeof names[0])) ? names[code]
                                                                      : "unknown exception";
}

void mb_conn_init(mb_conn *c, const mb_settings *set, const ald_host *host,
                  const mb_metrics *metrics, const char *role, atomic_int *link_up)
{
    memset(c, 0, sizeof *c);
    c->set = set;
    c->host = host;
    c->metrics = metrics;
    c->role = role;
    c->link_up = link_up;
    c->backoff_ms = set->backoff_initial_ms;
}

void mb_conn_destroy(mb_conn *c)
{
    mb_conn_close(c);
    if (c->ctx != NULL)
        modbus_free(c->ctx);
    c->ctx = NULL;
}

void mb_conn_close(mb_conn *c)
{
    if (c->ctx != NULL && c->connected)
        modbus_close(c->ctx);
    c->connected = 0;
}

void mb_conn_reset_backoff(mb_conn *c)
{
    c->retry_at_ns = 0;
    c->backoff_ms = c->set->backoff_initial_ms;
}

/* After a failure: close and keep away for the current back-off, doubled
 * for next time up to the cap. */
static void schedule_retry(mb_conn *c)
{
    mb_conn_close(c);
    c->retry_at_ns = c->host->monotonic_ns() + (uint64_t)c->backoff_ms * 1000000u;
    if (!c->reported_down && c->host->log != NULL)
        c->host->log(c->host, ALD_LOG_WARNING, "%s", c->error);
    c->reported_down = 1;
    uint64_t next = (uint64_t)c->backoff_ms * 2;
    c->backoff_ms = next > c->set->backoff_max_ms ? c->set->backoff_max_ms : (uint32_t)next;
    set_link(c, 0);
}

static modbus_t *new_context(const mb_settings *s)
{
    if (s->rtu)
        return modbus_new_rtu(s->device, s->baud, s->parity, s->data_bits, s->stop_bits);
    char port[8];
    snprintf(port, sizeof port, "%d", s->port);
    return modbus_new_tcp_pi(s->host, port);
}

ald_status mb_conn_open(mb_conn *c)
{
    if (c->connected)
        return ALD_OK;
    uint64_t now = c->host->monotonic_ns();
    if (now < c->retry_at_ns) {
        /* c->error still holds the failure that started the back-off. */
        return ALD_ERR_DISCONNECTED;
    }
    if (c->ctx == NULL) {
        c->ctx = new_context(c->set);
        if (c->ctx == NULL) {
            conn_error(c, "plc-modbus %s: cannot set up a connection to %s: %s",
                     c->role, c->set->device_label, strerror(errno));
            schedule_retry(c);
            return ALD_ERR_DISCONNECTED;
        }
        modbus_set_error_recovery(c->ctx, MODBUS_ERROR_RECOVERY_NONE);
        modbus_set_slave(c->ctx, c->set->unit_id);
    }
    set_timeout(c->ctx, c->set->connect_timeout_ms); /* libmodbus connects with this */
    if (modbus_connect(c->ctx) != 0) {
        conn_error(c,
                 "plc-modbus %s: cannot connect to %s: %s (retrying in %u ms; check the "
                 "PLC is on and host/port are right)",
                 c->role, c->set->device_label, modbus_strerror(errno), c->backoff_ms);
        schedule_retry(c);
        return ALD_ERR_DISCONNECTED;
    }
    set_timeout(c->ctx, c->set->response_timeout_ms);
    c->connected = 1;
    c->last_request_end_ns = 0;
    if (c->ever_connected)
        mb_metrics_reconnect(c->metrics);
    c->ever_connected = 1;
    if (c->set->pause_after_connect_ms > 0)
        sleep_ms(c->set->pause_after_connect_ms); /* some PLCs drop the first request */
    return ALD_OK;
}

/* Keep pause_between_requests_ms between the end of one request and the
 * start of the next on this connection. */
static void pace(mb_conn *c)
{
    uint32_t pause = c->set->pause_between_requests_ms;
    if (pause == 0 || c->last_request_end_ns == 0)
        return;
    uint64_t since = c->host->monotonic_ns() - c->last_request_end_ns;
    if (since < (uint64_t)pause * 1000000u)
        sleep_ms((uint32_t)(((uint64_t)pause * 1000000u - since) / 1000000u) + 1);
}

/* Map a failed libmodbus call's errno to a status, count it, and apply the
 * connection policy. `what` describes the request for the message. */
static ald_status classify_failure(mb_conn *c, int err, const char *what, int *exception)
{
    *exception = 0;
    if (err > MODBUS_ENOBASE && err <= EMBXGTAR) {
        *exception = err - MODBUS_ENOBASE;
        mb_metrics_error(c->metrics, MB_KIND_EXCEPTION);
        conn_error(c, "plc-modbus: %s on %s: Modbus exception %d (%s)",
                 what, c->set->device_label, *exception, mb_exception_name(*exception));
        set_link(c, 1); /* the peer answered */
        return ALD_ERR_PROTOCOL;
    }
    ald_status st;
    mb_error_kind kind;
    if (err == ETIMEDOUT) {
        st = ALD_ERR_TIMEOUT;
        kind = MB_KIND_TIMEOUT;
    } else if (err >= EMBBADCRC && err <= EMBBADSLAVE) {
        st = ALD_ERR_PROTOCOL; /* includes a transaction-id mismatch (bad data) */
        kind = MB_KIND_PROTOCOL;
    } else {
        st = ALD_ERR_DISCONNECTED;
        kind = MB_KIND_DISCONNECTED;
    }
    mb_metrics_error(c->metrics, kind);
    conn_error(c,
             "plc-modbus %s: %s on %s failed: %s (reconnecting in %u ms)", c->role, what,
             c->set->device_label, modbus_strerror(err), c->backoff_ms);
    if (st != ALD_ERR_DISCONNECTED)
        modbus_flush(c->ctx); /* drop a late answer so it cannot match the next request */
    schedule_retry(c);
    return st;
}

/* Bookkeeping around one request; returns libmodbus's rc with errno kept. */
static void request_done(mb_conn *c, uint64_t t0)
{
    uint64_t t1 = c->host->monotonic_ns();
    c->last_request_end_ns = t1;
    mb_metrics_request(c->metrics, (double)(t1 - t0) / 1e9);
}

static int do_read(modbus_t *ctx, mb_function fn, uint16_t addr, uint16_t count,
                   uint16_t *dst)
{
    uint8_t bits[MODBUS_MAX_READ_BITS];
    int rc;
    switch (fn) {
    case MB_FN_READ_COILS:
        rc = modbus_read_bits(ctx, addr, count, bits);
        break;
    case MB_FN_READ_DISCRETE_INPUTS:
        rc = modbus_read_input_bits(ctx, addr, count, bits);
        break;
    case MB_FN_READ_INPUT_REGISTERS:
        return modbus_read_input_registers(ctx, addr, count, dst);
    case MB_FN_READ_HOLDING_REGISTERS:
    default:
        return modbus_read_registers(ctx, addr, count, dst);
    }
    for (int i = 0; i < rc; i++)
        dst[i] = bits[i] != 0;
    return rc;
}

ald_status mb_conn_read(mb_conn *c, mb_function fn, uint16_t addr, uint16_t count,
                        uint16_t *dst, int *exception)
{
    *exception = 0;
    ald_status st = mb_conn_open(c);
    if (st != ALD_OK)
        return st;
    pace(c);
    uint64_t t0 = c->host->monotonic_ns();
    int rc = do_read(c->ctx, fn, addr, count, dst);
    int err = errno;
    request_done(c, t0);
    if (rc == (int)count) {
        set_link(c, 1);
        return ALD_OK;
    }
    char what[80];
    snprintf(what, sizeof what, "read (function %02d) of %u at address %u", (int)fn, count,
             addr);
    return classify_failure(c, rc < 0 ? err : EMBBADDATA, what, exception);
}

ald_status mb_conn_write_bit(mb_conn *c, uint16_t addr, int on, int *exception)
{
    *exception = 0;
    ald_status st = mb_conn_open(c);
    if (st != ALD_OK)
        return st;
    pace(c);
    uint64_t t0 = c->host->monotonic_ns();
    int rc = modbus_write_bit(c->ctx, addr, on ? 1 : 0);
    int err = errno;
    request_done(c, t0);
    if (rc == 1) {
        set_link(c, 1);
        return ALD_OK;
    }
    char what[80];
    snprintf(what, sizeof what, "write (function 05) of coil %u", addr);
    return classify_failure(c, rc < 0 ? err : EMBBADDATA, what, exception);
}

ald_status mb_conn_write_registers(mb_conn *c, uint16_t addr, uint16_t count,
                                   const uint16_t *src, int *exception)
{
    *exception = 0;
    ald_status st = mb_conn_open(c);
    if (st != ALD_OK)
        return st;
    pace(c);
    uint64_t t0 = c->host->monotonic_ns();
    int rc = count == 1 ? modbus_write_register(c->ctx, addr, src[0])
                        : modbus_write_registers(c->ctx, addr, count, src);
    int err = errno;
    request_done(c, t0);
    if (rc == (int)count) {
        set_link(c, 1);
        return ALD_OK;
    }
    char what[80];
    snprintf(what, sizeof what, "write (function %s) of %u registers at %u",
             count == 1 ? "06" : "16", count, addr);
    return classify_failure(c, rc < 0 ? err : EMBBADDATA, what, exception);
}
