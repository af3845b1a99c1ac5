/* check_core.c - tag map, batch queue, logger scheduling and hand-off, writer
 * conversion. No timing assertions: the logger is driven cycle by cycle. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "batchq.h"
#include "engine.h"
#include "executor.h"
#include "log.h"
#include "logger.h"
#include "ports/plugin_instance.h"
#include "sdnotify.h"
#include "state.h"
#include "tagmap.h"
#include "testutil.h"
#include "writer.h"

static ald_parameter param(const char *id, const char *component, const char *name,
                           const char *data_type, const char *rtype, int64_t raddr,
                           const char *wtype, int64_t waddr, int writable)
{
    return (ald_parameter){.struct_size = sizeof(ald_parameter), .id = id,
                           .component_name = component, .name = name,
                           .data_type = data_type, .read_type = rtype, .read_address = raddr,
                           .write_type = wtype, .write_address = waddr,
                           .is_writable = writable, .min_value = 0, .max_value = 500,
                           .current_value = NAN, .set_value = NAN};
}

/* A demo-like map: a valve, an MFC (reading + separate setpoint), a gauge,
 * and a row without any address. */
static void build_demo_map(tagmap *m)
{
    tagmap_init(m);
    ald_parameter rows[] = {
        param("v1", "Valve 1", "valve_state", "binary", "coil", 0, "coil", 0, 1),
        param("mfc1", "MFC 1", "flow_rate", "float", "input_register", 0, "holding_register",
              0, 1),
        param("pg1", "Pressure Gauge 1", "pressure", "float", "input_register", 4, NULL, -1,
              0),
        param("ghost", "Nothing", "x", "float", NULL, -1, NULL, -1, 0),
        param("far", "Far Gauge", "x", "float", "input_register", 70000, NULL, -1, 0),
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        tagmap_add_parameter(m, &rows[i]);
    ck_assert_int_eq(tagmap_finish(m), 0);
}

START_TEST(tagmap_maps_rows_to_tags)
{
    tagmap m;
    build_demo_map(&m);
    ck_assert_uint_eq(m.param_count, 5);
    ck_assert_uint_eq(m.tag_count, 4); /* v1, mfc1, mfc1#setpoint, pg1 */
    ck_assert_uint_eq(m.skipped, 2);   /* ghost (no address), far (past 65535) */
    ck_assert_str_eq(m.tags[0].read_address, "coil:0");
    ck_assert_str_eq(m.tags[0].write_address, "coil:0");
    ck_assert_int_eq(m.tags[0].type, ALD_TYPE_BOOL);
    ck_assert_str_eq(m.tags[1].read_address, "input_register:0");
    ck_assert_ptr_null(m.tags[1].write_address);
    ck_assert_int_eq(m.tags[1].type, ALD_TYPE_F32);
    ck_assert_str_eq(m.tags[2].name, "mfc1#setpoint");
    ck_assert_str_eq(m.tags[2].read_address, "holding_register:0");
    ck_assert_str_eq(m.tags[2].write_address, "holding_register:0");
    ck_assert_ptr_null(m.tags[3].write_address);
    const tag_param *mfc = tagmap_find(&m, "mfc1");
    ck_assert_ptr_nonnull(mfc);
    ck_assert_uint_eq(mfc->value_tag, 1);
    ck_assert_uint_eq(mfc->setpoint_tag, 2);
    ck_assert_uint_eq(mfc->write_tag, 2);
    ck_assert_ptr_eq(m.tag_ptrs[2], &m.tags[2]);
    tagmap_free(&m);
}
END_TEST

START_TEST(tagmap_finds_valves_by_number)
{
    tagmap m;
    build_demo_map(&m);
    const tag_param *v = tagmap_valve(&m, 1);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->id, "v1");
    ck_assert_uint_eq(v->write_tag, 0);
    ck_assert_ptr_null(tagmap_valve(&m, 2));
    tagmap_free(&m);
}
END_TEST

START_TEST(tagmap_schema_words)
{
    ck_assert_int_eq(tagmap_data_type("int32", "holding_register"), ALD_TYPE_I32);
    ck_assert_int_eq(tagmap_data_type("int16", "input_register"), ALD_TYPE_I16);
    ck_assert_int_eq(tagmap_data_type("float", "coil"), ALD_TYPE_BOOL);
    ck_assert_int_eq(tagmap_data_type("float", "input_register"), ALD_TYPE_F32);
    ck_assert(tagmap_is_area_word("discrete_input"));
    ck_assert(!tagmap_is_area_word("register"));
}
END_TEST

static ald_tag_value vals[3];

static void fill(double base)
{
    for (int i = 0; i < 3; i++)
        vals[i] = (ald_tag_value){base + i, ALD_OK};
}

