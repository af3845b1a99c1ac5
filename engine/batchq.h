/*
 * batchq.h - the bounded hand-off from the parameter logger to the writer.
 *
 * Slots are allocated once, each big enough for one cycle's values, so the
 * 1 Hz path allocates nothing. push() copies a cycle in under a short mutex
 * and never waits for the consumer: when the queue is full (storage stalled
 * longer than the queue covers) the OLDEST batch is dropped and counted,
 * because the newest data is what operators watch. pop() blocks until a
 * batch arrives, the timeout passes, or the queue is closed.
 */
#ifndef ALD_ENGINE_BATCHQ_H
#define ALD_ENGINE_BATCHQ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ald/plc.h"

typedef struct sample_batch {
    int64_t timestamp_ms; /* wall clock of the cycle */
    uint64_t mono_ns;     /* monotonic time of the cycle */
    size_t count;         /* values in `values` (= tag count) */
    ald_tag_value *values;
} sample_batch;

typedef struct batchq {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    sample_batch *slots;
    size_t capacity, head, length;
    size_t values_per_batch;
    uint64_t dropped; /* batches overwritten because the queue was full */
    int closed;
} batchq;

int batchq_init(batchq *q, size_t capacity, size_t values_per_batch);
void batchq_destroy(batchq *q);

/* Copy a cycle in. Returns 1 if an older batch had to be dropped, else 0. */
int batchq_push(batchq *q, int64_t timestamp_ms, uint64_t mono_ns,
                const ald_tag_value *values, size_t count);

/* Copy the oldest batch into *out (whose values array holds values_per_batch).
 * Returns 1 with a batch, 0 on timeout, -1 when closed and empty. */
int batchq_pop(batchq *q, sample_batch *out, unsigned timeout_ms);

size_t batchq_length(batchq *q);
/* Wake the consumer; pop() drains what is left, then returns -1. */
void batchq_close(batchq *q);

#endif
