/*
 * check_plausibility.c - implausible readings: the rule, the one-read scan
 * --doctor uses (most floats absurd = suspect the byte order), and the
 * writer's hook counting every implausible reading and logging it once per
 * parameter per hour (stderr captured and counted).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "plausibility.h"
#include "testutil.h"

START_TEST(the_rule)
{
    ck_assert(!plausibility_is_implausible(150, 0, 200, ALD_TYPE_F32));
    ck_assert(!plausibility_is_implausible(-150, 0, 200, ALD_TYPE_F32)); /* within one span */
    ck_assert(plausibility_is_implausible(-250, 0, 200, ALD_TYPE_F32));
    ck_assert(plausibility_is_implausible(1e30, 0, 200, ALD_TYPE_F32));
    ck_assert(plausibility_is_implausible(INFINITY, NAN, NAN, ALD_TYPE_F32));
    /* a swapped float is often a subnormal: absurd even inside 0..200 */
    ck_assert(plausibility_is_implausible(2.4e-41, 0, 200, ALD_TYPE_F32));
    ck_assert(!plausibility_is_implausible(0, 0, 200, ALD_TYPE_F32));
    ck_assert(!plausibility_is_implausible(2.4e-41, 0, 200, ALD_TYPE_I32)); /* not a float */
    ck_assert(!plausibility_is_implausible(1e30, NAN, 200, ALD_TYPE_F32)); /* one limit: no scale */
}
END_TEST

static void add(tagmap *m, const char *id, const char *type, int64_t addr, double min,
                double max)
{
    ald_parameter p = {.struct_size = sizeof p, .id = id, .component_id = "c",
                       .component_name = "MFC", .name = id, .data_type = type,
                       .read_type = "holding_register", .read_address = addr,
                       .write_address = -1, .min_value = min, .max_value = max,
                       .current_value = NAN, .set_value = NAN};
    tagmap_add_parameter(m, &p);
}

/* Three float tags (0..200) and one int16 valve (0..1). */
static void build_map(tagmap *m)
{
    tagmap_init(m);
    add(m, "f1", "float", 0, 0, 200);
    add(m, "f2", "float", 2, 0, 200);
    add(m, "f3", "float", 4, 0, 200);
    add(m, "v1", "int16", 6, 0, 1);
    ck_assert_int_eq(tagmap_finish(m), 0);
    ck_assert_uint_eq(m->tag_count, 4);
}

START_TEST(scan_points_at_the_byte_order_when_most_floats_are_absurd)
{
    tagmap m;
    build_map(&m);
    ald_tag_value good[4] = {{100.5, ALD_OK}, {20, ALD_OK}, {0, ALD_OK}, {1, ALD_OK}};
    plausibility_report r;
    plausibility_scan(&m, good, 4, &r);
    ck_assert_uint_eq(r.checked, 4);
    ck_assert_uint_eq(r.implausible, 0);
    ck_assert_int_eq(r.byte_order_suspect, 0);
    ald_tag_value swapped[4] = {{2.4e-41, ALD_OK}, {-3.7e19, ALD_OK}, {0, ALD_OK},
                                {1, ALD_OK}};
    plausibility_scan(&m, swapped, 4, &r);
    ck_assert_uint_eq(r.float_tags, 2); /* the 0 reads 0 in every order: no evidence */
    ck_assert_uint_eq(r.float_implausible, 2);
    ck_assert_int_eq(r.byte_order_suspect, 1);

    ald_tag_value one_bad[4] = {{1e30, ALD_OK}, {20, ALD_OK}, {5, ALD_ERR_TIMEOUT},
                                {1, ALD_OK}};
    plausibility_scan(&m, one_bad, 4, &r);
    ck_assert_uint_eq(r.checked, 3); /* the unread one is not judged */
    ck_assert_uint_eq(r.implausible, 1);
    ck_assert_int_eq(r.byte_order_suspect, 0); /* one of two floats: not "most" */
    tagmap_free(&m);
}
END_TEST

/* The demo tool at rest with a wrong byte order: three absurd flows and
 * pressures, three zero setpoints. Zeros read the same in every order, so
 * they must not outvote the absurd readings. */
START_TEST(zero_floats_do_not_outvote_absurd_ones)
{
    tagmap m;
    tagmap_init(&m);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "f%d", i);
        add(&m, id, "float", i * 2, 0, 500);
    }
    ck_assert_int_eq(tagmap_finish(&m), 0);
    ald_tag_value at_rest[6] = {{-49836.5, ALD_OK}, {-1.2e7, ALD_OK}, {-3.2e9, ALD_OK},
                                {0, ALD_OK},        {0, ALD_OK},      {0, ALD_OK}};
    plausibility_report r;
    plausibility_scan(&m, at_rest, 6, &r);
    ck_assert_uint_eq(r.implausible, 3);
    ck_assert_uint_eq(r.float_tags, 3);
    ck_assert_int_eq(r.byte_order_suspect, 1);
    tagmap_free(&m);
}
END_TEST

