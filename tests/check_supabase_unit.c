/*
 * check_supabase_unit.c - the storage-supabase plugin's pure helpers, without
 * any server: URL encoding of filter values, PostgREST list quoting, which
 * keys are sent as Bearer tokens, ISO-8601 times both ways, error bodies
 * (PostgREST JSON and a gateway's HTML), the HTTP status mapping and the
 * JSON text writer of bulk sample rows.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_store.h"
#include "testutil.h"

/* The bulk rows' JSON writer: what it writes parses back (with jansson) to
 * exactly what it was given. */
START_TEST(json_text_writer_round_trips)
{
    const char *strings[] = {"a1000000-0000-4000-8000-000000000001", "say \"hi\" \\ back",
                             "tab\tnl\ncr\r\x01\x1f" " end", "Grad \xc2\xb0" "C", ""};
    const double numbers[] = {0.1, 1.0, -0.0, 1e300, 5e-324, 123456.789, -2.5e-7};
    sb_buf b = {0};
    sb_buf_puts(&b, "[");
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        sb_buf_json_str(&b, strings[i]);
        sb_buf_puts(&b, ",");
    }
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        sb_buf_json_num(&b, numbers[i]);
        sb_buf_puts(&b, ",");
    }
    sb_buf_json_num(&b, NAN);
    sb_buf_puts(&b, ",");
    sb_buf_json_num(&b, -INFINITY);
    sb_buf_puts(&b, "]");
    json_error_t err;
    json_t *arr = json_loads(b.data, 0, &err);
    ck_assert_msg(arr != NULL, "not JSON: %s: %s", err.text, b.data);
    size_t n = 0;
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        ck_assert_str_eq(json_string_value(json_array_get(arr, n++)), strings[i]);
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        double back = json_number_value(json_array_get(arr, n++));
        ck_assert_msg(memcmp(&back, &numbers[i], sizeof back) == 0 || back == numbers[i],
                      "%.17g came back as %.17g", numbers[i], back);
    }
    json_t *nan_text = json_array_get(arr, n), *inf_text = json_array_get(arr, n + 1);
    ck_assert(json_is_null(nan_text)); /* json_is_null evaluates its argument twice */
    ck_assert(json_is_null(inf_text));
    ck_assert_uint_eq(json_array_size(arr), n + 2);
    json_decref(arr);
    sb_buf_free(&b);
}
END_TEST

START_TEST(filter_values_are_percent_encoded)
{
    sb_request r;
    sb_req_init(&r, "GET", "recipe_commands", "test");
    sb_req_filter(&r, "error_message", "eq", "a&b=c d,(x)");
    sb_req_param(&r, "select", "id,type");
    ck_assert_str_eq(r.path.data,
                     "recipe_commands?error_message=eq.a%26b%3Dc%20d%2C%28x%29&select=id%2Ctype");
    sb_req_free(&r);
}
END_TEST

START_TEST(in_lists_quote_punctuation)
{
    const char *values[] = {"plain", "with,comma", "say \"hi\""};
    sb_request r;
    sb_req_init(&r, "GET", "t", "test");
    sb_req_filter_in(&r, "c", values, 3);
    /* (plain,"with,comma","say \"hi\"") encoded */
    ck_assert_str_eq(r.path.data, "t?c=in.%28plain%2C%22with%2Ccomma%22%2C%22say%20%5C%22hi"
                                  "%5C%22%22%29");
    sb_req_free(&r);
}
END_TEST

START_TEST(only_jwt_shaped_keys_are_bearer_tokens)
{
    ck_assert_int_eq(sb_key_is_jwt("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.abc-_DEF"), 1);
    ck_assert_int_eq(sb_key_is_jwt("sb_secret_abcdef0123456789"), 0);
    ck_assert_int_eq(sb_key_is_jwt("a.b"), 0);
    ck_assert_int_eq(sb_key_is_jwt("a..c"), 0);
    ck_assert_int_eq(sb_key_is_jwt("a.b.c.d"), 0);
    ck_assert_int_eq(sb_key_is_jwt("a.b c.d"), 0);
}
END_TEST

