/*
 * logger.h - the parameter logger: one bulk PLC read per interval on absolute
 * CLOCK_MONOTONIC deadlines, handed to the writer through the batch queue.
 *
 * Deadlines are start + k * interval, so there is no drift. A cycle that
 * starts more than a tenth of the interval after its deadline is late; when a
 * read overruns whole intervals the missed deadlines are counted as late and
 * skipped: the logger never "catches up" in a burst. The logger never waits
 * on storage: the hand-off is a bounded copy (batchq).
 */
#ifndef ALD_ENGINE_LOGGER_H
#define ALD_ENGINE_LOGGER_H

#include <pthread.h>
#include <stdint.h>

#include "batchq.h"
#include "ports/plc_port.h"
#include "tagmap.h"

typedef struct param_logger {
    plugin_instance *plc;
    const tagmap *tags;
    batchq *queue;
    uint64_t interval_ns;
    ald_tag_value *values;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop_requested;
    int running;
} param_logger;

int logger_start(param_logger *lg, plugin_instance *plc, const tagmap *tags, batchq *queue,
                 uint64_t interval_ns);
/* Returns within one PLC read (bounded by the plugin's timeouts). */
void logger_stop(param_logger *lg);

/* The next deadline strictly after `now`, given the one just served.
 * *skipped = how many deadlines were missed entirely. Pure; for tests. */
uint64_t logger_next_deadline(uint64_t served, uint64_t now, uint64_t interval,
                              uint64_t *skipped);
/* The first cycle's deadline: the middle of the next wall-clock interval
 * (x.500 s at 1 Hz). Every engine samples at the same phase, as far as it
 * can be from a second boundary, so "one row per parameter per second" holds
 * with jitter and across a blue/green handover. */
uint64_t logger_first_deadline(uint64_t mono_now, int64_t realtime_now_ns, uint64_t interval);
/* Whether a cycle woken at `start` for `deadline` counts as late. Pure. */
int logger_is_late(uint64_t deadline, uint64_t start, uint64_t interval);

/* One cycle, without the waiting: read all tags, update the PLC state and
 * counters, push the batch. Exposed so tests can drive it step by step. */
void logger_cycle(param_logger *lg, uint64_t mono_ns);

#endif
