/*
 * modbus_bench.c - 1000 f32 tags over Modbus TCP on loopback: the plc-modbus
 * plugin against plain libmodbus, in one run, against one running server
 * (ald-plcsim --registers N --fill-pattern, started by bench/modbus_bench.sh).
 *
 * Three clients read the same TAGS floats (one every STRIDE registers from
 * BASE), each for CYCLES cycles, one after the other:
 *   plain-bulk   libmodbus by hand, the fewest requests whole floats allow
 *                (<= 125 registers each): the reference the bar is set against;
 *   plain-field  libmodbus, one request per float (what collectd's modbus
 *                plugin does), fewer cycles because each takes ~1000 round trips;
 *   plugin       plc-modbus read_all(), planned and decoded by the plugin.
 * For each: cycle time median / p99 / max, client CPU per cycle (getrusage),
 * requests per cycle. The plugin's values are checked against the fill
 * pattern (the f32 at register A holds A), so a fast wrong answer fails.
 *
 * Output: a human-readable report, then machine-readable lines
 * "RESULT key value" that bench/run-all.sh turns into its table.
 * Exit status 0 only if every read succeeded with the right values.
 *
 * Usage: modbus_bench --port P [--base 1000] [--tags 1000] [--stride 4]
 *                     [--cycles 300] [--field-cycles 20]   (run from the build tree)
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libconfig.h>
#include <modbus.h>

#include "ald/plugin.h"
#include "metrics.h"
#include "ports/host_services.h"
#include "testutil.h"

#define PLUGIN_SO "plugins/plc-modbus/.libs/plc-modbus.so"
#define MAX_REGISTERS 125 /* the Modbus limit for one read of holding registers */

typedef struct bench_options {
    int port;
    int base;
    int tags;
    int stride;
    int cycles;
    int field_cycles;
} bench_options;

/* What one client measured. */
typedef struct bench_result {
    const char *name;
    int cycles;
    int failed;
    double requests_per_cycle;
    double median_ms, p99_ms, max_ms;
    double cpu_ms_per_cycle;
} bench_result;

/* One request of a hand-made plan. */
typedef struct span {
    int addr;
    int count;
} span;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts t[] and fills the timing fields of r. */
static void summarise(bench_result *r, double *t, int n, double cpu)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    int p99 = (int)ceil(n * 0.99) - 1;
    r->median_ms = t[n / 2] * 1e3;
    r->p99_ms = t[p99 < 0 ? 0 : p99] * 1e3;
    r->max_ms = t[n - 1] * 1e3;
    r->cpu_ms_per_cycle = cpu / n * 1e3;
}

/* ---- plain libmodbus ---------------------------------------------------------- */

/* The fewest requests that read every float whole, each <= MAX_REGISTERS. */
static span *plan_bulk(const bench_options *o, int *count)
{
    span *plan = calloc((size_t)o->tags, sizeof *plan);
    int n = 0;
    for (int i = 0; i < o->tags; i++) {
        int addr = o->base + i * o->stride;
        if (n > 0 && addr + 2 - plan[n - 1].addr <= MAX_REGISTERS)
            plan[n - 1].count = addr + 2 - plan[n - 1].addr;
        else
            plan[n++] = (span){addr, 2};
    }
    *count = n;
    return plan;
}

static span *plan_per_field(const bench_options *o, int *count)
{
    span *plan = calloc((size_t)o->tags, sizeof *plan);
    for (int i = 0; i < o->tags; i++)
        plan[i] = (span){o->base + i * o->stride, 2};
    *count = o->tags;
    return plan;
}

static modbus_t *plain_connect(int port)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (ctx && modbus_connect(ctx) == 0)
        return ctx;
    fprintf(stderr, "modbus_bench: cannot connect to 127.0.0.1:%d: %s (is ald-plcsim up?)\n",
            port, modbus_strerror(errno));
    if (ctx)
        modbus_free(ctx);
    return NULL;
}

