/* check_recipe.c - recipe_build(): the tree, the totals, and every malformed
 * recipe the issue lists ends in an error that names the step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"
#include "recipe_json.h"
#include "testutil.h"

static recipe_rows rows;
static ald_recipe_reader reader;

static void begin(void)
{
    recipe_rows_init(&rows);
    reader = recipe_rows_reader(&rows);
    ald_recipe_info info = {.struct_size = sizeof info, .id = "r1", .name = "test",
                            .version = 1, .chamber_temperature_set_point = NAN,
                            .pressure_set_point = NAN};
    reader.recipe(reader.ctx, &info);
}

static ald_recipe_step base(const char *id, const char *parent, int seq, const char *type)
{
    return (ald_recipe_step){.struct_size = sizeof(ald_recipe_step), .id = id,
                             .recipe_id = "r1", .parent_step_id = parent,
                             .sequence_number = seq, .name = id, .type = type,
                             .flow_rate = NAN, .target_value = NAN};
}

static void valve(const char *id, const char *parent, int seq, int number, int ms)
{
    ald_recipe_step s = base(id, parent, seq, "valve");
    s.has_valve_config = 1;
    s.valve_number = number;
    s.valve_duration_ms = ms;
    reader.step(reader.ctx, &s);
}

static void purge(const char *id, const char *parent, int seq, int ms)
{
    ald_recipe_step s = base(id, parent, seq, "purge");
    s.has_purge_config = 1;
    s.purge_duration_ms = ms;
    reader.step(reader.ctx, &s);
}

static void loop(const char *id, const char *parent, int seq, int64_t count)
{
    ald_recipe_step s = base(id, parent, seq, "loop");
    s.has_loop_config = 1;
    s.iteration_count = count;
    reader.step(reader.ctx, &s);
}

static void inline_step(const char *id, const char *parent, int seq, const char *type,
                        const char *json)
{
    ald_recipe_step s = base(id, parent, seq, type);
    s.parameters_json = json;
    reader.step(reader.ctx, &s);
}

/* Build; expect failure with a message containing both fragments. */
static void expect_error(const char *frag1, const char *frag2)
{
    recipe r;
    char err[600] = "";
    ck_assert_int_eq(recipe_build(&r, &rows, err, sizeof err), -1);
    ck_assert_msg(strstr(err, frag1) != NULL, "'%s' not in: %s", frag1, err);
    if (frag2)
        ck_assert_msg(strstr(err, frag2) != NULL, "'%s' not in: %s", frag2, err);
    recipe_rows_free(&rows);
}

static void build_ok(recipe *r)
{
    char err[600] = "";
    ck_assert_msg(recipe_build(r, &rows, err, sizeof err) == 0, "%s", err);
    recipe_rows_free(&rows);
}

START_TEST(al2o3_loop_builds_with_totals)
{
    begin();
    loop("L", NULL, 1, 100);
    purge("p2", "L", 4, 2000); /* rows arrive out of order: sequence_number decides */
    valve("v1", "L", 1, 1, 20);
    purge("p1", "L", 2, 2000);
    valve("v2", "L", 3, 2, 20);
    recipe r;
    build_ok(&r);
    ck_assert_uint_eq(r.step_count, 1);
    ck_assert_int_eq(r.steps[0].kind, STEP_LOOP);
    ck_assert_uint_eq(r.steps[0].child_count, 4);
    ck_assert_str_eq(r.steps[0].children[0].id, "v1");
    ck_assert_str_eq(r.steps[0].children[3].id, "p2");
    ck_assert_int_eq(r.total_steps, 400);
    ck_assert_int_eq(r.total_cycles, 100);
    ck_assert_double_eq(r.nominal_ms, 100 * 4040.0);
    recipe_free(&r);
}
END_TEST

