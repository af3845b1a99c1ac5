/* sink.c - extra write-only storage instances with their own queues (see sink.h). */
#include "sink.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "ports/plugin_instance.h"
#include "ports/storage_port.h"
#include "thread_role.h"

static _Atomic(sink_set *) current_set;

int sink_set_create(sink_set *s, const engine_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    size_t wanted = 0;
    for (size_t i = 0; i < cfg->plugin_count; i++)
        wanted += cfg->plugins[i].active && cfg->plugins[i].role == ROLE_SINK;
    if (!wanted)
        return 0;
    s->items = calloc(wanted, sizeof *s->items);
    if (!s->items)
        return snprintf(err, errlen, "out of memory for %zu sinks", wanted), -1;
    for (size_t i = 0; i < cfg->plugin_count; i++) {
        const plugin_conf *p = &cfg->plugins[i];
        if (!p->active || p->role != ROLE_SINK)
            continue;
        sink *k = &s->items[s->count];
        k->pi = calloc(1, sizeof *k->pi);
        if (!k->pi || plugin_instance_create(k->pi, p, cfg->plugin_dir, err, errlen) != 0) {
            free(k->pi);
            k->pi = NULL;
            return -1;
        }
        s->count++;
    }
    return 0;
}

static void register_metrics(sink *k)
{
    char labels[160];
    snprintf(labels, sizeof labels, "sink=\"%s\"", k->pi->name);
    k->m_batches = metrics_counter("ald_sink_batches_total",
                                   "Sample batches a sink stored", labels);
    k->m_errors = metrics_counter("ald_sink_errors_total",
                                  "Sample batches a sink failed to store", labels);
    k->m_dropped = metrics_counter("ald_sink_dropped_total",
                                   "Sample batches dropped because a sink's queue was full",
                                   labels);
    k->m_depth = metrics_gauge("ald_sink_queue_depth", "Batches waiting in a sink's queue",
                               labels);
}

/* One WARNING per episode of failures, one INFO when it ends. */
static void note_result(sink *k, ald_status st, const port_error *e)
{
    if (st != ALD_OK && !k->failing)
        log_warning("sink", "sink '%s' cannot store samples: %s: %s (counting in "
                    "ald_sink_errors_total; the primary store is not affected)",
                    k->pi->name, ald_status_name(st), port_error_text(e));
    else if (st == ALD_OK && k->failing)
        log_info("sink", "sink '%s' stores samples again", k->pi->name);
    k->failing = st != ALD_OK;
}

/* Points a progress row's strings at this copy of the slot's text (the
 * queue's own slot may be reused once it is taken off the queue). */
static void repoint(sink_slot *slot)
{
    const char **s[4] = {&slot->progress.execution_id, &slot->progress.current_step_type,
                         &slot->progress.current_step_name,
                         &slot->progress.current_parameter_id};
    for (int i = 0; i < 4; i++)
        if (*s[i])
            *s[i] = slot->text[i];
}

static void write_progress(sink *k, sink_slot *slot)
{
    repoint(slot);
    port_error e = {""};
    ald_status st = storage_port_update_progress(k->pi, &slot->progress, &e);
    note_result(k, st, &e);
    if (st != ALD_OK) {
        pthread_mutex_lock(&k->lock);
        k->errors++;
        pthread_mutex_unlock(&k->lock);
        metrics_add(k->m_errors, 1);
    }
}

static void write_slot(sink *k, sink_slot *slot)
{
    if (slot->is_progress) {
        write_progress(k, slot);
        return;
    }
    ald_sample_batch b = {.struct_size = sizeof b, .machine_id = k->machine_id,
                          .process_id = slot->process_id[0] ? slot->process_id : NULL,
                          .timestamp_ms = slot->timestamp_ms, .samples = slot->samples,
                          .count = slot->count};
    port_error e = {""};
    ald_status st = storage_port_append_samples(k->pi, &b, &e);
    note_result(k, st, &e);
    pthread_mutex_lock(&k->lock);
    st == ALD_OK ? k->batches++ : k->errors++;
    pthread_mutex_unlock(&k->lock);
    metrics_add(st == ALD_OK ? k->m_batches : k->m_errors, 1);
}

