/*
 * plc_sim.c - the `plc-sim` PLC plugin: the demo tool of docs/demo-tool.md
 * simulated in-process (sim_model.c) behind the ald_plc_vtable of ald/plc.h.
 *
 * Tags use the Modbus address syntax ("coil:N", "di:N", "hr:N", "ir:N") and
 * must name a channel of the demo map. Values are the model's engineering
 * values, taken as the tag's raw value (engineering = raw * scale + offset).
 *
 * Settings (all optional):
 *   seed               int     PRNG seed; absent = from the clock (logged)
 *   disconnect_file    string  while this file exists the PLC is "unplugged":
 *                              every op fails with ALD_ERR_DISCONNECTED
 *   valve_log_capacity int     valve transitions kept (default 65536)
 *
 * THREADING: every op may run concurrently (ALD_CAP_PLC_THREAD_SAFE). The tag
 * set is behind a read-write lock that only set_tags() takes for writing, the
 * model has its own mutex, and no call does I/O beyond one access() of the
 * disconnect file, so write_tag() never waits for a bulk read.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ald/abi.h"
#include "ald/host.h"
#include "ald/plc.h"
#include "ald/settings.h"
#include "modbus_codec.h"
#include "sim_model.h"
#include "thread_error.h"

#define DEFAULT_VALVE_LOG_CAPACITY 65536
#define MAX_VALVE_LOG_CAPACITY (16 * 1024 * 1024)
#define ERR_LEN 512

typedef struct sim_tag {
    char *name;
    int readable, writable;
    modbus_address read, write;
    ald_data_type type;
    double scale, offset;
} sim_tag;

typedef struct plc_sim {
    const ald_host *host;
    sim_model *model;
    char *disconnect_file; /* NULL when not configured */

    pthread_rwlock_t tags_lock;
    sim_tag *tags;
    size_t tag_count;

    pthread_mutex_t err_lock;
    char err[ERR_LEN];

    atomic_int started;
    atomic_int unplugged; /* last seen state of the disconnect file, for logging */
    ald_metric *transitions_metric;
    ald_metric *writes_metric;
} plc_sim;

/* ---- errors ---------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static ald_status
fail(plc_sim *s, ald_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&s->err_lock);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    thread_error_set(s, s->err);
    pthread_mutex_unlock(&s->err_lock);
    va_end(ap);
    return status;
}

static const char *sim_last_error(void *instance)
{
    /* This thread's own call's text first (thread_error.h); else a per-thread
     * copy of the shared text, so a concurrent op cannot rewrite it mid-read. */
    static _Thread_local char copy[ERR_LEN];
    plc_sim *s = instance;
    const char *mine = thread_error_get(s);
    if (mine)
        return mine;
    pthread_mutex_lock(&s->err_lock);
    memcpy(copy, s->err, sizeof copy);
    pthread_mutex_unlock(&s->err_lock);
    return copy;
}

/* ---- settings and lifecycle ----------------------------------------------- */

typedef struct sim_settings {
    uint64_t seed;
    int seed_given;
    const char *disconnect_file;
    int64_t valve_log_capacity;
} sim_settings;

static ald_status read_settings(const ald_host *host, const ald_config *cfg,
                                sim_settings *out, char *err, size_t errlen)
{
    const ald_settings set = {host, cfg, err, errlen};
    int64_t seed = 0;
    ald_status st = host->config_int(cfg, "seed", &seed);
    if (st == ALD_ERR_INVALID)
        return ald_setting_fail(&set, "seed",
                                "must be an integer (e.g. seed = 42), or remove it for a "
                                "clock-based seed");
    out->seed_given = st == ALD_OK;
    out->seed = (uint64_t)seed;

    out->disconnect_file = NULL;
    st = host->config_string(cfg, "disconnect_file", &out->disconnect_file);
    if (st == ALD_ERR_INVALID || (st == ALD_OK && out->disconnect_file[0] == '\0'))
        return ald_setting_fail(&set, "disconnect_file",
                                "must be a non-empty path string, or remove it");

    out->valve_log_capacity = DEFAULT_VALVE_LOG_CAPACITY;
    st = host->config_int(cfg, "valve_log_capacity", &out->valve_log_capacity);
    if (st == ALD_ERR_INVALID || out->valve_log_capacity < 1 ||
        out->valve_log_capacity > MAX_VALVE_LOG_CAPACITY)
        return ald_setting_fail(&set, "valve_log_capacity",
                                "must be an integer from 1 to %d (default %d)",
                                MAX_VALVE_LOG_CAPACITY, DEFAULT_VALVE_LOG_CAPACITY);
    return ALD_OK;
}