/* f32 bits of v with the 16-bit words exchanged: what a low-word-first PLC
 * gives a high-word-first reader. */
static double words_swapped(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    b = b << 16 | b >> 16;
    memcpy(&v, &b, sizeof v);
    return v;
}

START_TEST(order_hint_names_the_swap_that_makes_the_floats_plausible)
{
    tagmap m;
    build_map(&m); /* three floats 0..200, one int16 */
    /* Noisy readings: a swapped word of noise often lands small but "in
     * range", which is why the hint, not the count, finds the order. */
    float real[3] = {101.37f, 19.8312f, 150.004f};
    ald_tag_value read[4] = {{words_swapped(real[0]), ALD_OK},
                             {words_swapped(real[1]), ALD_OK},
                             {words_swapped(real[2]), ALD_OK},
                             {1, ALD_OK}};
    plausibility_hint h;
    plausibility_order_hint(&m, read, 4, &h);
    ck_assert_uint_eq(h.floats, 3);
    ck_assert_int_eq(h.best, PLAUSIBILITY_SWAP_WORDS);
    ck_assert_uint_eq(h.plausible_best, 3);
    ck_assert_uint_lt(h.plausible_now, 3);
    /* Read right: nothing to suggest. */
    ald_tag_value right[4] = {{real[0], ALD_OK}, {real[1], ALD_OK}, {real[2], ALD_OK},
                              {1, ALD_OK}};
    plausibility_order_hint(&m, right, 4, &h);
    ck_assert_int_eq(h.best, PLAUSIBILITY_SWAP_NONE);
    ck_assert_uint_eq(h.plausible_now, 3);
    tagmap_free(&m);
}
END_TEST

/* Lines of the captured stderr that name the plausibility component. */
static int count_log_lines(FILE *f)
{
    fflush(stderr);
    rewind(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "[plausibility]") != NULL;
    return n;
}

START_TEST(observe_counts_every_reading_and_logs_once_per_parameter_per_hour)
{
    tagmap m;
    build_map(&m);
    FILE *capture = tmpfile();
    ck_assert_ptr_nonnull(capture);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    ck_assert_int_eq(plausibility_start(&m), 0);
    ald_sample s[4] = {{m.params[0].id, 1e30, NAN}, {m.params[1].id, 20, NAN},
                       {m.params[2].id, -1e20, NAN}, {m.params[3].id, 1, NAN}};
    const int64_t t0 = 1790000000000;
    for (int i = 0; i < 10; i++)
        plausibility_observe(&m, s, 4, t0 + i * 1000);
    plausibility_observe(&m, s, 4, t0 + 9000); /* a retried batch counts once */
    int lines_first_hour = count_log_lines(capture);
    plausibility_observe(&m, s, 4, t0 + PLAUSIBILITY_LOG_INTERVAL_MS + 1);
    int lines_after_an_hour = count_log_lines(capture);
    plausibility_report r;
    plausibility_summary(&r);
    plausibility_stop();
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(capture);
    ck_assert_int_eq(lines_first_hour, 2);    /* f1 and f3, once each */
    ck_assert_int_eq(lines_after_an_hour, 4); /* and once more each an hour later */
    ck_assert_uint_eq(r.total, 22);           /* 11 batches x 2 implausible */
    ck_assert_uint_eq(r.implausible, 2);
    ck_assert_int_eq(r.byte_order_suspect, 1);
    char *text = metrics_render(NULL);
    ck_assert_msg(strstr(text, "\nald_implausible_readings_total 22\n"), "%s", text);
    ck_assert_msg(strstr(text, "\nald_implausible_parameters 2\n"), "%s", text);
    free(text);
    tagmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plausibility");
    TCase *tc = tcase_create("plausibility");
    tcase_add_test(tc, the_rule);
    tcase_add_test(tc, scan_points_at_the_byte_order_when_most_floats_are_absurd);
    tcase_add_test(tc, zero_floats_do_not_outvote_absurd_ones);
    tcase_add_test(tc, order_hint_names_the_swap_that_makes_the_floats_plausible);
    tcase_add_test(tc, observe_counts_every_reading_and_logs_once_per_parameter_per_hour);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
