/*
 * mb_metrics.c - register and update the plc-modbus series.
 */
#include "mb_metrics.h"

#include <stdio.h>
#include <string.h>

/* 0.5 ms ... 2 s: loopback answers in well under a millisecond, a slow
 * serial PLC in hundreds. */
static const double response_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,   0.1,   0.25,   0.5,   1.0,  2.0};

static const char *const kind_names[MB_KIND_COUNT] = {"timeout", "exception", "disconnected",
                                                      "protocol"};

/* Prometheus label value escaping: backslash, quote and newline. */
static void escape_label(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *in != '\0' && o + 3 < outlen; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static ald_metric *reg(const ald_host *host, const char *name, const char *help,
                       ald_metric_type type, const char *labels)
{
    ald_metric_desc d = {.struct_size = sizeof d, .name = name, .help = help, .type = type,
                         .labels = labels};
    if (type == ALD_METRIC_HISTOGRAM) {
        d.buckets = response_buckets;
        d.bucket_count = sizeof response_buckets / sizeof response_buckets[0];
    }
    return host->metric_register ? host->metric_register(host, &d) : NULL;
}

void mb_metrics_register(mb_metrics *m, const ald_host *host, const char *device)
{
    char dev[200], labels[256];
    memset(m, 0, sizeof *m);
    m->host = host;
    escape_label(device, dev, sizeof dev);
    snprintf(labels, sizeof labels, "device=\"%s\"", dev);
    m->requests = reg(host, "ald_plc_requests_total", "Modbus requests sent",
                      ALD_METRIC_COUNTER, labels);
    m->reconnects = reg(host, "ald_plc_reconnects_total",
                        "Modbus connections re-established after a loss", ALD_METRIC_COUNTER,
                        labels);
    m->response_time = reg(host, "ald_plc_response_time_seconds",
                           "Modbus request round-trip time", ALD_METRIC_HISTOGRAM, labels);
    m->requests_per_cycle = reg(host, "ald_plc_requests_per_cycle",
                                "Modbus requests in the last read_all cycle", ALD_METRIC_GAUGE,
                                labels);
    for (int k = 0; k < MB_KIND_COUNT; k++) {
        char kl[300];
        snprintf(kl, sizeof kl, "%s,kind=\"%s\"", labels, kind_names[k]);
        m->errors[k] = reg(host, "ald_plc_request_errors_total", "Failed Modbus requests by kind",
                           ALD_METRIC_COUNTER, kl);
    }
}

void mb_metrics_request(const mb_metrics *m, double seconds)
{
    if (m->host == NULL)
        return;
    m->host->metric_add(m->requests, 1);
    m->host->metric_observe(m->response_time, seconds);
}

void mb_metrics_error(const mb_metrics *m, mb_error_kind kind)
{
    if (m->host != NULL && (unsigned)kind < MB_KIND_COUNT)
        m->host->metric_add(m->errors[kind], 1);
}

void mb_metrics_reconnect(const mb_metrics *m)
{
    if (m->host != NULL)
        m->host->metric_add(m->reconnects, 1);
}

void mb_metrics_cycle(const mb_metrics *m, unsigned requests)
{
    if (m->host != NULL)
        m->host->metric_set(m->requests_per_cycle, requests);
}
