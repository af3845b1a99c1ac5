/*
 * check_sdk_last_error.c - last_error() is per calling thread on a
 * thread-safe PLC plugin (ald/plc.h): the text a thread reads right after
 * its failed write_tag() describes that write, even when another thread's
 * read_all() failed in between. Against the real plc-sim plugin, loaded
 * through the engine's loader.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ports/plugin_instance.h"
#include "testutil.h"

static plugin_instance pi;
static pthread_barrier_t step;
static char reader_text[256];

static void *failing_reader(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&step); /* after the writer's failure */
    ald_tag_value out[3];
    ck_assert_int_eq(plc_ops(&pi)->read_all(pi.inst, out, 3), ALD_ERR_INVALID);
    snprintf(reader_text, sizeof reader_text, "%s", plugin_last_error(&pi));
    pthread_barrier_wait(&step); /* the writer reads its text now */
    return NULL;
}

START_TEST(each_thread_reads_its_own_calls_error)
{
    plugin_conf conf = {.name = "sim", .plugin = (char *)test_buildpath(
                                           "plugins/plc-sim/.libs/plc-sim.so"),
                        .role = ROLE_PLC, .active = 1, .settings = test_config("seed = 1;")};
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(&pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert(pi.lib.desc.capabilities & ALD_CAP_PLC_THREAD_SAFE);
    ck_assert_int_eq(plugin_instance_start(&pi), ALD_OK);
    ald_tag t = {.struct_size = sizeof t, .name = "v1", .read_address = "coil:0",
                 .write_address = "coil:0", .type = ALD_TYPE_BOOL};
    const ald_tag *tags[] = {&t};
    ck_assert_int_eq(plc_ops(&pi)->set_tags(pi.inst, tags, 1), ALD_OK);

    pthread_barrier_init(&step, NULL, 2);
    pthread_t reader;
    pthread_create(&reader, NULL, failing_reader, NULL);
    ck_assert_int_eq(plc_ops(&pi)->write_tag(pi.inst, 99, 1.0), ALD_ERR_INVALID);
    pthread_barrier_wait(&step); /* the reader fails now */
    pthread_barrier_wait(&step);
    char writer_text[256];
    snprintf(writer_text, sizeof writer_text, "%s", plugin_last_error(&pi));
    pthread_join(reader, NULL);
    pthread_barrier_destroy(&step);

    ck_assert_str_eq(writer_text, "write_tag: index 99 is outside the set of 1 tags");
    ck_assert_str_eq(reader_text, "read_all: 3 outputs for a set of 1 tags");
    plugin_instance_destroy(&pi);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sdk_last_error");
    TCase *tc = tcase_create("per thread");
    tcase_add_test(tc, each_thread_reads_its_own_calls_error);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
