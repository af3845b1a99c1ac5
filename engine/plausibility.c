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

/* A float reading of exactly 0 reads 0 in every byte order, so it says
 * nothing about the order: it is not counted among the floats (a tool at
 * rest has many zero setpoints, which would outvote the absurd ones). */
static void tally(plausibility_report *r, int implausible, ald_data_type type, double value)
{
    r->checked++;
    r->implausible += implausible != 0;
    if (is_float(type) && value != 0) {
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
        double value = values[p->value_tag].value;
        tally(out, plausibility_is_implausible(value, p->min_value, p->max_value, type), type,
              value);
    }
    conclude(out);
}

/* The f32 value's bits with one of the swaps applied, read back as f32. */
static double swapped_f32(double value, plausibility_swap swap)
{
    float f = (float)value;
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    if (swap == PLAUSIBILITY_SWAP_WORDS || swap == PLAUSIBILITY_SWAP_BOTH)
        b = b << 16 | b >> 16;
    if (swap == PLAUSIBILITY_SWAP_BYTES || swap == PLAUSIBILITY_SWAP_BOTH)
        b = (b & 0x00ff00ffu) << 8 | (b & 0xff00ff00u) >> 8;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The hint's stricter "plausible": the rule, and not vanishingly small. */
static int looks_real(double v, const tag_param *p)
{
    if (plausibility_is_implausible(v, p->min_value, p->max_value, ALD_TYPE_F32))
        return 0;
    double span = p->max_value - p->min_value;
    return v == 0 || !(span > 0) || fabs(v) >= span * 1e-9;
}

void plausibility_order_hint(const tagmap *tags, const ald_tag_value *values, size_t count,
                             plausibility_hint *out)
{
    size_t nice[4] = {0};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < tags->param_count; i++) {
        const tag_param *p = &tags->params[i];
        if (p->value_tag >= count || values[p->value_tag].quality != ALD_OK ||
            tags->tags[p->value_tag].type != ALD_TYPE_F32 || values[p->value_tag].value == 0)
            continue;
        out->floats++;
        for (int s = PLAUSIBILITY_SWAP_NONE; s <= PLAUSIBILITY_SWAP_BOTH; s++)
            nice[s] += looks_real(swapped_f32(values[p->value_tag].value, s), p);
    }
    out->plausible_now = out->plausible_best = nice[PLAUSIBILITY_SWAP_NONE];
    for (int s = PLAUSIBILITY_SWAP_WORDS; s <= PLAUSIBILITY_SWAP_BOTH; s++)
        if (nice[s] > out->plausible_best) {
            out->plausible_best = nice[s];
            out->best = s;
        }
}

const char *plausibility_swap_text(plausibility_swap swap)
{
    switch (swap) {
    case PLAUSIBILITY_SWAP_WORDS:
        return "with the two 16-bit registers of each float the other way round "
               "(abcd <-> cdab, badc <-> dcba)";
    case PLAUSIBILITY_SWAP_BYTES:
        return "with the two bytes inside each register swapped (abcd <-> badc, "
               "cdab <-> dcba)";
    case PLAUSIBILITY_SWAP_BOTH:
        return "with all four bytes of each float reversed (abcd <-> dcba, badc <-> cdab)";
    default:
        return "as configured";
    }
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
        tally(&r, bad, type, v);
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
