/*
 * check_outbox.c - store-and-forward with real stores: the primary and the
 * fallback are both storage-sqlite instances; the test makes the primary
 * refuse writes by holding an exclusive lock on its file, then releases it.
 * Afterwards the primary must hold every sample exactly once. The batched
 * replay tests wrap the primary's vtable entries to count calls and order.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "outbox.h"
#include "ports/plugin_instance.h"
#include "testutil.h"

#define MACHINE "e3e6e280-0000-4000-8000-000000000001"

static void create_store(plugin_instance *pi, const char *name, const char *path,
                         const char *dir)
{
    char settings[1400], plugin[1024];
    snprintf(settings, sizeof settings,
             "path = \"%s\"; data_dir = \"%s\"; machine_id = \"%s\"; busy_timeout_ms = 20;",
             path, dir, MACHINE);
    snprintf(plugin, sizeof plugin, "%s",
             test_buildpath("plugins/storage-sqlite/.libs/storage-sqlite.so"));
    plugin_conf conf = {.name = (char *)name, .plugin = plugin, .role = ROLE_STORAGE,
                        .active = 1, .settings = test_config(settings)};
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(pi), ALD_OK);
}

static ald_sample samples[3] = {
    {"a0000000-0000-4000-8000-000000000701", 100.5, 100},
    {"a0000000-0000-4000-8000-000000000901", 0.25, NAN},
    {"a0000000-0000-4000-8000-000000000101", 1, NAN},
};

static ald_sample_batch batch_at(int64_t ts)
{
    return (ald_sample_batch){.struct_size = sizeof(ald_sample_batch), .machine_id = MACHINE,
                              .timestamp_ms = ts, .samples = samples, .count = 3};
}

START_TEST(encoding_round_trips)
{
    ald_sample_batch b = batch_at(1700000000123);
    b.process_id = "proc-1";
    char *text = outbox_encode_samples(&b);
    ald_sample_batch d;
    ck_assert_int_eq(outbox_decode_samples(text, strlen(text), &d), 0);
    ck_assert_int_eq(d.timestamp_ms, 1700000000123);
    ck_assert_str_eq(d.process_id, "proc-1");
    ck_assert_int_eq(d.replay, 1);
    ck_assert_uint_eq(d.count, 3);
    ck_assert_str_eq(d.samples[0].parameter_id, samples[0].parameter_id);
    ck_assert_double_eq(d.samples[0].set_point, 100);
    ck_assert(isnan(d.samples[1].set_point));
    outbox_free_decoded(&d);
    free(text);
    ck_assert_int_eq(outbox_decode_samples("{\"s\": 5}", 8, &d), -1);
    ck_assert_int_eq(outbox_decode_samples("garbage", 7, &d), -1);
}
END_TEST

static long count_rows(const char *path)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT parameter_id || "
                                            "timestamp) FROM parameter_value_history",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long n = sqlite3_column_int64(st, 0), distinct = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_int_eq(n, distinct); /* no duplicates, ever */
    return n;
}