static void register_metrics(plc_sim *s)
{
    const ald_metric_desc transitions = {
        .struct_size = sizeof(ald_metric_desc),
        .name = "ald_sim_valve_transitions_total",
        .help = "Valve coil transitions applied by the simulated tool.",
        .type = ALD_METRIC_COUNTER,
    };
    const ald_metric_desc writes = {
        .struct_size = sizeof(ald_metric_desc),
        .name = "ald_sim_writes_total",
        .help = "Tag writes applied by the simulated tool.",
        .type = ALD_METRIC_COUNTER,
    };
    if (!s->host->metric_register)
        return;
    s->transitions_metric = s->host->metric_register(s->host, &transitions);
    s->writes_metric = s->host->metric_register(s->host, &writes);
}

static void count(plc_sim *s, ald_metric *m)
{
    if (m && s->host->metric_add)
        s->host->metric_add(m, 1.0);
}

static void sim_destroy(void *instance);

static ald_status sim_create(const ald_host *host, const ald_config *cfg, void **instance,
                             char *err, size_t errlen)
{
    sim_settings set;
    ald_status st = read_settings(host, cfg, &set, err, errlen);
    if (st != ALD_OK)
        return st;

    plc_sim *s = calloc(1, sizeof *s);
    if (!s)
        goto nomem;
    s->host = host;
    pthread_rwlock_init(&s->tags_lock, NULL);
    pthread_mutex_init(&s->err_lock, NULL);
    uint64_t now = host->monotonic_ns();
    uint64_t seed = set.seed_given ? set.seed : now ^ (uint64_t)host->realtime_ns();
    sim_options opts = {seed, 1.0, (size_t)set.valve_log_capacity};
    s->model = sim_model_new(&opts, now);
    if (set.disconnect_file)
        s->disconnect_file = strdup(set.disconnect_file);
    if (!s->model || (set.disconnect_file && !s->disconnect_file)) {
        sim_destroy(s);
        goto nomem;
    }
    register_metrics(s);
    host->log(host, ALD_LOG_INFO,
              "simulated demo tool ready (seed %llu%s, valve log %lld, disconnect file %s)",
              (unsigned long long)seed, set.seed_given ? "" : " from the clock",
              (long long)set.valve_log_capacity,
              s->disconnect_file ? s->disconnect_file : "none");
    *instance = s;
    return ALD_OK;

nomem:
    snprintf(err, errlen, "plc-sim: out of memory creating the simulated tool");
    return ALD_ERR_NOMEM;
}

static void free_tags(sim_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tags[i].name);
    free(tags);
}

static void sim_destroy(void *instance)
{
    plc_sim *s = instance;
    if (!s)
        return;
    free_tags(s->tags, s->tag_count);
    sim_model_free(s->model);
    free(s->disconnect_file);
    pthread_rwlock_destroy(&s->tags_lock);
    pthread_mutex_destroy(&s->err_lock);
    free(s);
}

/* ---- connection state -------------------------------------------------- */

static int file_unplugged(plc_sim *s)
{
    return s->disconnect_file && access(s->disconnect_file, F_OK) == 0;
}

