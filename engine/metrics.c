/* metrics.c: placeholder until the registry lands (same session). */
#include "metrics.h"
ald_metric *metrics_register(const ald_metric_desc *desc) { (void)desc; return NULL; }
void metrics_add(ald_metric *m, double d) { (void)m; (void)d; }
void metrics_set(ald_metric *m, double d) { (void)m; (void)d; }
void metrics_observe(ald_metric *m, double d) { (void)m; (void)d; }