START_TEST(batchq_is_fifo_and_copies)
{
    batchq q;
    ck_assert_int_eq(batchq_init(&q, 4, 3), 0);
    fill(10);
    ck_assert_int_eq(batchq_push(&q, 1000, 1, vals, 3), 0);
    fill(20); /* the queue holds a copy: changing the source changes nothing */
    ck_assert_int_eq(batchq_push(&q, 2000, 2, vals, 3), 0);
    ald_tag_value out_values[3];
    sample_batch out = {.values = out_values};
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 1);
    ck_assert_int_eq(out.timestamp_ms, 1000);
    ck_assert_double_eq(out.values[2].value, 12);
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 1);
    ck_assert_int_eq(out.timestamp_ms, 2000);
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 0); /* empty: timeout */
    batchq_destroy(&q);
}
END_TEST

START_TEST(batchq_full_drops_oldest_and_counts)
{
    batchq q;
    ck_assert_int_eq(batchq_init(&q, 2, 3), 0);
    fill(0);
    ck_assert_int_eq(batchq_push(&q, 1, 1, vals, 3), 0);
    ck_assert_int_eq(batchq_push(&q, 2, 2, vals, 3), 0);
    ck_assert_int_eq(batchq_push(&q, 3, 3, vals, 3), 1);
    ck_assert_uint_eq(q.dropped, 1);
    ald_tag_value out_values[3];
    sample_batch out = {.values = out_values};
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 1);
    ck_assert_int_eq(out.timestamp_ms, 2); /* 1 was dropped */
    batchq_close(&q);
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 1); /* closed: still drains */
    ck_assert_int_eq(out.timestamp_ms, 3);
    ck_assert_int_eq(batchq_pop(&q, &out, 1000), -1);
    batchq_destroy(&q);
}
END_TEST

START_TEST(first_cycle_is_mid_second_on_the_wall_clock)
{
    const uint64_t s = 1000000000u;
    /* wall clock at x.200 s: the first cycle is 300 ms away (x.500) */
    ck_assert_uint_eq(logger_first_deadline(7 * s, 1000 * (int64_t)s + 200000000, s),
                      7 * s + 300000000u);
    /* at x.800: next second's .500, 700 ms away */
    ck_assert_uint_eq(logger_first_deadline(7 * s, 1000 * (int64_t)s + 800000000, s),
                      7 * s + 700000000u);
    /* exactly x.500: now */
    ck_assert_uint_eq(logger_first_deadline(7 * s, 1000 * (int64_t)s + 500000000, s), 7 * s);
}
END_TEST

START_TEST(sdnotify_sends_one_datagram_to_the_notify_socket)
{
    char path[100]; /* fits sun_path */
    snprintf(path, sizeof path, "%.80s/notify.sock", test_tmpdir("sdnotify"));
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, path, strlen(path) + 1);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(sdnotify_send("READY=1"), 0); /* outside systemd: nothing */
    setenv("NOTIFY_SOCKET", path, 1);
    ck_assert_int_eq(sdnotify_send("READY=1\nSTATUS=logging"), 1);
    char buf[128] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(buf, "READY=1\nSTATUS=logging");
    close(fd);
    setenv("WATCHDOG_USEC", "10000000", 1);
    ck_assert_uint_eq(sdnotify_watchdog_ns(), 10000000000ull);
    setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
    ck_assert_uint_eq(sdnotify_watchdog_ns(), 0);
}
END_TEST

START_TEST(watchdog_is_fed_only_while_logger_and_executor_keep_time)
{
    const uint64_t s = 1000000000u;
    state_init(s);
    engine e;
    memset(&e, 0, sizeof e);
    uint64_t now = g_state.start_mono_ns + 60 * s;
    atomic_store(&g_state.logging_running, 1);
    atomic_store(&g_state.last_cycle_mono_ns, now - s);
    ck_assert(engine_is_alive(&e, now));
    atomic_store(&g_state.last_cycle_mono_ns, now - 4 * s); /* stalled: 3 intervals */
    ck_assert(!engine_is_alive(&e, now));
    atomic_store(&g_state.last_cycle_mono_ns, now - s);
    atomic_store(&g_state.logging_running, 0); /* the thread is gone */
    ck_assert(!engine_is_alive(&e, now));
    atomic_store(&g_state.logging_running, 1);
    /* a run whose thread is 5 s past its next deadline is stuck */
    e.exec_ready = 1;
    atomic_store(&e.exec.busy, 1);
    e.exec.sched_ns = now - 5 * s;
    ck_assert(!engine_is_alive(&e, now));
    e.exec.sched_ns = now + 20 * s; /* a long purge: its deadline is ahead */
    ck_assert(engine_is_alive(&e, now));
    atomic_store(&e.exec.busy, 0);
    e.exec.sched_ns = 0; /* idle: nothing to keep */
    ck_assert(engine_is_alive(&e, now));
}
END_TEST

