/* check_http.c - the HTTP surface over real HTTP on 127.0.0.1 (libcurl as the
 * client): health codes and JSON, /metrics, 404/405, port errors, slow clients. */
#include "build-config.h" /* PACKAGE_VERSION from configure */

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"
#include "state.h"
#include "stdmetrics.h"
#include "testutil.h"

#define SECOND_NS 1000000000ull

/* ---- a tiny HTTP client -------------------------------------------------------- */

typedef struct reply {
    long status;
    char content_type[128];
    char allow[64];
    char *body;
    size_t len;
} reply;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    char *grown = realloc(r->body, r->len + size * n + 1);
    ck_assert_ptr_nonnull(grown);
    memcpy(grown + r->len, data, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t len = size * n;
    if (len > 6 && strncasecmp(data, "Allow:", 6) == 0)
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)(len - 6), data + 6);
    return len;
}

static reply request(const char *method, const char *path)
{
    reply r = {0};
    r.body = calloc(1, 1);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_port(), path);
    CURL *curl = curl_easy_init();
    ck_assert_ptr_nonnull(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L); /* a hang fails, never a timing check */
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x=1");
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(curl);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    snprintf(r.content_type, sizeof r.content_type, "%s", type ? type : "");
    curl_easy_cleanup(curl);
    return r;
}

static json_t *parse_json(const reply *r)
{
    json_error_t error;
    json_t *doc = json_loads(r->body, 0, &error);
    ck_assert_msg(doc != NULL, "not JSON (%s): %s", error.text, r->body);
    return doc;
}

/* GET path, expect the status code, return the parsed JSON body. */
static json_t *get_json(const char *path, long want_status)
{
    reply r = request("GET", path);
    ck_assert_msg(r.status == want_status, "GET %s: status %ld, want %ld; body %s", path,
                  r.status, want_status, r.body);
    ck_assert_str_eq(r.content_type, "application/json");
    json_t *doc = parse_json(&r);
    free(r.body);
    return doc;
}

/* A string at a path like "services.plc.status". */
static const char *json_str_at(json_t *doc, const char *path)
{
    char key[64];
    json_t *node = doc;
    for (const char *p = path; node && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        node = json_object_get(node, key);
        p += n + (p[n] == '.');
    }
    ck_assert_msg(json_is_string(node), "%s is not a string", path);
    return json_string_value(node);
}

/* ---- fixtures ------------------------------------------------------------------------ */

static uint64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SECOND_NS + (uint64_t)ts.tv_nsec;
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    metrics_reset();
    state_init(SECOND_NS);
    stdmetrics_init("9.8.7-test", "1.0");
    char err[256];
    ck_assert_msg(http_start("127.0.0.1", 0, err, sizeof err) == 0, "http_start: %s", err);
    ck_assert_int_gt(http_port(), 0);
}

static void teardown(void)
{
    http_stop();
    metrics_reset();
    curl_global_cleanup();
}

/* Everything up, a cycle just finished, this engine holds the lease. */
static void set_healthy(void)
{
    g_state.lease_state = 1;
    g_state.started = 1;
    g_state.logging_running = 1;
    g_state.plc_connected = 1;
    g_state.db_connected = 1;
    g_state.last_cycle_mono_ns = mono_now_ns();
    g_state.last_stored_mono_ns = mono_now_ns();
    g_state.cycles_total = 10;
    g_state.tag_count = 64;
    g_state.last_interval_us = 999000;
}

/* ---- /health/basic ----------------------------------------------------------------------
 */

START_TEST(test_basic_is_503_before_start_and_200_after)
{
    json_t *doc = get_json("/health/basic", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "starting");
    json_decref(doc);

    g_state.started = 1;
    g_state.plc_connected = 1;
    doc = get_json("/health/basic", 200);
    ck_assert_str_eq(json_str_at(doc, "status"), "ok");
    ck_assert(json_is_true(json_object_get(doc, "plc_connected")));
    ck_assert(json_is_number(json_object_get(doc, "uptime")));
    const char *ts = json_str_at(doc, "timestamp");
    ck_assert_uint_eq(strlen(ts), strlen("2026-11-27T03:29:06.123Z"));
    ck_assert_int_eq(ts[10], 'T');
    ck_assert_int_eq(ts[23], 'Z');
    json_decref(doc);
}
END_TEST

