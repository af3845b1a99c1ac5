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
#include "ports/settings_use.h"

typedef struct host_instance {
    ald_host table; /* first: a pointer to it is a pointer to this */
    char name[64];
    atomic_int quiet;         /* host_set_quiet */
    atomic_uint warnings;     /* warnings and errors the instance logged */
    atomic_int first_ready;   /* first_warning is written */
    char first_warning[1024]; /* the first of them */
} host_instance;

__attribute__((format(printf, 3, 0))) static void host_vlog(const ald_host *host,
                                                            ald_log_level level,
                                                            const char *fmt, va_list ap)
{
    host_instance *h = host->host_ctx;
    if (level > ALD_LOG_ERROR && atomic_load(&h->quiet)) {
        log_vmsg(ALD_LOG_DEBUG, host_instance_name(host), fmt, ap); /* said by the first */
        return;
    }
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

/* The config getters note what they find (settings_use.h), so settings the
 * plugin never read can be refused after create(). */
static ald_status host_config_string(const ald_config *c, const char *path, const char **out)
{
    settings_use_note(c, path);
    return config_get_string(c, path, out);
}

static ald_status host_config_int(const ald_config *c, const char *path, int64_t *out)
{
    settings_use_note(c, path);
    return config_get_int(c, path, out);
}

static ald_status host_config_double(const ald_config *c, const char *path, double *out)
{
    settings_use_note(c, path);
    return config_get_double(c, path, out);
}

static ald_status host_config_bool(const ald_config *c, const char *path, int *out)
{
    settings_use_note(c, path);
    return config_get_bool(c, path, out);
}

static unsigned host_config_count(const ald_config *c, const char *path)
{
    settings_use_note(c, path);
    return config_get_count(c, path);
}

static const ald_config *host_config_child(const ald_config *c, const char *path,
                                           unsigned index)
{
    settings_use_note(c, path);
    const ald_config *child = config_get_child(c, path, index);
    settings_use_note_child(child);
    return child;
}

/* Every plugin series gets the label plugin_instance="<instance name>", so
 * two instances of one plugin never share (or fight over) a series. Not
 * "instance": Prometheus sets that on every scraped series (the target) and
 * would rename ours to exported_instance. A plugin that sets the label
 * itself keeps its own value. */
static ald_metric *host_metric_register(const ald_host *host, const ald_metric_desc *desc)
{
    if (!desc || desc->struct_size < ALD_FIELD_END(ald_metric_desc, labels))
        return metrics_register(desc); /* refused there, with the reason logged */
    ald_metric_desc d;
    memset(&d, 0, sizeof d);
    memcpy(&d, desc, desc->struct_size < sizeof d ? desc->struct_size : sizeof d);
    const char *own = d.labels ? d.labels : "";
    if (strstr(own, "plugin_instance="))
        return metrics_register(&d);
    char labels[1024];
    snprintf(labels, sizeof labels, "%s%splugin_instance=\"%s\"", own,
             own[strspn(own, " ")] ? "," : "", host_instance_name(host));
    d.struct_size = sizeof d;
    d.labels = labels;
    return metrics_register(&d);
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
        .config_string = host_config_string,
        .config_int = host_config_int,
        .config_double = host_config_double,
        .config_bool = host_config_bool,
        .config_count = host_config_count,
        .config_child = host_config_child,
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

void host_set_quiet(ald_host *host, int quiet)
{
    if (host)
        atomic_store(&((host_instance *)host->host_ctx)->quiet, quiet != 0);
}
