/*
 * sqlite_bench.c - samples/s through storage-sqlite's append_samples, the way
 * the writer thread calls it: one batch = one logger cycle (one timestamp,
 * `batch` parameters), one transaction.
 *
 * For each batch size (100 and 1000) and each durability setting
 * (durable_samples true = fsync per batch, false = synchronous=NORMAL for
 * sample batches) it runs RUNS times on a fresh database file, each run
 * appending `total` samples, and prints the median.
 *
 *   cd build && make plugins/storage-sqlite/storage-sqlite.la bench/sqlite_bench && \
 *     ALD_TOP_BUILDDIR=$PWD bench/sqlite_bench [total] [dir]
 *
 * (total defaults to 200000 samples per run.) The machine's load matters a
 * lot on a shared 2-core box: note `uptime` next to the numbers.
 *
 * `dir` is where the database files go (default $TMPDIR or /tmp): put it on
 * the disk the engine will use, since fsync cost is most of a small batch.
 */
#include <dlfcn.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ald/plugin.h"
#include "testutil.h"

#define RUNS 5
#define PLUGIN_SO "plugins/storage-sqlite/.libs/storage-sqlite.so"

static const ald_storage_vtable *load_plugin(void)
{
    void *dl = dlopen(test_buildpath(PLUGIN_SO), RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "dlopen %s: %s (set ALD_TOP_BUILDDIR to the build directory)\n",
                test_buildpath(PLUGIN_SO), dlerror());
        exit(1);
    }
    ald_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, ALD_PLUGIN_ENTRY_SYMBOL);
    return entry ? entry()->vtable : NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Settings as libconfig text -> the group the host would hand the plugin.
 * (test_config() asserts through Check, which only works inside a test.) */
static const ald_config *bench_config(const char *text)
{
    static config_t cfg;
    static int used; /* the previous run's store is destroyed by now */
    if (used)
        config_destroy(&cfg);
    used = 1;
    config_init(&cfg);
    if (!config_read_string(&cfg, text)) {
        fprintf(stderr, "bench config: %s\n", config_error_text(&cfg));
        exit(1);
    }
    return (const ald_config *)config_root_setting(&cfg);
}

static void *open_store(const ald_storage_vtable *vt, const char *path, int durable)
{
    char text[1200], err[512];
    snprintf(text, sizeof text, "path = \"%s\"; seed_demo = false; durable_samples = %s;",
             path, durable ? "true" : "false");
    void *inst = NULL;
    if (vt->create(test_host(), bench_config(text), &inst, err, sizeof err) != ALD_OK ||
        vt->start(inst) != ALD_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, inst ? vt->last_error(inst) : err);
        exit(1);
    }
    return inst;
}

/* One run: `total` samples in batches of `batch`; returns samples/s. */
static double run_once(const ald_storage_vtable *vt, const char *dir, size_t batch,
                       size_t total, int durable, int run)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-%zu-%d-%d.db", dir, batch, run, (int)getpid());
    void *inst = open_store(vt, path, durable);
    char(*ids)[40] = malloc(batch * sizeof *ids);
    ald_sample *samples = malloc(batch * sizeof *samples);
    for (size_t i = 0; i < batch; i++) {
        snprintf(ids[i], sizeof ids[i], "a0000000-0000-4000-8000-%012u", (unsigned)i);
        samples[i] = (ald_sample){ids[i], (double)i, NAN};
    }
    int64_t t0_ms = INT64_C(1795750146000);
    double start = now_s();
    for (size_t done = 0, cycle = 0; done < total; done += batch, cycle++) {
        ald_sample_batch b = {sizeof b, "m",   NULL, t0_ms + (int64_t)cycle * 1000,
                              samples,  batch, 0};
        if (vt->append_samples(inst, &b) != ALD_OK) {
            fprintf(stderr, "append_samples: %s\n", vt->last_error(inst));
            exit(1);
        }
    }
    double elapsed = now_s() - start;
    vt->stop(inst);
    vt->destroy(inst);
    free(ids);
    free(samples);
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return (double)total / elapsed;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t total = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 200000;
    const char *tmp = getenv("TMPDIR");
    const char *dir = argc > 2 ? argv[2] : tmp ? tmp : "/tmp";
    const ald_storage_vtable *vt = load_plugin();
    if (!vt)
        return 1;
    const size_t sizes[] = {100, 1000};
    printf("storage-sqlite append_samples, WAL, %zu samples per run, median of %d runs, "
           "files in %s\n",
           total, RUNS, dir);
    for (int durable = 1; durable >= 0; durable--) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            double rate[RUNS];
            for (int r = 0; r < RUNS; r++)
                rate[r] = run_once(vt, dir, sizes[s], total, durable, r);
            qsort(rate, RUNS, sizeof rate[0], cmp_double);
            printf("%-32s batch %4zu: median %8.0f samples/s (min %8.0f, max %8.0f)\n",
                   durable ? "durable_samples=true (FULL)" : "durable_samples=false (NORMAL)",
                   sizes[s], rate[RUNS / 2], rate[0], rate[RUNS - 1]);
        }
    }
    return 0;
}
