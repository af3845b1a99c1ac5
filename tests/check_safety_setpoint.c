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
    ck_assert_msg(strstr(why, "value (number)"), "%s", why);
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
    return run_suite(s);
}
