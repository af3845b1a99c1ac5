/*
 * check_recipe_json.c - the recipe document: rows it produces, every kind of
 * malformed input (with the place it names), and export/import round trips.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_json.h"
#include "testutil.h"

#define MFC1 "a0000000-0000-4000-8000-000000000701"
#define GAUGE1 "a0000000-0000-4000-8000-000000000901"

/* The example of docs/aldctl.md, with every field written out. */
static const char FULL_DOC[] =
    "{ \"name\": \"Al2O3 demo\", \"description\": \"test\", \"version\": 3,\n"
    "  \"chamber_temperature_set_point\": 150, \"pressure_set_point\": null,\n"
    "  \"parameters\": { \"target_thickness_nm\": \"10\" },\n"
    "  \"steps\": [\n"
    "    { \"type\": \"set parameter\", \"name\": \"MFC 1 flow\", \"parameter_id\": \"" MFC1
    "\",\n"
    "      \"target_value\": 150, \"hold_duration_ms\": 0 },\n"
    "    { \"type\": \"loop\", \"name\": \"ALD cycle\", \"iteration_count\": 100, \"steps\": "
    "[\n"
    "        { \"type\": \"valve\", \"name\": \"TMA pulse\", \"valve_number\": 1, "
    "\"duration_ms\": 20 },\n"
    "        { \"type\": \"purge\", \"name\": \"N2 purge\", \"duration_ms\": 2000, "
    "\"gas_type\": \"N2\", \"flow_rate\": 200 },\n"
    "        { \"type\": \"wait\", \"name\": \"pressure low\", \"parameter_id\": \"" GAUGE1
    "\",\n"
    "          \"operator\": \"<=\", \"value\": 1.5, \"timeout_ms\": 5000 } ] } ] }\n";

static char err[1024];

static int parse(const char *text, recipe_rows *rows)
{
    recipe_rows_init(rows);
    err[0] = '\0';
    return recipe_json_parse(text, rows, err, sizeof err);
}

/* Parse must fail and the message must contain `want`. */
static void expect_error(const char *text, const char *want)
{
    recipe_rows rows;
    int rc = parse(text, &rows);
    recipe_rows_free(&rows);
    ck_assert_msg(rc == -1, "accepted: %s", text);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
}

/* A document with one top-level step (the JSON of that step). */
static char *with_step(const char *step)
{
    static char doc[4096];
    snprintf(doc, sizeof doc, "{\"name\": \"t\", \"steps\": [%s]}", step);
    return doc;
}

static const ald_recipe_step *row_named(const recipe_rows *rows, const char *name)
{
    for (size_t i = 0; i < rows->count; i++)
        if (!strcmp(rows->steps[i].name, name))
            return &rows->steps[i];
    return NULL;
}

/* ---- rows --------------------------------------------------------------------------- */

