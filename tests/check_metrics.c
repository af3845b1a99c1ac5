/* check_metrics.c - the metric registry, its Prometheus text, procstat and the
 * standard engine families (checked with promtool). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "procstat.h"
#include "state.h"
#include "stdmetrics.h"
#include "testutil.h"

static void setup(void)
{
    metrics_reset();
    state_init(1000000000u);
}

static void teardown(void)
{
    metrics_reset();
}

/* Render the registry; the caller frees. */
static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen(text));
    return text;
}

static void assert_contains(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "expected to find\n%s\nin\n%s", needle, text);
}

static unsigned count_occurrences(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- rendering of each type -------------------------------------------- */

START_TEST(test_counter_renders_help_type_and_value)
{
    ald_metric *c = metrics_counter("ald_test_things_total", "Things done", NULL);
    ck_assert_ptr_nonnull(c);
    metrics_add(c, 2);
    metrics_add(c, 3.5);
    metrics_add(c, -1); /* counters never go down */
    ck_assert_double_eq(metrics_value(c), 5.5);
    char *text = render();
    ck_assert_str_eq(text, "# HELP ald_test_things_total Things done\n"
                           "# TYPE ald_test_things_total counter\n"
                           "ald_test_things_total 5.5\n");
    free(text);
}
END_TEST

START_TEST(test_gauge_family_has_one_help_and_one_line_per_series)
{
    ald_metric *a = metrics_gauge("ald_test_temp_celsius", "Temperature", "zone=\"a\"");
    ald_metric *b = metrics_gauge("ald_test_temp_celsius", "Ignored help", "zone=\"b\"");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    metrics_set(a, 20);
    metrics_add(a, 1.5);
    metrics_set(b, -3);
    char *text = render();
    ck_assert_str_eq(text, "# HELP ald_test_temp_celsius Temperature\n"
                           "# TYPE ald_test_temp_celsius gauge\n"
                           "ald_test_temp_celsius{zone=\"a\"} 21.5\n"
                           "ald_test_temp_celsius{zone=\"b\"} -3\n");
    free(text);
}
END_TEST

START_TEST(test_histogram_buckets_are_cumulative_with_inf_sum_and_count)
{
    static const double bounds[] = {0.5, 1, 2};
    ald_metric *h =
        metrics_histogram("ald_test_period_seconds", "Periods", "dev=\"x\"", bounds, 3);
    ck_assert_ptr_nonnull(h);
    const double samples[] = {0.25, 0.5, 0.75, 1.5, 3, 10};
    for (unsigned i = 0; i < 6; i++)
        metrics_observe(h, samples[i]);
    ck_assert_double_eq(metrics_value(h), 6);
    char *text = render();
    ck_assert_str_eq(text, "# HELP ald_test_period_seconds Periods\n"
                           "# TYPE ald_test_period_seconds histogram\n"
                           "ald_test_period_seconds_bucket{dev=\"x\",le=\"0.5\"} 2\n"
                           "ald_test_period_seconds_bucket{dev=\"x\",le=\"1\"} 3\n"
                           "ald_test_period_seconds_bucket{dev=\"x\",le=\"2\"} 4\n"
                           "ald_test_period_seconds_bucket{dev=\"x\",le=\"+Inf\"} 6\n"
                           "ald_test_period_seconds_sum{dev=\"x\"} 16\n"
                           "ald_test_period_seconds_count{dev=\"x\"} 6\n");
    free(text);
}
END_TEST

START_TEST(test_histogram_without_labels_has_only_le)
{
    static const double bounds[] = {1};
    ald_metric *h = metrics_histogram("ald_test_h", "H", NULL, bounds, 1);
    metrics_observe(h, 1);
    char *text = render();
    assert_contains(text, "ald_test_h_bucket{le=\"1\"} 1\n");
    assert_contains(text, "ald_test_h_bucket{le=\"+Inf\"} 1\n");
    assert_contains(text, "ald_test_h_sum 1\nald_test_h_count 1\n");
    free(text);
}
END_TEST

START_TEST(test_values_use_prometheus_float_syntax)
{
    const struct {
        double value;
        const char *text;
    } cases[] = {{0.1, "0.1"},       {42, "42"},          {1e21, "1e+21"}, {-0.5, "-0.5"},
                 {INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        metrics_reset();
        metrics_set(metrics_gauge("ald_test_v", "v", NULL), cases[i].value);
        char *text = render();
        char want[64];
        snprintf(want, sizeof want, "\nald_test_v %s\n", cases[i].text);
        assert_contains(text, want);
        free(text);
    }
}
END_TEST

/* ---- labels and escaping ------------------------------------------------- */

START_TEST(test_label_values_are_escaped)
{
    char escaped[64];
    size_t need = metrics_escape_label_value(escaped, sizeof escaped, "a\"b\\c\nd");
    ck_assert_str_eq(escaped, "a\\\"b\\\\c\\nd");
    ck_assert_uint_eq(need, strlen(escaped));

    char labels[96];
    snprintf(labels, sizeof labels, "path=\"%s\"", escaped);
    ald_metric *m = metrics_gauge("ald_test_info", "Info", labels);
    ck_assert_ptr_nonnull(m);
    metrics_set(m, 1);
    char *text = render();
    assert_contains(text, "ald_test_info{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(text);
}
END_TEST

START_TEST(test_escape_never_cuts_an_escape_in_half)
{
    char out[3];
    size_t need = metrics_escape_label_value(out, sizeof out, "a\"");
    ck_assert_uint_eq(need, 3);
    ck_assert_str_eq(out, "a"); /* not "a\\" */
}
END_TEST

START_TEST(test_help_text_is_escaped)
{
    metrics_gauge("ald_test_g", "line one\nback\\slash", NULL);
    char *text = render();
    assert_contains(text, "# HELP ald_test_g line one\\nback\\\\slash\n");
    free(text);
}
END_TEST

START_TEST(test_same_name_and_labels_is_the_same_series)
{
    ald_metric *a = metrics_gauge("ald_test_g", "g", "a=\"1\", b=\"2\"");
    ald_metric *b = metrics_gauge("ald_test_g", "g", "a=\"1\",b=\"2\"");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(a, b);
    char *text = render();
    ck_assert_uint_eq(count_occurrences(text, "ald_test_g{a=\"1\",b=\"2\"}"), 1);
    free(text);
}
END_TEST

/* ---- validation ------------------------------------------------------------- */

START_TEST(test_invalid_names_are_rejected)
{
    const char *bad[] = {"", "1abc", "a-b", "a b", "caf\xc3\xa9", "ald.x"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(metrics_gauge(bad[i], "x", NULL) == NULL, "accepted name '%s'", bad[i]);
    ck_assert_ptr_null(metrics_gauge(NULL, "x", NULL));
    ck_assert_ptr_nonnull(metrics_gauge("ok:name_1", "x", NULL));
    ck_assert_ptr_nonnull(metrics_gauge("_ok", "x", NULL));
}
END_TEST

START_TEST(test_counter_name_must_end_in_total)
{
    ck_assert_ptr_null(metrics_counter("ald_test_requests", "x", NULL));
    ck_assert_ptr_nonnull(metrics_counter("ald_test_requests_total", "x", NULL));
}
END_TEST

START_TEST(test_invalid_labels_are_rejected)
{
    const char *bad[] = {
        "a=1",       "a=\"x",     "1a=\"x\"",  "a=\"x\",a=\"y\"", "a=\"x\" b=\"y\"",
        "__a=\"x\"", "a=\"\\q\"", "a=\"x\",,", "a-b=\"x\"",       "a=\"line\nbreak\""};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(metrics_gauge("ald_test_g", "x", bad[i]) == NULL, "accepted labels %s",
                      bad[i]);
    char *text = render();
    ck_assert_str_eq(text, ""); /* nothing half-registered */
    free(text);
}
END_TEST

START_TEST(test_histogram_buckets_must_ascend_and_exclude_le_label)
{
    static const double unsorted[] = {1, 0.5}, equal[] = {1, 1}, nan_bound[] = {NAN};
    static const double good[] = {1, 2};
    ck_assert_ptr_null(metrics_histogram("ald_test_h", "h", NULL, unsorted, 2));
    ck_assert_ptr_null(metrics_histogram("ald_test_h", "h", NULL, equal, 2));
    ck_assert_ptr_null(metrics_histogram("ald_test_h", "h", NULL, nan_bound, 1));
    ck_assert_ptr_null(metrics_histogram("ald_test_h", "h", NULL, NULL, 0));
    ck_assert_ptr_null(metrics_histogram("ald_test_h", "h", "le=\"1\"", good, 2));
    ck_assert_ptr_nonnull(metrics_histogram("ald_test_h", "h", NULL, good, 2));
}
END_TEST

START_TEST(test_type_must_agree_within_a_family)
{
    ald_metric *g = metrics_gauge("ald_test_mixed_total", "g", "a=\"1\"");
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(metrics_counter("ald_test_mixed_total", "c", "a=\"2\""));
    metrics_set(g, 7);
    char *text = render();
    assert_contains(text, "# TYPE ald_test_mixed_total gauge\n");
    ck_assert_ptr_null(strstr(text, "a=\"2\""));
    free(text);
}
END_TEST

START_TEST(test_bad_descriptor_is_rejected)
{
    ck_assert_ptr_null(metrics_register(NULL));
    ald_metric_desc d = {.struct_size = 0, .name = "ald_test_g", .type = ALD_METRIC_GAUGE};
    ck_assert_ptr_null(metrics_register(&d));
    d.struct_size = sizeof d;
    d.type = (ald_metric_type)9;
    ck_assert_ptr_null(metrics_register(&d));
    d.type = ALD_METRIC_GAUGE;
    ck_assert_ptr_nonnull(metrics_register(&d));
}
END_TEST

START_TEST(test_null_series_and_wrong_type_updates_are_noops)
{
    metrics_add(NULL, 1);
    metrics_set(NULL, 1);
    metrics_observe(NULL, 1);
    ck_assert_double_eq(metrics_value(NULL), 0);
    ald_metric *c = metrics_counter("ald_test_c_total", "c", NULL);
    metrics_observe(c, 5); /* not a histogram */
    ck_assert_double_eq(metrics_value(c), 0);
    static const double bounds[] = {1};
    ald_metric *h = metrics_histogram("ald_test_h", "h", NULL, bounds, 1);
    metrics_add(h, 5); /* not a counter */
    metrics_set(h, 5);
    ck_assert_double_eq(metrics_value(h), 0);
}
END_TEST

/* ---- concurrency -------------------------------------------------------------- */

#define WORKERS 4
#define ROUNDS 100000

typedef struct shared_series {
    ald_metric *counter, *gauge, *histogram;
} shared_series;

static void *hammer(void *arg)
{
    shared_series *s = arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        metrics_add(s->counter, 1);
        metrics_add(s->gauge, 0.5);
        metrics_observe(s->histogram, (double)(i % 3)); /* 0, 1, 2 in turn */
    }
    return NULL;
}

START_TEST(test_concurrent_updates_add_up_exactly)
{
    static const double bounds[] = {0, 1};
    shared_series s = {
        metrics_counter("ald_test_hits_total", "hits", NULL),
        metrics_gauge("ald_test_level", "level", NULL),
        metrics_histogram("ald_test_spread", "spread", NULL, bounds, 2),
    };
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, hammer, &s), 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);

    ck_assert_double_eq(metrics_value(s.counter), WORKERS * ROUNDS);
    ck_assert_double_eq(metrics_value(s.gauge), WORKERS * ROUNDS * 0.5);
    ck_assert_double_eq(metrics_value(s.histogram), WORKERS * ROUNDS);
    /* ROUNDS = 3k + 1, so value 0 is seen k + 1 times per worker. */
    unsigned zeros = WORKERS * (ROUNDS / 3 + 1), ones = WORKERS * (ROUNDS / 3);
    char line[128], *text = render();
    snprintf(line, sizeof line, "ald_test_spread_bucket{le=\"0\"} %u\n", zeros);
    assert_contains(text, line);
    snprintf(line, sizeof line, "ald_test_spread_bucket{le=\"1\"} %u\n", zeros + ones);
    assert_contains(text, line);
    snprintf(line, sizeof line, "ald_test_spread_bucket{le=\"+Inf\"} %u\n", WORKERS * ROUNDS);
    assert_contains(text, line);
    snprintf(line, sizeof line, "ald_test_spread_sum %u\n",
             ones + 2 * (WORKERS * ROUNDS - zeros - ones));
    assert_contains(text, line);
    free(text);
}
END_TEST

/* ---- collectors and reset --------------------------------------------------- */

static void count_scrapes(void *ctx)
{
    metrics_add(ctx, 1);
}

START_TEST(test_collectors_run_before_each_render)
{
    ald_metric *scrapes = metrics_gauge("ald_test_scrapes", "renders", NULL);
    metrics_add_collector(count_scrapes, scrapes);
    metrics_add_collector(count_scrapes, scrapes); /* the same one: kept once */
    char *first = render();
    assert_contains(first, "\nald_test_scrapes 1\n");
    char *second = render();
    assert_contains(second, "\nald_test_scrapes 2\n");
    free(first);
    free(second);
}
END_TEST

START_TEST(test_reset_forgets_series_and_collectors)
{
    ald_metric *g = metrics_gauge("ald_test_x", "x", NULL);
    metrics_add_collector(count_scrapes, g);
    metrics_reset();
    char *text = render(); /* the collector must not touch the freed series */
    ck_assert_str_eq(text, "");
    free(text);
    ck_assert_ptr_nonnull(metrics_counter("ald_test_x_total", "now a counter", NULL));
}
END_TEST

/* ---- procstat ----------------------------------------------------------------- */

static pthread_barrier_t barrier;

static void *wait_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier); /* started */
    pthread_barrier_wait(&barrier); /* counted */
    return NULL;
}

