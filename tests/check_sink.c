/*
 * check_sink.c - the sink role (engine/sink.c): a stalled sink never delays
 * the others (each has its own bounded queue, the oldest batch is dropped
 * and counted), a failing sink's errors are counted per instance, and a
 * stalled sink catches up once it moves again. Real plugins: the stalling
 * fixture and the storage-jsonl archive.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "ports/plugin_instance.h"
#include "testutil.h"

#define OFFERED 200

static uint64_t counter(sink *k, uint64_t *field)
{
    pthread_mutex_lock(&k->lock);
    uint64_t v = *field;
    pthread_mutex_unlock(&k->lock);
    return v;
}

/* Waits (generous bound, never a timing assertion) until cond holds. */
#define WAIT_UNTIL(cond)                                                                     \
    for (int waited_ = 0; !(cond) && waited_ < 6000; waited_++) {                            \
        struct timespec ts_ = {0, 10 * 1000000L};                                            \
        nanosleep(&ts_, NULL);                                                               \
    }

static int file_lines(const char *dir)
{
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/samples-2024-12-04.jsonl", dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    return n;
}

START_TEST(a_stalled_sink_delays_no_other_and_catches_up)
{
    char stall[600], dir[512], settings[1200];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("sink"));
    snprintf(stall, sizeof stall, "%s/stall", dir);
    FILE *f = fopen(stall, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(settings, sizeof settings, "stall_file = \"%s\";", stall);
    char jsonl[700];
    snprintf(jsonl, sizeof jsonl, "dir = \"%s\";", dir);
    char fx[1024], archive_so[1024]; /* test_buildpath() reuses one buffer */
    snprintf(fx, sizeof fx, "%s", test_buildpath("tests/fixtures/plugins/.libs/fx-sink.so"));
    snprintf(archive_so, sizeof archive_so, "%s",
             test_buildpath("plugins/storage-jsonl/.libs/storage-jsonl.so"));
    plugin_conf confs[3] = {
        {.name = "stalled", .role = ROLE_SINK, .active = 1, .settings = test_config(settings),
         .plugin = fx},
        {.name = "archive", .role = ROLE_SINK, .active = 1, .settings = test_config(jsonl),
         .plugin = archive_so},
        {.name = "broken", .role = ROLE_SINK, .active = 1, .settings = test_config("fail = true;"),
         .plugin = fx},
    };
    engine_config cfg = {.plugins = confs, .plugin_count = 3};
    sink_set set;
    char err[1024] = "";
    ck_assert_msg(sink_set_create(&set, &cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sink_set_start(&set, "m-1", err, sizeof err) == 0, "%s", err);
    sink *stalled = &set.items[0], *archive = &set.items[1], *broken = &set.items[2];

    ald_sample s = {"p-1", 1.0, 2.0};
    ald_sample_batch b = {.struct_size = sizeof b, .samples = &s, .count = 1,
                          .timestamp_ms = 1733300000000};
    /* Paced like the writer (a batch per logger cycle): each offer returns
     * although one sink is stuck, and the archive keeps up with every one. */
    for (uint64_t i = 0; i < OFFERED; i++) {
        sinks_offer(&b);
        WAIT_UNTIL(counter(archive, &archive->batches) == i + 1);
    }
    ck_assert_uint_eq(counter(archive, &archive->batches), OFFERED);
    ck_assert_int_eq(file_lines(dir), OFFERED);
    WAIT_UNTIL(counter(broken, &broken->errors) + counter(broken, &broken->dropped) == OFFERED);
    ck_assert_uint_eq(counter(broken, &broken->errors) + counter(broken, &broken->dropped),
                      OFFERED);
    ck_assert_uint_gt(counter(broken, &broken->errors), 0);
    /* the stalled one: one batch in its plugin, a full queue, the rest dropped */
    ck_assert_uint_eq(counter(stalled, &stalled->batches), 0);
    uint64_t dropped = counter(stalled, &stalled->dropped);
    ck_assert_msg(dropped >= OFFERED - SINK_QUEUE_BATCHES - 1 &&
                      dropped <= OFFERED - SINK_QUEUE_BATCHES,
                  "dropped %llu", (unsigned long long)dropped);

    unlink(stall); /* it moves again and drains its queue */
    WAIT_UNTIL(counter(stalled, &stalled->batches) + dropped == OFFERED);
    ck_assert_uint_eq(counter(stalled, &stalled->batches) + counter(stalled, &stalled->dropped),
                      OFFERED);
    sink_set_destroy(&set);
}
END_TEST

/* A sink that keeps progress (storage-jsonl) gets the executor's updates;
 * one that does not (the fixture) is skipped, not failed. */
START_TEST(progress_reaches_the_sinks_that_keep_it)
{
    char dir[512], jsonl[700], fx[1024], archive_so[1024];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("sinkprog"));
    snprintf(jsonl, sizeof jsonl, "dir = \"%s\";", dir);
    snprintf(fx, sizeof fx, "%s", test_buildpath("tests/fixtures/plugins/.libs/fx-sink.so"));
    snprintf(archive_so, sizeof archive_so, "%s",
             test_buildpath("plugins/storage-jsonl/.libs/storage-jsonl.so"));
    plugin_conf confs[2] = {
        {.name = "archive", .role = ROLE_SINK, .active = 1, .settings = test_config(jsonl),
         .plugin = archive_so},
        {.name = "samples-only", .role = ROLE_SINK, .active = 1, .settings = test_config(""),
         .plugin = fx},
    };
    engine_config cfg = {.plugins = confs, .plugin_count = 2};
    sink_set set;
    char err[1024] = "";
    ck_assert_msg(sink_set_create(&set, &cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sink_set_start(&set, "m-1", err, sizeof err) == 0, "%s", err);
    char name[32];
    snprintf(name, sizeof name, "step-%d", 7);
    ald_process_state st = {.struct_size = sizeof st, .execution_id = "run-9",
                            .current_overall_step = 2, .total_overall_steps = 5,
                            .current_step_type = "purge", .current_step_name = name,
                            .last_updated_ms = 1733300000000};
    sinks_offer_progress(&st);
    memset(name, 'x', sizeof name - 1); /* the caller's strings may change at once */
    sink_set_destroy(&set);              /* drains */
    char path[1024], line[512] = "";
    snprintf(path, sizeof path, "%s/samples-2024-12-04.jsonl", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, "{\"t\":1733300000000,\"progress\":\"run-9\",\"step\":2,\"of\":5,"
                           "\"type\":\"purge\",\"name\":\"step-7\"}\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sink");
    TCase *tc = tcase_create("role");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_stalled_sink_delays_no_other_and_catches_up);
    tcase_add_test(tc, progress_reaches_the_sinks_that_keep_it);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