START_TEST(test_full_document_gives_rows_with_links_configs_and_sequence)
{
    recipe_rows rows;
    ck_assert_msg(parse(FULL_DOC, &rows) == 0, "%s", err);
    ck_assert_int_eq(rows.count, 5);
    ck_assert_str_eq(rows.info.name, "Al2O3 demo");
    ck_assert_int_eq(rows.info.version, 3);
    ck_assert_double_eq(rows.info.chamber_temperature_set_point, 150);
    ck_assert(isnan(rows.info.pressure_set_point));
    ck_assert_int_eq(rows.param_count, 1);
    ck_assert_str_eq(rows.param_names[0], "target_thickness_nm");
    ck_assert_str_eq(rows.param_values[0], "10");
    ck_assert_int_eq(strlen(rows.info.id), 36);
    ck_assert_int_eq(rows.info.id[14], '4'); /* a v4 uuid */

    const ald_recipe_step *set = row_named(&rows, "MFC 1 flow");
    const ald_recipe_step *loop = row_named(&rows, "ALD cycle");
    const ald_recipe_step *valve = row_named(&rows, "TMA pulse");
    const ald_recipe_step *purge = row_named(&rows, "N2 purge");
    const ald_recipe_step *wait = row_named(&rows, "pressure low");
    ck_assert(set && loop && valve && purge && wait);
    ck_assert_int_eq(set->sequence_number, 1);
    ck_assert_int_eq(loop->sequence_number, 2);
    ck_assert_int_eq(valve->sequence_number, 1);
    ck_assert_int_eq(purge->sequence_number, 2);
    ck_assert_int_eq(wait->sequence_number, 3);
    ck_assert_ptr_null(set->parent_step_id);
    ck_assert_ptr_null(loop->parent_step_id);
    ck_assert_str_eq(valve->parent_step_id, loop->id);
    ck_assert_str_eq(wait->parent_step_id, loop->id);
    ck_assert_str_ne(valve->id, purge->id);
    ck_assert_str_eq(valve->recipe_id, rows.info.id);

    ck_assert(set->has_parameter_config);
    ck_assert_str_eq(set->parameter_id, MFC1);
    ck_assert_double_eq(set->target_value, 150);
    ck_assert(loop->has_loop_config);
    ck_assert_int_eq(loop->iteration_count, 100);
    ck_assert(valve->has_valve_config);
    ck_assert_int_eq(valve->valve_number, 1);
    ck_assert_int_eq(valve->valve_duration_ms, 20);
    ck_assert(purge->has_purge_config);
    ck_assert_int_eq(purge->purge_duration_ms, 2000);
    ck_assert_str_eq(purge->gas_type, "N2");
    ck_assert_double_eq(purge->flow_rate, 200);
    ck_assert_str_eq(wait->type, "wait");
    ck_assert(!wait->has_parameter_config);
    json_t *js = json_loads(wait->parameters_json, 0, NULL);
    ck_assert_ptr_nonnull(js);
    ck_assert_str_eq(json_string_value(json_object_get(js, "operator")), "<=");
    ck_assert_double_eq(json_number_value(json_object_get(js, "value")), 1.5);
    ck_assert_int_eq(json_integer_value(json_object_get(js, "timeout_ms")), 5000);
    json_decref(js);

    recipe r;
    ck_assert_int_eq(recipe_build(&r, &rows, err, sizeof err), 0);
    ck_assert_int_eq(r.total_steps, 1 + 100 * 3);
    ck_assert_int_eq(r.total_cycles, 100);
    ck_assert_int_eq(r.steps[1].children[2].op, WAIT_LE);
    recipe_free(&r);
    recipe_rows_free(&rows);
}
END_TEST

START_TEST(test_defaults_fill_name_gas_and_version)
{
    recipe_rows rows;
    ck_assert_msg(parse(with_step("{\"type\": \"purge\", \"duration_ms\": 10}"), &rows) == 0,
                  "%s", err);
    ck_assert_int_eq(rows.info.version, 1);
    ck_assert_str_eq(rows.steps[0].name, "purge");
    ck_assert_str_eq(rows.steps[0].gas_type, "N2");
    ck_assert(isnan(rows.steps[0].flow_rate));
    recipe_rows_free(&rows);
}
END_TEST

START_TEST(test_set_id_moves_recipe_and_steps)
{
    recipe_rows rows;
    ck_assert_int_eq(parse(FULL_DOC, &rows), 0);
    ck_assert_int_eq(recipe_json_set_id(&rows, "11111111-2222-4333-8444-555555555555"), 0);
    ck_assert_str_eq(rows.info.id, "11111111-2222-4333-8444-555555555555");
    for (size_t i = 0; i < rows.count; i++)
        ck_assert_str_eq(rows.steps[i].recipe_id, rows.info.id);
    recipe_rows_free(&rows);
}
END_TEST

