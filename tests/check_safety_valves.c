/*
 * check_safety_valves.c - the valve safety code, observed through a PLC that
 * can make writes fail: a close is retried until it lands, a run that fails
 * or aborts with a valve open sends a close write to EVERY valve output, the
 * close-all reaches valve 1 too and goes on past a failure, and the recipe
 * validator itself refuses valve 0. Writes are counted per tag, not valve
 * transitions: each pulse closes its own valve, so only counts show the
 * close-all.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ports/plc_port.h"
#include "recipe.h"
#include "safety_rig.h"
#include "setpoint.h"
#include "testutil.h"

#define CLOSED 0.0
#define OPEN 1.0

static void start_recipe(const char *recipe_id)
{
    char params[160];
    snprintf(params, sizeof params, "{\"recipe_id\": \"%s\"}", recipe_id);
    rig_command("start", "start_recipe", params);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
}

START_TEST(a_close_that_fails_twice_is_retried_and_the_run_completes_closed)
{
    rig_up();
    size_t v2 = rig_valve_tag(2);
    R.fault->fail_writes(R.plc.inst, v2, CLOSED, 2, ALD_ERR_TIMEOUT);
    rig_valve_recipe("r", 2, 20);
    start_recipe("r");
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_COMPLETED);
    ck_assert_str_eq(rig_query("SELECT status FROM process_executions"), "completed");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, v2, OPEN), 1);
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, v2, CLOSED), 3); /* 2 failed, 1 landed */
    ck_assert_double_eq(R.fault->value(R.plc.inst, v2), CLOSED);
    executor_shutdown(&R.exec);
}
END_TEST

/* Every valve output got at least one close write; `pulsed` got `pulsed_closes`. */
static void assert_every_valve_commanded_closed(int pulsed, size_t pulsed_closes)
{
    for (int v = 1; v <= RIG_VALVES; v++) {
        size_t tag = rig_valve_tag(v);
        size_t closes = R.fault->writes_of(R.plc.inst, tag, CLOSED);
        if (v == pulsed)
            ck_assert_msg(closes == pulsed_closes, "valve %d: %zu close writes, expected %zu",
                          v, closes, pulsed_closes);
        else
            ck_assert_msg(closes == 1, "valve %d: %zu close writes, expected the close-all's 1",
                          v, closes);
        ck_assert_double_eq(R.fault->value(R.plc.inst, tag), CLOSED);
    }
}

START_TEST(an_aborted_run_sends_a_close_write_to_every_valve)
{
    rig_up();
    rig_valve_recipe("r", 3, 60000);
    start_recipe("r");
    rig_wait_writes(1); /* the valve is open */
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, rig_valve_tag(3), OPEN), 1);
    executor_stop(&R.exec, "test stop");
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_ABORTED);
    /* valve 3: its own pulse's close, then the close-all's */
    assert_every_valve_commanded_closed(3, 2);
    ck_assert_str_eq(rig_query("SELECT status FROM process_executions"), "aborted");
    executor_shutdown(&R.exec);
}
END_TEST

START_TEST(a_run_that_fails_with_a_valve_open_sends_a_close_write_to_every_valve)
{
    rig_up();
    size_t v2 = rig_valve_tag(2);
    /* the pulse's three close attempts fail: the run fails with valve 2 open */
    R.fault->fail_writes(R.plc.inst, v2, CLOSED, 3, ALD_ERR_TIMEOUT);
    rig_valve_recipe("r", 2, 20);
    start_recipe("r");
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_FAILED);
    assert_every_valve_commanded_closed(2, 4); /* 3 failed attempts, then the close-all's */
    ck_assert_str_eq(rig_query("SELECT status FROM process_executions"), "failed");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "error");
    const char *why = rig_query("SELECT error_message FROM recipe_commands WHERE id='start'");
    ck_assert_msg(strstr(why, "valve 2 not confirmed closed"), "%s", why);
    executor_shutdown(&R.exec);
}
END_TEST

/* Owed valves (docs/safety.md): an unconfirmed close is owed, an owed valve
 * cannot be opened, and a retry that lands clears it. */
START_TEST(an_unconfirmed_close_is_owed_until_a_retry_lands)
{
    rig_up();
    size_t v3 = rig_valve_tag(3);
    R.fault->fail_writes(R.plc.inst, v3, CLOSED, 2, ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 1);
    ck_assert_int_eq(plc_port_owed_count(), 1);
    char names[64];
    plc_port_owed_names(names, sizeof names);
    ck_assert_str_eq(names, "valve 3");
    port_error why;
    ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, 3, 1, &why), ALD_ERR_CONFLICT);
    ck_assert_msg(strstr(why.text, "valve 3 is owed closed"), "%s", why.text);
    ck_assert_int_eq(R.fault->writes_of(R.plc.inst, v3, OPEN), 0);
    ck_assert_int_eq(plc_port_retry_owed(&R.plc, &R.tags), 1); /* the second failure */
    ck_assert_int_eq(plc_port_retry_owed(&R.plc, &R.tags), 0); /* this one lands */
    ck_assert_double_eq(R.fault->value(R.plc.inst, v3), CLOSED);
    ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, 3, 1, NULL), ALD_OK);
    executor_shutdown(&R.exec);
}
END_TEST