START_TEST(iso_times_round_trip)
{
    char buf[SB_ISO_LEN];
    ck_assert_str_eq(sb_iso_time(1790000000123, buf), "2026-09-21T14:13:20.123Z");
    ck_assert_int_eq(sb_parse_iso("2026-09-21T14:13:20.123Z"), 1790000000123);
    ck_assert_int_eq(sb_parse_iso("2026-09-21T14:13:20.123456+00:00"), 1790000000123);
    ck_assert_int_eq(sb_parse_iso("2026-09-21T16:13:20+02:00"), 1790000000000);
    ck_assert_int_eq(sb_parse_iso("2026-09-21 14:13:20"), 1790000000000);
    ck_assert_int_eq(sb_parse_iso("yesterday"), -1);
    ck_assert_int_eq(sb_parse_iso(NULL), -1);
}
END_TEST

START_TEST(postgrest_error_bodies_are_described)
{
    char out[512];
    const char *pg = "{\"code\":\"23505\",\"message\":\"duplicate key\",\"details\":\"Key (id)=(x)"
                     " already exists.\",\"hint\":null}";
    sb_describe_body(pg, strlen(pg), out, sizeof out);
    ck_assert_str_eq(out, "23505: duplicate key; details: Key (id)=(x) already exists.");
    const char *html = "<html><body>\n<h1>502 Bad   Gateway</h1></body></html>";
    sb_describe_body(html, strlen(html), out, sizeof out);
    ck_assert_str_eq(out, "502 Bad Gateway");
    sb_describe_body("", 0, out, sizeof out);
    ck_assert_str_eq(out, "(empty body)");
}
END_TEST

START_TEST(http_statuses_map_to_ald_statuses)
{
    ck_assert_int_eq(sb_map_http(401, NULL), ALD_ERR_AUTH);
    ck_assert_int_eq(sb_map_http(403, NULL), ALD_ERR_AUTH);
    ck_assert_int_eq(sb_map_http(406, "PGRST116"), ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(sb_map_http(409, "23505"), ALD_ERR_CONFLICT);
    ck_assert_int_eq(sb_map_http(400, "22P02"), ALD_ERR_INVALID);
    ck_assert_int_eq(sb_map_http(408, NULL), ALD_ERR_TIMEOUT);
    ck_assert_int_eq(sb_map_http(429, NULL), ALD_ERR_TRANSIENT);
    ck_assert_int_eq(sb_map_http(503, NULL), ALD_ERR_TRANSIENT);
}
END_TEST

START_TEST(json_fields_follow_the_abi_null_conventions)
{
    json_t *row = json_loads("{\"a\": null, \"n\": 2.5, \"i\": 7, \"s\": \"x\", \"b\": true,"
                             " \"j\": {\"k\": [1]}}", 0, NULL);
    ck_assert_ptr_null(sb_str(row, "a"));
    ck_assert_ptr_null(sb_str(row, "missing"));
    ck_assert(sb_num(row, "a") != sb_num(row, "a")); /* NaN */
    ck_assert_int_eq(sb_int(row, "a"), -1);
    ck_assert_int_eq(sb_int(row, "i"), 7);
    ck_assert(sb_num(row, "n") == 2.5);
    ck_assert_int_eq(sb_bool(row, "b"), 1);
    char *j = sb_json_text(row, "j");
    ck_assert_str_eq(j, "{\"k\":[1]}");
    free(j);
    ck_assert_ptr_null(sb_json_text(row, "a"));
    json_decref(row);
}
END_TEST

static Suite *unit_suite(void)
{
    Suite *s = suite_create("storage-supabase helpers");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, json_text_writer_round_trips);
    tcase_add_test(tc, filter_values_are_percent_encoded);
    tcase_add_test(tc, in_lists_quote_punctuation);
    tcase_add_test(tc, only_jwt_shaped_keys_are_bearer_tokens);
    tcase_add_test(tc, iso_times_round_trip);
    tcase_add_test(tc, postgrest_error_bodies_are_described);
    tcase_add_test(tc, http_statuses_map_to_ald_statuses);
    tcase_add_test(tc, json_fields_follow_the_abi_null_conventions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(unit_suite());
}
