/* writer.c - the sample writer thread (see writer.h). */
#include "writer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "lease.h"
#include "plausibility.h"
#include "log.h"
#include "sink.h"
#include "state.h"
#include "thread_role.h"

#define WRITER_BACKOFF_MAX_MS 30000u
/* Batches waiting behind the one in hand when the primary counts as too slow:
 * past this the writer diverts to the outbox rather than fall further behind
 * (the in-memory queue is bounded; the outbox is not). */
#define WRITER_DIVERT_DEPTH 10

static double tag_value_or_nan(const sample_batch *b, size_t tag)
{
    if (tag == SIZE_MAX || tag >= b->count || b->values[tag].quality != ALD_OK)
        return NAN;
    return b->values[tag].value;
}

size_t writer_build(const tagmap *tags, const sample_batch *b, ald_sample *samples,
                    ald_parameter_value *live, size_t *live_count)
{
    size_t n = 0, nl = 0;
    for (size_t i = 0; i < tags->param_count; i++) {
        const tag_param *p = &tags->params[i];
        double value = tag_value_or_nan(b, p->value_tag);
        double setpoint = tag_value_or_nan(b, p->setpoint_tag);
        if (!isnan(value))
            samples[n++] = (ald_sample){p->id, value, setpoint};
        if (!isnan(value) || !isnan(setpoint))
            live[nl++] = (ald_parameter_value){p->id, value, setpoint};
    }
    *live_count = nl;
    return n;
}

ald_status writer_write_batch(sample_writer *w, const sample_batch *b)
{
    if (lease_gate(b->timestamp_ms) == LEASE_SKIP)
        return ALD_OK; /* standby: the active engine stores this machine's data */
    size_t live_count = 0;
    size_t count = writer_build(w->tags, b, w->samples, w->live, &live_count);
    plausibility_observe(w->tags, w->samples, count, b->timestamp_ms);
    char process_id[64];
    pthread_mutex_lock(&w->process_lock);
    memcpy(process_id, w->process_id, sizeof process_id);
    pthread_mutex_unlock(&w->process_lock);

    ald_sample_batch batch = {.struct_size = sizeof batch,
                              .machine_id = w->machine_id,
                              .process_id = process_id[0] ? process_id : NULL,
                              .timestamp_ms = b->timestamp_ms,
                              .samples = w->samples,
                              .count = count,
                              .replay = 0};
    sinks_offer(&batch); /* copies; never waits on a sink */
    ald_status st = storage_port_store_samples(w->storage, w->ob, &batch, w->live, live_count,
                                               &w->last_error);
    /* A cycle whose every read failed (a PLC answering Modbus exceptions)
     * stores nothing: health must not count it as data. */
    if (st == ALD_OK && count > 0)
        atomic_store(&g_state.last_stored_mono_ns, clock_mono_ns());
    return st;
}

/* Sleep up to ms, waking early when asked to stop. */
static void pause_ms(sample_writer *w, unsigned ms)
{
    for (unsigned slept = 0; slept < ms && !atomic_load(&w->stop_requested); slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* One WARNING when writing starts failing (a full disk, a store that went
 * away with no fallback) and one INFO when it works again, not a line per
 * retry: an episode of hours must not flood the log. */
static void note_write_result(sample_writer *w, ald_status st)
{
    if (st == ALD_OK) {
        if (w->failed_writes)
            log_info("writer", "storing samples works again after %llu failed attempts",
                     (unsigned long long)w->failed_writes);
        w->failed_writes = 0;
        return;
    }
    if (w->failed_writes++ == 0 && ald_status_is_transient(st))
        log_warning("writer", "storing samples failed, retrying with back-off while the "
                    "queue holds the batches: %s: %s", ald_status_name(st), w->last_error.text);
}

/* Hold the batch while this engine holds the lease but has not had it
 * confirmed lately: storing could duplicate a successor's data, dropping could
 * lose the cycle. 1 = store it, 0 = drop it (a standby, or stopping). */
static int await_lease(sample_writer *w)
{
    for (;;) {
        lease_gate_result gate = lease_gate(w->current.timestamp_ms);
        if (gate != LEASE_WAIT)
            return gate == LEASE_STORE;
        if (atomic_load(&w->stop_requested))
            return 0;
        pause_ms(w, 50);
    }
}

/* Write the current batch, retrying transient failures with back-off. */
static void write_with_retry(sample_writer *w)
{
    unsigned backoff = 250;
    if (!await_lease(w))
        return;
    for (;;) {
        ald_status st = writer_write_batch(w, &w->current);
        note_write_result(w, st);
        if (st == ALD_OK)
            return;
        atomic_fetch_add(&g_state.logging_errors_total, 1);
        if (!ald_status_is_transient(st) || atomic_load(&w->stop_requested)) {
            log_warning("writer", "dropped a sample batch: %s: %s", ald_status_name(st),
                        w->last_error.text);
            return;
        }
        pause_ms(w, backoff);
        backoff = backoff * 2 > WRITER_BACKOFF_MAX_MS ? WRITER_BACKOFF_MAX_MS : backoff * 2;
    }
}

static void *writer_main(void *arg)
{
    sample_writer *w = arg;
    thread_role_enter("ald-writer", THREAD_BACKGROUND);
    for (;;) {
        int got = batchq_pop(w->queue, &w->current, 500);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        if (w->ob && !outbox_primary_down(w->ob) &&
            batchq_length(w->queue) >= WRITER_DIVERT_DEPTH)
            outbox_mark_down(w->ob, ALD_ERR_TIMEOUT); /* too slow counts as down */
        write_with_retry(w);
        atomic_store(&g_state.writer_queue_depth, batchq_length(w->queue));
    }
    return NULL;
}

int writer_start(sample_writer *w, plugin_instance *storage, const tagmap *tags,
                 batchq *queue, const char *machine_id, outbox *ob)
{
    memset(w, 0, sizeof *w);
    w->ob = ob;
    w->storage = storage;
    w->tags = tags;
    w->queue = queue;
    w->machine_id = machine_id;
    size_t params = tags->param_count ? tags->param_count : 1;
    w->current.values = calloc(queue->values_per_batch ? queue->values_per_batch : 1,
                               sizeof(ald_tag_value));
    w->samples = calloc(params, sizeof *w->samples);
    w->live = calloc(params, sizeof *w->live);
    pthread_mutex_init(&w->process_lock, NULL);
    if (!w->current.values || !w->samples || !w->live || plausibility_start(tags) != 0 ||
        pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        free(w->current.values);
        free(w->samples);
        free(w->live);
        plausibility_stop();
        return -1;
    }
    w->running = 1;
    return 0;
}

void writer_stop(sample_writer *w)
{
    if (!w->running)
        return;
    atomic_store(&w->stop_requested, 1);
    batchq_close(w->queue);
    pthread_join(w->thread, NULL);
    w->running = 0;
    free(w->current.values);
    free(w->samples);
    free(w->live);
    plausibility_stop();
    pthread_mutex_destroy(&w->process_lock);
}

void writer_set_process(sample_writer *w, const char *process_id)
{
    pthread_mutex_lock(&w->process_lock);
    snprintf(w->process_id, sizeof w->process_id, "%s", process_id ? process_id : "");
    pthread_mutex_unlock(&w->process_lock);
}