/* The setpoint path (set_parameter, parameter_control_commands) writes the
 * valve's own parameter: it must not open an owed valve either. */
START_TEST(a_setpoint_never_opens_an_owed_valve)
{
    rig_up();
    size_t v3 = rig_valve_tag(3);
    R.fault->fail_writes(R.plc.inst, v3, CLOSED, 1, ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 1);
    const tag_param *valve3 = tagmap_valve(&R.tags, 3);
    ck_assert_ptr_nonnull(valve3);
    setpoint_target t = {&R.plc, &R.tags, &R.store};
    char err[400] = "";
    ck_assert_int_eq(setpoint_apply(&t, valve3->id, 1.0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "valve 3 is owed closed"), "%s", err);
    ck_assert_int_eq(R.fault->writes_of(R.plc.inst, v3, OPEN), 0);
    /* closing it through the same path is allowed */
    ck_assert_int_eq(setpoint_apply(&t, valve3->id, 0.0, err, sizeof err), 0);
    executor_shutdown(&R.exec);
}
END_TEST

/* A start while a valve is owed is refused at intake, before any row is
 * written: the command ends error naming the valve and what to do, no
 * process row exists, the machine row is unchanged, nothing is opened. */
START_TEST(no_recipe_starts_while_a_valve_is_owed)
{
    rig_up();
    size_t v1 = rig_valve_tag(1);
    R.fault->fail_writes(R.plc.inst, v1, CLOSED, 1, ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 1);
    rig_valve_recipe("r", 1, 20);
    const char *machine_before = rig_query("SELECT status || '|' || coalesce(current_process_id, '') "
                                           "|| '|' || updated_at FROM machines");
    char before[200];
    snprintf(before, sizeof before, "%s", machine_before);
    start_recipe("r");
    rig_wait_idle();
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id='start'"), "error");
    const char *why = rig_query("SELECT error_message FROM recipe_commands WHERE id='start'");
    ck_assert_msg(strstr(why, "valve 1 owed closed"), "%s", why);
    ck_assert_msg(strstr(why, "send the start again"), "%s", why);
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_str_eq(rig_query("SELECT status || '|' || coalesce(current_process_id, '') || '|' "
                               "|| updated_at FROM machines"), before);
    ck_assert_int_eq(R.fault->writes_of(R.plc.inst, v1, OPEN), 0);
    executor_shutdown(&R.exec);
}
END_TEST

/* The executor's own refusal, the second line behind intake: a run handed
 * to it while a valve is owed fails at once naming the valve, nothing opened. */
START_TEST(the_executor_runs_nothing_while_a_valve_is_owed)
{
    rig_up();
    size_t v1 = rig_valve_tag(1);
    rig_valve_recipe("r", 1, 20);
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader reader = recipe_rows_reader(&rows);
    ck_assert_int_eq(storage_port_load_recipe(&R.store, "r", &reader, NULL), ALD_OK);
    recipe rc;
    char err[300];
    ck_assert_msg(recipe_build(&rc, &rows, err, sizeof err) == 0, "%s", err);
    recipe_rows_free(&rows);
    R.fault->fail_writes(R.plc.inst, v1, CLOSED, 1, ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 1);
    ck_assert_int_eq(executor_run(&R.exec, &rc, "p-direct", NULL), 0);
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_FAILED);
    ck_assert_msg(strstr(R.exec.failure, "valve 1 owed closed"), "%s", R.exec.failure);
    ck_assert_int_eq(R.fault->writes_of(R.plc.inst, v1, OPEN), 0);
    executor_shutdown(&R.exec);
}
END_TEST

/* Run a valve-2 pulse whose first `failed_closes` close writes fail: the run
 * fails (3 or more: the pulse's own close attempts all fail). */
static void fail_a_run(unsigned failed_closes)
{
    R.fault->fail_writes(R.plc.inst, rig_valve_tag(2), CLOSED, failed_closes, ALD_ERR_TIMEOUT);
    rig_valve_recipe("r", 2, 20);
    start_recipe("r");
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_FAILED);
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "error");
}

/* After a failed run whose close-all landed, the app's next start clears the
 * machine's error and runs (the Python recipe service started over an error;
 * the app cannot send clear_error). With the setting off it is refused. */
START_TEST(a_start_clears_the_error_of_a_failed_run_whose_valves_closed)
{
    rig_up();
    fail_a_run(3);
    executor_set_start_clears_error(0);
    rig_command("again", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id='again'"), "error");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "error");
    executor_set_start_clears_error(1);
    rig_command("retry", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_COMPLETED);
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id='retry'"),
                     "completed");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "idle");
    executor_shutdown(&R.exec);
}
END_TEST