/* ALD_OK when ops may run; logs each change of the disconnect file's state. */
static ald_status check_connected(plc_sim *s)
{
    if (!atomic_load(&s->started))
        return fail(s, ALD_ERR_DISCONNECTED, "simulated PLC is not started (call start())");
    int unplugged = file_unplugged(s);
    if (atomic_exchange(&s->unplugged, unplugged) != unplugged)
        s->host->log(s->host, unplugged ? ALD_LOG_WARNING : ALD_LOG_INFO,
                     unplugged ? "simulated PLC disconnected: %s exists"
                               : "simulated PLC reconnected: %s removed",
                     s->disconnect_file);
    if (unplugged)
        return fail(s, ALD_ERR_DISCONNECTED,
                    "simulated PLC disconnected: disconnect file %s exists (remove it to "
                    "reconnect)",
                    s->disconnect_file);
    return ALD_OK;
}

static ald_status sim_start(void *instance)
{
    plc_sim *s = instance;
    atomic_store(&s->started, 1);
    return check_connected(s);
}

static void sim_stop(void *instance)
{
    plc_sim *s = instance;
    atomic_store(&s->started, 0);
}

static int sim_is_connected(void *instance)
{
    plc_sim *s = instance;
    return atomic_load(&s->started) && !file_unplugged(s);
}

/* ---- tags ---------------------------------------------------------------- */

/* Parse one address of a tag into *out; sets the error naming tag and address. */
static ald_status parse_tag_address(plc_sim *s, const char *tag, const char *role,
                                    const char *text, modbus_address *out)
{
    if (codec_parse_address(text, out) != 0)
        return fail(s, ALD_ERR_INVALID,
                    "tag %s: %s address \"%s\" is not coil:N, di:N, hr:N or ir:N", tag, role,
                    text);
    if (!sim_model_channel(out->area, out->addr))
        return fail(s, ALD_ERR_INVALID,
                    "tag %s: %s address %s is not in the demo tool map (see "
                    "docs/demo-tool.md)",
                    tag, role, text);
    return ALD_OK;
}

static int area_is_bit(modbus_area area)
{
    return area == AREA_COIL || area == AREA_DISCRETE_INPUT;
}

/* Coils and discrete inputs carry bools; registers carry any type. */
static ald_status check_tag_type(plc_sim *s, const char *tag, ald_data_type type,
                                 const sim_tag *parsed)
{
    if ((unsigned)type > ALD_TYPE_F64)
        return fail(s, ALD_ERR_INVALID, "tag %s: unknown data type %d", tag, (int)type);
    int bit_address = (parsed->readable && area_is_bit(parsed->read.area)) ||
                      (parsed->writable && area_is_bit(parsed->write.area));
    if (bit_address && type != ALD_TYPE_BOOL)
        return fail(s, ALD_ERR_INVALID,
                    "tag %s: a coil or discrete input holds a bool, not data type %d; "
                    "declare the tag bool (binary)",
                    tag, (int)type);
    return ALD_OK;
}

static ald_status build_tag(plc_sim *s, size_t index, const ald_tag *given, sim_tag *out)
{
    ald_tag t = {0};
    if (!given)
        return fail(s, ALD_ERR_INVALID, "tag #%zu is NULL", index);
    memcpy(&t, given, given->struct_size < sizeof t ? given->struct_size : sizeof t);
    if (!t.name || !t.name[0])
        return fail(s, ALD_ERR_INVALID, "tag #%zu has no name", index);
    ald_status st = ALD_OK;
    if (t.read_address) {
        st = parse_tag_address(s, t.name, "read", t.read_address, &out->read);
        out->readable = 1;
    }
    if (st == ALD_OK && t.write_address) {
        st = parse_tag_address(s, t.name, "write", t.write_address, &out->write);
        out->writable = 1;
    }
    if (st == ALD_OK)
        st = check_tag_type(s, t.name, t.type, out);
    if (st != ALD_OK)
        return st;
    out->type = t.type;
    out->scale = t.scale == 0.0 ? 1.0 : t.scale;
    out->offset = t.offset;
    out->name = strdup(t.name);
    return out->name ? ALD_OK : fail(s, ALD_ERR_NOMEM, "tag %s: out of memory", t.name);
}