START_TEST(test_procstat_reads_memory_cpu_and_threads)
{
    procstat before, during;
    ck_assert_int_eq(procstat_read(&before), 0);
    ck_assert_uint_gt(before.resident_bytes, 0);
    ck_assert_double_eq(before.resident_mb,
                        (double)before.resident_bytes / (1024.0 * 1024.0));
    ck_assert(before.cpu_seconds >= 0);

    pthread_t extra;
    pthread_barrier_init(&barrier, NULL, 2);
    ck_assert_int_eq(pthread_create(&extra, NULL, wait_at_barrier, NULL), 0);
    pthread_barrier_wait(&barrier);
    ck_assert_int_eq(procstat_read(&during), 0);
    pthread_barrier_wait(&barrier);
    pthread_join(extra, NULL);
    pthread_barrier_destroy(&barrier);
    ck_assert_uint_eq(during.threads, before.threads + 1);
}
END_TEST

/* ---- standard engine metrics ----------------------------------------------------- */

static uint64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A running engine with the database down: degraded. */
static void set_degraded_state(void)
{
    g_state.started = 1;
    g_state.logging_running = 1;
    g_state.plc_connected = 1;
    g_state.db_connected = 0;
    g_state.last_cycle_mono_ns = mono_now_ns();
    g_state.cycles_total = 42;
    g_state.late_cycles_total = 3;
    g_state.plc_errors_total = 5;
    g_state.logging_errors_total = 7;
    g_state.last_interval_us = 1000500;
    g_state.writer_queue_depth = 2;
    g_state.tag_count = 128;
}