/* A failed run whose close-all could not close a valve: no start clears that
 * error, whatever the setting, even once the valve is confirmed closed;
 * nothing is written to the valves. */
START_TEST(a_start_never_clears_the_error_of_a_run_that_left_a_valve_unclosed)
{
    rig_up();
    fail_a_run(4); /* the close-all's close fails too */
    /* the guard's retry lands: nothing is owed now, but this engine saw the
     * run end with a valve it could not close, so only clear_error resumes */
    ck_assert_int_eq(plc_port_retry_owed(&R.plc, &R.tags), 0);
    size_t writes = R.fault->write_count(R.plc.inst);
    rig_command("retry", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id='retry'"), "error");
    const char *why = rig_query("SELECT error_message FROM recipe_commands WHERE id='retry'");
    ck_assert_msg(strstr(why, "could not close 1 valve output"), "%s", why);
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "error");
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), writes);
    executor_shutdown(&R.exec);
}
END_TEST

START_TEST(close_all_closes_every_open_valve_including_valve_1)
{
    rig_up();
    static const int opened[] = {1, 2, 6};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, opened[i], 1, NULL), ALD_OK);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 0);
    for (int v = 1; v <= RIG_VALVES; v++) {
        size_t tag = rig_valve_tag(v);
        ck_assert_msg(R.fault->writes_of(R.plc.inst, tag, CLOSED) == 1,
                      "valve %d was not commanded closed exactly once", v);
        ck_assert_double_eq(R.fault->value(R.plc.inst, tag), CLOSED);
    }
    /* nothing but valves was written */
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 3 + RIG_VALVES);
}
END_TEST

START_TEST(close_all_goes_on_past_a_failed_close_and_counts_it)
{
    rig_up();
    size_t v1 = rig_valve_tag(1);
    for (int v = 1; v <= RIG_VALVES; v++)
        ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, v, 1, NULL), ALD_OK);
    R.fault->fail_writes(R.plc.inst, v1, CLOSED, 1, ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(plc_port_close_all_valves(&R.plc, &R.tags), 1);
    ck_assert_double_eq(R.fault->value(R.plc.inst, v1), OPEN);
    for (int v = 2; v <= RIG_VALVES; v++)
        ck_assert_double_eq(R.fault->value(R.plc.inst, rig_valve_tag(v)), CLOSED);
}
END_TEST

/* ---- the recipe validator, without any machine map -------------------------------- */

static int build_one_valve_step(int valve_number, char *err, size_t len)
{
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader reader = recipe_rows_reader(&rows);
    ald_recipe_info info = {.struct_size = sizeof info, .id = "r", .name = "valve zero",
                            .version = 1, .chamber_temperature_set_point = NAN,
                            .pressure_set_point = NAN};
    reader.recipe(reader.ctx, &info);
    ald_recipe_step s = {.struct_size = sizeof s, .id = "s1", .recipe_id = "r",
                         .sequence_number = 1, .name = "pulse", .type = "valve",
                         .flow_rate = NAN, .target_value = NAN, .has_valve_config = 1,
                         .valve_number = valve_number, .valve_duration_ms = 20};
    reader.step(reader.ctx, &s);
    recipe rc;
    memset(&rc, 0, sizeof rc);
    int built = recipe_build(&rc, &rows, err, len);
    recipe_free(&rc);
    recipe_rows_free(&rows);
    return built;
}

START_TEST(the_recipe_validator_refuses_valve_0)
{
    char err[400] = "";
    ck_assert_int_eq(build_one_valve_step(0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "valve number") && strstr(err, "pulse"), "%s", err);
    ck_assert_int_eq(build_one_valve_step(1, err, sizeof err), 0); /* valve 1 is fine */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: valves");
    TCase *tc = tcase_create("valves");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, a_close_that_fails_twice_is_retried_and_the_run_completes_closed);
    tcase_add_test(tc, an_aborted_run_sends_a_close_write_to_every_valve);
    tcase_add_test(tc, a_run_that_fails_with_a_valve_open_sends_a_close_write_to_every_valve);
    tcase_add_test(tc, an_unconfirmed_close_is_owed_until_a_retry_lands);
    tcase_add_test(tc, no_recipe_starts_while_a_valve_is_owed);
    tcase_add_test(tc, the_executor_runs_nothing_while_a_valve_is_owed);
    tcase_add_test(tc, a_setpoint_never_opens_an_owed_valve);
    tcase_add_test(tc, a_start_clears_the_error_of_a_failed_run_whose_valves_closed);
    tcase_add_test(tc, a_start_never_clears_the_error_of_a_run_that_left_a_valve_unclosed);
    tcase_add_test(tc, close_all_closes_every_open_valve_including_valve_1);
    tcase_add_test(tc, close_all_goes_on_past_a_failed_close_and_counts_it);
    tcase_add_test(tc, the_recipe_validator_refuses_valve_0);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