START_TEST(test_nested_loops_link_each_level_to_its_own_loop)
{
    recipe_rows rows;
    const char *doc = with_step(
        "{\"type\": \"loop\", \"name\": \"outer\", \"iteration_count\": 2, \"steps\": ["
        " {\"type\": \"loop\", \"name\": \"inner\", \"iteration_count\": 3, \"steps\": ["
        "   {\"type\": \"valve\", \"name\": \"v\", \"valve_number\": 1, \"duration_ms\": "
        "5}]},"
        " {\"type\": \"purge\", \"name\": \"p\", \"duration_ms\": 5}]}");
    ck_assert_msg(parse(doc, &rows) == 0, "%s", err);
    const ald_recipe_step *outer = row_named(&rows, "outer"),
                          *inner = row_named(&rows, "inner");
    ck_assert_str_eq(inner->parent_step_id, outer->id);
    ck_assert_str_eq(row_named(&rows, "v")->parent_step_id, inner->id);
    ck_assert_str_eq(row_named(&rows, "p")->parent_step_id, outer->id);
    ck_assert_int_eq(row_named(&rows, "p")->sequence_number, 2);
    recipe r;
    ck_assert_int_eq(recipe_build(&r, &rows, err, sizeof err), 0);
    ck_assert_int_eq(r.total_steps, 2 * (3 + 1));
    recipe_free(&r);
    recipe_rows_free(&rows);
}
END_TEST

/* ---- malformed documents -------------------------------------------------------------- */

START_TEST(test_syntax_error_names_line_and_column)
{
    expect_error("{\n  \"name\": \"x\",\n  \"steps\": [ }\n", "line 3, column ");
    expect_error("", "line ");
    expect_error("{\"name\": \"a\", \"name\": \"b\", \"steps\": []}", "duplicate");
}
END_TEST

START_TEST(test_wrong_types_name_the_path)
{
    expect_error(with_step("{\"type\": \"loop\", \"name\": \"c\", \"iteration_count\": 2, "
                           "\"steps\": [{\"type\": \"valve\", \"valve_number\": 1, "
                           "\"duration_ms\": \"20\"}]}"),
                 "steps[0].steps[0].duration_ms: expected a whole number of milliseconds, "
                 "got \"20\"");
    expect_error(
        with_step("{\"type\": \"valve\", \"valve_number\": 1.5, \"duration_ms\": 2}"),
        "steps[0].valve_number: expected a whole number, got 1.5");
    expect_error(with_step("{\"type\": \"set parameter\", \"parameter_id\": 7, "
                           "\"target_value\": 1}"),
                 "steps[0].parameter_id: expected text, got 7");
    expect_error(with_step("{\"type\": \"set parameter\", \"parameter_id\": \"x\", "
                           "\"target_value\": \"1\"}"),
                 "steps[0].target_value: expected a number, got \"1\"");
    expect_error("{\"name\": \"t\", \"steps\": {}}", "steps: expected a list of steps");
    expect_error("{\"name\": \"t\", \"steps\": [3]}", "steps[0]: expected a step");
    expect_error("[1, 2]", "expected a recipe object");
    expect_error("{\"name\": 5, \"steps\": []}", "name: expected text, got 5");
    expect_error("{\"name\": \"t\", \"version\": \"2\", \"steps\": []}",
                 "version: expected a whole number");
    expect_error("{\"name\": \"t\", \"parameters\": {\"n\": 10}, \"steps\": []}",
                 "parameters.n: expected text");
    expect_error(
        "{\"name\": \"t\", \"chamber_temperature_set_point\": \"hot\", \"steps\": []}",
        "chamber_temperature_set_point: expected a number");
}
END_TEST

START_TEST(test_unknown_step_type_and_keys_are_refused)
{
    expect_error(with_step("{\"type\": \"pulse\", \"duration_ms\": 2}"),
                 "steps[0].type: unknown step type \"pulse\"");
    expect_error(with_step("{\"type\": \"valve\", \"valve_number\": 1, \"duraton_ms\": 2}"),
                 "steps[0].duraton_ms: unknown key (a valve step takes: type, name, "
                 "valve_number, duration_ms)");
    expect_error(with_step("{\"type\": \"purge\", \"duration_ms\": 2, \"steps\": []}"),
                 "steps[0].steps: unknown key");
    expect_error("{\"name\": \"t\", \"stepz\": [], \"steps\": []}", "stepz: unknown key");
}
END_TEST