START_TEST(test_stdmetrics_mirror_state_at_scrape_time)
{
    stdmetrics_init("1.2.3-test", "1.0");
    char *before = render();
    assert_contains(before, "\nald_parameter_logging_interval 0\n");
    assert_contains(before, "\nald_health_status 0\n"); /* not started */
    free(before);

    set_degraded_state();
    stdmetrics_observe_cycle(1.0005);
    stdmetrics_observe_cycle(0.9995);
    char *text = render();
    const char *expect[] = {
        "# TYPE ald_logger_cycles_total counter\nald_logger_cycles_total 42\n",
        "# TYPE ald_logger_late_cycles_total counter\nald_logger_late_cycles_total 3\n",
        "\nald_plc_errors_total 5\n",
        "\nald_data_logging_errors_total 7\n",
        "\nald_health_status 0.5\n",
        "\nald_plc_connected 1\n",
        "\nald_database_connected 0\n",
        "\nald_data_collection_running 1\n",
        "\nald_parameter_logging_interval 1.0005\n",
        "\nald_parameter_logging_configured_interval_seconds 1\n",
        "\nald_writer_queue_depth 2\n",
        "\nald_parameter_tags 128\n",
        "# TYPE ald_process_cpu_seconds_total counter\n",
        "# TYPE ald_parameter_logging_interval_seconds histogram\n",
        "ald_parameter_logging_interval_seconds_bucket{le=\"0.999\"} 0\n",
        "ald_parameter_logging_interval_seconds_bucket{le=\"1\"} 1\n",
        "ald_parameter_logging_interval_seconds_bucket{le=\"1.001\"} 2\n",
        "ald_parameter_logging_interval_seconds_bucket{le=\"5\"} 2\n",
        "ald_parameter_logging_interval_seconds_count 2\n",
        "\nald_build_info{version=\"1.2.3-test\",abi=\"1.0\"} 1\n",
        "\nald_memory_usage_mb ",
        "\nald_process_resident_memory_bytes ",
        "\nald_process_threads ",
        "\nald_uptime_seconds ",
    };
    for (unsigned i = 0; i < sizeof expect / sizeof expect[0]; i++)
        assert_contains(text, expect[i]);
    free(text);
}
END_TEST