static bench_result run_plain(const char *name, int port, const span *plan, int nplan,
                              int cycles)
{
    bench_result r = {.name = name, .cycles = cycles, .requests_per_cycle = nplan};
    modbus_t *ctx = plain_connect(port);
    if (!ctx)
        return r.failed = cycles, r;
    uint16_t regs[MAX_REGISTERS];
    double *t = calloc((size_t)cycles, sizeof *t);
    double cpu0 = cpu_s();
    for (int c = 0; c < cycles; c++) {
        double t0 = now_s();
        for (int i = 0; i < nplan; i++)
            if (modbus_read_registers(ctx, plan[i].addr, plan[i].count, regs) != plan[i].count)
                r.failed++;
        t[c] = now_s() - t0;
    }
    summarise(&r, t, cycles, cpu_s() - cpu0);
    free(t);
    modbus_close(ctx);
    modbus_free(ctx);
    return r;
}

/* ---- the plc-modbus plugin ------------------------------------------------------ */

/* Settings text -> the group the host would hand the plugin. The config_t
 * must outlive the plugin instance, hence static. */
static const ald_config *plugin_settings(int port)
{
    static config_t cfg;
    char text[200];
    snprintf(text, sizeof text, "host = \"127.0.0.1\"; port = %d;", port);
    config_init(&cfg);
    if (!config_read_string(&cfg, text)) {
        fprintf(stderr, "modbus_bench: settings: %s\n", config_error_text(&cfg));
        return NULL;
    }
    return (const ald_config *)config_root_setting(&cfg);
}

static const ald_plc_vtable *load_plugin(void)
{
    const char *path = test_buildpath(PLUGIN_SO);
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "modbus_bench: %s (run from the build tree, or set "
                        "ALD_TOP_BUILDDIR)\n",
                dlerror());
        return NULL;
    }
    ald_plugin_entry_fn entry;
    *(void **)&entry = dlsym(so, ALD_PLUGIN_ENTRY_SYMBOL);
    return entry ? entry()->vtable : NULL;
}

/* Tags f0..fN-1 at hr:BASE + i*STRIDE; names/addresses live as long as the run. */
static ald_tag *make_tags(const bench_options *o, const ald_tag ***ptrs_out)
{
    ald_tag *tags = calloc((size_t)o->tags, sizeof *tags);
    const ald_tag **ptrs = calloc((size_t)o->tags, sizeof *ptrs);
    char(*text)[2][16] = calloc((size_t)o->tags, sizeof *text);
    for (int i = 0; i < o->tags; i++) {
        snprintf(text[i][0], sizeof text[i][0], "f%d", i);
        snprintf(text[i][1], sizeof text[i][1], "hr:%d", o->base + i * o->stride);
        tags[i] = (ald_tag){.struct_size = sizeof(ald_tag),
                            .name = text[i][0],
                            .read_address = text[i][1],
                            .type = ALD_TYPE_F32};
        ptrs[i] = &tags[i];
    }
    *ptrs_out = ptrs;
    return tags;
}

/* Values that are not the fill pattern (the f32 at A holds A), or bad quality. */
static int wrong_values(const bench_options *o, const ald_tag_value *v)
{
    int wrong = 0;
    for (int i = 0; i < o->tags; i++)
        wrong += v[i].quality != ALD_OK || v[i].value != (double)(o->base + i * o->stride);
    return wrong;
}

static bench_result run_plugin(const bench_options *o)
{
    bench_result r = {.name = "plc-modbus plugin", .cycles = o->cycles, .failed = o->cycles};
    const ald_plc_vtable *vt = load_plugin();
    const ald_config *settings = plugin_settings(o->port);
    char err[256] = "";
    void *inst = NULL;
    if (!vt || !settings ||
        vt->create(host_new("bench"), settings, &inst, err, sizeof err) != ALD_OK) {
        fprintf(stderr, "modbus_bench: plugin create: %s\n", err);
        return r;
    }
    const ald_tag **ptrs;
    ald_tag *tags = make_tags(o, &ptrs);
    ald_tag_value *v = calloc((size_t)o->tags, sizeof *v);
    double *t = calloc((size_t)o->cycles, sizeof *t);
    if (vt->set_tags(inst, ptrs, (size_t)o->tags) != ALD_OK || vt->start(inst) != ALD_OK ||
        vt->read_all(inst, v, (size_t)o->tags) != ALD_OK) { /* warm-up: connect, plan */
        fprintf(stderr, "modbus_bench: plugin: %s\n", vt->last_error(inst));
    } else {
        r.failed = wrong_values(o, v) ? 1 : 0;
        double cpu0 = cpu_s();
        for (int c = 0; c < o->cycles; c++) {
            double t0 = now_s();
            r.failed += vt->read_all(inst, v, (size_t)o->tags) != ALD_OK;
            t[c] = now_s() - t0;
        }
        summarise(&r, t, o->cycles, cpu_s() - cpu0);
        r.failed += wrong_values(o, v) ? 1 : 0;
        char labels[64];
        snprintf(labels, sizeof labels, "device=\"127.0.0.1:%d\"", o->port);
        r.requests_per_cycle =
            metrics_value(metrics_gauge("ald_plc_requests_per_cycle", "", labels));
        vt->stop(inst);
    }
    vt->destroy(inst);
    free(t);
    free(v);
    free(tags);
    free(ptrs);
    return r;
}

