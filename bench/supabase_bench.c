/*
 * supabase_bench.c - the Supabase write path, measured against a real
 * PostgreSQL 15 behind the PostgREST-compatible fixture (bench/supabase_bench.sh
 * starts both, creates the parameters and checks the row counts afterwards).
 *
 *   supabase_bench append BATCH RUNS SAMPLES
 *       samples/s through storage-supabase's append_samples, the way the
 *       writer thread calls it: one batch = one logger cycle (one timestamp,
 *       BATCH tags, one bulk insert). RUNS runs of SAMPLES samples each; prints
 *       every run and the median.
 *   supabase_bench drain RECORDS TAGS DIR
 *       a backlog of RECORDS sample batches of TAGS tags (one batch per
 *       second: RECORDS=3600 is an hour) pushed into storage-sqlite's outbox
 *       (a fresh file in DIR) with outbox_store_samples, then replayed into
 *       the fixture with the engine's outbox_replay_once until the outbox is
 *       empty; prints the time of both phases and this process's CPU time.
 *       SB_UNBATCHED=1 hides the plugin's append_sample_batches (ABI 1.1),
 *       so the replay goes one request per record, as a 1.0 plugin's does.
 *
 * Environment: SB_URL (the fixture's base URL), SB_KEY (its API key, never
 * printed), ALD_TOP_BUILDDIR (the build tree holding the plugin .so files).
 * Tag i is parameter a1000000-0000-4000-8000-<i, 12 digits>; the driver creates
 * those rows. Timestamps start at SB_T0_MS (default 1795750146000) and step
 * by one second per batch across all runs of one process, so no two batches
 * of a process collide on the (parameter_id, timestamp) key; the driver
 * empties parameter_value_history between processes.
 *
 * Exit status 0, or 1 with a message naming the operation and the plugin's
 * error when a write fails (a benchmark that loses rows reports nothing).
 */
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "outbox.h"
#include "ports/plugin_instance.h"

#define MACHINE "e3e6e280-0000-4000-8000-000000000001"
#define MAX_RUNS 50
#define SUPABASE_SO "plugins/storage-supabase/.libs/storage-supabase.so"
#define SQLITE_SO "plugins/storage-sqlite/.libs/storage-sqlite.so"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "supabase_bench: %s: %s\n", what, why);
    exit(1);
}

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !v[0])
        die(name, "not set (run bench/supabase_bench.sh, which starts the fixture)");
    return v;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of this process (all threads). */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* libconfig text -> the settings group the host would hand the plugin. Kept
 * for the life of the process (instances may hold pointers into it). */
static const ald_config *settings_from(const char *text)
{
    config_t *cfg = malloc(sizeof *cfg);
    if (!cfg)
        die("settings", "out of memory");
    config_init(cfg);
    if (!config_read_string(cfg, text))
        die("settings", config_error_text(cfg));
    return (const ald_config *)config_root_setting(cfg);
}

static void build_path(char *out, size_t len, const char *relative)
{
    snprintf(out, len, "%s/%s", need_env("ALD_TOP_BUILDDIR"), relative);
}

/* Create and start one storage instance from a built .so, as the engine does. */
static void open_instance(plugin_instance *pi, const char *name, const char *so,
                          const char *settings)
{
    char plugin[1024], err[1024] = "";
    build_path(plugin, sizeof plugin, so);
    plugin_conf conf = {.name = (char *)name,
                        .plugin = plugin,
                        .role = ROLE_STORAGE,
                        .active = 1,
                        .settings = settings_from(settings)};
    snprintf(conf.where, sizeof conf.where, "bench/supabase_bench.c");
    if (plugin_instance_create(pi, &conf, NULL, err, sizeof err) != 0)
        die(name, err);
    if (plugin_instance_start(pi) != ALD_OK)
        die(name, plugin_last_error(pi));
}

static void open_supabase(plugin_instance *pi)
{
    char settings[2048];
    snprintf(settings, sizeof settings, "url = \"%s\"; key = \"%s\"; machine_id = \"%s\";",
             need_env("SB_URL"), need_env("SB_KEY"), MACHINE);
    open_instance(pi, "supabase", SUPABASE_SO, settings);
}