START_TEST(test_missing_fields_are_named)
{
    expect_error(with_step("{\"type\": \"valve\", \"valve_number\": 1}"),
                 "steps[0]: missing \"duration_ms\" (required in a valve step)");
    expect_error(with_step("{\"name\": \"no type\"}"), "steps[0]: missing \"type\"");
    expect_error(with_step("{\"type\": \"loop\", \"iteration_count\": 2}"),
                 "steps[0]: missing \"steps\"");
    expect_error(with_step("{\"type\": \"wait\", \"parameter_id\": \"x\", \"value\": 1}"),
                 "steps[0]: missing \"timeout_ms\"");
    expect_error("{\"steps\": []}", "name: missing");
    expect_error("{\"name\": \"t\"}", "steps: missing");
    expect_error("{\"name\": \"t\", \"steps\": []}", "has no steps");
}
END_TEST

START_TEST(test_loop_counts_out_of_range_point_at_the_loop)
{
    const char *body = ", \"steps\": [{\"type\": \"purge\", \"duration_ms\": 1}]}";
    char step[256];
    snprintf(step, sizeof step,
             "{\"type\": \"loop\", \"name\": \"c\", \"iteration_count\": 0%s", body);
    expect_error(with_step(step), "steps[0] \"c\": loop iteration_count 0 is out of range");
    snprintf(step, sizeof step,
             "{\"type\": \"loop\", \"name\": \"c\", \"iteration_count\": 1000000000%s", body);
    expect_error(with_step(step),
                 "steps[0] \"c\": loop iteration_count 1000000000 is out of");
    expect_error(
        with_step("{\"type\": \"loop\", \"name\": \"empty\", \"iteration_count\": 2, "
                  "\"steps\": []}"),
        "steps[0] \"empty\": loop has no steps inside it");
}
END_TEST

START_TEST(test_negative_and_absurd_durations)
{
    expect_error(with_step("{\"type\": \"valve\", \"valve_number\": 1, \"duration_ms\": -5}"),
                 "steps[0].duration_ms: expected a whole number of milliseconds (0 or more), "
                 "got -5");
    expect_error(with_step("{\"type\": \"valve\", \"name\": \"v\", \"valve_number\": 1, "
                           "\"duration_ms\": 600000}"),
                 "steps[0] \"v\": valve duration_ms 600000 is out of range (1..60000)");
    expect_error(with_step("{\"type\": \"loop\", \"name\": \"l\", \"iteration_count\": 2, "
                           "\"steps\": [{\"type\": \"purge\", \"name\": \"p\", "
                           "\"duration_ms\": 99999999999}]}"),
                 "steps[0].steps[0] \"p\": purge duration_ms 99999999999 is out of range");
    expect_error(with_step("{\"type\": \"valve\", \"name\": \"v\", \"valve_number\": 99, "
                           "\"duration_ms\": 5}"),
                 "steps[0] \"v\": valve number 99 is out of range");
    expect_error(with_step("{\"type\": \"wait\", \"name\": \"w\", \"parameter_id\": \"x\", "
                           "\"operator\": \"=>\", \"value\": 1, \"timeout_ms\": 5}"),
                 "steps[0] \"w\": wait operator '=>' is not one of");
}
END_TEST

START_TEST(test_loops_nested_too_deep_are_refused_with_the_deepest_place)
{
    char doc[8192] = "{\"name\": \"deep\", \"steps\": [";
    int depth = RECIPE_MAX_DEPTH + 1;
    for (int i = 0; i < depth; i++)
        strcat(doc, "{\"type\": \"loop\", \"iteration_count\": 1, \"steps\": [");
    strcat(doc, "{\"type\": \"purge\", \"duration_ms\": 1}");
    for (int i = 0; i < depth; i++)
        strcat(doc, "]}");
    strcat(doc, "]}");
    expect_error(doc, "nested deeper than 16 levels");
    expect_error(doc, "steps[0].steps[0].steps[0]");
}
END_TEST

