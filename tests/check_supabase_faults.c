/*
 * check_supabase_faults.c - how the storage-supabase plugin behaves when the
 * gateway or the settings are wrong: settings validated offline, one AUTH
 * error without a retry storm, bounded retries of 5xx, timeouts, malformed
 * answers, an unreachable project, and the key in no error text or log line.
 * Part of the check_supabase program (the servers start once).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_supabase_util.h"
#include "testutil.h"

void add_fault_tests(TCase *tc);

#define VT sbt_vt()
#define WRONG_KEY "wrong-key-0123456789-do-not-print"

static void noop_recipe(void *ctx, const ald_recipe_info *r)
{
    (void)ctx;
    (void)r;
}

static void assert_no_key(const char *text)
{
    ck_assert_msg(strstr(text, SBT_KEY) == NULL, "the key leaked into: %s", text);
    ck_assert_msg(strstr(text, WRONG_KEY) == NULL, "the key leaked into: %s", text);
}

/* Opens an instance with extra settings, expecting create() to succeed. */
static void *create_only(const char *url, const char *key, const char *extra)
{
    char text[2048], err[512];
    snprintf(text, sizeof text, "url = \"%s\"; key = \"%s\"; backoff_initial_ms = 10; "
             "backoff_max_ms = 40; %s", url, key, extra);
    void *inst;
    ald_status rc = sbt_create(text, &inst, err, sizeof err);
    ck_assert_msg(rc == ALD_OK, "create: %s", err);
    return inst;
}

static void expect_invalid(const char *settings, const char *mentions)
{
    char err[512];
    void *inst;
    ck_assert_int_eq(sbt_create(settings, &inst, err, sizeof err), ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, mentions) != NULL, "error \"%s\" does not name %s", err, mentions);
    assert_no_key(err);
}

START_TEST(create_validates_settings_without_io)
{
    expect_invalid("key = \"" WRONG_KEY "\";", "url");
    expect_invalid("url = \"ftp://x\"; key = \"" WRONG_KEY "\";", "url");
    expect_invalid("url = \"https://user:" WRONG_KEY "@x\"; key = \"k\";", "url");
    expect_invalid("url = \"https://x.supabase.co\";", "key");
    expect_invalid("url = \"https://x\"; key_file = \"/nonexistent/key\";", "/nonexistent/key");
    expect_invalid("url = \"https://x\"; key = \"" WRONG_KEY "\"; timeout_ms = 5;", "timeout_ms");
    expect_invalid("url = \"https://x\"; key = \"" WRONG_KEY "\"; retries = 99;", "retries");
    expect_invalid("url = \"https://x\"; key = \"" WRONG_KEY "\"; backoff_initial_ms = 500; "
                   "backoff_max_ms = 100;", "backoff_max_ms");
    /* valid settings create fine even though nothing listens there: no I/O in create */
    void *inst = create_only("http://127.0.0.1:1", WRONG_KEY, "");
    ck_assert_int_eq(VT->is_connected(inst), 0);
    VT->destroy(inst);
}
END_TEST

START_TEST(key_file_is_read_at_start)
{
    char path[600];
    snprintf(path, sizeof path, "%s/key", test_tmpdir("sbkey"));
    FILE *f = fopen(path, "w");
    fprintf(f, "  %s  \n", SBT_KEY);
    fclose(f);
    char text[1024], err[512];
    snprintf(text, sizeof text, "url = \"%s\"; key_file = \"%s\";", sbt_url(), path);
    void *inst;
    ck_assert_int_eq(sbt_create(text, &inst, err, sizeof err), ALD_OK);
    ck_assert_msg(VT->start(inst) == ALD_OK, "start: %s", VT->last_error(inst));
    ck_assert_int_eq(VT->is_connected(inst), 1);
    sbt_close(inst);
}
END_TEST

START_TEST(wrong_key_is_one_auth_error_without_retries)
{
    void *inst = create_only(sbt_url(), WRONG_KEY, "retries = 5;");
    free(sbt_knob("reset"));
    ck_assert_int_eq(VT->start(inst), ALD_ERR_AUTH);
    ck_assert_int_eq(sbt_requests(), 1); /* no retry storm */
    const char *err = VT->last_error(inst);
    ck_assert_msg(strstr(err, "HTTP 401") && strstr(err, "Invalid API key"), "%s", err);
    assert_no_key(err);
    char *log = sbt_knob("requests");
    ck_assert_msg(strstr(log, "\"authorization\": false"), "non-JWT key sent as Bearer: %s",
                  log);
    free(log);
    sbt_close(inst);
}
END_TEST

START_TEST(gateway_503_twice_then_ok_is_retried)
{
    void *inst = sbt_open("retries = 3;");
    free(sbt_knob("reset"));
    free(sbt_knob("fail?status=503&count=2"));
    ck_assert_msg(VT->list_recipes(inst, noop_recipe, NULL) == ALD_OK, "%s",
                  VT->last_error(inst));
    ck_assert_int_eq(sbt_requests(), 3);
    sbt_close(inst);
}
END_TEST

