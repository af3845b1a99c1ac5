/*
 * metrics.c - the process-wide metric registry (see metrics.h).
 *
 * Families form a singly linked list in registration order, each with its
 * series in registration order. Registration and rendering take reg_lock;
 * updates never do: a value is a double stored as its bit pattern in an
 * _Atomic uint64_t and changed with a compare-and-swap loop, and a histogram
 * keeps one atomic count per bucket (not cumulative, so an observation is a
 * single fetch_add) plus an atomic sum. Nodes are only freed by
 * metrics_reset(), so a pointer handed out stays valid for updates.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_LABELS 16
#define MAX_COLLECTORS 32

typedef struct metric_family metric_family;

struct ald_metric {
    metric_family *family;
    ald_metric *next;
    char *labels;           /* canonical pairs without braces; "" = none */
    _Atomic uint64_t value; /* counters and gauges: bits of a double */
    double *bounds;         /* histograms: ascending upper bounds */
    unsigned bound_count;
    _Atomic uint64_t *counts; /* bound_count + 1 slots, the last is +Inf */
    _Atomic uint64_t sum;     /* bits of a double */
};

struct metric_family {
    char *name;
    char *help;
    ald_metric_type type;
    ald_metric *first, *last;
    metric_family *next;
};

typedef struct collector {
    metrics_collector_fn fn;
    void *ctx;
} collector;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static metric_family *families_first, *families_last;

/* Held while collectors run, so two scrapes never run them concurrently. */
static pthread_mutex_t collect_lock = PTHREAD_MUTEX_INITIALIZER;
static collector collectors[MAX_COLLECTORS];
static unsigned collector_count;

/* ---- doubles in atomics ----------------------------------------------- */