/* The tags: parameter ids and one sample each (values change per batch). */
typedef struct tagset {
    size_t count;
    char (*ids)[40];
    ald_sample *samples;
} tagset;

static void tagset_init(tagset *t, size_t count)
{
    t->count = count;
    t->ids = calloc(count, sizeof *t->ids);
    t->samples = calloc(count, sizeof *t->samples);
    if (!t->ids || !t->samples)
        die("tags", "out of memory");
    for (size_t i = 0; i < count; i++) {
        snprintf(t->ids[i], sizeof t->ids[i], "a1000000-0000-4000-8000-%012u",
                 (unsigned)(i % 1000000000u));
        t->samples[i] = (ald_sample){t->ids[i], 0, NAN};
    }
}

static void tagset_free(tagset *t)
{
    free(t->ids);
    free(t->samples);
}

static int64_t next_timestamp_ms(void)
{
    static int64_t cycle;
    static int64_t t0;
    if (!t0) {
        const char *env = getenv("SB_T0_MS");
        t0 = env ? strtoll(env, NULL, 10) : INT64_C(1795750146000);
    }
    return t0 + 1000 * cycle++;
}

/* The next logger cycle: a new timestamp, new values (a set point on even tags). */
static ald_sample_batch next_batch(tagset *t)
{
    int64_t ts = next_timestamp_ms();
    for (size_t i = 0; i < t->count; i++) {
        t->samples[i].value = (double)(ts / 1000 % 1000) + (double)i / 8;
        t->samples[i].set_point = i % 2 ? NAN : (double)i;
    }
    return (ald_sample_batch){.struct_size = sizeof(ald_sample_batch),
                              .machine_id = MACHINE,
                              .timestamp_ms = ts,
                              .samples = t->samples,
                              .count = t->count};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- append: samples/s --------------------------------------------------------- */

static double append_run(plugin_instance *sb, tagset *tags, size_t samples)
{
    const ald_storage_vtable *ops = storage_ops(sb);
    size_t batches = (samples + tags->count - 1) / tags->count;
    double start = now_s();
    for (size_t i = 0; i < batches; i++) {
        ald_sample_batch b = next_batch(tags);
        if (ops->append_samples(sb->inst, &b) != ALD_OK)
            die("append_samples", plugin_last_error(sb));
    }
    return (double)(batches * tags->count) / (now_s() - start);
}

static int bench_append(size_t batch, int runs, size_t samples)
{
    if (batch == 0 || batch > 1000000 || runs < 1 || runs > MAX_RUNS || samples < batch)
        die("append", "want 1 <= BATCH <= 1000000, 1 <= RUNS <= 50, SAMPLES >= BATCH");
    plugin_instance sb;
    open_supabase(&sb);
    tagset tags;
    tagset_init(&tags, batch);
    size_t per_run = (samples + batch - 1) / batch * batch;
    double rate[MAX_RUNS], start = now_s(), cpu = cpu_s();
    for (int r = 0; r < runs; r++) {
        rate[r] = append_run(&sb, &tags, samples);
        printf("append batch %zu run %d: %zu samples, %.0f samples/s\n", batch, r + 1,
               per_run, rate[r]);
        fflush(stdout);
    }
    qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
    printf("append batch %zu: median %.0f samples/s (min %.0f, max %.0f; %d runs of %zu "
           "samples, %zu requests each)\n",
           batch, rate[runs / 2], rate[0], rate[runs - 1], runs, per_run, per_run / batch);
    printf("append batch %zu: all runs in %.2f s, CPU of this process %.2f s\n", batch,
           now_s() - start, cpu_s() - cpu);
    printf("rows written: %zu\n", per_run * (size_t)runs);
    tagset_free(&tags);
    plugin_instance_destroy(&sb);
    return 0;
}

/* ---- drain: an outbox backlog replayed ---------------------------------------- */

static int64_t outbox_depth(plugin_instance *fallback)
{
    int64_t depth = -1, oldest = 0;
    storage_ops(fallback)->outbox_stats(fallback->inst, &depth, &oldest);
    return depth;
}

static void fill_outbox(outbox *o, tagset *tags, size_t records)
{
    double start = now_s(), cpu = cpu_s();
    for (size_t i = 0; i < records; i++) {
        ald_sample_batch b = next_batch(tags);
        if (outbox_store_samples(o, &b) != ALD_OK)
            die("outbox_store_samples", plugin_last_error(o->fallback));
    }
    double elapsed = now_s() - start;
    printf("store: %zu records in %.2f s (%.0f records/s, each fsync'd), CPU %.2f s\n",
           records, elapsed, (double)records / elapsed, cpu_s() - cpu);
}

/* Replay until empty; a refused round is a failure here (the fixture is up). */
static void drain_outbox(outbox *o, size_t records, size_t tags)
{
    double start = now_s(), cpu = cpu_s();
    long replayed = 0, rounds = 0;
    int n;
    while ((n = outbox_replay_once(o)) > 0) {
        replayed += n;
        rounds++;
    }
    double elapsed = now_s() - start;
    if (n < 0)
        die("outbox_replay_once", "the fixture refused a replay (see the log above)");
    int64_t left = outbox_depth(o->fallback);
    if (replayed != (long)records || left != 0) {
        fprintf(stderr, "supabase_bench: drain: replayed %ld of %zu records, %lld left\n",
                replayed, records, (long long)left);
        exit(1);
    }
    printf("drain: %ld records x %zu samples in %.2f s (%.0f records/s, %.0f samples/s), "
           "%ld rounds (the first of up to %d records), CPU of this process %.2f s\n",
           replayed, tags, elapsed, (double)replayed / elapsed,
           (double)replayed * (double)tags / elapsed, rounds, OUTBOX_REPLAY_BATCH,
           cpu_s() - cpu);
    printf("rows written: %zu\n", records * tags);
}

static int bench_drain(size_t records, size_t tag_count, const char *dir)
{
    if (records == 0 || tag_count == 0 || tag_count > 1000000)
        die("drain", "want RECORDS >= 1 and 1 <= TAGS <= 1000000");
    char settings[2048];
    snprintf(settings, sizeof settings,
             "path = \"%s/fallback.db\"; data_dir = \"%s\"; machine_id = \"%s\"; "
             "seed_demo = false;",
             dir, dir, MACHINE);
    plugin_instance fallback, primary;
    open_instance(&fallback, "fallback", SQLITE_SO, settings);
    if (outbox_depth(&fallback) != 0)
        die(dir, "the outbox is not empty: give the benchmark a fresh directory");
    open_supabase(&primary);
    if (getenv("SB_UNBATCHED")) /* the per-record replay of a 1.0 plugin, to compare */
        primary.lib.vt.storage.append_sample_batches = NULL;
    outbox o;
    if (outbox_start(&o, &primary, &fallback, storage_port_replay) != 0)
        die("outbox_start", "storage-sqlite has no outbox operations");
    outbox_stop(&o); /* rounds are driven below, not by the replay thread */
    tagset tags;
    tagset_init(&tags, tag_count);
    fill_outbox(&o, &tags, records);
    drain_outbox(&o, records, tag_count);
    tagset_free(&tags);
    plugin_instance_destroy(&primary);
    plugin_instance_destroy(&fallback);
    return 0;
}

static size_t size_arg(const char *text)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || end == text)
        die(text, "not a count");
    return (size_t)v;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_set_level(ALD_LOG_WARNING); /* the outbox's info lines are not results */
    if (argc == 5 && strcmp(argv[1], "append") == 0)
        return bench_append(size_arg(argv[2]), (int)size_arg(argv[3]), size_arg(argv[4]));
    if (argc == 5 && strcmp(argv[1], "drain") == 0)
        return bench_drain(size_arg(argv[2]), size_arg(argv[3]), argv[4]);
    fprintf(stderr, "usage: supabase_bench append BATCH RUNS SAMPLES\n"
                    "       supabase_bench drain RECORDS TAGS DIR\n"
                    "(SB_URL, SB_KEY and ALD_TOP_BUILDDIR in the environment)\n");
    return 2;
}
