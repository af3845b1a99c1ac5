/*
 * writer.h - drains the logger's batch queue into storage.
 *
 * For each batch: one append_samples (parameter_value_history, plus
 * process_data_points while a recipe runs) and one update_parameter_values
 * (current_value / set_value for apps), both on the primary store.
 * With an outbox (a fallback store is configured), a batch the primary cannot
 * take is stored durably there and replayed later (outbox.h); while the
 * primary is down, batches go to the outbox directly. Without one, a
 * transient failure keeps the batch and retries it with capped back-off while
 * the logger keeps filling the queue. A batch that cannot be stored anywhere
 * is counted in ald_data_logging_errors_total.
 * A standby engine (another engine holds the machine's lease) stores nothing:
 * during a blue/green overlap only the active colour writes samples.
 */
#ifndef ALD_ENGINE_WRITER_H
#define ALD_ENGINE_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "batchq.h"
#include "outbox.h"
#include "ports/storage_port.h"
#include "tagmap.h"

typedef struct sample_writer {
    plugin_instance *storage;
    const tagmap *tags;
    batchq *queue;
    const char *machine_id;
    outbox *ob; /* NULL = no fallback store */
    pthread_t thread;
    int running;
    sample_batch current;       /* the batch being written (owned buffer) */
    ald_sample *samples;        /* scratch, one per parameter */
    ald_parameter_value *live;  /* scratch, one per parameter */
    pthread_mutex_t process_lock;
    char process_id[64];        /* "" = no recipe running */
    atomic_int stop_requested;
    port_error last_error; /* the storage's message for the last failure */
    uint64_t failed_writes; /* attempts failed in the current episode; 0 = writing */
} sample_writer;

int writer_start(sample_writer *w, plugin_instance *storage, const tagmap *tags,
                 batchq *queue, const char *machine_id, outbox *ob);
/* Closes the queue, writes what is left (bounded by one retry round), joins. */
void writer_stop(sample_writer *w);

/* While set, samples also go to process_data_points of this process. */
void writer_set_process(sample_writer *w, const char *process_id);

/* Turn one batch into samples and live values. Returns the sample count.
 * Pure apart from the scratch buffers; exposed for tests. */
size_t writer_build(const tagmap *tags, const sample_batch *b, ald_sample *samples,
                    ald_parameter_value *live, size_t *live_count);

/* Write one batch synchronously (what the thread does per batch). */
ald_status writer_write_batch(sample_writer *w, const sample_batch *b);

#endif