/* ---- round trip
 * ------------------------------------------------------------------------------ */

static json_t *export_of(const char *doc)
{
    recipe_rows rows;
    recipe r;
    ck_assert_msg(parse(doc, &rows) == 0, "%s", err);
    ck_assert_int_eq(recipe_build(&r, &rows, err, sizeof err), 0);
    char *text = recipe_json_export(&r);
    ck_assert_ptr_nonnull(text);
    json_error_t jerr;
    json_t *js = json_loads(text, 0, &jerr);
    ck_assert_msg(js != NULL, "export is not JSON: %s", jerr.text);
    free(text);
    recipe_free(&r);
    recipe_rows_free(&rows);
    return js;
}

START_TEST(test_export_of_import_equals_the_document)
{
    json_t *original = json_loads(FULL_DOC, 0, NULL);
    json_t *exported = export_of(FULL_DOC);
    char *a = json_dumps(original, JSON_SORT_KEYS), *b = json_dumps(exported, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(original, exported), "\n%s\n!=\n%s", a, b);
    free(a);
    free(b);
    json_decref(original);
    json_decref(exported);
}
END_TEST

START_TEST(test_round_trip_fills_defaults_and_is_then_stable)
{
    const char *sparse = with_step("{\"type\": \"loop\", \"iteration_count\": 2, \"steps\": ["
                                   "{\"type\": \"purge\", \"duration_ms\": 7}]}");
    json_t *once = export_of(sparse);
    json_t *loop = json_array_get(json_object_get(once, "steps"), 0);
    json_t *purge = json_array_get(json_object_get(loop, "steps"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(loop, "name")), "loop");
    ck_assert_str_eq(json_string_value(json_object_get(purge, "gas_type")), "N2");
    ck_assert_int_eq(json_integer_value(json_object_get(once, "version")), 1);
    ck_assert(json_is_null(json_object_get(once, "description")));
    char *text = json_dumps(once, 0);
    json_t *twice = export_of(text);
    ck_assert(json_equal(once, twice));
    free(text);
    json_decref(once);
    json_decref(twice);
}
END_TEST

START_TEST(test_fresh_ids_on_every_parse)
{
    recipe_rows a, b;
    ck_assert_int_eq(parse(FULL_DOC, &a), 0);
    ck_assert_int_eq(parse(FULL_DOC, &b), 0);
    ck_assert_str_ne(a.info.id, b.info.id);
    ck_assert_str_ne(a.steps[0].id, b.steps[0].id);
    recipe_rows_free(&a);
    recipe_rows_free(&b);
}
END_TEST

static Suite *recipe_json_suite(void)
{
    Suite *s = suite_create("recipe_json");
    TCase *rows = tcase_create("rows");
    tcase_add_test(rows, test_full_document_gives_rows_with_links_configs_and_sequence);
    tcase_add_test(rows, test_defaults_fill_name_gas_and_version);
    tcase_add_test(rows, test_set_id_moves_recipe_and_steps);
    tcase_add_test(rows, test_nested_loops_link_each_level_to_its_own_loop);
    tcase_add_test(rows, test_fresh_ids_on_every_parse);
    suite_add_tcase(s, rows);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, test_syntax_error_names_line_and_column);
    tcase_add_test(bad, test_wrong_types_name_the_path);
    tcase_add_test(bad, test_unknown_step_type_and_keys_are_refused);
    tcase_add_test(bad, test_missing_fields_are_named);
    tcase_add_test(bad, test_loop_counts_out_of_range_point_at_the_loop);
    tcase_add_test(bad, test_negative_and_absurd_durations);
    tcase_add_test(bad, test_loops_nested_too_deep_are_refused_with_the_deepest_place);
    suite_add_tcase(s, bad);
    TCase *trip = tcase_create("round trip");
    tcase_add_test(trip, test_export_of_import_equals_the_document);
    tcase_add_test(trip, test_round_trip_fills_defaults_and_is_then_stable);
    suite_add_tcase(s, trip);
    return s;
}

int main(void)
{
    return run_suite(recipe_json_suite());
}
