/*
 * plugin.c - the plc-modbus descriptor and vtable: lifecycle, tag set, error
 * text. Reads are in mb_read.c, writes in mb_write.c.
 *
 * TAG SET: the host's tags (from the parameter map) in set_tags order; a
 * config tag with the same name overrides that tag's address, type, byte
 * order, scale and offset; config tags matching no host tag are appended, so
 * a config can declare a whole tag set on its own (then set_tags(NULL, 0)).
 * read_all fills the first `count` of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mb_instance.h"
#include "thread_error.h"

static ald_status plc_create(const ald_host *host, const ald_config *cfg, void **instance,
                             char *err, size_t errlen)
{
    mb_instance *in = calloc(1, sizeof *in);
    if (in == NULL) {
        snprintf(err, errlen, "plc-modbus: out of memory");
        return ALD_ERR_NOMEM;
    }
    ald_status st = mb_settings_load(host, cfg, &in->set, err, errlen);
    if (st != ALD_OK) {
        free(in);
        return st;
    }
    in->host = host;
    mb_metrics_register(&in->metrics, host, in->set.device_label);
    pthread_mutex_init(&in->read_lock, NULL);
    pthread_mutex_init(&in->write_lock, NULL);
    pthread_mutex_init(&in->err_lock, NULL);
    mb_conn_init(&in->reader, &in->set, host, &in->metrics, "logger", &in->link_up);
    mb_conn_init(&in->control, &in->set, host, &in->metrics, "control", &in->link_up);
    mb_heartbeat_init(&in->heartbeat, &in->set, host, &in->metrics);
    *instance = in;
    return ALD_OK;
}

static void free_tag_set(mb_instance *in)
{
    for (size_t i = 0; i < in->tag_count; i++)
        mb_tag_free(&in->tags[i]);
    free(in->tags);
    free(in->items);
    free(in->values);
    mb_plan_free(&in->plan);
    in->tags = NULL;
    in->items = NULL;
    in->values = NULL;
    in->tag_count = 0;
}

static void plc_destroy(void *instance)
{
    mb_instance *in = instance;
    if (in == NULL)
        return;
    mb_heartbeat_destroy(&in->heartbeat);
    mb_conn_destroy(&in->reader);
    mb_conn_destroy(&in->control);
    free_tag_set(in);
    mb_settings_free(&in->set);
    pthread_mutex_destroy(&in->read_lock);
    pthread_mutex_destroy(&in->write_lock);
    pthread_mutex_destroy(&in->err_lock);
    free(in);
}

static ald_status plc_start(void *instance)
{
    mb_instance *in = instance;
    atomic_store(&in->running, 1);
    /* The heartbeat connects by itself, so it beats once the PLC answers even
     * when it does not answer now. */
    if (mb_heartbeat_start(&in->heartbeat) != ALD_OK) {
        mb_set_error(in, -1, "plc-modbus: cannot start the heartbeat thread");
        return ALD_ERR_NOMEM;
    }
    pthread_mutex_lock(&in->write_lock);
    pthread_mutex_lock(&in->read_lock);
    mb_conn_reset_backoff(&in->reader);
    mb_conn_reset_backoff(&in->control);
    ald_status st = mb_conn_open(&in->reader);
    /* The control link only when the PLC answered: a second connect to a dead
     * PLC would double the time start() blocks. */
    if (st == ALD_OK)
        st = mb_conn_open(&in->control);
    if (st != ALD_OK)
        mb_set_error(in, -1, "%s", in->reader.connected ? in->control.error : in->reader.error);
    pthread_mutex_unlock(&in->read_lock);
    pthread_mutex_unlock(&in->write_lock);
    return st;
}

static void plc_stop(void *instance)
{
    mb_instance *in = instance;
    atomic_store(&in->running, 0);
    mb_heartbeat_stop(&in->heartbeat);
    pthread_mutex_lock(&in->write_lock);
    pthread_mutex_lock(&in->read_lock);
    mb_conn_close(&in->reader);
    mb_conn_close(&in->control);
    atomic_store(&in->link_up, 0);
    pthread_mutex_unlock(&in->read_lock);
    pthread_mutex_unlock(&in->write_lock);
}

static const char *plc_last_error(void *instance)
{
    mb_instance *in = instance;
    const char *mine = thread_error_get(in); /* this thread's own call's text */
    if (mine)
        return mine;
    pthread_mutex_lock(&in->err_lock);
    memcpy(in->err_out, in->last_err, sizeof in->err_out);
    pthread_mutex_unlock(&in->err_lock);
    return in->err_out;
}

static const mb_tag_spec *find_spec(const mb_settings *s, const char *name)
{
    for (size_t i = 0; name != NULL && i < s->tag_count; i++) {
        if (strcmp(s->tags[i].name, name) == 0)
            return &s->tags[i];
    }
    return NULL;
}

static int host_has_tag(const ald_tag *const *tags, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (tags[i]->name != NULL && strcmp(tags[i]->name, name) == 0)
            return 1;
    }
    return 0;
}