START_TEST(nested_loops_count_every_leaf)
{
    begin();
    inline_step("sp", NULL, 1, "set parameter",
                "{\"parameter_id\": \"p\", \"target_value\": 150}");
    loop("outer", NULL, 2, 3);
    loop("inner", "outer", 1, 2);
    valve("a", "inner", 1, 1, 20);
    purge("b", "inner", 2, 100);
    valve("c", "outer", 2, 2, 30);
    purge("d", "outer", 3, 100);
    recipe r;
    build_ok(&r);
    /* 1 + 3 * (2 * 2 + 2) = 19 */
    ck_assert_int_eq(r.total_steps, 19);
    ck_assert_int_eq(r.total_cycles, 3);
    ck_assert_int_eq(r.steps[0].kind, STEP_SET_PARAMETER);
    ck_assert_double_eq(r.steps[0].target_value, 150);
    char *snap = recipe_snapshot_json(&r);
    ck_assert_ptr_nonnull(strstr(snap, "\"iteration_count\":2"));
    ck_assert_ptr_nonnull(strstr(snap, "\"total_steps\":19"));
    free(snap);
    recipe_free(&r);
}
END_TEST

START_TEST(inline_parameters_are_the_fallback)
{
    begin();
    inline_step("v", NULL, 1, "valve", "{\"valve_number\": 3, \"duration_ms\": 150}");
    inline_step("p", NULL, 2, "purge", "{\"duration_ms\": 500, \"gas_type\": \"Ar\"}");
    inline_step("w", NULL, 3, "wait",
                "{\"parameter_id\": \"x\", \"operator\": \"<=\", \"value\": 1.5, "
                "\"timeout_ms\": 1000}");
    recipe r;
    build_ok(&r);
    ck_assert_int_eq(r.steps[0].valve_number, 3);
    ck_assert_int_eq(r.steps[0].duration_ms, 150);
    ck_assert_str_eq(r.steps[1].gas_type, "Ar");
    ck_assert_int_eq(r.steps[2].op, WAIT_LE);
    recipe_free(&r);
}
END_TEST

START_TEST(cycle_in_parent_links)
{
    begin();
    loop("a", "b", 1, 2);
    loop("b", "a", 2, 2);
    valve("v", "a", 1, 1, 20);
    expect_error("cycle", NULL);
}
END_TEST

START_TEST(missing_parent)
{
    begin();
    valve("v", "nowhere", 1, 1, 20);
    expect_error("parent step nowhere does not exist", NULL);
}
END_TEST

START_TEST(self_parented_loop_is_named_not_dropped)
{
    begin();
    purge("top", NULL, 1, 100);
    loop("selfish", "selfish", 2, 3);
    valve("v", "selfish", 1, 1, 20);
    expect_error("'selfish'", "not reachable from the recipe's top level");
}
END_TEST

START_TEST(cycle_with_no_top_level_names_a_step_not_no_steps)
{
    begin();
    loop("a", "b", 1, 2);
    loop("b", "a", 1, 2);
    expect_error("not reachable", "parent links form a cycle");
}
END_TEST

START_TEST(duplicate_ids_are_named)
{
    begin();
    purge("p", NULL, 1, 100);
    purge("p", NULL, 2, 100);
    expect_error("two steps share this id", "(id p)");
}
END_TEST

/* 20 000 loops of 4 steps: builds (linear-time; bench/recipe_load_bench.sh
 * times it), with siblings in sequence order whatever the row order. */
START_TEST(hundred_thousand_steps_build_in_sequence_order)
{
    enum { LOOPS = 20000 };
    static char ids[LOOPS * 5][16];
    begin();
    for (int i = LOOPS - 1; i >= 0; i--) { /* rows in reverse: order comes from sequence */
        char *l = ids[i * 5];
        snprintf(l, 16, "L%d", i);
        for (int k = 3; k >= 0; k--) {
            char *c = ids[i * 5 + 1 + k];
            snprintf(c, 16, "C%d_%d", i, k);
            if (k % 2)
                purge(c, l, k, 20);
            else
                valve(c, l, k, 1 + k / 2, 20);
        }
        loop(l, NULL, i, 2);
    }
    recipe r;
    build_ok(&r);
    ck_assert_uint_eq(r.step_count, LOOPS);
    ck_assert_int_eq(r.total_steps, LOOPS * 4 * 2);
    ck_assert_int_eq(r.total_cycles, LOOPS * 2);
    ck_assert_str_eq(r.steps[0].id, "L0");
    ck_assert_str_eq(r.steps[LOOPS - 1].id, "L19999");
    ck_assert_str_eq(r.steps[7].children[0].id, "C7_0");
    ck_assert_str_eq(r.steps[7].children[3].id, "C7_3");
    ck_assert_int_eq(r.steps[7].children[2].valve_number, 2);
    recipe_free(&r);
}
END_TEST