static void *sink_main(void *arg)
{
    sink *k = arg;
    thread_role_enter("ald-sink", THREAD_BACKGROUND);
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (!k->len && !k->stop)
            pthread_cond_wait(&k->wake, &k->lock);
        if (k->stop && !k->len)
            break; /* drained: calls are bounded by the plugin's timeouts */
        sink_slot slot = k->ring[k->head];
        k->ring[k->head].samples = NULL;
        k->head = (k->head + 1) % SINK_QUEUE_BATCHES;
        k->len--;
        metrics_set(k->m_depth, (double)k->len);
        pthread_mutex_unlock(&k->lock);
        write_slot(k, &slot);
        free(slot.samples);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

int sink_set_start(sink_set *s, const char *machine_id, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->count; i++) {
        sink *k = &s->items[i];
        if (!storage_ops(k->pi)->append_samples)
            return snprintf(err, errlen, "sink '%s' (%s) does not implement append_samples",
                            k->pi->name, k->pi->lib.desc.name), -1;
        k->machine_id = machine_id;
        pthread_mutex_init(&k->lock, NULL);
        pthread_cond_init(&k->wake, NULL);
        register_metrics(k);
        plugin_instance_start(k->pi); /* a failing start is not fatal: writes retry */
        if (pthread_create(&k->thread, NULL, sink_main, k) != 0)
            return snprintf(err, errlen, "cannot start the thread of sink '%s'", k->pi->name),
                   -1;
        k->running = 1;
    }
    atomic_store(&current_set, s->count ? s : NULL);
    return 0;
}

/* The next free slot of k's queue, dropping the oldest entry when the
 * queue is full. Under k->lock. */
static sink_slot *next_slot(sink *k)
{
    if (k->len == SINK_QUEUE_BATCHES) {
        free(k->ring[k->head].samples);
        k->ring[k->head].samples = NULL;
        k->head = (k->head + 1) % SINK_QUEUE_BATCHES;
        k->len--;
        k->dropped++;
        metrics_add(k->m_dropped, 1);
    }
    sink_slot *slot = &k->ring[(k->head + k->len) % SINK_QUEUE_BATCHES];
    memset(slot, 0, sizeof *slot);
    return slot;
}

/* Puts a copy in k's queue, dropping the oldest when full. Under k->lock. */
static void enqueue(sink *k, const ald_sample_batch *b, ald_sample *copy)
{
    sink_slot *slot = next_slot(k);
    slot->timestamp_ms = b->timestamp_ms;
    snprintf(slot->process_id, sizeof slot->process_id, "%s",
             b->process_id ? b->process_id : "");
    slot->samples = copy;
    slot->count = b->count;
    k->len++;
    metrics_set(k->m_depth, (double)k->len);
}

void sink_set_offer(sink_set *s, const ald_sample_batch *b)
{
    for (size_t i = 0; s && i < s->count; i++) {
        sink *k = &s->items[i];
        ald_sample *copy = malloc((b->count ? b->count : 1) * sizeof *copy);
        if (!copy) {
            pthread_mutex_lock(&k->lock);
            k->dropped++;
            pthread_mutex_unlock(&k->lock);
            continue;
        }
        memcpy(copy, b->samples, b->count * sizeof *copy);
        pthread_mutex_lock(&k->lock);
        enqueue(k, b, copy);
        pthread_cond_signal(&k->wake);
        pthread_mutex_unlock(&k->lock);
    }
}

void sinks_offer(const ald_sample_batch *b)
{
    sink_set_offer(atomic_load(&current_set), b);
}

/* A copy of a progress row whose strings live in the slot itself. */
static void copy_progress(sink_slot *slot, const ald_process_state *s)
{
    slot->is_progress = 1;
    slot->progress = *s; /* the executor's own, host-sized row */
    slot->progress.struct_size = sizeof slot->progress;
    const char *src[4] = {s->execution_id, s->current_step_type, s->current_step_name,
                          s->current_parameter_id};
    const char **dst[4] = {&slot->progress.execution_id, &slot->progress.current_step_type,
                           &slot->progress.current_step_name,
                           &slot->progress.current_parameter_id};
    for (int i = 0; i < 4; i++) {
        snprintf(slot->text[i], sizeof slot->text[i], "%s", src[i] ? src[i] : "");
        *dst[i] = src[i] ? slot->text[i] : NULL;
    }
}

void sinks_offer_progress(const ald_process_state *s)
{
    sink_set *set = atomic_load(&current_set);
    for (size_t i = 0; set && i < set->count; i++) {
        sink *k = &set->items[i];
        if (!storage_ops(k->pi)->update_process_state)
            continue; /* a sink that only archives samples */
        pthread_mutex_lock(&k->lock);
        copy_progress(next_slot(k), s);
        k->len++;
        metrics_set(k->m_depth, (double)k->len);
        pthread_cond_signal(&k->wake);
        pthread_mutex_unlock(&k->lock);
    }
}

void sink_set_destroy(sink_set *s)
{
    if (atomic_load(&current_set) == s)
        atomic_store(&current_set, NULL);
    for (size_t i = 0; i < s->count; i++) {
        sink *k = &s->items[i];
        if (k->running) {
            pthread_mutex_lock(&k->lock);
            k->stop = 1;
            pthread_cond_signal(&k->wake);
            pthread_mutex_unlock(&k->lock);
            pthread_join(k->thread, NULL);
            for (; k->len; k->len--, k->head = (k->head + 1) % SINK_QUEUE_BATCHES)
                free(k->ring[k->head].samples);
            pthread_mutex_destroy(&k->lock);
            pthread_cond_destroy(&k->wake);
        }
        plugin_instance_destroy(k->pi);
        free(k->pi);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}