/* Build the read item of a resolved tag. */
static mb_read_item read_item(const mb_instance *in, const mb_tag *t)
{
    if (!t->readable)
        return (mb_read_item){0};
    return (mb_read_item){mb_read_function(t->read_at.area, in->set.legacy_function_codes),
                          t->read_at.addr, (uint16_t)codec_register_count(t->type)};
}

/* Resolve host tags (with overrides) then config-only tags into in->tags. */
static ald_status resolve_tags(mb_instance *in, const ald_tag *const *tags, size_t count,
                               char *err, size_t errlen)
{
    size_t total = count;
    const mb_tag_spec **extra = calloc(in->set.tag_count + 1, sizeof *extra);
    if (extra == NULL)
        return ALD_ERR_NOMEM;
    for (size_t i = 0; i < in->set.tag_count; i++) {
        if (!host_has_tag(tags, count, in->set.tags[i].name))
            extra[total++ - count] = &in->set.tags[i];
    }
    in->tags = calloc(total ? total : 1, sizeof *in->tags);
    in->items = calloc(total ? total : 1, sizeof *in->items);
    in->values = calloc(total ? total : 1, sizeof *in->values);
    ald_status st = (in->tags && in->items && in->values) ? ALD_OK : ALD_ERR_NOMEM;
    for (size_t i = 0; i < total && st == ALD_OK; i++) {
        const ald_tag *tag = i < count ? tags[i] : NULL;
        const mb_tag_spec *spec = tag ? find_spec(&in->set, tag->name) : extra[i - count];
        if (tag != NULL && (tag->name == NULL || tag->name[0] == '\0')) {
            snprintf(err, errlen, "plc-modbus: set_tags: tag %zu has no name", i);
            st = ALD_ERR_INVALID;
            break;
        }
        st = mb_tag_resolve(tag, spec, in->set.byte_order, &in->tags[i], err, errlen);
        if (st == ALD_OK) {
            in->tag_count = i + 1;
            in->items[i] = read_item(in, &in->tags[i]);
        }
    }
    free(extra);
    return st;
}

static ald_status plc_set_tags(void *instance, const ald_tag *const *tags, size_t count)
{
    mb_instance *in = instance;
    char err[300];
    pthread_mutex_lock(&in->write_lock);
    pthread_mutex_lock(&in->read_lock);
    free_tag_set(in);
    ald_status st = resolve_tags(in, tags, count, err, sizeof err);
    mb_limits lim = {in->set.max_gap, in->set.max_registers, in->set.max_bits};
    if (st == ALD_OK && mb_plan_build(in->items, in->tag_count, &lim, &in->plan) != 0)
        st = ALD_ERR_NOMEM;
    if (st == ALD_ERR_NOMEM)
        snprintf(err, sizeof err, "plc-modbus: out of memory planning %zu tags", count);
    if (st != ALD_OK) {
        free_tag_set(in);
        mb_set_error(in, -1, "%s", err);
    } else {
        in->host->log(in->host, ALD_LOG_INFO, "plc-modbus: %s: %zu tags read in %zu requests",
                      in->set.device_label, in->tag_count, mb_plan_request_count(&in->plan));
    }
    pthread_mutex_unlock(&in->read_lock);
    pthread_mutex_unlock(&in->write_lock);
    return st;
}

static ald_status plc_read_all(void *instance, ald_tag_value *out, size_t count)
{
    return mb_read_all(instance, out, count);
}

static ald_status plc_read_tags(void *instance, const size_t *indexes, size_t n,
                                ald_tag_value *out)
{
    return mb_read_tags(instance, indexes, n, out);
}

static ald_status plc_write_tag(void *instance, size_t index, double value)
{
    return mb_write_tag(instance, index, value);
}

static ald_status plc_pulse(void *instance, size_t index, uint32_t duration_ms)
{
    return mb_pulse(instance, index, duration_ms);
}

static int plc_is_connected(void *instance)
{
    mb_instance *in = instance;
    return atomic_load(&in->link_up);
}

/* Only the lease holder's heartbeat beats (ABI 1.2; see mb_heartbeat.h). */
static void plc_set_active(void *instance, int active)
{
    mb_instance *in = instance;
    mb_heartbeat_set_active(&in->heartbeat, active);
}

static const ald_plc_vtable vtable = {
    .struct_size = sizeof(ald_plc_vtable),
    .create = plc_create,
    .destroy = plc_destroy,
    .start = plc_start,
    .stop = plc_stop,
    .last_error = plc_last_error,
    .set_tags = plc_set_tags,
    .read_all = plc_read_all,
    .read_tags = plc_read_tags,
    .write_tag = plc_write_tag,
    .is_connected = plc_is_connected,
    .pulse = plc_pulse,
    .valve_events = NULL,
    .set_active = plc_set_active,
};

static const ald_plugin_descriptor descriptor = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "plc-modbus",
    .version = "1.0.0",
    .kind = ALD_PLUGIN_PLC,
    .capabilities = ALD_CAP_PLC_TIMED_PULSE, /* per tag: see pulse_timers */
    .vtable = &vtable,
};

ALD_PLUGIN_ENTRY; /* prototype: -Wmissing-prototypes */

ALD_PLUGIN_ENTRY
{
    return &descriptor;
}
