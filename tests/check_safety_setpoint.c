/*
 * check_safety_setpoint.c - setpoint writes against a PLC that fails, ignores
 * or clamps them: what is refused never reaches the PLC, a read-back that
 * differs from what was written fails the command, a transient error is
 * retried and a permanent one is not. Every assertion counts write attempts
 * in the fault PLC's log.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safety_rig.h"
#include "setpoint.h"
#include "testutil.h"

#define PG1 "a0000000-0000-4000-8000-000000000901" /* a gauge: read-only */

static size_t writes(void)
{
    return R.fault->write_count(R.plc.inst);
}

static int apply(const char *parameter_id, double value, char *err, size_t len)
{
    setpoint_target t = {&R.plc, &R.tags, &R.store};
    return setpoint_apply(&t, parameter_id, value, err, len);
}

/* Run one set_parameter command; returns its error_message ("" = none). */
static const char *set_parameter(const char *value_json)
{
    char params[200];
    snprintf(params, sizeof params, "{\"parameter_id\": \"%s\", \"value\": %s}", RIG_MFC1,
             value_json);
    rig_command("sp", "set_parameter", params);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    return rig_query("SELECT coalesce(error_message, '') FROM recipe_commands WHERE id='sp'");
}

static const char *command_status(void)
{
    return rig_query("SELECT status FROM recipe_commands WHERE id='sp'");
}