static ald_status sim_set_tags(void *instance, const ald_tag *const *tags, size_t n)
{
    plc_sim *s = instance;
    sim_tag *built = calloc(n ? n : 1, sizeof *built);
    if (!built)
        return fail(s, ALD_ERR_NOMEM, "out of memory for %zu tags", n);
    for (size_t i = 0; i < n; i++) {
        ald_status st = build_tag(s, i, tags[i], &built[i]);
        if (st != ALD_OK) {
            free_tags(built, i + 1); /* the old set stays in force */
            return st;
        }
    }
    pthread_rwlock_wrlock(&s->tags_lock);
    sim_tag *old = s->tags;
    size_t old_n = s->tag_count;
    s->tags = built;
    s->tag_count = n;
    pthread_rwlock_unlock(&s->tags_lock);
    free_tags(old, old_n);
    return ALD_OK;
}

/* ---- reads and writes ----------------------------------------------------- */

/* What the tag's data type can carry of a model value (as over Modbus). */
static double as_type(double v, ald_data_type type)
{
    switch (type) {
    case ALD_TYPE_BOOL:
        return v != 0.0;
    case ALD_TYPE_F32:
        return (double)(float)v;
    case ALD_TYPE_F64:
        return v;
    default:
        return round(v);
    }
}

static void read_one(plc_sim *s, const sim_tag *t, ald_tag_value *out)
{
    double raw = 0.0;
    if (!t->readable) {
        *out = (ald_tag_value){0.0, ALD_ERR_UNSUPPORTED};
        return;
    }
    /* Addresses were checked by set_tags, so the read cannot miss. */
    sim_model_read(s->model, t->read.area, t->read.addr, &raw);
    *out = (ald_tag_value){as_type(raw, t->type) * t->scale + t->offset, ALD_OK};
}

static void mark_all(ald_tag_value *out, size_t n, ald_status quality)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (ald_tag_value){0.0, quality};
}

static ald_status sim_read_all(void *instance, ald_tag_value *out, size_t n)
{
    plc_sim *s = instance;
    ald_status st = check_connected(s);
    if (st != ALD_OK) {
        mark_all(out, n, st);
        return st;
    }
    sim_model_advance(s->model, s->host->monotonic_ns());
    pthread_rwlock_rdlock(&s->tags_lock);
    if (n != s->tag_count) {
        size_t have = s->tag_count;
        pthread_rwlock_unlock(&s->tags_lock);
        mark_all(out, n, ALD_ERR_INVALID);
        return fail(s, ALD_ERR_INVALID, "read_all: %zu outputs for a set of %zu tags", n,
                    have);
    }
    for (size_t i = 0; i < n; i++)
        read_one(s, &s->tags[i], &out[i]);
    pthread_rwlock_unlock(&s->tags_lock);
    return ALD_OK;
}

static ald_status sim_read_tags(void *instance, const size_t *indexes, size_t n,
                                ald_tag_value *out)
{
    plc_sim *s = instance;
    ald_status st = check_connected(s);
    if (st != ALD_OK) {
        mark_all(out, n, st);
        return st;
    }
    sim_model_advance(s->model, s->host->monotonic_ns());
    pthread_rwlock_rdlock(&s->tags_lock);
    size_t have = s->tag_count;
    for (size_t i = 0; i < n && st == ALD_OK; i++) {
        if (indexes[i] >= have)
            st =
                fail(s, ALD_ERR_INVALID,
                     "read_tags: index %zu is outside the set of %zu tags", indexes[i], have);
        else
            read_one(s, &s->tags[indexes[i]], &out[i]);
    }
    pthread_rwlock_unlock(&s->tags_lock);
    return st;
}

