/*
 * metrics.h - the process-wide metric registry and its Prometheus rendering.
 *
 * Series are registered once (engine start, plugin create) and then updated
 * lock-free from any thread (atomics). Rendering takes the registry lock only
 * to walk the list. A registered series is never freed before metrics_reset().
 * The same name with different labels forms one metric family (one HELP/TYPE).
 *
 * Labels are given as Prometheus label pairs, `name="value",other="x"`, with
 * `\\`, `\"` and `\n` escapes inside values (metrics_escape_label_value()
 * builds a value from raw text). Spaces around `,` and `=` are ignored, so
 * `a="1", b="2"` and `a="1",b="2"` name the same series.
 *
 * THREADING: every function is thread-safe except metrics_reset(), which must
 * not run while other threads update or render (tests, final shutdown).
 */
#ifndef ALD_ENGINE_METRICS_H
#define ALD_ENGINE_METRICS_H

#include <stddef.h>

#include "ald/host.h"

/* Register (or find) a series. NULL, with the reason logged, when the name
 * is not a valid Prometheus name, a counter's name does not end in _total,
 * the labels are malformed (or a histogram uses "le"), the type disagrees
 * with an earlier series of the same family, or a histogram has no/unsorted
 * buckets. The same name+labels again returns the first series (its HELP
 * and buckets win). */
ald_metric *metrics_register(const ald_metric_desc *desc);

/* Shorthands for the engine's own series. */
ald_metric *metrics_counter(const char *name, const char *help, const char *labels);
ald_metric *metrics_gauge(const char *name, const char *help, const char *labels);
ald_metric *metrics_histogram(const char *name, const char *help, const char *labels,
                              const double *buckets, unsigned bucket_count);

/* Updates; a NULL series or the wrong type is a harmless no-op.
 * add: counters and gauges (a negative delta on a counter is ignored).
 * set: gauges, and counters that mirror a count kept elsewhere (g_state).
 * observe: histograms. */
void metrics_add(ald_metric *m, double delta);
void metrics_set(ald_metric *m, double value);
void metrics_observe(ald_metric *m, double value);
/* Counters and gauges: the value; histograms: the number of observations.
 * 0 for NULL. For tests and the health report. */
double metrics_value(const ald_metric *m);

/* A collector refreshes gauges just before each render (memory, CPU, ...).
 * Collectors run in registration order, outside the registry lock (they may
 * register and set series), one render at a time. Adding the same fn+ctx
 * twice keeps one. A collector must not call metrics_add_collector(). */
typedef void (*metrics_collector_fn)(void *ctx);
void metrics_add_collector(metrics_collector_fn fn, void *ctx);

/* Render every family in Prometheus text exposition format 0.0.4.
 * Returns a malloc'd NUL-terminated string (caller frees), NULL on OOM. */
char *metrics_render(size_t *len_out);

/* Escape raw text for use inside a label value's quotes (\ " and newline).
 * Writes at most outlen bytes including the NUL; returns the length the
 * escaped text needs (like snprintf), so >= outlen means it was cut. */
size_t metrics_escape_label_value(char *out, size_t outlen, const char *raw);

/* Forget every series and collector (tests, shutdown). Pointers returned
 * earlier become invalid. */
void metrics_reset(void);

#endif