START_TEST(test_basic_is_503_while_stopping)
{
    g_state.started = 1;
    g_state.stopping = 1;
    json_t *doc = get_json("/health/basic", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "stopping");
    ck_assert(json_is_false(json_object_get(doc, "plc_connected")));
    json_decref(doc);
}
END_TEST

/* ---- /health --------------------------------------------------------------------------- */

START_TEST(test_full_is_200_healthy_with_real_values)
{
    set_healthy();
    json_t *doc = get_json("/health", 200);
    ck_assert_str_eq(json_str_at(doc, "status"), "healthy");
    ck_assert_str_eq(json_str_at(doc, "services.plc.status"), "connected");
    ck_assert_str_eq(json_str_at(doc, "services.database.status"), "connected");
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "running");
    ck_assert_str_eq(json_str_at(doc, "services.resources.status"), "ok");
    json_t *dc = json_object_get(json_object_get(doc, "services"), "data_collection");
    ck_assert(json_is_real(json_object_get(dc, "last_cycle_age_seconds")));
    ck_assert_int_eq(json_integer_value(json_object_get(dc, "cycles")), 10);
    ck_assert_double_eq(json_number_value(json_object_get(dc, "interval_seconds")), 1.0);
    json_t *res = json_object_get(json_object_get(doc, "services"), "resources");
    ck_assert(json_number_value(json_object_get(res, "memory_mb")) > 0);
    ck_assert(json_integer_value(json_object_get(res, "threads")) >= 2); /* + MHD's */
    json_t *metrics = json_object_get(doc, "metrics");
    ck_assert_int_eq(json_integer_value(json_object_get(metrics, "parameter_tags")), 64);
    ck_assert_double_eq(json_number_value(json_object_get(metrics, "last_interval_seconds")),
                        0.999);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "errors")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "reasons")), 0);
    json_decref(doc);
}
END_TEST

START_TEST(test_full_is_503_degraded_when_plc_disconnected)
{
    set_healthy();
    g_state.plc_connected = 0;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "degraded");
    ck_assert_str_eq(json_str_at(doc, "services.plc.status"), "disconnected");
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "running");
    json_t *reasons = json_object_get(doc, "reasons");
    ck_assert_uint_eq(json_array_size(reasons), 1);
    ck_assert_str_eq(json_string_value(json_array_get(reasons, 0)), "PLC disconnected");
    json_decref(doc);
}
END_TEST

START_TEST(test_full_is_503_degraded_when_database_disconnected)
{
    set_healthy();
    g_state.db_connected = 0;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "degraded");
    ck_assert_str_eq(json_str_at(doc, "services.database.status"), "disconnected");
    json_decref(doc);
}
END_TEST

START_TEST(test_full_is_503_unhealthy_when_logger_stopped)
{
    set_healthy();
    g_state.logging_running = 0;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "unhealthy");
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "stopped");
    json_decref(doc);
}
END_TEST

START_TEST(test_full_is_unhealthy_when_last_cycle_older_than_three_intervals)
{
    set_healthy();
    g_state.last_cycle_mono_ns = mono_now_ns() - 10 * SECOND_NS;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "unhealthy");
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "stalled");
    json_t *dc = json_object_get(json_object_get(doc, "services"), "data_collection");
    ck_assert(json_number_value(json_object_get(dc, "last_cycle_age_seconds")) >= 10.0);
    json_decref(doc);
}
END_TEST

START_TEST(test_full_waits_three_intervals_plus_grace_for_the_first_cycle)
{
    set_healthy();
    g_state.last_cycle_mono_ns = 0; /* no cycle yet, engine just started */
    json_t *doc = get_json("/health", 200);
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "running");
    json_t *dc = json_object_get(json_object_get(doc, "services"), "data_collection");
    ck_assert(json_is_null(json_object_get(dc, "last_cycle_age_seconds")));
    json_decref(doc);

    g_state.start_mono_ns = mono_now_ns() - 20 * SECOND_NS; /* 3 x 1 s + 5 s passed */
    doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "unhealthy");
    ck_assert_str_eq(json_str_at(doc, "services.data_collection.status"), "stalled");
    json_decref(doc);
}
END_TEST

START_TEST(test_full_is_unhealthy_before_start_and_while_stopping)
{
    set_healthy();
    g_state.started = 0;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "unhealthy");
    json_decref(doc);
    g_state.started = 1;
    g_state.stopping = 1;
    doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "unhealthy");
    json_decref(doc);
}
END_TEST