START_TEST(outage_loses_nothing_and_duplicates_nothing)
{
    const char *dir = test_tmpdir("outbox");
    char primary_path[600], fallback_path[600];
    snprintf(primary_path, sizeof primary_path, "%s/primary.db", dir);
    snprintf(fallback_path, sizeof fallback_path, "%s/fallback.db", dir);
    plugin_instance primary, fallback;
    create_store(&primary, "primary", primary_path, dir);
    create_store(&fallback, "fallback", fallback_path, dir);
    outbox o;
    ck_assert_int_eq(outbox_start(&o, &primary, &fallback, storage_port_replay), 0);
    outbox_stop(&o); /* drive replay by hand below; the thread is not needed */

    /* the outage: another connection holds the primary's write lock */
    sqlite3 *blocker;
    ck_assert_int_eq(sqlite3_open(primary_path, &blocker), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    ald_sample_batch b = batch_at(1000);
    ald_status st = storage_ops(&primary)->append_samples(primary.inst, &b);
    ck_assert_msg(ald_status_is_transient(st), "a locked database must be transient: %s",
                  ald_status_name(st));
    for (int i = 0; i < 10; i++) {
        b = batch_at(1000 + i * 1000);
        ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    }
    outbox_mark_down(&o, st);
    ck_assert(outbox_primary_down(&o));
    ck_assert_int_eq(outbox_replay_once(&o), -1); /* still locked: refused, nothing acked */
    int64_t depth = 0, oldest = 0;
    storage_ops(&fallback)->outbox_stats(fallback.inst, &depth, &oldest);
    ck_assert_int_eq(depth, 10);

    /* the primary comes back */
    sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(blocker);
    /* a batch the primary already took before the outage is replayed again: */
    b = batch_at(1000);
    ck_assert_int_eq(storage_ops(&primary)->append_samples(primary.inst, &b), ALD_OK);
    ck_assert_int_eq(outbox_replay_once(&o), 10);
    storage_ops(&fallback)->outbox_stats(fallback.inst, &depth, &oldest);
    ck_assert_int_eq(depth, 0);
    ck_assert_int_eq(count_rows(primary_path), 30); /* 10 cycles x 3 tags, exactly */
    ck_assert_int_eq(outbox_replay_once(&o), 0);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

/* How many lines of the file hold text. */
static int lines_with(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

/* The primary down AND the fallback refusing pushes (a full disk, a store
 * that is not open): one ERROR for the whole episode, never "storing in"
 * the fallback until a record really reached it, one INFO when it works. */
START_TEST(a_failing_fallback_is_one_error_per_episode_and_never_claimed)
{
    const char *dir = test_tmpdir("outbox-fail");
    char primary_path[600], fallback_path[600], log_path[600];
    snprintf(primary_path, sizeof primary_path, "%s/primary.db", dir);
    snprintf(fallback_path, sizeof fallback_path, "%s/fallback.db", dir);
    snprintf(log_path, sizeof log_path, "%s/stderr.log", dir);
    plugin_instance primary, fallback;
    create_store(&primary, "primary", primary_path, dir);
    create_store(&fallback, "local", fallback_path, dir);
    outbox o;
    ck_assert_int_eq(outbox_start(&o, &primary, &fallback, storage_port_replay), 0);
    outbox_stop(&o);
    sqlite3 *block_primary, *block_fallback;
    ck_assert_int_eq(sqlite3_open(primary_path, &block_primary), SQLITE_OK);
    ck_assert_int_eq(sqlite3_open(fallback_path, &block_fallback), SQLITE_OK);
    sqlite3_exec(block_primary, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    sqlite3_exec(block_fallback, "BEGIN EXCLUSIVE", NULL, NULL, NULL);
    fflush(stderr);
    int saved = dup(2);
    ck_assert(freopen(log_path, "w", stderr) != NULL);
    port_error err;
    for (int i = 0; i < 5; i++) {
        ald_sample_batch b = batch_at(1000 + i * 1000);
        ck_assert_int_ne(storage_port_store_samples(&primary, &o, &b, NULL, 0, &err), ALD_OK);
        ck_assert(!outbox_primary_down(&o)); /* nothing kept: nothing claimed */
    }
    sqlite3_exec(block_fallback, "ROLLBACK", NULL, NULL, NULL);
    ald_sample_batch b = batch_at(9000);
    ck_assert_int_eq(storage_port_store_samples(&primary, &o, &b, NULL, 0, &err), ALD_OK);
    ck_assert(outbox_primary_down(&o));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ck_assert_int_eq(lines_with(log_path, "[outbox] could not store a samples record durably"), 1);
    ck_assert_int_eq(lines_with(log_path, "[outbox] storing records in 'local' works again"), 1);
    ck_assert_int_eq(lines_with(log_path, "storing in 'local'"), 1);
    sqlite3_exec(block_primary, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(block_primary);
    sqlite3_close(block_fallback);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

START_TEST(records_survive_a_restart_and_replay_on_start)
{
    const char *dir = test_tmpdir("outbox-restart");
    char primary_path[600], fallback_path[600];
    snprintf(primary_path, sizeof primary_path, "%s/primary.db", dir);
    snprintf(fallback_path, sizeof fallback_path, "%s/fallback.db", dir);
    plugin_instance primary, fallback;
    create_store(&fallback, "fallback", fallback_path, dir);
    outbox o;
    create_store(&primary, "primary", primary_path, dir);
    ck_assert_int_eq(outbox_start(&o, &primary, &fallback, storage_port_replay), 0);
    outbox_stop(&o);
    for (int i = 0; i < 5; i++) {
        ald_sample_batch b = batch_at(5000 + i * 1000);
        ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    }
    plugin_instance_destroy(&fallback); /* "crash": the engine goes away */
    create_store(&fallback, "fallback", fallback_path, dir);
    ck_assert_int_eq(outbox_start(&o, &primary, &fallback, storage_port_replay), 0);
    ck_assert(outbox_primary_down(&o)); /* leftovers: replay before writing direct */
    for (int i = 0; i < 300 && outbox_primary_down(&o); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(!outbox_primary_down(&o), "the replay thread did not drain the outbox");
    outbox_stop(&o);
    ck_assert_int_eq(count_rows(primary_path), 15);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

typedef struct found {
    char status[32];
} found;

static void on_process(void *ctx, const ald_process *p)
{
    snprintf(((found *)ctx)->status, sizeof ((found *)ctx)->status, "%s", p->status);
}

static void on_machine(void *ctx, const ald_machine *m)
{
    snprintf(((found *)ctx)->status, sizeof ((found *)ctx)->status, "%s", m->status);
}

static void on_command(void *ctx, const ald_command *c)
{
    snprintf(((found *)ctx)->status, sizeof ((found *)ctx)->status, "%s", c->status);
}

START_TEST(run_outcome_records_reach_the_primary_on_replay)
{
    const char *dir = test_tmpdir("outbox-outcome");
    char primary_path[600], fallback_path[600];
    snprintf(primary_path, sizeof primary_path, "%s/primary.db", dir);
    snprintf(fallback_path, sizeof fallback_path, "%s/fallback.db", dir);
    plugin_instance primary, fallback;
    create_store(&primary, "primary", primary_path, dir);
    create_store(&fallback, "fallback", fallback_path, dir);
    const ald_storage_vtable *p = storage_ops(&primary);
    /* a run in progress in the primary: command claimed, process running */
    char cmd[64], proc[64];
    ck_assert_int_eq(p->insert_command(primary.inst, MACHINE, "start_recipe",
                                       "{\"recipe_id\": \"b0000000-0000-4000-8000-000000000002\"}",
                                       cmd, sizeof cmd),
                     ALD_OK);
    ck_assert_int_eq(p->claim_command(primary.inst, cmd), ALD_OK);
    ald_process_start ps = {.struct_size = sizeof ps, .machine_id = MACHINE,
                            .recipe_id = "b0000000-0000-4000-8000-000000000002",
                            .start_time_ms = 1000};
    ck_assert_int_eq(p->create_process(primary.inst, &ps, proc, sizeof proc), ALD_OK);
    ald_machine_update busy = {.struct_size = sizeof busy, .machine_id = MACHINE,
                               .status = "processing", .process_id = proc};
    ck_assert_int_eq(p->set_machine_state(primary.inst, &busy), ALD_OK);

    /* the run ends while the primary is down: the records go to the outbox */
    outbox o;
    ck_assert_int_eq(outbox_start(&o, &primary, &fallback, storage_port_replay), 0);
    outbox_stop(&o);
    char json[400];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"status\":\"completed\",\"end_ms\":2000}",
             proc);
    ck_assert_int_eq(outbox_store_record(&o, "finish_process", json), ALD_OK);
    snprintf(json, sizeof json, "{\"machine_id\":\"%s\",\"status\":\"idle\"}", MACHINE);
    ck_assert_int_eq(outbox_store_record(&o, "machine_state", json), ALD_OK);
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"status\":\"completed\"}", cmd);
    ck_assert_int_eq(outbox_store_record(&o, "finish_command", json), ALD_OK);
    ck_assert_int_eq(outbox_store_record(&o, "no_such_kind", "{}"), ALD_OK);

    ck_assert_int_eq(outbox_replay_once(&o), 3); /* the unknown kind is skipped, not replayed */
    found f = {""};
    p->find_open_processes(primary.inst, MACHINE, on_process, &f);
    ck_assert_str_eq(f.status, ""); /* no process is open any more */
    p->get_machine(primary.inst, MACHINE, on_machine, &f);
    ck_assert_str_eq(f.status, "idle");
    p->get_command(primary.inst, cmd, on_command, &f);
    ck_assert_str_eq(f.status, "completed");
    int64_t depth = -1, oldest;
    storage_ops(&fallback)->outbox_stats(fallback.inst, &depth, &oldest);
    ck_assert_int_eq(depth, 0);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

/* ---- batched replay: a fake primary (a real SQLite store whose vtable
 * entries are wrapped) counts the calls and logs what it was given, in order */

#define CALL_LOG_MAX 64
static struct {
    ald_storage_vtable real;
    int single_calls, batch_calls, outcome_calls;
    int fail_batch_call; /* 1-based batch call to refuse (transiently), 0 = none */
    int64_t log[CALL_LOG_MAX]; /* batch timestamps, -1 for an outcome record */
    int logged;
} fake;

static void log_call(int64_t what)
{
    if (fake.logged < CALL_LOG_MAX)
        fake.log[fake.logged++] = what;
}

static ald_status fake_append(void *inst, const ald_sample_batch *b)
{
    fake.single_calls++;
    log_call(b->timestamp_ms);
    return fake.real.append_samples(inst, b);
}

static ald_status fake_append_many(void *inst, const ald_sample_batch *const *b, size_t n)
{
    if (++fake.batch_calls == fake.fail_batch_call)
        return ALD_ERR_TIMEOUT;
    for (size_t i = 0; i < n; i++)
        log_call(b[i]->timestamp_ms);
    return fake.real.append_sample_batches(inst, b, n);
}

static ald_status fake_finish_command(void *inst, const char *id, const char *status,
                                      const char *message)
{
    fake.outcome_calls++;
    log_call(-1);
    return fake.real.finish_command(inst, id, status, message);
}

/* Primary and fallback stores; the primary's samples and finish_command
 * calls go through the counting fakes (batched = keep append_sample_batches). */
static void open_fake_pair(const char *tag, plugin_instance *primary, plugin_instance *fallback,
                           outbox *o, char *primary_path, size_t len, int batched)
{
    const char *dir = test_tmpdir(tag);
    char fallback_path[600];
    snprintf(primary_path, len, "%s/primary.db", dir);
    snprintf(fallback_path, sizeof fallback_path, "%s/fallback.db", dir);
    create_store(primary, "primary", primary_path, dir);
    create_store(fallback, "fallback", fallback_path, dir);
    memset(&fake, 0, sizeof fake);
    ald_storage_vtable *vt = &primary->lib.vt.storage;
    fake.real = *vt;
    vt->append_samples = fake_append;
    vt->append_sample_batches = batched ? fake_append_many : NULL; /* NULL = a 1.0 plugin */
    vt->finish_command = fake_finish_command;
    ck_assert_int_eq(outbox_start(o, primary, fallback, storage_port_replay), 0);
    outbox_stop(o); /* rounds are driven by hand */
}

/* 5 samples records (t = 1000..5000), one finish_command, 5 more (6000..10000). */
static void store_backlog(outbox *o)
{
    for (int i = 0; i < 10; i++) {
        if (i == 5)
            ck_assert_int_eq(outbox_store_record(o, "finish_command",
                                                 "{\"id\": \"c-1\", \"status\": \"completed\"}"),
                             ALD_OK);
        ald_sample_batch b = batch_at(1000 + i * 1000);
        ck_assert_int_eq(outbox_store_samples(o, &b), ALD_OK);
    }
}

static int64_t outbox_depth(plugin_instance *fallback)
{
    int64_t depth = -1, oldest;
    storage_ops(fallback)->outbox_stats(fallback->inst, &depth, &oldest);
    return depth;
}

START_TEST(batched_replay_sends_runs_in_one_call_each_in_order)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-batched", &primary, &fallback, &o, path, sizeof path, 1);
    store_backlog(&o);
    ck_assert_int_eq(outbox_replay_once(&o), 11);
    ck_assert_int_eq(fake.batch_calls, 2); /* one per run of samples */
    ck_assert_int_eq(fake.single_calls, 0);
    ck_assert_int_eq(fake.outcome_calls, 1);
    const int64_t order[] = {1000, 2000, 3000, 4000, 5000, -1, 6000, 7000, 8000, 9000, 10000};
    ck_assert_int_eq(fake.logged, 11);
    for (int i = 0; i < 11; i++)
        ck_assert_int_eq(fake.log[i], order[i]);
    ck_assert_int_eq(outbox_depth(&fallback), 0);
    ck_assert_int_eq(count_rows(path), 30);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

START_TEST(a_refused_batch_is_kept_and_only_what_the_primary_took_is_acked)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-refused", &primary, &fallback, &o, path, sizeof path, 1);
    store_backlog(&o);
    fake.fail_batch_call = 2; /* the second run times out */
    ck_assert_int_eq(outbox_replay_once(&o), -1);
    ck_assert_int_eq(outbox_depth(&fallback), 5); /* first run + outcome acked */
    ck_assert_int_eq(count_rows(path), 15);
    ck_assert_int_eq(outbox_replay_once(&o), 5);
    ck_assert_int_eq(outbox_depth(&fallback), 0);
    ck_assert_int_eq(count_rows(path), 30); /* no loss, no duplicate */
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

START_TEST(a_replayed_batch_already_stored_adds_nothing)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-twice", &primary, &fallback, &o, path, sizeof path, 1);
    store_backlog(&o);
    /* the "crash": the primary took the first run but the ack never happened */
    ald_sample_batch b = batch_at(2000);
    ck_assert_int_eq(fake.real.append_samples(primary.inst, &b), ALD_OK);
    ck_assert_int_eq(outbox_replay_once(&o), 11);
    ck_assert_int_eq(count_rows(path), 30);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

/* Small records: the second round takes all that one group can carry (not
 * another 100), so a backlog of small records needs few requests. */
START_TEST(rounds_of_small_records_grow_to_one_full_group)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-grow", &primary, &fallback, &o, path, sizeof path, 1);
    for (int i = 0; i < 250; i++) {
        ald_sample_batch b = batch_at(1000 + i * 1000);
        ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    }
    ck_assert_int_eq(outbox_replay_once(&o), OUTBOX_REPLAY_BATCH); /* the first round */
    ck_assert_int_eq(fake.batch_calls, 1);
    ck_assert_int_eq(outbox_replay_once(&o), 250 - OUTBOX_REPLAY_BATCH); /* all the rest */
    ck_assert_int_eq(fake.batch_calls, 2);
    for (int i = 0; i < CALL_LOG_MAX; i++)
        ck_assert_int_eq(fake.log[i], 1000 + i * 1000); /* in order */
    ck_assert_int_eq(outbox_depth(&fallback), 0);
    ck_assert_int_eq(count_rows(path), 750);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

/* Large records (5000 tags, ~250 KB each): a round holds at most twice a
 * group's bytes, and once sized, every round is exactly one call. */
START_TEST(rounds_of_large_records_shrink_to_one_full_group)
{
    enum { TAGS = 5000, RECORDS = 40 };
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-shrink", &primary, &fallback, &o, path, sizeof path, 1);
    ald_sample *many = calloc(TAGS, sizeof *many);
    char (*ids)[40] = calloc(TAGS, sizeof *ids);
    ck_assert(many && ids);
    for (int i = 0; i < TAGS; i++) {
        snprintf(ids[i], sizeof ids[i], "a0000000-0000-4000-8000-%012d", i);
        many[i] = (ald_sample){ids[i], 100.5 + i, NAN};
    }
    for (int i = 0; i < RECORDS; i++) {
        ald_sample_batch b = batch_at(1000 + i * 1000);
        b.samples = many;
        b.count = TAGS;
        ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    }
    int first = outbox_replay_once(&o), done = first, rounds = 1;
    ck_assert_int_gt(first, 0);
    ck_assert_int_lt(first, RECORDS); /* 8 MiB of held payload ends the first round */
    while (done < RECORDS) {
        int calls = fake.batch_calls, n = outbox_replay_once(&o);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(fake.batch_calls, calls + 1); /* one round, one request */
        done += n;
        rounds++;
    }
    ck_assert_int_eq(done, RECORDS);
    ck_assert_int_le(rounds, 3);
    ck_assert_int_eq(outbox_depth(&fallback), 0);
    ck_assert_int_eq(count_rows(path), (long)RECORDS * TAGS);
    free(ids);
    free(many);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

START_TEST(a_primary_without_the_batch_operation_is_replayed_record_by_record)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-old", &primary, &fallback, &o, path, sizeof path, 0);
    store_backlog(&o);
    ck_assert_int_eq(outbox_replay_once(&o), 11);
    ck_assert_int_eq(fake.single_calls, 10);
    ck_assert_int_eq(fake.batch_calls, 0);
    ck_assert_int_eq(fake.log[5], -1); /* the outcome kept its place */
    ck_assert_int_eq(count_rows(path), 30);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

START_TEST(a_bad_record_in_a_run_is_skipped_alone)
{
    plugin_instance primary, fallback;
    outbox o;
    char path[600];
    open_fake_pair("outbox-bad", &primary, &fallback, &o, path, sizeof path, 1);
    ald_sample_batch b = batch_at(1000);
    ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    ck_assert_int_eq(outbox_store_record(&o, "samples", "{not json"), ALD_OK);
    b = batch_at(2000);
    ck_assert_int_eq(outbox_store_samples(&o, &b), ALD_OK);
    ck_assert_int_eq(outbox_replay_once(&o), 2); /* the bad one is skipped, not replayed */
    ck_assert_int_eq(outbox_depth(&fallback), 0);
    ck_assert_int_eq(count_rows(path), 6);
    plugin_instance_destroy(&fallback);
    plugin_instance_destroy(&primary);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("store and forward");
    tcase_add_test(tc, encoding_round_trips);
    tcase_add_test(tc, outage_loses_nothing_and_duplicates_nothing);
    tcase_add_test(tc, records_survive_a_restart_and_replay_on_start);
    tcase_add_test(tc, run_outcome_records_reach_the_primary_on_replay);
    tcase_add_test(tc, batched_replay_sends_runs_in_one_call_each_in_order);
    tcase_add_test(tc, a_refused_batch_is_kept_and_only_what_the_primary_took_is_acked);
    tcase_add_test(tc, a_replayed_batch_already_stored_adds_nothing);
    tcase_add_test(tc, rounds_of_small_records_grow_to_one_full_group);
    tcase_add_test(tc, rounds_of_large_records_shrink_to_one_full_group);
    tcase_add_test(tc, a_primary_without_the_batch_operation_is_replayed_record_by_record);
    tcase_add_test(tc, a_bad_record_in_a_run_is_skipped_alone);
    tcase_add_test(tc, a_failing_fallback_is_one_error_per_episode_and_never_claimed);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