/* ---- report ------------------------------------------------------------------------ */

static void print_result(const bench_result *r, const char *key)
{
    printf("%-20s %5d cycles %3d failed  %6.0f req/cycle  median %8.3f ms  p99 %8.3f ms  "
           "max %8.3f ms  CPU %7.3f ms/cycle\n",
           r->name, r->cycles, r->failed, r->requests_per_cycle, r->median_ms, r->p99_ms,
           r->max_ms, r->cpu_ms_per_cycle);
    printf("RESULT %s.requests %.0f\n", key, r->requests_per_cycle);
    printf("RESULT %s.median_ms %.3f\nRESULT %s.p99_ms %.3f\nRESULT %s.max_ms %.3f\n", key,
           r->median_ms, key, r->p99_ms, key, r->max_ms);
    printf("RESULT %s.cpu_ms %.3f\nRESULT %s.failed %d\n", key, r->cpu_ms_per_cycle, key,
           r->failed);
}

/* The option's slot in o, by its short code; NULL for an unknown option. */
static int *option_field(bench_options *o, int code)
{
    switch (code) {
    case 'p':
        return &o->port;
    case 'b':
        return &o->base;
    case 't':
        return &o->tags;
    case 's':
        return &o->stride;
    case 'c':
        return &o->cycles;
    case 'f':
        return &o->field_cycles;
    default:
        return NULL;
    }
}

static int parse_options(int argc, char **argv, bench_options *o)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},   {"base", required_argument, NULL, 'b'},
        {"tags", required_argument, NULL, 't'},   {"stride", required_argument, NULL, 's'},
        {"cycles", required_argument, NULL, 'c'}, {"field-cycles", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    *o = (bench_options){0, 1000, 1000, 4, 300, 20};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        int *field = option_field(o, c);
        if (!field)
            return -1;
        *field = atoi(optarg);
    }
    if (o->port <= 0 || o->tags < 1 || o->stride < 2 || o->cycles < 1 || o->field_cycles < 1 ||
        o->base < 0 || (long)o->base + (long)o->tags * o->stride > 65536) {
        fprintf(stderr, "usage: modbus_bench --port P [--base A] [--tags N] [--stride S>=2] "
                        "[--cycles C] [--field-cycles C]\n  (base + tags*stride must fit "
                        "65536 registers)\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    int nbulk, nfield;
    span *bulk = plan_bulk(&o, &nbulk);
    span *field = plan_per_field(&o, &nfield);
    printf("%d f32 tags at hr:%d + i*%d on 127.0.0.1:%d; fewest whole-float requests of "
           "<= %d registers: %d\n",
           o.tags, o.base, o.stride, o.port, MAX_REGISTERS, nbulk);
    printf("RESULT min_requests %d\n", nbulk);
    bench_result plain = run_plain("plain-bulk libmodbus", o.port, bulk, nbulk, o.cycles);
    bench_result per_field =
        run_plain("plain-field libmodbus", o.port, field, nfield, o.field_cycles);
    bench_result plugin = run_plugin(&o);
    print_result(&plain, "plain_bulk");
    print_result(&per_field, "plain_field");
    print_result(&plugin, "plugin");
    double ratio = plugin.median_ms / plain.median_ms;
    printf("plugin / plain-bulk median: %.2fx; plain-field / plugin median: %.1fx\n", ratio,
           per_field.median_ms / plugin.median_ms);
    printf("RESULT plugin_vs_plain_bulk %.2f\n", ratio);
    free(bulk);
    free(field);
    return plain.failed || per_field.failed || plugin.failed ? 1 : 0;
}