static uint64_t double_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double bits_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static void atomic_double_add(_Atomic uint64_t *slot, double delta)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(slot, &old,
                                                  double_bits(bits_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- a growable text buffer for rendering --------------------------------- */

typedef struct strbuf {
    char *data;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_append(strbuf *sb, const char *text, size_t n)
{
    if (sb->oom)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 4096;
        while (sb->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(sb->data, cap);
        if (!grown) {
            sb->oom = 1;
            return;
        }
        sb->data = grown;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, text, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static void sb_puts(strbuf *sb, const char *text)
{
    sb_append(sb, text, strlen(text));
}

/* Prometheus float syntax, shortest text that reads back as the same value. */
static void format_double(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(buf, len, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void sb_double(strbuf *sb, double v)
{
    char buf[40];
    format_double(buf, sizeof buf, v);
    sb_puts(sb, buf);
}

static void sb_u64(strbuf *sb, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    sb_puts(sb, buf);
}

/* ---- validation ------------------------------------------------------------ */

static int is_name_start(char c, int allow_colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (allow_colon && c == ':');
}

static int is_name_char(char c, int allow_colon)
{
    return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

static int valid_metric_name(const char *name)
{
    if (!name || !is_name_start(name[0], 1))
        return 0;
    for (const char *p = name + 1; *p; p++)
        if (!is_name_char(*p, 1))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

size_t metrics_escape_label_value(char *out, size_t outlen, const char *raw)
{
    size_t need = 0, written = 0;
    int cut = 0; /* once something does not fit, stop: never half an escape */
    for (const char *p = raw ? raw : ""; *p; p++) {
        char esc[3] = {*p, 0, 0};
        if (*p == '\\' || *p == '"' || *p == '\n') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : *p;
        }
        size_t n = esc[1] ? 2 : 1;
        need += n;
        if (!cut && written + n < outlen) {
            memcpy(out + written, esc, n);
            written += n;
        } else {
            cut = 1;
        }
    }
    if (outlen)
        out[written] = '\0';
    return need;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parse `a="x", b="y"` into its canonical form `a="x",b="y"` (escapes kept,
 * spaces dropped) in *canonical (malloc'd). Returns NULL on success or a
 * static reason. */
static const char *parse_labels(const char *text, int is_histogram, char **canonical)
{
    size_t cap = 2 * strlen(text) + 4; /* room even for malformed input */
    char *out = malloc(cap), *o = out;
    const char *names[MAX_LABELS];
    size_t name_lens[MAX_LABELS];
    unsigned count = 0;
    const char *why = NULL;
    if (!out)
        return "out of memory";
    const char *p = skip_spaces(text);
    while (*p && !why) {
        if (count == MAX_LABELS) {
            why = "more than 16 labels";
            break;
        }
        const char *name = p;
        if (!is_name_start(*p, 0)) {
            why = "a label name must match [a-zA-Z_][a-zA-Z0-9_]*";
            break;
        }
        while (is_name_char(*p, 0))
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len >= 2 && name[0] == '_' && name[1] == '_')
            why = "label names starting with __ are reserved";
        else if (is_histogram && name_len == 2 && strncmp(name, "le", 2) == 0)
            why = "a histogram cannot have its own \"le\" label";
        for (unsigned i = 0; i < count && !why; i++)
            if (name_lens[i] == name_len && strncmp(names[i], name, name_len) == 0)
                why = "a label name appears twice";
        if (why)
            break;
        names[count] = name;
        name_lens[count++] = name_len;
        if (o != out)
            *o++ = ',';
        memcpy(o, name, name_len);
        o += name_len;
        p = skip_spaces(p);
        if (*p++ != '=') {
            why = "expected = after a label name";
            break;
        }
        p = skip_spaces(p);
        if (*p++ != '"') {
            why = "a label value must be in double quotes";
            break;
        }
        *o++ = '=';
        *o++ = '"';
        while (*p && *p != '"' && !why) {
            if (*p == '\n')
                why = "a raw newline in a label value (write \\n)";
            else if (*p == '\\' && p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                why = "unknown escape in a label value (only \\\\, \\\" and \\n)";
            else if (*p == '\\')
                *o++ = *p++;
            *o++ = *p++;
        }
        if (!why && *p++ != '"')
            why = "unterminated label value";
        *o++ = '"';
        if (why)
            break;
        p = skip_spaces(p);
        if (*p == ',')
            p = skip_spaces(p + 1);
        else if (*p)
            why = "expected , between label pairs";
    }
    *o = '\0';
    if (why)
        free(out);
    else
        *canonical = out;
    return why;
}

static const char *check_buckets(const ald_metric_desc *d)
{
    if (!d->buckets || d->bucket_count == 0)
        return "a histogram needs at least one bucket";
    for (uint32_t i = 0; i < d->bucket_count; i++) {
        if (!isfinite(d->buckets[i]))
            return "bucket bounds must be finite (+Inf is implicit)";
        if (i > 0 && !(d->buckets[i] > d->buckets[i - 1]))
            return "bucket bounds must be strictly ascending";
    }
    return NULL;
}

static const char *check_desc(const ald_metric_desc *d)
{
    if (!valid_metric_name(d->name))
        return "the name must match [a-zA-Z_:][a-zA-Z0-9_:]*";
    if (d->type != ALD_METRIC_COUNTER && d->type != ALD_METRIC_GAUGE &&
        d->type != ALD_METRIC_HISTOGRAM)
        return "unknown metric type";
    if (d->type == ALD_METRIC_COUNTER && !ends_with(d->name, "_total"))
        return "a counter's name must end in _total";
    if (d->type == ALD_METRIC_HISTOGRAM)
        return check_buckets(d);
    return NULL;
}

/* ---- registration ---------------------------------------------------------- */

static const char *type_name(ald_metric_type type)
{
    switch (type) {
    case ALD_METRIC_COUNTER:
        return "counter";
    case ALD_METRIC_GAUGE:
        return "gauge";
    case ALD_METRIC_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

static metric_family *find_family(const char *name)
{
    for (metric_family *f = families_first; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static ald_metric *find_series(metric_family *f, const char *labels)
{
    for (ald_metric *m = f->first; m; m = m->next)
        if (strcmp(m->labels, labels) == 0)
            return m;
    return NULL;
}

static void free_series(ald_metric *m)
{
    free(m->labels);
    free(m->bounds);
    free((void *)m->counts);
    free(m);
}

static void free_family(metric_family *f)
{
    for (ald_metric *m = f->first, *next; m; m = next) {
        next = m->next;
        free_series(m);
    }
    free(f->name);
    free(f->help);
    free(f);
}

static metric_family *new_family(const ald_metric_desc *d)
{
    metric_family *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->name = strdup(d->name);
    f->help = strdup(d->help ? d->help : "");
    f->type = d->type;
    if (!f->name || !f->help) {
        free_family(f);
        return NULL;
    }
    return f;
}

/* Takes ownership of labels. */
static ald_metric *new_series(const ald_metric_desc *d, char *labels)
{
    ald_metric *m = calloc(1, sizeof *m);
    if (!m) {
        free(labels);
        return NULL;
    }
    m->labels = labels;
    if (d->type == ALD_METRIC_HISTOGRAM) {
        m->bound_count = d->bucket_count;
        m->bounds = malloc(sizeof *m->bounds * d->bucket_count);
        m->counts = calloc(d->bucket_count + 1u, sizeof *m->counts);
        if (!m->bounds || !m->counts) {
            free_series(m);
            return NULL;
        }
        memcpy(m->bounds, d->buckets, sizeof *m->bounds * d->bucket_count);
    }
    return m;
}

/* Under reg_lock: find or add the series; *why says what went wrong. */
static ald_metric *register_locked(const ald_metric_desc *d, char *labels, const char **why)
{
    metric_family *f = find_family(d->name);
    if (f && f->type != d->type) {
        free(labels);
        *why = f->type == ALD_METRIC_COUNTER ? "already registered as a counter"
               : f->type == ALD_METRIC_GAUGE ? "already registered as a gauge"
                                             : "already registered as a histogram";
        return NULL;
    }
    ald_metric *m = f ? find_series(f, labels) : NULL;
    if (m) {
        free(labels);
        return m;
    }
    int fresh_family = !f;
    if (fresh_family && !(f = new_family(d))) {
        free(labels);
        *why = "out of memory";
        return NULL;
    }
    if (!(m = new_series(d, labels))) {
        if (fresh_family)
            free_family(f);
        *why = "out of memory";
        return NULL;
    }
    m->family = f;
    if (f->last)
        f->last->next = m;
    else
        f->first = m;
    f->last = m;
    if (fresh_family) {
        if (families_last)
            families_last->next = f;
        else
            families_first = f;
        families_last = f;
    }
    return m;
}

ald_metric *metrics_register(const ald_metric_desc *desc)
{
    if (!desc || desc->struct_size < offsetof(ald_metric_desc, labels)) {
        log_error("metrics", "metric registration without a valid ald_metric_desc "
                             "(NULL or struct_size too small); set struct_size = sizeof");
        return NULL;
    }
    /* An older, shorter descriptor reads its missing tail as zero. */
    ald_metric_desc d = {0};
    memcpy(&d, desc, desc->struct_size < sizeof d ? desc->struct_size : sizeof d);

    const char *why = check_desc(&d);
    char *labels = NULL;
    if (!why)
        why = parse_labels(d.labels ? d.labels : "", d.type == ALD_METRIC_HISTOGRAM, &labels);
    ald_metric *m = NULL;
    if (!why) {
        pthread_mutex_lock(&reg_lock);
        m = register_locked(&d, labels, &why);
        pthread_mutex_unlock(&reg_lock);
    }
    if (!m) {
        const char *labels_text = d.labels ? d.labels : "";
        int shown = (int)strcspn(labels_text, "\n"); /* one log line */
        log_error("metrics", "%s metric \"%s\"%s%.*s%s refused: %s", type_name(d.type),
                  d.name ? d.name : "(null)", shown ? "{" : "", shown, labels_text,
                  shown ? "}" : "", why);
    }
    return m;
}

static ald_metric *register_simple(const char *name, const char *help, const char *labels,
                                   ald_metric_type type, const double *buckets,
                                   unsigned bucket_count)
{
    ald_metric_desc d = {
        .struct_size = sizeof d,
        .name = name,
        .help = help,
        .type = type,
        .labels = labels,
        .buckets = buckets,
        .bucket_count = bucket_count,
    };
    return metrics_register(&d);
}

ald_metric *metrics_counter(const char *name, const char *help, const char *labels)
{
    return register_simple(name, help, labels, ALD_METRIC_COUNTER, NULL, 0);
}

ald_metric *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return register_simple(name, help, labels, ALD_METRIC_GAUGE, NULL, 0);
}

ald_metric *metrics_histogram(const char *name, const char *help, const char *labels,
                              const double *buckets, unsigned bucket_count)
{
    return register_simple(name, help, labels, ALD_METRIC_HISTOGRAM, buckets, bucket_count);
}

/* ---- updates (lock-free) -------------------------------------------------- */

void metrics_add(ald_metric *m, double delta)
{
    if (!m || m->family->type == ALD_METRIC_HISTOGRAM)
        return;
    if (m->family->type == ALD_METRIC_COUNTER && !(delta >= 0))
        return; /* counters only go up (this also drops NaN) */
    atomic_double_add(&m->value, delta);
}

void metrics_set(ald_metric *m, double value)
{
    if (!m || m->family->type == ALD_METRIC_HISTOGRAM)
        return;
    atomic_store_explicit(&m->value, double_bits(value), memory_order_relaxed);
}

void metrics_observe(ald_metric *m, double value)
{
    if (!m || m->family->type != ALD_METRIC_HISTOGRAM)
        return;
    unsigned i = 0;
    while (i < m->bound_count && !(value <= m->bounds[i]))
        i++;
    atomic_fetch_add_explicit(&m->counts[i], 1, memory_order_relaxed);
    atomic_double_add(&m->sum, value);
}

static uint64_t histogram_count(const ald_metric *m)
{
    uint64_t total = 0;
    for (unsigned i = 0; i <= m->bound_count; i++)
        total += atomic_load_explicit(&m->counts[i], memory_order_relaxed);
    return total;
}

double metrics_value(const ald_metric *m)
{
    if (!m)
        return 0;
    if (m->family->type == ALD_METRIC_HISTOGRAM)
        return (double)histogram_count(m);
    return bits_double(atomic_load_explicit(&m->value, memory_order_relaxed));
}

/* ---- collectors -------------------------------------------------------------- */

void metrics_add_collector(metrics_collector_fn fn, void *ctx)
{
    if (!fn)
        return;
    pthread_mutex_lock(&collect_lock);
    int known = 0;
    for (unsigned i = 0; i < collector_count; i++)
        known |= collectors[i].fn == fn && collectors[i].ctx == ctx;
    if (!known && collector_count < MAX_COLLECTORS)
        collectors[collector_count++] = (collector){fn, ctx};
    else if (!known)
        log_error("metrics", "more than %d metric collectors; raise MAX_COLLECTORS in %s",
                  MAX_COLLECTORS, __FILE__);
    pthread_mutex_unlock(&collect_lock);
}

static void run_collectors(void)
{
    pthread_mutex_lock(&collect_lock);
    for (unsigned i = 0; i < collector_count; i++)
        collectors[i].fn(collectors[i].ctx);
    pthread_mutex_unlock(&collect_lock);
}

/* ---- rendering ------------------------------------------------------------- */

static void render_help(strbuf *sb, const metric_family *f)
{
    sb_puts(sb, "# HELP ");
    sb_puts(sb, f->name);
    sb_puts(sb, " ");
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\')
            sb_puts(sb, "\\\\");
        else if (*p == '\n')
            sb_puts(sb, "\\n");
        else
            sb_append(sb, p, 1);
    }
    sb_puts(sb, "\n# TYPE ");
    sb_puts(sb, f->name);
    sb_puts(sb, " ");
    sb_puts(sb, type_name(f->type));
    sb_puts(sb, "\n");
}

/* name+suffix{labels[,extra]} */
static void render_series_name(strbuf *sb, const char *name, const char *suffix,
                               const char *labels, const char *extra)
{
    sb_puts(sb, name);
    sb_puts(sb, suffix);
    if (!*labels && !extra)
        return;
    sb_puts(sb, "{");
    sb_puts(sb, labels);
    if (extra) {
        if (*labels)
            sb_puts(sb, ",");
        sb_puts(sb, extra);
    }
    sb_puts(sb, "}");
}

static void render_histogram(strbuf *sb, const metric_family *f, const ald_metric *m)
{
    /* Read each bucket once, so _count equals the +Inf bucket. */
    uint64_t cumulative = 0;
    char le[64], bound[40];
    for (unsigned i = 0; i <= m->bound_count; i++) {
        cumulative += atomic_load_explicit(&m->counts[i], memory_order_relaxed);
        if (i < m->bound_count)
            format_double(bound, sizeof bound, m->bounds[i]);
        snprintf(le, sizeof le, "le=\"%s\"", i < m->bound_count ? bound : "+Inf");
        render_series_name(sb, f->name, "_bucket", m->labels, le);
        sb_puts(sb, " ");
        sb_u64(sb, cumulative);
        sb_puts(sb, "\n");
    }
    render_series_name(sb, f->name, "_sum", m->labels, NULL);
    sb_puts(sb, " ");
    sb_double(sb, bits_double(atomic_load_explicit(&m->sum, memory_order_relaxed)));
    sb_puts(sb, "\n");
    render_series_name(sb, f->name, "_count", m->labels, NULL);
    sb_puts(sb, " ");
    sb_u64(sb, cumulative);
    sb_puts(sb, "\n");
}

static void render_family(strbuf *sb, const metric_family *f)
{
    render_help(sb, f);
    for (const ald_metric *m = f->first; m; m = m->next) {
        if (f->type == ALD_METRIC_HISTOGRAM) {
            render_histogram(sb, f, m);
            continue;
        }
        render_series_name(sb, f->name, "", m->labels, NULL);
        sb_puts(sb, " ");
        sb_double(sb, metrics_value(m));
        sb_puts(sb, "\n");
    }
}

char *metrics_render(size_t *len_out)
{
    run_collectors();
    strbuf sb = {0};
    sb_append(&sb, "", 0); /* an empty registry renders as "" */
    pthread_mutex_lock(&reg_lock);
    for (const metric_family *f = families_first; f; f = f->next)
        render_family(&sb, f);
    pthread_mutex_unlock(&reg_lock);
    if (sb.oom) {
        free(sb.data);
        return NULL;
    }
    if (len_out)
        *len_out = sb.len;
    return sb.data;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&collect_lock);
    collector_count = 0;
    pthread_mutex_unlock(&collect_lock);
    pthread_mutex_lock(&reg_lock);
    for (metric_family *f = families_first, *next; f; f = next) {
        next = f->next;
        free_family(f);
    }
    families_first = families_last = NULL;
    pthread_mutex_unlock(&reg_lock);
}