START_TEST(test_full_lists_recent_errors_newest_first)
{
    set_healthy();
    state_record_error("PLC read failed at 10.0.0.5:502");
    state_record_error("storage insert failed");
    json_t *doc = get_json("/health", 200);
    json_t *errors = json_object_get(doc, "errors");
    ck_assert_uint_eq(json_array_size(errors), 2);
    ck_assert_str_eq(json_string_value(json_array_get(errors, 0)), "storage insert failed");
    ck_assert_str_eq(json_string_value(json_array_get(errors, 1)),
                     "PLC read failed at 10.0.0.5:502");
    json_decref(doc);
}
END_TEST

/* ---- /metrics and / ------------------------------------------------------------------- */

START_TEST(test_metrics_has_prometheus_content_type_and_live_values)
{
    set_healthy();
    g_state.db_connected = 0;
    reply r = request("GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE ald_health_status gauge\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nald_health_status 0.5\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nald_logger_cycles_total 10\n"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "\nald_build_info{version=\"9.8.7-test\",abi=\"1.0\"} 1\n"));
    free(r.body);
}
END_TEST

START_TEST(test_head_metrics_is_200_without_body)
{
    reply r = request("HEAD", "/metrics");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    free(r.body);
}
END_TEST

START_TEST(test_index_lists_routes_and_version)
{
    json_t *doc = get_json("/", 200);
    ck_assert_str_eq(json_str_at(doc, "version"), PACKAGE_VERSION);
    json_t *routes = json_object_get(doc, "routes");
    ck_assert_uint_eq(json_array_size(routes), 5);
    ck_assert_str_eq(json_string_value(json_array_get(routes, 2)), "/health/ready");
    ck_assert_str_eq(json_string_value(json_array_get(routes, 4)), "/metrics");
    json_decref(doc);
}
END_TEST

/* ---- roles: active, standby ---------------------------------------------------------- */

START_TEST(test_standby_is_not_live_but_ready_to_take_over)
{
    set_healthy();
    g_state.lease_state = 0;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "standby");
    ck_assert_str_eq(json_str_at(doc, "role"), "standby");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "reasons"), 0)),
                     "standby: another engine holds the machine's lease");
    json_decref(doc);
    doc = get_json("/health/ready", 200);
    ck_assert(json_is_true(json_object_get(doc, "ready")));
    ck_assert_str_eq(json_str_at(doc, "role"), "standby");
    json_decref(doc);
    doc = get_json("/health/active", 503);
    ck_assert(json_is_false(json_object_get(doc, "active")));
    json_decref(doc);
}
END_TEST

START_TEST(test_active_answers_200_on_every_health_route)
{
    set_healthy();
    json_decref(get_json("/health", 200));
    json_decref(get_json("/health/ready", 200));
    json_t *doc = get_json("/health/active", 200);
    ck_assert_str_eq(json_str_at(doc, "role"), "active");
    json_decref(doc);
}
END_TEST

START_TEST(test_not_ready_without_plc_whatever_the_role)
{
    set_healthy();
    g_state.plc_connected = 0;
    json_t *doc = get_json("/health/ready", 503);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "reasons"), 0)),
                     "PLC disconnected");
    json_decref(doc);
    g_state.lease_state = 0;
    json_decref(get_json("/health/ready", 503));
}
END_TEST

START_TEST(test_undecided_lease_is_starting)
{
    set_healthy();
    g_state.lease_state = -1;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "starting");
    json_decref(doc);
    json_decref(get_json("/health/active", 503));
}
END_TEST

/* ---- truthful health: data stored, stores open (issue 9, item 10) ------------------- */

static const char *first_reason(json_t *doc)
{
    return json_string_value(json_array_get(json_object_get(doc, "reasons"), 0));
}

START_TEST(test_full_degrades_when_no_sample_was_stored_for_three_cycles)
{
    set_healthy();
    g_state.last_stored_mono_ns = mono_now_ns() - 2 * SECOND_NS; /* within 3 intervals */
    json_decref(get_json("/health", 200));
    /* the logger cycles (a PLC answering exceptions), nothing reaches a store */
    g_state.last_stored_mono_ns = mono_now_ns() - 4 * SECOND_NS;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "degraded");
    ck_assert_str_eq(first_reason(doc), "no samples stored for 3 cycles");
    json_t *dc = json_object_get(json_object_get(doc, "services"), "data_collection");
    ck_assert(json_is_false(json_object_get(dc, "storing")));
    ck_assert(json_number_value(json_object_get(dc, "last_stored_age_seconds")) >= 4.0);
    json_decref(doc);
}
END_TEST