static ald_status write_status(plc_sim *s, const sim_tag *t, sim_status result, double value)
{
    char addr[16];
    snprintf(addr, sizeof addr, "%s:%u", codec_area_prefix(t->write.area), t->write.addr);
    switch (result) {
    case SIM_TRANSITION:
        count(s, s->transitions_metric);
        /* fall through */
    case SIM_OK:
        count(s, s->writes_metric);
        return ALD_OK;
    case SIM_READ_ONLY:
    case SIM_BAD_VALUE:
        return fail(s, ALD_ERR_INVALID, "tag %s: cannot write %g to %s: %s", t->name, value,
                    addr, sim_status_text(result));
    default:
        return fail(s, ALD_ERR_INTERNAL, "tag %s: write to %s failed: %s", t->name, addr,
                    sim_status_text(result));
    }
}

static ald_status sim_write_tag(void *instance, size_t index, double value)
{
    plc_sim *s = instance;
    ald_status st = check_connected(s);
    if (st != ALD_OK)
        return st;
    pthread_rwlock_rdlock(&s->tags_lock);
    if (index >= s->tag_count) {
        st = fail(s, ALD_ERR_INVALID, "write_tag: index %zu is outside the set of %zu tags",
                  index, s->tag_count);
    } else if (!s->tags[index].writable) {
        st = fail(s, ALD_ERR_INVALID, "tag %s has no write address", s->tags[index].name);
    } else {
        const sim_tag *t = &s->tags[index];
        double raw = (value - t->offset) / t->scale;
        if (t->type == ALD_TYPE_BOOL)
            raw = raw != 0.0;
        sim_status r = sim_model_write(s->model, t->write.area, t->write.addr, raw,
                                       s->host->monotonic_ns(), NULL);
        st = write_status(s, t, r, value);
    }
    pthread_rwlock_unlock(&s->tags_lock);
    return st;
}

/* ---- the valve log ---------------------------------------------------------- */

static size_t sim_valve_events(void *instance, uint64_t since_ns, ald_valve_event_sink sink,
                               void *ctx)
{
    static const char *const valve_tags[] = {"coil:0", "coil:1", "coil:2",
                                             "coil:3", "coil:4", "coil:5"};
    plc_sim *s = instance;
    size_t n = sim_model_valve_events(s->model, since_ns, 0, NULL, 0);
    if (n == 0)
        return 0;
    sim_valve_event *events = malloc(n * sizeof *events);
    if (!events) {
        fail(s, ALD_ERR_NOMEM, "valve_events: out of memory for %zu events", n);
        return 0;
    }
    /* Copy first and call the sink without the model lock: it may call us. */
    size_t got = sim_model_valve_events(s->model, since_ns, 0, events, n);
    if (got > n)
        got = n;
    for (size_t i = 0; i < got; i++) {
        ald_valve_event ev = {
            .struct_size = sizeof(ald_valve_event),
            .tag = events[i].addr < 6 ? valve_tags[events[i].addr] : "coil:?",
            .open = events[i].open,
            .mono_ns = events[i].mono_ns,
        };
        sink(ctx, &ev);
    }
    free(events);
    return got;
}

/* ---- descriptor --------------------------------------------------------------- */

static const ald_plc_vtable sim_vtable = {
    .struct_size = sizeof(ald_plc_vtable),
    .create = sim_create,
    .destroy = sim_destroy,
    .start = sim_start,
    .stop = sim_stop,
    .last_error = sim_last_error,
    .set_tags = sim_set_tags,
    .read_all = sim_read_all,
    .read_tags = sim_read_tags,
    .write_tag = sim_write_tag,
    .is_connected = sim_is_connected,
    .pulse = NULL,
    .valve_events = sim_valve_events,
};

static const ald_plugin_descriptor sim_descriptor = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "plc-sim",
    .version = PLC_SIM_VERSION,
    .kind = ALD_PLUGIN_PLC,
    .capabilities = ALD_CAP_PLC_VALVE_LOG | ALD_CAP_PLC_THREAD_SAFE,
    .vtable = &sim_vtable,
};

/* Declared first: abi.h only offers the definition macro (-Wmissing-prototypes). */
ALD_PLUGIN_ENTRY;

ALD_PLUGIN_ENTRY
{
    return &sim_descriptor;
}