START_TEST(deadlines_do_not_drift_or_burst)
{
    const uint64_t s = 1000000000u;
    uint64_t skipped;
    /* on time: next deadline is exactly one interval later */
    ck_assert_uint_eq(logger_next_deadline(10 * s, 10 * s + 5000, s, &skipped), 11 * s);
    ck_assert_uint_eq(skipped, 0);
    /* a read that overran 2.5 intervals: two deadlines skipped, no catch-up burst */
    ck_assert_uint_eq(logger_next_deadline(10 * s, 12 * s + s / 2, s, &skipped), 13 * s);
    ck_assert_uint_eq(skipped, 2);
    /* exactly on the next deadline: it is already due, so skip it */
    ck_assert_uint_eq(logger_next_deadline(10 * s, 11 * s, s, &skipped), 12 * s);
    ck_assert_uint_eq(skipped, 1);
}
END_TEST

START_TEST(late_means_more_than_a_tenth)
{
    const uint64_t s = 1000000000u;
    ck_assert_int_eq(logger_is_late(s, s + s / 20, s), 0);
    ck_assert_int_eq(logger_is_late(s, s + s / 5, s), 1);
    ck_assert_int_eq(logger_is_late(s, s - 10, s), 0);
}
END_TEST

static void create_fixture_plc(plugin_instance *pi)
{
    plugin_conf conf = {.name = "fx",
                        .plugin = (char *)test_buildpath("tests/fixtures/plugins/.libs/fx-good.so"),
                        .role = ROLE_PLC, .active = 1, .settings = test_config("")};
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
}

START_TEST(log_escape_turns_control_characters_into_escapes)
{
    char out[64];
    ck_assert_uint_eq(log_escape(out, sizeof out, "a\nb\rc\td\x01\x7f\xc3\xa9"), 20);
    ck_assert_str_eq(out, "a\\nb\\rc\\td\\x01\\x7f\xc3\xa9");
    /* an escape that does not fit is left out whole, never cut in half */
    ck_assert_uint_eq(log_escape(out, 4, "ab\n"), 2);
    ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(logger_cycle_hands_a_batch_to_the_queue)
{
    state_init(1000000000u);
    tagmap m;
    build_demo_map(&m);
    free((char *)m.tags[3].read_address); /* make the gauge fail at the PLC */
    m.tags[3].read_address = strdup("fail:4");
    plugin_instance plc;
    create_fixture_plc(&plc);
    ck_assert_int_eq(plc_ops(&plc)->set_tags(plc.inst, m.tag_ptrs, m.tag_count), ALD_OK);
    batchq q;
    ck_assert_int_eq(batchq_init(&q, 8, m.tag_count), 0);
    param_logger lg = {.plc = &plc, .tags = &m, .queue = &q, .interval_ns = 1000000000u};
    ald_tag_value buf[4];
    lg.values = buf;

    logger_cycle(&lg, 42);
    logger_cycle(&lg, 43);
    ck_assert_uint_eq(batchq_length(&q), 2);
    ck_assert_uint_eq(atomic_load(&g_state.cycles_total), 2);
    ck_assert_uint_eq(atomic_load(&g_state.plc_errors_total), 2);
    ck_assert_int_eq(atomic_load(&g_state.plc_connected), 1);

    ald_tag_value out_values[4];
    sample_batch out = {.values = out_values};
    ck_assert_int_eq(batchq_pop(&q, &out, 0), 1);
    ck_assert_uint_eq(out.count, 4);
    ck_assert_uint_eq(out.mono_ns, 42);
    ck_assert_double_eq(out.values[1].value, 1.5 + 1); /* tag 1, first read */
    ck_assert_int_eq(out.values[3].quality, ALD_ERR_PROTOCOL);

    /* the writer turns it into samples: gauge dropped, MFC carries its setpoint */
    ald_sample samples[4];
    ald_parameter_value live[4];
    size_t live_count;
    size_t n = writer_build(&m, &out, samples, live, &live_count);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(samples[0].parameter_id, "v1");
    ck_assert_msg(isnan(samples[0].set_point), "a valve has no separate setpoint");
    ck_assert_str_eq(samples[1].parameter_id, "mfc1");
    ck_assert_double_eq(samples[1].value, 2.5);
    ck_assert_double_eq(samples[1].set_point, 3.0 + 1); /* tag 2 */
    ck_assert_uint_eq(live_count, 2);
    plugin_instance_destroy(&plc);
    batchq_destroy(&q);
    tagmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, tagmap_maps_rows_to_tags);
    tcase_add_test(tc, tagmap_finds_valves_by_number);
    tcase_add_test(tc, tagmap_schema_words);
    tcase_add_test(tc, batchq_is_fifo_and_copies);
    tcase_add_test(tc, batchq_full_drops_oldest_and_counts);
    tcase_add_test(tc, deadlines_do_not_drift_or_burst);
    tcase_add_test(tc, first_cycle_is_mid_second_on_the_wall_clock);
    tcase_add_test(tc, watchdog_is_fed_only_while_logger_and_executor_keep_time);
    tcase_add_test(tc, sdnotify_sends_one_datagram_to_the_notify_socket);
    tcase_add_test(tc, late_means_more_than_a_tenth);
    tcase_add_test(tc, logger_cycle_hands_a_batch_to_the_queue);
    tcase_add_test(tc, log_escape_turns_control_characters_into_escapes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