START_TEST(test_stdmetrics_init_twice_keeps_one_collector_and_family)
{
    stdmetrics_init("1", "1.0");
    stdmetrics_init("1", "1.0");
    char *text = render();
    ck_assert_uint_eq(count_occurrences(text, "# TYPE ald_health_status gauge\n"), 1);
    ck_assert_uint_eq(count_occurrences(text, "\nald_health_status "), 1);
    free(text);
}
END_TEST

/* Run $PROMTOOL check metrics on the text (kept in input, a path); returns
 * its exit status and puts its output in report. */
static int promtool_check(const char *promtool, const char *text, char *input, char *report,
                          size_t len)
{
    char output[1024], cmd[4096];
    const char *dir = test_tmpdir("promtool");
    snprintf(input, 1024, "%s/metrics.txt", dir);
    snprintf(output, sizeof output, "%s/promtool.out", dir);
    FILE *f = fopen(input, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' check metrics < '%s' > '%s' 2>&1", promtool, input,
             output);
    int rc = system(cmd);
    report[0] = '\0';
    if ((f = fopen(output, "r"))) {
        size_t n = fread(report, 1, len - 1, f);
        report[n] = '\0';
        fclose(f);
    }
    return rc;
}

static const char *require_promtool(void)
{
    const char *promtool = getenv("PROMTOOL");
    ck_assert_msg(promtool && *promtool,
                  "promtool is missing: PROMTOOL is empty. Install the Debian package "
                  "'prometheus' (provides promtool) and re-run configure");
    return promtool;
}

