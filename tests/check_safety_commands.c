/*
 * check_safety_commands.c - a command another engine takes between our fetch
 * and our claim runs nothing here. The race is made certain, not hoped for:
 * a trigger on the real SQLite store plays the other engine, claiming the row
 * itself the moment our claim's UPDATE reaches it and skipping ours, so our
 * claim answers CONFLICT exactly as after a lost race.
 */
#include <stdio.h>
#include <string.h>

#include "safety_rig.h"
#include "testutil.h"

START_TEST(a_start_command_claimed_by_another_engine_first_runs_nothing)
{
    rig_up();
    rig_valve_recipe("r", 1, 20);
    rig_command("start", "start_recipe", "{\"recipe_id\": \"r\"}");
    rig_sql("CREATE TRIGGER other_engine BEFORE UPDATE OF status ON recipe_commands "
            "WHEN OLD.status = 'pending' AND NEW.status = 'processing' BEGIN "
            "UPDATE recipe_commands SET status = 'processing', error_message = 'other engine' "
            "WHERE id = OLD.id; SELECT RAISE(IGNORE); END");
    ck_assert_int_eq(commands_poll_once(&R.cp), 0);
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "idle");
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 0);
    /* the other engine's claim stands: we neither finished nor failed it */
    ck_assert_str_eq(rig_query("SELECT status || '/' || error_message FROM recipe_commands"),
                     "processing/other engine");
}
END_TEST

START_TEST(a_setpoint_command_claimed_by_another_engine_first_writes_nothing)
{
    rig_up();
    rig_sql("INSERT INTO parameter_control_commands(id, component_parameter_id, target_value, "
            "machine_id) VALUES('pc', '%s', 80, '%s')", RIG_MFC1, RIG_MACHINE);
    rig_sql("CREATE TRIGGER other_engine BEFORE UPDATE OF executed_at ON "
            "parameter_control_commands WHEN OLD.executed_at IS NULL BEGIN "
            "UPDATE parameter_control_commands SET executed_at = 'other engine' "
            "WHERE id = OLD.id; SELECT RAISE(IGNORE); END");
    ck_assert_int_eq(commands_poll_once(&R.cp), 0);
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 0);
    ck_assert_str_eq(rig_query("SELECT executed_at || '/' || coalesce(completed_at, '-') || '/' "
                               "|| coalesce(error_message, '-') FROM parameter_control_commands"),
                     "other engine/-/-");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: commands");
    TCase *tc = tcase_create("claims");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_start_command_claimed_by_another_engine_first_runs_nothing);
    tcase_add_test(tc, a_setpoint_command_claimed_by_another_engine_first_writes_nothing);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