START_TEST(negative_duration)
{
    begin();
    valve("v", NULL, 1, 1, -5);
    expect_error("step 1 'v'", "out of range");
}
END_TEST

START_TEST(absurd_duration)
{
    begin();
    purge("p", NULL, 1, 100000000);
    expect_error("purge duration_ms 100000000 is out of range", NULL);
}
END_TEST

START_TEST(loop_count_zero)
{
    begin();
    loop("L", NULL, 1, 0);
    valve("v", "L", 1, 1, 20);
    expect_error("loop iteration_count 0 is out of range", NULL);
}
END_TEST

START_TEST(loop_count_billion)
{
    begin();
    loop("L", NULL, 1, 1000000000);
    valve("v", "L", 1, 1, 20);
    expect_error("loop iteration_count 1000000000 is out of range", NULL);
}
END_TEST

START_TEST(nested_product_too_large)
{
    begin();
    loop("a", NULL, 1, 100000);
    loop("b", "a", 1, 100000);
    valve("v", "b", 1, 1, 20);
    expect_error("more than", NULL);
}
END_TEST

START_TEST(unknown_step_type)
{
    begin();
    inline_step("x", NULL, 1, "teleport", "{}");
    expect_error("unknown step type 'teleport'", NULL);
}
END_TEST

START_TEST(missing_config)
{
    begin();
    inline_step("v", NULL, 1, "valve", NULL);
    expect_error("valve step needs a valve number and a duration", NULL);
}
END_TEST

START_TEST(wrong_json_types)
{
    begin();
    inline_step("v", NULL, 1, "valve", "{\"valve_number\": \"one\", \"duration_ms\": 20}");
    expect_error("parameters.valve_number must be a whole number", NULL);
    begin();
    inline_step("v", NULL, 1, "valve", "[1, 2]");
    expect_error("parameters is not a JSON object", NULL);
    begin();
    inline_step("v", NULL, 1, "valve", "{broken");
    expect_error("parameters is not a JSON object", NULL);
}
END_TEST

START_TEST(empty_loop_and_leaf_with_children)
{
    begin();
    loop("L", NULL, 1, 5);
    expect_error("loop has no steps inside it", NULL);
    begin();
    valve("v", NULL, 1, 1, 20);
    purge("p", "v", 1, 100);
    expect_error("a valve step cannot have child steps", NULL);
}
END_TEST

START_TEST(no_steps_and_no_recipe)
{
    begin();
    expect_error("has no steps", NULL);
    recipe_rows_init(&rows);
    expect_error("recipe not found", NULL);
}
END_TEST

START_TEST(step_kinds_accept_the_field_spellings)
{
    ck_assert_int_eq(recipe_step_kind("set parameter"), STEP_SET_PARAMETER);
    ck_assert_int_eq(recipe_step_kind("parameter"), STEP_SET_PARAMETER);
    ck_assert_int_eq(recipe_step_kind("set_parameter"), STEP_SET_PARAMETER);
    ck_assert_int_eq(recipe_step_kind("Valve"), STEP_VALVE);
    ck_assert_int_eq(recipe_step_kind("pulse"), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("recipe");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, al2o3_loop_builds_with_totals);
    tcase_add_test(tc, nested_loops_count_every_leaf);
    tcase_add_test(tc, inline_parameters_are_the_fallback);
    tcase_add_test(tc, cycle_in_parent_links);
    tcase_add_test(tc, missing_parent);
    tcase_add_test(tc, self_parented_loop_is_named_not_dropped);
    tcase_add_test(tc, cycle_with_no_top_level_names_a_step_not_no_steps);
    tcase_add_test(tc, duplicate_ids_are_named);
    tcase_add_test(tc, hundred_thousand_steps_build_in_sequence_order);
    tcase_add_test(tc, negative_duration);
    tcase_add_test(tc, absurd_duration);
    tcase_add_test(tc, loop_count_zero);
    tcase_add_test(tc, loop_count_billion);
    tcase_add_test(tc, nested_product_too_large);
    tcase_add_test(tc, unknown_step_type);
    tcase_add_test(tc, missing_config);
    tcase_add_test(tc, wrong_json_types);
    tcase_add_test(tc, empty_loop_and_leaf_with_children);
    tcase_add_test(tc, no_steps_and_no_recipe);
    tcase_add_test(tc, step_kinds_accept_the_field_spellings);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