/* The text without the lines of one family (its HELP, TYPE and samples). */
static char *without_family(const char *text, const char *name)
{
    char *out = calloc(1, strlen(text) + 1), *o = out;
    size_t n = strlen(name);
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n');
        const char *metric = line;
        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
            metric = line + 7;
        int drop = strncmp(metric, name, n) == 0 && (metric[n] == ' ' || metric[n] == '{');
        if (!drop) {
            memcpy(o, line, len);
            o += len;
        }
        line += len;
    }
    return out;
}

START_TEST(test_registry_output_of_every_type_passes_promtool)
{
    const char *promtool = require_promtool();
    static const double bounds[] = {0.1, 1};
    char labels[128], value[64];
    metrics_escape_label_value(value, sizeof value, "C:\\dir \"x\"\nnext");
    snprintf(labels, sizeof labels, "path=\"%s\",dev=\"a\"", value);
    metrics_add(metrics_counter("ald_test_events_total", "Events\nseen", labels), 3);
    metrics_set(metrics_gauge("ald_test_level_ratio", "Level", NULL), NAN);
    metrics_set(metrics_gauge("ald_test_level_ratio", "Level", "dev=\"b\""), INFINITY);
    ald_metric *h = metrics_histogram("ald_test_wait_seconds", "Waits", labels, bounds, 2);
    metrics_observe(h, 0.05);
    metrics_observe(h, 7);
    char *text = render();
    char input[1024], report[2048];
    int rc = promtool_check(promtool, text, input, report, sizeof report);
    ck_assert_msg(rc == 0 && report[0] == '\0',
                  "promtool check metrics failed (%d) on %s:\n%s", rc, input, report);
    free(text);
}
END_TEST