START_TEST(persistent_5xx_gives_up_after_the_retry_budget)
{
    void *inst = sbt_open("retries = 2;");
    free(sbt_knob("reset"));
    free(sbt_knob("fail?status=502&count=10"));
    ck_assert_int_eq(VT->list_recipes(inst, noop_recipe, NULL), ALD_ERR_TRANSIENT);
    free(sbt_knob("reset"));
    const char *err = VT->last_error(inst);
    /* the gateway's HTML is reduced to its text */
    ck_assert_msg(strstr(err, "HTTP 502 after 3 attempts") && strstr(err, "502 gateway trouble"),
                  "%s", err);
    ck_assert_ptr_null(strstr(err, "<html>"));
    assert_no_key(err);
    sbt_close(inst);
}
END_TEST

START_TEST(slow_gateway_is_a_timeout)
{
    void *inst = sbt_open("timeout_ms = 300; retries = 1;");
    free(sbt_knob("reset"));
    free(sbt_knob("delay?ms=2000&count=2"));
    ald_status rc = VT->list_recipes(inst, noop_recipe, NULL);
    ck_assert_msg(rc == ALD_ERR_TIMEOUT, "%s: %s", ald_status_name(rc), VT->last_error(inst));
    ck_assert_int_eq(ald_status_is_transient(rc), 1);
    ck_assert_int_eq(sbt_requests(), 2); /* 1 + retries */
    assert_no_key(VT->last_error(inst));
    free(sbt_knob("reset"));
    sbt_close(inst);
}
END_TEST

START_TEST(malformed_json_is_a_protocol_error)
{
    void *inst = sbt_open("");
    free(sbt_knob("garbage?count=1"));
    ald_status rc = VT->list_recipes(inst, noop_recipe, NULL);
    ck_assert_msg(rc == ALD_ERR_PROTOCOL, "%s: %s", ald_status_name(rc), VT->last_error(inst));
    ck_assert_ptr_nonnull(strstr(VT->last_error(inst), "malformed JSON"));
    /* the next call is fine again */
    ck_assert_int_eq(VT->list_recipes(inst, noop_recipe, NULL), ALD_OK);
    sbt_close(inst);
}
END_TEST

START_TEST(unreachable_project_is_transient)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", test_free_port());
    void *inst = create_only(url, SBT_KEY, "retries = 1; connect_timeout_ms = 500;");
    ald_status rc = VT->start(inst);
    ck_assert_msg(rc == ALD_ERR_DISCONNECTED || rc == ALD_ERR_TIMEOUT, "%s: %s",
                  ald_status_name(rc), VT->last_error(inst));
    ck_assert_int_eq(ald_status_is_transient(rc), 1);
    ck_assert_int_eq(VT->is_connected(inst), 0);
    ck_assert_ptr_nonnull(strstr(VT->last_error(inst), url));
    assert_no_key(VT->last_error(inst));
    sbt_close(inst);
}
END_TEST

/* Every error path we can trigger, with stderr (the host's log) captured. */
START_TEST(key_appears_in_no_error_text_or_log)
{
    char log_path[600];
    snprintf(log_path, sizeof log_path, "%s/stderr.log", test_tmpdir("sbsecret"));
    int fd = open(log_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    int saved = dup(2);
    dup2(fd, 2);
    char texts[8][1024];
    int n = 0;
    void *inst = create_only(sbt_url(), SBT_KEY, "retries = 1; timeout_ms = 300; "
                             "insecure_skip_verify = true;");
    free(sbt_knob("reset"));
    free(sbt_knob("fail?status=503&count=2"));
    VT->list_recipes(inst, noop_recipe, NULL);
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    free(sbt_knob("delay?ms=1500&count=2"));
    VT->list_recipes(inst, noop_recipe, NULL);
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    free(sbt_knob("reset"));
    free(sbt_knob("garbage?count=1"));
    VT->list_recipes(inst, noop_recipe, NULL);
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    VT->claim_command(inst, "00000000-0000-4000-8000-000000000000");
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    VT->claim_command(inst, "not-a-uuid"); /* 400 from PostgreSQL */
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    sbt_close(inst);
    inst = create_only(sbt_url(), WRONG_KEY, "");
    VT->start(inst);
    snprintf(texts[n++], 1024, "%s", VT->last_error(inst));
    sbt_close(inst);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(texts[i][0] != '\0', "error path %d left no text", i);
        assert_no_key(texts[i]);
    }
    FILE *f = fopen(log_path, "r");
    char line[4096];
    int warned = 0;
    while (f && fgets(line, sizeof line, f)) {
        assert_no_key(line);
        warned |= strstr(line, "insecure_skip_verify") != NULL;
    }
    if (f)
        fclose(f);
    ck_assert_msg(warned, "insecure_skip_verify was not logged as a warning");
}
END_TEST

void add_fault_tests(TCase *tc)
{
    tcase_add_test(tc, create_validates_settings_without_io);
    tcase_add_test(tc, key_file_is_read_at_start);
    tcase_add_test(tc, wrong_key_is_one_auth_error_without_retries);
    tcase_add_test(tc, gateway_503_twice_then_ok_is_retried);
    tcase_add_test(tc, persistent_5xx_gives_up_after_the_retry_budget);
    tcase_add_test(tc, slow_gateway_is_a_timeout);
    tcase_add_test(tc, malformed_json_is_a_protocol_error);
    tcase_add_test(tc, unreachable_project_is_transient);
    tcase_add_test(tc, key_appears_in_no_error_text_or_log);
}
