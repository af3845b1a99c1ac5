/* plausibility.c - counting and logging implausible readings (see plausibility.h). */
#include "plausibility.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

static ald_metric *m_total, *m_params;

/* Per-parameter state, touched by the writer thread only. */
typedef struct param_state {
    int64_t last_logged_ms; /* 0 = never */
    uint64_t since_logged;  /* implausible readings since the last log line */
} param_state;

static param_state *states;
static size_t state_count;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static plausibility_report latest; /* under report_lock */
static int64_t last_batch_ms = -1;  /* a retried batch is observed once */

static int is_float(ald_data_type type)
{
    return type == ALD_TYPE_F32 || type == ALD_TYPE_F64;
}

int plausibility_is_implausible(double value, double min, double max, ald_data_type type)
{
    if (!isfinite(value))
        return 1;
    if (is_float(type) && value != 0 && fabs(value) < FLT_MIN)
        return 1; /* subnormal as a float: a swapped word order, not a sensor */
    if (isnan(min) || isnan(max) || max < min)
        return 0; /* without both limits "far outside" has no scale */
    double span = max - min > 0 ? max - min : fabs(max) + 1;
    return value < min - span || value > max + span;
}

static void tally(plausibility_report *r, int implausible, ald_data_type type)
{
    r->checked++;
    r->implausible += implausible != 0;
    if (is_float(type)) {
        r->float_tags++;
        r->float_implausible += implausible != 0;
    }
}

static void conclude(plausibility_report *r)
{
    r->byte_order_suspect = r->float_tags >= 2 && r->float_implausible * 2 > r->float_tags;
}

void plausibility_scan(const tagmap *tags, const ald_tag_value *values, size_t count,
                       plausibility_report *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < tags->param_count; i++) {
        const tag_param *p = &tags->params[i];
        if (p->value_tag >= count || values[p->value_tag].quality != ALD_OK)
            continue;
        ald_data_type type = tags->tags[p->value_tag].type;
        tally(out, plausibility_is_implausible(values[p->value_tag].value, p->min_value,
                                               p->max_value, type),
              type);
    }
    conclude(out);
}

int plausibility_start(const tagmap *tags)
{
    m_total = metrics_counter("ald_implausible_readings_total",
                              "Readings far outside their parameter's min..max (or not "
                              "finite); a wrong byte order shows here",
                              NULL);
    m_params = metrics_gauge("ald_implausible_parameters",
                             "Parameters whose latest reading was implausible", NULL);
    free(states);
    last_batch_ms = -1;
    state_count = tags->param_count;
    states = calloc(state_count ? state_count : 1, sizeof *states);
    pthread_mutex_lock(&report_lock);
    memset(&latest, 0, sizeof latest);
    pthread_mutex_unlock(&report_lock);
    return states ? 0 : -1;
}

/* Once per parameter per hour, with how many were seen since the last line. */
static void report_param(const tag_param *p, param_state *s, double value, int64_t now_ms)
{
    s->since_logged++;
    if (s->last_logged_ms && now_ms - s->last_logged_ms < PLAUSIBILITY_LOG_INTERVAL_MS)
        return;
    log_warning("plausibility",
                "%s %s read %g, far outside its range %g..%g (%llu implausible reading(s) "
                "since the last report; a wrong byte order or address looks like this)",
                p->component_name ? p->component_name : "?", p->name ? p->name : p->id,
                value, p->min_value, p->max_value, (unsigned long long)s->since_logged);
    s->last_logged_ms = now_ms;
    s->since_logged = 0;
}

void plausibility_observe(const tagmap *tags, const ald_sample *samples, size_t count,
                          int64_t now_ms)
{
    if (now_ms == last_batch_ms)
        return;
    last_batch_ms = now_ms;
    plausibility_report r = {0};
    size_t j = 0;
    for (size_t i = 0; i < tags->param_count && j < count; i++) {
        const tag_param *p = &tags->params[i];
        if (samples[j].parameter_id != p->id)
            continue; /* no reading this cycle (writer_build keeps parameter order) */
        double v = samples[j++].value;
        ald_data_type type = tags->tags[p->value_tag].type;
        int bad = plausibility_is_implausible(v, p->min_value, p->max_value, type);
        tally(&r, bad, type);
        if (bad && states && i < state_count)
            report_param(p, &states[i], v, now_ms);
    }
    conclude(&r);
    metrics_add(m_total, (double)r.implausible);
    metrics_set(m_params, (double)r.implausible);
    pthread_mutex_lock(&report_lock);
    r.total = latest.total + r.implausible;
    latest = r;
    pthread_mutex_unlock(&report_lock);
}

void plausibility_stop(void)
{
    free(states);
    states = NULL;
    state_count = 0;
}

void plausibility_summary(plausibility_report *out)
{
    pthread_mutex_lock(&report_lock);
    *out = latest;
    pthread_mutex_unlock(&report_lock);
}
