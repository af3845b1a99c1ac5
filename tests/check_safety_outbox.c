/*
 * check_safety_outbox.c - replay order and locking, between a fault-injecting
 * primary (tests/fixtures/plugins/storage_fault.c) and the real SQLite
 * fallback. A record the primary refuses stops the round: nothing after it is
 * sent or acknowledged, so nothing is lost or reordered. And a replay waiting
 * on a slow primary never blocks the writer from storing into the outbox.
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fixtures/plugins/storage_fault.h"
#include "outbox.h"
#include "ports/plugin_instance.h"
#include "testutil.h"

#define MACHINE "e3e6e280-0000-4000-8000-000000000001"

typedef struct outbox_rig {
    plugin_instance primary, fallback;
    const storage_fault_control *fault;
    outbox ob;
} outbox_rig;

static outbox_rig O;

static void create_store(plugin_instance *pi, const char *name, const char *plugin_so,
                         const char *settings)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", test_buildpath(plugin_so));
    plugin_conf conf = {.name = (char *)name, .plugin = path, .role = ROLE_STORAGE,
                        .active = 1, .settings = test_config(settings)};
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(pi), ALD_OK);
}

/* The outbox without its replay thread: the test drives replay rounds. */
static void outbox_rig_up(void)
{
    memset(&O, 0, sizeof O);
    const char *dir = test_tmpdir("safety-outbox");
    char settings[1400];
    snprintf(settings, sizeof settings,
             "path = \"%s/fallback.db\"; data_dir = \"%s\"; machine_id = \"%s\";", dir, dir,
             MACHINE);
    create_store(&O.fallback, "fallback", "plugins/storage-sqlite/.libs/storage-sqlite.so",
                 settings);
    create_store(&O.primary, "primary", "tests/fixtures/plugins/.libs/storage-fault.so", "");
    storage_fault_control_fn controls;
    void *sym = dlsym(O.primary.lib.handle, STORAGE_FAULT_CONTROL_SYMBOL);
    ck_assert_ptr_nonnull(sym);
    memcpy(&controls, &sym, sizeof controls);
    O.fault = controls();
    ck_assert_int_eq(outbox_start(&O.ob, &O.primary, &O.fallback, storage_port_replay), 0);
    outbox_stop(&O.ob);
}

static ald_sample one_sample[1] = {{"a0000000-0000-4000-8000-000000000701", 1.5, NAN}};

static void store_batch(int64_t ts)
{
    ald_sample_batch b = {.struct_size = sizeof b, .machine_id = MACHINE, .timestamp_ms = ts,
                          .samples = one_sample, .count = 1};
    ck_assert_int_eq(outbox_store_samples(&O.ob, &b), ALD_OK);
}

static int64_t outbox_depth(void)
{
    int64_t depth = -1, oldest = 0;
    ck_assert_int_eq(storage_ops(&O.fallback)->outbox_stats(O.fallback.inst, &depth, &oldest),
                     ALD_OK);
    return depth;
}

static void assert_primary_holds(const int64_t *ts, size_t n)
{
    ck_assert_uint_eq(O.fault->stored_count(O.primary.inst), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(O.fault->stored_at(O.primary.inst, i), ts[i]);
}

START_TEST(a_refused_record_stops_the_replay_round_and_nothing_past_it_is_acknowledged)
{
    outbox_rig_up();
    store_batch(1000);
    store_batch(2000);
    store_batch(3000);
    O.fault->refuse_batch(O.primary.inst, 2000, ALD_ERR_TRANSIENT);
    ck_assert_int_eq(outbox_replay_once(&O.ob), -1);
    static const int64_t first[] = {1000};
    assert_primary_holds(first, 1); /* record 3 was not sent past the refused record 2 */
    ck_assert_int_eq(outbox_depth(), 2);
    /* the primary takes record 2 now: 2 then 3, in order */
    O.fault->refuse_batch(O.primary.inst, 2000, ALD_OK);
    ck_assert_int_eq(outbox_replay_once(&O.ob), 2);
    static const int64_t all[] = {1000, 2000, 3000};
    assert_primary_holds(all, 3);
    ck_assert_int_eq(outbox_depth(), 0);
}
END_TEST

static void *replay_thread(void *arg)
{
    (void)arg;
    outbox_replay_once(&O.ob);
    return NULL;
}

typedef struct writer_probe {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int done;
} writer_probe;

static writer_probe probe = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void *writer_thread(void *arg)
{
    (void)arg;
    store_batch(9000);
    pthread_mutex_lock(&probe.lock);
    probe.done = 1;
    pthread_cond_broadcast(&probe.done_cond);
    pthread_mutex_unlock(&probe.lock);
    return NULL;
}

/* Whether the writer finished; waits for it at most 10 s, only so that a
 * replay holding the outbox's lock fails the test instead of hanging it. */
static int writer_finished(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&probe.lock);
    while (!probe.done && pthread_cond_timedwait(&probe.done_cond, &probe.lock, &until) == 0)
        ;
    int done = probe.done;
    pthread_mutex_unlock(&probe.lock);
    return done;
}

START_TEST(the_writer_can_store_while_a_replay_waits_on_a_slow_primary)
{
    outbox_rig_up();
    store_batch(1000);
    O.fault->hold_batch(O.primary.inst, 1000);
    pthread_t replay, writer;
    ck_assert_int_eq(pthread_create(&replay, NULL, replay_thread, NULL), 0);
    ck_assert_int_eq(O.fault->wait_held(O.primary.inst, 10000), 0);
    /* the primary is busy with record 1 (as over slow HTTP retries) */
    ck_assert_int_eq(pthread_create(&writer, NULL, writer_thread, NULL), 0);
    int stored_meanwhile = writer_finished();
    O.fault->release(O.primary.inst);
    pthread_join(replay, NULL);
    pthread_join(writer, NULL);
    ck_assert_msg(stored_meanwhile, "the writer waited for the replay's primary call");
    static const int64_t first[] = {1000};
    assert_primary_holds(first, 1);
    ck_assert_int_eq(outbox_depth(), 1); /* the writer's batch waits for the next round */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: outbox");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_refused_record_stops_the_replay_round_and_nothing_past_it_is_acknowledged);
    tcase_add_test(tc, the_writer_can_store_while_a_replay_waits_on_a_slow_primary);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