START_TEST(test_full_degrades_when_the_holder_never_stored)
{
    set_healthy();
    g_state.last_stored_mono_ns = 0;
    g_state.active_since_mono_ns = mono_now_ns() - SECOND_NS; /* just took the lease */
    json_decref(get_json("/health", 200));
    g_state.active_since_mono_ns = mono_now_ns() - 20 * SECOND_NS; /* 3 x 1 s + 5 s passed */
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(first_reason(doc), "no samples stored for 3 cycles");
    json_t *dc = json_object_get(json_object_get(doc, "services"), "data_collection");
    ck_assert(json_is_null(json_object_get(dc, "last_stored_age_seconds")));
    json_decref(doc);
    /* a store from before it stood by is older than the new term: the term
     * counts, with the grace for its first store */
    g_state.last_stored_mono_ns = mono_now_ns() - 25 * SECOND_NS;
    g_state.active_since_mono_ns = mono_now_ns() - SECOND_NS;
    json_decref(get_json("/health", 200));
}
END_TEST

START_TEST(test_standby_storing_nothing_says_standby_never_healthy)
{
    set_healthy();
    g_state.lease_state = 0;
    g_state.last_stored_mono_ns = 0;
    g_state.start_mono_ns = mono_now_ns() - 60 * SECOND_NS;
    json_t *doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "standby");
    ck_assert_str_eq(first_reason(doc), "standby: another engine holds the machine's lease");
    json_decref(doc);
}
END_TEST

START_TEST(test_a_fallback_that_is_not_open_degrades_health_and_readiness)
{
    set_healthy();
    g_state.fallback_configured = 1;
    g_state.fallback_open = 1;
    json_t *doc = get_json("/health", 200);
    ck_assert_str_eq(json_str_at(doc, "services.fallback.status"), "open");
    json_decref(doc);
    g_state.fallback_open = 0;
    doc = get_json("/health", 503);
    ck_assert_str_eq(json_str_at(doc, "status"), "degraded");
    ck_assert_str_eq(json_str_at(doc, "services.fallback.status"), "not open");
    ck_assert_str_eq(first_reason(doc),
                     "fallback store not open: an outage of the primary would lose samples");
    json_decref(doc);
    doc = get_json("/health/ready", 503);
    ck_assert_str_eq(first_reason(doc), "fallback store not open");
    json_decref(doc);
    g_state.fallback_configured = 0; /* none configured: nothing to open */
    doc = get_json("/health", 200);
    ck_assert_str_eq(json_str_at(doc, "services.fallback.status"), "none");
    json_decref(doc);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------- */

START_TEST(test_unknown_path_is_404_json)
{
    json_t *doc = get_json("/nope", 404);
    ck_assert_str_eq(json_str_at(doc, "error"), "not found");
    json_decref(doc);
    doc = get_json("/metrics/extra", 404);
    json_decref(doc);
}
END_TEST

START_TEST(test_other_methods_are_405_with_allow)
{
    const char *methods[] = {"POST", "PUT", "DELETE"};
    for (unsigned i = 0; i < 3; i++) {
        reply r = request(methods[i], "/health");
        ck_assert_msg(r.status == 405, "%s: status %ld", methods[i], r.status);
        ck_assert_ptr_nonnull(strstr(r.allow, "GET, HEAD"));
        json_t *doc = parse_json(&r);
        ck_assert_str_eq(json_str_at(doc, "error"), "method not allowed");
        json_decref(doc);
        free(r.body);
    }
}
END_TEST

/* A listening socket on 127.0.0.1:port held by "another process". */
static int occupy_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    return fd;
}

START_TEST(test_port_in_use_is_a_clear_error)
{
    http_stop();
    int port = test_free_port();
    int holder = occupy_port(port);
    char err[256], want[64];
    ck_assert_int_eq(http_start("127.0.0.1", port, err, sizeof err), -1);
    snprintf(want, sizeof want, "HTTP port %d is in use: ", port);
    ck_assert_msg(strstr(err, want) != NULL, "error was: %s", err);
    ck_assert_msg(strstr(err, "--http-port") != NULL, "error was: %s", err);
    ck_assert_int_eq(http_port(), 0);
    close(holder);
}
END_TEST

