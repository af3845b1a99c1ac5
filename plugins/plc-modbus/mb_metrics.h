/*
 * mb_metrics.h - the plc-modbus series, registered through the host with the
 * label device="<host:port or serial device>".
 *
 * THREADING: updates are lock-free in the host, safe from both connections.
 * A series the host refused is NULL, which the host's updaters ignore.
 */
#ifndef PLC_MODBUS_METRICS_H
#define PLC_MODBUS_METRICS_H

#include "ald/host.h"

typedef enum mb_error_kind {
    MB_KIND_TIMEOUT = 0,
    MB_KIND_EXCEPTION = 1,
    MB_KIND_DISCONNECTED = 2,
    MB_KIND_PROTOCOL = 3,
    MB_KIND_COUNT
} mb_error_kind;

typedef struct mb_metrics {
    const ald_host *host;
    ald_metric *requests;                /* ald_plc_requests_total */
    ald_metric *errors[MB_KIND_COUNT];   /* ald_plc_request_errors_total{kind} */
    ald_metric *reconnects;              /* ald_plc_reconnects_total */
    ald_metric *response_time;           /* ald_plc_response_time_seconds */
    ald_metric *requests_per_cycle;      /* ald_plc_requests_per_cycle */
} mb_metrics;

void mb_metrics_register(mb_metrics *m, const ald_host *host, const char *device);

void mb_metrics_request(const mb_metrics *m, double seconds); /* one answered or failed request */
void mb_metrics_error(const mb_metrics *m, mb_error_kind kind);
void mb_metrics_reconnect(const mb_metrics *m);
void mb_metrics_cycle(const mb_metrics *m, unsigned requests);

#endif
