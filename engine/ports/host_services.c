/* host_services.c - the services every plugin instance gets (see sdk ald/host.h). */
#include "ports/host_services.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

typedef struct host_instance {
    ald_host table; /* first: a pointer to it is a pointer to this */
    char name[64];
    atomic_uint warnings;     /* warnings and errors the instance logged */
    atomic_int first_ready;   /* first_warning is written */
    char first_warning[1024]; /* the first of them */
} host_instance;

__attribute__((format(printf, 3, 0))) static void host_vlog(const ald_host *host,
                                                            ald_log_level level,
                                                            const char *fmt, va_list ap)
{
    host_instance *h = host->host_ctx;
    if (level <= ALD_LOG_WARNING && atomic_fetch_add(&h->warnings, 1) == 0) {
        va_list copy; /* only the first warning's thread writes the text */
        va_copy(copy, ap);
        vsnprintf(h->first_warning, sizeof h->first_warning, fmt, copy);
        va_end(copy);
        atomic_store(&h->first_ready, 1);
    }
    log_vmsg(level, host_instance_name(host), fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void host_log(const ald_host *host,
                                                           ald_log_level level,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(host, level, fmt, ap);
    va_end(ap);
}

/* The host table needs real functions, not inline ones. */
static uint64_t host_monotonic_ns(void)
{
    return clock_mono_ns();
}

static int64_t host_realtime_ns(void)
{
    return clock_realtime_ns();
}

static ald_metric *host_metric_register(const ald_host *host, const ald_metric_desc *desc)
{
    (void)host;
    return metrics_register(desc);
}

ald_host *host_new(const char *instance_name)
{
    host_instance *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    snprintf(h->name, sizeof h->name, "%s", instance_name ? instance_name : "plugin");
    h->table = (ald_host){
        .struct_size = sizeof(ald_host),
        .abi_major = ALD_ABI_MAJOR,
        .abi_minor = ALD_ABI_MINOR,
        .host_ctx = h,
        .log = host_log,
        .vlog = host_vlog,
        .config_string = config_get_string,
        .config_int = config_get_int,
        .config_double = config_get_double,
        .config_bool = config_get_bool,
        .config_count = config_get_count,
        .config_child = config_get_child,
        .config_where = config_get_where,
        .monotonic_ns = host_monotonic_ns,
        .realtime_ns = host_realtime_ns,
        .metric_register = host_metric_register,
        .metric_add = metrics_add,
        .metric_set = metrics_set,
        .metric_observe = metrics_observe,
    };
    return &h->table;
}

void host_free(ald_host *host)
{
    free(host ? host->host_ctx : NULL);
}

const char *host_instance_name(const ald_host *host)
{
    return host ? ((const host_instance *)host->host_ctx)->name : "plugin";
}

unsigned host_warnings(const ald_host *host, char *first, size_t len)
{
    const host_instance *h = host->host_ctx;
    unsigned n = atomic_load(&h->warnings);
    if (first && len)
        snprintf(first, len, "%s", atomic_load(&h->first_ready) ? h->first_warning : "");
    return n;
}