START_TEST(test_stop_releases_the_port_for_a_restart)
{
    int port = http_port();
    http_stop();
    ck_assert_int_eq(http_port(), 0);
    char err[256];
    ck_assert_msg(http_start("127.0.0.1", port, err, sizeof err) == 0, "restart: %s", err);
    ck_assert_int_eq(http_port(), port);
    reply r = request("GET", "/health/basic");
    ck_assert_int_eq(r.status, 503);
    free(r.body);
    ck_assert_int_eq(http_start("127.0.0.1", 0, err, sizeof err), -1); /* one server */
}
END_TEST

START_TEST(test_bad_bind_address_is_a_clear_error)
{
    http_stop();
    char err[256];
    ck_assert_int_eq(http_start("999.1.1.1", 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "999.1.1.1") != NULL, "error was: %s", err);
}
END_TEST

START_TEST(test_slow_clients_do_not_wedge_the_server)
{
    g_state.started = 1;
    int slow[8];
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)http_port()),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 8; i++) {
        slow[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(slow[i], (struct sockaddr *)&addr, sizeof addr), 0);
        const char partial[] = "GET /health HTTP/1.1\r\nHost: x\r\n"; /* never finished */
        ck_assert_int_eq(write(slow[i], partial, sizeof partial - 1), sizeof partial - 1);
    }
    reply r = request("GET", "/health/basic");
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    for (int i = 0; i < 8; i++)
        close(slow[i]);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *health = tcase_create("health");
    tcase_add_checked_fixture(health, setup, teardown);
    tcase_add_test(health, test_basic_is_503_before_start_and_200_after);
    tcase_add_test(health, test_basic_is_503_while_stopping);
    tcase_add_test(health, test_full_is_200_healthy_with_real_values);
    tcase_add_test(health, test_full_is_503_degraded_when_plc_disconnected);
    tcase_add_test(health, test_full_is_503_degraded_when_database_disconnected);
    tcase_add_test(health, test_full_is_503_unhealthy_when_logger_stopped);
    tcase_add_test(health, test_full_is_unhealthy_when_last_cycle_older_than_three_intervals);
    tcase_add_test(health, test_full_waits_three_intervals_plus_grace_for_the_first_cycle);
    tcase_add_test(health, test_full_is_unhealthy_before_start_and_while_stopping);
    tcase_add_test(health, test_full_lists_recent_errors_newest_first);
    tcase_add_test(health, test_standby_is_not_live_but_ready_to_take_over);
    tcase_add_test(health, test_active_answers_200_on_every_health_route);
    tcase_add_test(health, test_not_ready_without_plc_whatever_the_role);
    tcase_add_test(health, test_undecided_lease_is_starting);
    suite_add_tcase(s, health);

    TCase *routes = tcase_create("routes");
    tcase_add_checked_fixture(routes, setup, teardown);
    tcase_add_test(routes, test_metrics_has_prometheus_content_type_and_live_values);
    tcase_add_test(routes, test_head_metrics_is_200_without_body);
    tcase_add_test(routes, test_index_lists_routes_and_version);
    tcase_add_test(routes, test_unknown_path_is_404_json);
    tcase_add_test(routes, test_other_methods_are_405_with_allow);
    suite_add_tcase(s, routes);

    TCase *server = tcase_create("server");
    tcase_add_checked_fixture(server, setup, teardown);
    tcase_add_test(server, test_port_in_use_is_a_clear_error);
    tcase_add_test(server, test_stop_releases_the_port_for_a_restart);
    tcase_add_test(server, test_bad_bind_address_is_a_clear_error);
    tcase_add_test(server, test_slow_clients_do_not_wedge_the_server);
    tcase_add_test(server, test_full_degrades_when_no_sample_was_stored_for_three_cycles);
    tcase_add_test(server, test_full_degrades_when_the_holder_never_stored);
    tcase_add_test(server, test_standby_storing_nothing_says_standby_never_healthy);
    tcase_add_test(server, test_a_fallback_that_is_not_open_degrades_health_and_readiness);
    suite_add_tcase(s, server);
    return s;
}

int main(void)
{
    return run_suite(http_suite());
}
