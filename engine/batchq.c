/* batchq.c - bounded logger -> writer queue (see batchq.h). */
#include "batchq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int batchq_init(batchq *q, size_t capacity, size_t values_per_batch)
{
    memset(q, 0, sizeof *q);
    if (capacity == 0)
        return -1;
    q->slots = calloc(capacity, sizeof *q->slots);
    if (!q->slots)
        return -1;
    size_t per = values_per_batch ? values_per_batch : 1;
    for (size_t i = 0; i < capacity; i++) {
        q->slots[i].values = calloc(per, sizeof(ald_tag_value));
        if (!q->slots[i].values) {
            q->capacity = i;
            batchq_destroy(q);
            return -1;
        }
    }
    q->capacity = capacity;
    q->values_per_batch = values_per_batch;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->nonempty, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

void batchq_destroy(batchq *q)
{
    for (size_t i = 0; q->slots && i < q->capacity; i++)
        free(q->slots[i].values);
    free(q->slots);
    if (q->capacity) {
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->nonempty);
    }
    memset(q, 0, sizeof *q);
}

int batchq_push(batchq *q, int64_t timestamp_ms, uint64_t mono_ns,
                const ald_tag_value *values, size_t count)
{
    if (count > q->values_per_batch)
        count = q->values_per_batch;
    int dropped = 0;
    pthread_mutex_lock(&q->lock);
    if (q->length == q->capacity) {
        q->head = (q->head + 1) % q->capacity; /* overwrite the oldest */
        q->length--;
        q->dropped++;
        dropped = 1;
    }
    sample_batch *slot = &q->slots[(q->head + q->length) % q->capacity];
    slot->timestamp_ms = timestamp_ms;
    slot->mono_ns = mono_ns;
    slot->count = count;
    memcpy(slot->values, values, count * sizeof *values);
    q->length++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
    return dropped;
}

static struct timespec deadline_after(unsigned timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int batchq_pop(batchq *q, sample_batch *out, unsigned timeout_ms)
{
    struct timespec deadline = deadline_after(timeout_ms);
    pthread_mutex_lock(&q->lock);
    while (q->length == 0 && !q->closed) {
        if (pthread_cond_timedwait(&q->nonempty, &q->lock, &deadline) == ETIMEDOUT)
            break;
    }
    int result;
    if (q->length > 0) {
        sample_batch *slot = &q->slots[q->head];
        out->timestamp_ms = slot->timestamp_ms;
        out->mono_ns = slot->mono_ns;
        out->count = slot->count;
        memcpy(out->values, slot->values, slot->count * sizeof *slot->values);
        q->head = (q->head + 1) % q->capacity;
        q->length--;
        result = 1;
    } else {
        result = q->closed ? -1 : 0;
    }
    pthread_mutex_unlock(&q->lock);
    return result;
}

size_t batchq_length(batchq *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->length;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void batchq_close(batchq *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->lock);
}