START_TEST(a_nan_setpoint_is_refused_with_no_plc_write)
{
    rig_up();
    char err[400] = "";
    ck_assert_int_eq(apply(RIG_MFC1, NAN, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a number"), "%s", err);
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(an_infinite_setpoint_is_refused_with_no_plc_write)
{
    rig_up();
    char err[400] = "";
    ck_assert_int_eq(apply(RIG_MFC1, -INFINITY, err, sizeof err), -1);
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(a_setpoint_without_a_parameter_is_refused_with_no_plc_write)
{
    rig_up();
    char err[400] = "";
    ck_assert_int_eq(apply(NULL, 10, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "(none)"), "%s", err);
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(a_set_parameter_command_with_a_null_value_is_refused_with_no_plc_write)
{
    rig_up();
    const char *why = set_parameter("null");
    ck_assert_msg(strstr(why, "parameters.value null is refused"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(setpoints_outside_the_limits_or_read_only_are_refused_with_no_plc_write)
{
    rig_up();
    char err[400] = "";
    ck_assert_int_eq(apply(RIG_MFC1, 500.5, err, sizeof err), -1); /* max is 500 */
    ck_assert_int_eq(apply(RIG_MFC1, -0.5, err, sizeof err), -1);  /* min is 0 */
    ck_assert_int_eq(apply(PG1, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "read-only"), "%s", err);
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(setpoints_exactly_at_the_limits_are_written)
{
    rig_up();
    char err[400] = "";
    ck_assert_msg(apply(RIG_MFC1, 500, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(apply(RIG_MFC1, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(writes(), 2);
}
END_TEST

START_TEST(a_plc_that_ignores_a_setpoint_write_fails_the_command)
{
    rig_up();
    size_t tag = rig_param_tag(RIG_MFC1);
    R.fault->ignore_writes(R.plc.inst, tag);
    const char *why = set_parameter("120");
    ck_assert_msg(strstr(why, "read back 0"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, tag, 120), 1);
    /* a setpoint the PLC does not hold is not recorded as set */
    ck_assert_double_ne_tol(atof(rig_query("SELECT coalesce(set_value, -1) FROM "
                                           "component_parameters WHERE id='%s'", RIG_MFC1)),
                            120, 1e-6);
}
END_TEST

START_TEST(a_plc_that_clamps_a_setpoint_write_fails_the_command)
{
    rig_up();
    size_t tag = rig_param_tag(RIG_MFC1);
    R.fault->clamp_writes(R.plc.inst, tag, 100);
    const char *why = set_parameter("120");
    ck_assert_msg(strstr(why, "read back 100"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    ck_assert_double_eq(R.fault->value(R.plc.inst, tag), 100);
}
END_TEST

START_TEST(a_transient_error_on_a_setpoint_write_is_retried_and_the_setpoint_succeeds)
{
    rig_up();
    size_t tag = rig_param_tag(RIG_MFC1);
    R.fault->fail_writes(R.plc.inst, tag, NAN, 1, ALD_ERR_TIMEOUT);
    ck_assert_str_eq(set_parameter("120"), "");
    ck_assert_str_eq(command_status(), "completed");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, tag, 120), 2);
    ck_assert_double_eq(R.fault->value(R.plc.inst, tag), 120);
    ck_assert_double_eq_tol(atof(rig_query("SELECT set_value FROM component_parameters "
                                           "WHERE id='%s'", RIG_MFC1)),
                            120, 1e-6);
}
END_TEST

START_TEST(a_permanent_error_on_a_setpoint_write_is_not_retried)
{
    rig_up();
    size_t tag = rig_param_tag(RIG_MFC1);
    R.fault->fail_writes(R.plc.inst, tag, NAN, 1, ALD_ERR_PROTOCOL);
    const char *why = set_parameter("120");
    ck_assert_msg(strstr(why, "PROTOCOL") || strstr(why, "protocol"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, tag, 120), 1);
}
END_TEST

START_TEST(a_setpoint_write_that_keeps_failing_is_given_up_after_its_retries)
{
    rig_up();
    size_t tag = rig_param_tag(RIG_MFC1);
    R.fault->fail_writes(R.plc.inst, tag, NAN, 100, ALD_ERR_TIMEOUT);
    char err[400] = "";
    ck_assert_int_eq(apply(RIG_MFC1, 120, err, sizeof err), -1);
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, tag, 120), SETPOINT_RETRIES + 1);
}
END_TEST

/* ---- issue 9, item 5: values fit the parameter's type on every path ---------- */

static const char *valve1(void)
{
    const tag_param *v = tagmap_valve(&R.tags, 1);
    ck_assert_ptr_nonnull(v);
    return v->id;
}

/* Run one set_parameter command on any parameter with a raw JSON value. */
static const char *set_raw(const char *parameter_id, const char *value_json)
{
    char params[200];
    snprintf(params, sizeof params, "{\"parameter_id\": \"%s\", \"value\": %s}",
             parameter_id, value_json);
    rig_command("sp", "set_parameter", params);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    return rig_query("SELECT coalesce(error_message, '') FROM recipe_commands WHERE id='sp'");
}

START_TEST(set_parameter_half_on_a_binary_valve_is_refused_with_no_plc_write)
{
    rig_up();
    const char *why = set_raw(valve1(), "0.5");
    ck_assert_msg(strstr(why, "value 0.5 ") && strstr(why, "takes only 0 or 1"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    ck_assert_uint_eq(writes(), 0);
}
END_TEST

START_TEST(set_parameter_takes_a_numeric_string_strictly)
{
    rig_up();
    ck_assert_str_eq(set_parameter("\"120\""), "");
    ck_assert_str_eq(command_status(), "completed");
    ck_assert_double_eq(R.fault->value(R.plc.inst, rig_param_tag(RIG_MFC1)), 120);
    rig_sql("DELETE FROM recipe_commands");
    const char *why = set_parameter("\"120abc\"");
    ck_assert_msg(strstr(why, "parameters.value \"120abc\" is refused"), "%s", why);
    ck_assert_str_eq(command_status(), "error");
    rig_sql("DELETE FROM recipe_commands");
    why = set_parameter("\"0x40\"");
    ck_assert_msg(strstr(why, "\"0x40\" is refused"), "%s", why);
    ck_assert_uint_eq(writes(), 1); /* only the "120" */
}
END_TEST

START_TEST(a_parameter_control_command_of_half_on_a_valve_writes_nothing)
{
    rig_up();
    rig_sql("INSERT INTO parameter_control_commands(id, component_parameter_id, target_value, "
            "machine_id) VALUES('pc', '%s', 0.5, '%s')", valve1(), RIG_MACHINE);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_uint_eq(writes(), 0);
    const char *why = rig_query("SELECT error_message FROM parameter_control_commands");
    ck_assert_msg(strstr(why, "value 0.5 ") && strstr(why, "takes only 0 or 1"), "%s", why);
}
END_TEST

START_TEST(a_malformed_stored_target_names_its_column)
{
    rig_up();
    rig_sql("INSERT INTO parameter_control_commands(id, component_parameter_id, target_value, "
            "machine_id) VALUES('pc', '%s', '120abc', '%s')", RIG_MFC1, RIG_MACHINE);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_uint_eq(writes(), 0);
    const char *why = rig_query("SELECT error_message FROM parameter_control_commands");
    ck_assert_msg(strstr(why, "parameter_control_commands.target_value") &&
                  strstr(why, "not a number"), "%s", why);
}
END_TEST

/* A recipe of one set-parameter step (parameter, target as SQL text). */
static void set_step_recipe(const char *parameter_id, const char *target_sql)
{
    rig_sql("INSERT INTO recipes(id, name) VALUES('r', 'one set');"
            "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type) "
            "VALUES('r-s1', 'r', 1, 'open halfway', 'set parameter');"
            "INSERT INTO parameter_step_config(id, step_id, parameter_id, target_value) "
            "VALUES('r-pc1', 'r-s1', '%s', %s)", parameter_id, target_sql);
}

static const char *start_r(void)
{
    rig_command("start", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_uint_eq(writes(), 0);
    return rig_query("SELECT status || ': ' || error_message FROM recipe_commands "
                     "WHERE id = 'start'");
}

START_TEST(a_recipe_step_of_half_on_a_valve_is_refused_at_start)
{
    rig_up();
    set_step_recipe(valve1(), "0.5");
    const char *why = start_r();
    ck_assert_msg(strstr(why, "error: step 'open halfway': value 0.5 ") &&
                  strstr(why, "takes only 0 or 1"), "%s", why);
}
END_TEST

START_TEST(a_malformed_recipe_target_names_its_column)
{
    rig_up();
    set_step_recipe(RIG_MFC1, "'120abc'");
    const char *why = start_r();
    ck_assert_msg(strstr(why, "parameter_step_config.target_value is not a number"), "%s",
                  why);
}
END_TEST

START_TEST(a_fractional_valve_number_in_the_store_is_refused_naming_the_step)
{
    rig_up();
    rig_valve_recipe("r", 1, 20);
    rig_sql("UPDATE valve_step_config SET valve_number = 1.5");
    const char *why = start_r();
    ck_assert_msg(strstr(why, "recipe step 'pulse' (id r-s1): valve_step_config.valve_number "
                              "1.5 is refused: a valve number must be a whole number"),
                  "%s", why);
}
END_TEST

/* The integer rule on a map of its own (the demo tool has no integer setpoint). */
START_TEST(integer_parameters_take_only_whole_numbers_in_their_range)
{
    tagmap m;
    tagmap_init(&m);
    ald_parameter p = {.struct_size = sizeof p, .id = "count", .component_name = "Counter",
                       .name = "cycles", .data_type = "int16", .read_type = "holding_register",
                       .read_address = 7, .write_type = "holding_register",
                       .write_address = 7, .is_writable = 1, .min_value = NAN,
                       .max_value = NAN};
    tagmap_add_parameter(&m, &p);
    ck_assert_int_eq(tagmap_finish(&m), 0);
    char err[400] = "";
    ck_assert_int_eq(setpoint_validate(&m, "count", 12, err, sizeof err), 0);
    ck_assert_int_eq(setpoint_validate(&m, "count", -32768, err, sizeof err), 0);
    ck_assert_int_eq(setpoint_validate(&m, "count", 12.5, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "value 12.5 ") && strstr(err, "int16 parameter takes only whole "
                                                         "numbers in [-32768, 32767]"), "%s", err);
    ck_assert_int_eq(setpoint_validate(&m, "count", 40000, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "value 40000 "), "%s", err);
    tagmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: setpoints");
    TCase *tc = tcase_create("setpoints");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_nan_setpoint_is_refused_with_no_plc_write);
    tcase_add_test(tc, an_infinite_setpoint_is_refused_with_no_plc_write);
    tcase_add_test(tc, a_setpoint_without_a_parameter_is_refused_with_no_plc_write);
    tcase_add_test(tc, a_set_parameter_command_with_a_null_value_is_refused_with_no_plc_write);
    tcase_add_test(tc, setpoints_outside_the_limits_or_read_only_are_refused_with_no_plc_write);
    tcase_add_test(tc, setpoints_exactly_at_the_limits_are_written);
    tcase_add_test(tc, a_plc_that_ignores_a_setpoint_write_fails_the_command);
    tcase_add_test(tc, a_plc_that_clamps_a_setpoint_write_fails_the_command);
    tcase_add_test(tc, a_transient_error_on_a_setpoint_write_is_retried_and_the_setpoint_succeeds);
    tcase_add_test(tc, a_permanent_error_on_a_setpoint_write_is_not_retried);
    tcase_add_test(tc, a_setpoint_write_that_keeps_failing_is_given_up_after_its_retries);
    suite_add_tcase(s, tc);
    TCase *types = tcase_create("value types");
    tcase_set_timeout(types, 60);
    tcase_add_test(types, set_parameter_half_on_a_binary_valve_is_refused_with_no_plc_write);
    tcase_add_test(types, set_parameter_takes_a_numeric_string_strictly);
    tcase_add_test(types, a_parameter_control_command_of_half_on_a_valve_writes_nothing);
    tcase_add_test(types, a_malformed_stored_target_names_its_column);
    tcase_add_test(types, a_recipe_step_of_half_on_a_valve_is_refused_at_start);
    tcase_add_test(types, a_malformed_recipe_target_names_its_column);
    tcase_add_test(types, a_fractional_valve_number_in_the_store_is_refused_naming_the_step);
    tcase_add_test(types, integer_parameters_take_only_whole_numbers_in_their_range);
    suite_add_tcase(s, types);
    return run_suite(s);
}