/* ald_memory_usage_mb keeps its established name (dashboards and alert rules
 * use it), which promtool's lint flags for the abbreviated unit: that one
 * finding is expected; anything else fails. */
#define MEMORY_MB_LINT "ald_memory_usage_mb metric names should not contain abbreviated units"

START_TEST(test_stdmetrics_output_passes_promtool)
{
    const char *promtool = require_promtool();
    stdmetrics_init("0.1.0", "1.0");
    set_degraded_state();
    stdmetrics_observe_cycle(1.0);
    char *text = render();
    char *rest = without_family(text, "ald_memory_usage_mb");
    ck_assert_ptr_null(strstr(rest, "ald_memory_usage_mb"));
    char input[1024], report[2048];
    int rc = promtool_check(promtool, rest, input, report, sizeof report);
    ck_assert_msg(rc == 0 && report[0] == '\0',
                  "promtool check metrics failed (%d) on %s:\n%s", rc, input, report);

    rc = promtool_check(promtool, text, input, report, sizeof report);
    ck_assert_msg(rc != 0 && strcmp(report, MEMORY_MB_LINT "\n") == 0,
                  "promtool on the full output of %s said (%d), expected only the known "
                  "lint line:\n%s",
                  input, rc, report);
    free(rest);
    free(text);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *render_tc = tcase_create("render");
    tcase_add_checked_fixture(render_tc, setup, teardown);
    tcase_add_test(render_tc, test_counter_renders_help_type_and_value);
    tcase_add_test(render_tc, test_gauge_family_has_one_help_and_one_line_per_series);
    tcase_add_test(render_tc, test_histogram_buckets_are_cumulative_with_inf_sum_and_count);
    tcase_add_test(render_tc, test_histogram_without_labels_has_only_le);
    tcase_add_test(render_tc, test_values_use_prometheus_float_syntax);
    tcase_add_test(render_tc, test_label_values_are_escaped);
    tcase_add_test(render_tc, test_escape_never_cuts_an_escape_in_half);
    tcase_add_test(render_tc, test_help_text_is_escaped);
    tcase_add_test(render_tc, test_same_name_and_labels_is_the_same_series);
    suite_add_tcase(s, render_tc);

    TCase *valid_tc = tcase_create("validation");
    tcase_add_checked_fixture(valid_tc, setup, teardown);
    tcase_add_test(valid_tc, test_invalid_names_are_rejected);
    tcase_add_test(valid_tc, test_counter_name_must_end_in_total);
    tcase_add_test(valid_tc, test_invalid_labels_are_rejected);
    tcase_add_test(valid_tc, test_histogram_buckets_must_ascend_and_exclude_le_label);
    tcase_add_test(valid_tc, test_type_must_agree_within_a_family);
    tcase_add_test(valid_tc, test_bad_descriptor_is_rejected);
    tcase_add_test(valid_tc, test_null_series_and_wrong_type_updates_are_noops);
    suite_add_tcase(s, valid_tc);

    TCase *runtime_tc = tcase_create("runtime");
    tcase_add_checked_fixture(runtime_tc, setup, teardown);
    tcase_add_test(runtime_tc, test_concurrent_updates_add_up_exactly);
    tcase_add_test(runtime_tc, test_collectors_run_before_each_render);
    tcase_add_test(runtime_tc, test_reset_forgets_series_and_collectors);
    tcase_add_test(runtime_tc, test_procstat_reads_memory_cpu_and_threads);
    suite_add_tcase(s, runtime_tc);

    TCase *std_tc = tcase_create("stdmetrics");
    tcase_add_checked_fixture(std_tc, setup, teardown);
    tcase_add_test(std_tc, test_stdmetrics_mirror_state_at_scrape_time);
    tcase_add_test(std_tc, test_stdmetrics_init_twice_keeps_one_collector_and_family);
    tcase_add_test(std_tc, test_registry_output_of_every_type_passes_promtool);
    tcase_add_test(std_tc, test_stdmetrics_output_passes_promtool);
    suite_add_tcase(s, std_tc);
    return s;
}

int main(void)
{
    return run_suite(metrics_suite());
}
