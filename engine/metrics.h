/*
 * metrics.h - the process-wide metric registry and its Prometheus rendering.
 *
 * Series are registered once (engine start, plugin create) and then updated
 * lock-free from any thread (atomics). Rendering takes the registry lock only
 * to walk the list. A registered series is never freed before metrics_reset().
 * The same name with different labels forms one metric family (one HELP/TYPE).
 */
#ifndef ALD_ENGINE_METRICS_H
#define ALD_ENGINE_METRICS_H

#include <stddef.h>

#include "ald/host.h"

/* Register (or find) a series. NULL, with the reason logged, when the name
 * is not a valid Prometheus name, the type disagrees with an earlier series
 * of the same family, or a histogram has no/unsorted buckets. */
ald_metric *metrics_register(const ald_metric_desc *desc);

/* Shorthands for the engine's own series. */
ald_metric *metrics_counter(const char *name, const char *help, const char *labels);
ald_metric *metrics_gauge(const char *name, const char *help, const char *labels);
ald_metric *metrics_histogram(const char *name, const char *help, const char *labels,
                              const double *buckets, unsigned bucket_count);

void metrics_add(ald_metric *m, double delta);
void metrics_set(ald_metric *m, double value);
void metrics_observe(ald_metric *m, double value);
double metrics_value(const ald_metric *m); /* counters and gauges; tests */

/* A collector refreshes gauges just before each render (memory, CPU, ...). */
typedef void (*metrics_collector_fn)(void *ctx);
void metrics_add_collector(metrics_collector_fn fn, void *ctx);

/* Render every family in Prometheus text exposition format 0.0.4.
 * Returns a malloc'd NUL-terminated string (caller frees), NULL on OOM. */
char *metrics_render(size_t *len_out);

/* Forget every series and collector (tests, shutdown). */
void metrics_reset(void);

#endif
