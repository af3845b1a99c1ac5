/*
 * sink.h - the sink role: any number of extra, write-only storage instances
 * (role = "sink") that receive every sample batch the writer stores, beside
 * the primary store.
 *
 * Each sink has its own bounded queue and thread: sink_set_offer() copies a
 * batch into every sink's queue without ever waiting (a full queue drops its
 * OLDEST batch, counted), so a slow or stalled sink never delays the primary
 * store, the writer or the logger. Errors are counted and logged per sink
 * (one WARNING when a sink starts failing, one INFO when it recovers);
 * metrics per sink: ald_sink_batches_total, ald_sink_errors_total,
 * ald_sink_dropped_total, ald_sink_queue_depth, label sink="<instance>".
 * Sinks get the batches the writer stores while this engine is active; a
 * sink without append_samples is refused at start. Sinks that implement
 * update_process_state also get each run's progress the same way. At stop each sink drains
 * its queue (every plugin call is bounded by the plugin's timeouts).
 */
#ifndef ALD_ENGINE_SINK_H
#define ALD_ENGINE_SINK_H

#include <pthread.h>
#include <stdint.h>

#include "ald/storage.h"
#include "config.h"
#include "ports/port.h"

#define SINK_QUEUE_BATCHES 64

typedef struct sink_slot {
    int64_t timestamp_ms;
    char process_id[64];
    ald_sample *samples; /* parameter ids point into the engine's tag map */
    size_t count;
    int is_progress;            /* 1: a progress update instead of samples */
    ald_process_state progress; /* its strings point into text[] */
    char text[4][128];
} sink_slot;

typedef struct sink {
    plugin_instance *pi;
    const char *machine_id;
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    sink_slot ring[SINK_QUEUE_BATCHES];
    size_t head, len;
    int stop;
    int failing; /* in an episode of failed writes */
    uint64_t batches, errors, dropped; /* under lock (tests read them) */
    struct ald_metric *m_batches, *m_errors, *m_dropped, *m_depth;
} sink;

typedef struct sink_set {
    sink *items;
    size_t count;
} sink_set;

/* Create every active sink instance (no I/O). 0, or -1 with a message. */
int sink_set_create(sink_set *s, const engine_config *cfg, char *err, size_t errlen);
/* start() each sink and its thread, and make it the set the writer feeds.
 * 0, or -1 with a message (a sink that lacks append_samples). */
int sink_set_start(sink_set *s, const char *machine_id, char *err, size_t errlen);
/* Queue a copy of the batch for every sink; never blocks on a sink. */
void sink_set_offer(sink_set *s, const ald_sample_batch *b);
/* The set sink_set_start() made current (NULL = none): the writer's feed. */
void sinks_offer(const ald_sample_batch *b);
/* A run's progress, for the sinks that implement update_process_state
 * (the executor's feed, beside the primary's copy); never blocks. */
void sinks_offer_progress(const ald_process_state *s);
/* Stop the threads after they drained their queues, and destroy the sinks. */
void sink_set_destroy(sink_set *s);

#endif
