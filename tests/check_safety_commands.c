/*
 * check_safety_commands.c - a command another engine takes between our fetch
 * and our claim runs nothing here. The race is made certain, not hoped for:
 * a trigger on the real SQLite store plays the other engine, claiming the row
 * itself the moment our claim's UPDATE reaches it and skipping ours, so our
 * claim answers CONFLICT exactly as after a lost race.
 *
 * Also (issue 9, items 6 and 7): a stop behind 10 000 pending set_parameter
 * rows is the first command claimed, and start/set commands older than the
 * age limit are finished "expired" without acting (stops never expire);
 * (item 8) a stop that arrives while a huge recipe is loading cancels it,
 * and while a start's load is held in the store (a loader instance whose
 * load_recipe waits until released) commands are still taken.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "command_age.h"
#include "fixtures/plugins/storage_fault.h"
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

/* Claims in order: a trigger numbers every pending -> processing change. */
static void record_claim_order(void)
{
    rig_sql("CREATE TABLE claims(seq INTEGER PRIMARY KEY, id TEXT);"
            "CREATE TRIGGER claim_order AFTER UPDATE OF status ON recipe_commands "
            "WHEN OLD.status = 'pending' AND NEW.status = 'processing' BEGIN "
            "INSERT INTO claims(id) VALUES(NEW.id); END");
}

START_TEST(a_stop_behind_ten_thousand_set_commands_is_taken_first)
{
    rig_up();
    rig_valve_recipe("r", 1, 60000);
    rig_command("start", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(executor_busy(&R.exec));
    record_claim_order();
    rig_sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
            "INSERT INTO recipe_commands(id, type, parameters, status, machine_id, created_at) "
            "SELECT 'set' || i, 'set_parameter', '{\"parameter_id\": \"%s\", \"value\": 80}', "
            "'pending', '%s', strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-5 seconds') FROM n",
            RIG_MFC1, RIG_MACHINE);
    rig_command("stop", "stop_recipe", "{}");
    ck_assert_str_eq(rig_query("SELECT count(*) FROM recipe_commands WHERE status = 'pending'"),
                     "10001");
    commands_poll_once(&R.cp);
    /* the stop was the first command claimed: 0 others before it */
    ck_assert_str_eq(rig_query("SELECT seq FROM claims WHERE id = 'stop'"), "1");
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id = 'stop'"),
                     "completed");
    rig_wait_idle();
    ck_assert_str_eq(rig_query("SELECT status FROM process_executions"), "aborted");
    /* the rest of the batch followed it, oldest first */
    ck_assert_str_eq(rig_query("SELECT count(*) FROM claims"), "10");
    ck_assert_str_eq(rig_query("SELECT id FROM claims WHERE seq = 2"), "set1");
}
END_TEST

static void insert_aged(const char *id, const char *type, const char *params, int age_s)
{
    rig_sql("INSERT INTO recipe_commands(id, type, parameters, status, machine_id, created_at) "
            "VALUES('%s', '%s', '%s', 'pending', '%s', "
            "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-%d seconds'))",
            id, type, params, RIG_MACHINE, age_s);
}

START_TEST(start_and_set_commands_older_than_the_limit_expire_and_do_nothing)
{
    rig_up();
    rig_valve_recipe("r", 1, 20);
    insert_aged("old-start", "start_recipe", "{\"recipe_id\": \"r\"}", 540);
    char set[160];
    snprintf(set, sizeof set, "{\"parameter_id\": \"%s\", \"value\": 80}", RIG_MFC1);
    insert_aged("old-set", "set_parameter", set, 61);
    ck_assert_int_eq(commands_poll_once(&R.cp), 2);
    ck_assert(!executor_busy(&R.exec));
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 0);
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_str_eq(rig_query("SELECT status || ': ' || substr(error_message, 1, "
                               "instr(error_message, ' ago') + 3) FROM "
                               "recipe_commands WHERE id = 'old-start'"),
                     "error: expired: created 540 s ago");
    ck_assert_str_eq(rig_query("SELECT status || ': ' || substr(error_message, 1, "
                               "instr(error_message, ' ago') + 3) FROM "
                               "recipe_commands WHERE id = 'old-set'"),
                     "error: expired: created 61 s ago");
}
END_TEST

START_TEST(a_fresh_start_runs_and_an_old_stop_still_stops)
{
    rig_up();
    rig_valve_recipe("r", 1, 60000);
    insert_aged("start", "start_recipe", "{\"recipe_id\": \"r\"}", 30);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(executor_busy(&R.exec));
    insert_aged("stop", "stop", "{}", 3600);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id = 'stop'"),
                     "completed");
    rig_wait_idle();
}
END_TEST

START_TEST(created_at_in_the_stores_forms_parses_and_junk_is_refused)
{
    ck_assert_int_eq(command_parse_time_ms("2026-12-04T16:55:16.123Z"), 1796403316123LL);
    ck_assert_int_eq(command_parse_time_ms("2026-12-04 17:55:16.123456+01:00"),
                     1796403316123LL);
    ck_assert_int_eq(command_parse_time_ms("2026-12-04T16:55:16+00"), 1796403316000LL);
    ck_assert_int_eq(command_parse_time_ms("2026-12-04T16:55:16"), 1796403316000LL);
    ck_assert_int_eq(command_parse_time_ms("2026-12-04"), -1);
    ck_assert_int_eq(command_parse_time_ms("2026-12-04T16:55:16Zjunk"), -1);
    ck_assert_int_eq(command_parse_time_ms("yesterday"), -1);
    ck_assert_int_eq(command_parse_time_ms(NULL), -1);
    char msg[200];
    int64_t now = 1796403316123LL + 90500;
    ck_assert_int_eq(command_too_old("start_recipe", "2026-12-04T16:55:16.123Z", now, 60, msg,
                                     sizeof msg), 1);
    ck_assert_msg(!strncmp(msg, "expired: created 90 s ago", 25), "%s", msg);
    ck_assert_int_eq(command_too_old("set_parameter", "2026-12-04T16:55:16.123Z", now, 120,
                                     msg, sizeof msg), 0);
    ck_assert_int_eq(command_too_old("stop", "2026-12-04T16:55:16.123Z", now, 60, msg,
                                     sizeof msg), 0);
    ck_assert_int_eq(command_too_old("start", "junk", now, 60, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "created_at 'junk'") != NULL, "%s", msg);
}
END_TEST

/* Item 8: a stop that arrives while a 100 000-step start is loading cancels
 * it. Made certain, not hoped for: a trigger inserts the stop the moment the
 * start is claimed, so it is queued before the load begins and after the
 * poll's fetch. */
START_TEST(a_stop_queued_behind_a_huge_start_cancels_it_before_anything_runs)
{
    rig_up();
    rig_sql("INSERT INTO recipes(id, name) VALUES('big', 'huge');"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
            "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type) "
            "SELECT 's' || i, 'big', i, 'pulse ' || i, 'valve' FROM n;"
            "INSERT INTO valve_step_config(id, step_id, valve_number, duration_ms) "
            "SELECT 'v' || id, id, 1, 10 FROM recipe_steps WHERE recipe_id = 'big'");
    record_claim_order();
    rig_sql("CREATE TRIGGER stop_behind AFTER UPDATE OF status ON recipe_commands "
            "WHEN NEW.id = 'start' AND NEW.status = 'processing' BEGIN "
            "INSERT INTO recipe_commands(id, type, parameters, status, machine_id) "
            "VALUES('stop', 'stop', '{}', 'pending', '%s'); END", RIG_MACHINE);
    rig_command("start", "start_recipe", "{\"recipe_id\": \"big\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_str_eq(rig_query("SELECT group_concat(id, ',') FROM claims"), "start,stop");
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id = 'stop'"),
                     "completed");
    ck_assert_str_eq(rig_query("SELECT status || ': ' || error_message FROM recipe_commands "
                               "WHERE id = 'start'"),
                     "error: stopped by command stop before the recipe started");
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "idle");
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 0);
}
END_TEST

/* The processor's loader: a storage-fault instance whose loads wait until
 * released; the processor polls without waiting for a load, as the engine's. */
static plugin_instance loader;

static const storage_fault_control *hold_loads_in_a_loader(void)
{
    rig_instance(&loader, "loader", "tests/fixtures/plugins/.libs/storage-fault.so",
                 ROLE_STORAGE, "");
    storage_fault_control_fn controls;
    void *sym = dlsym(loader.lib.handle, STORAGE_FAULT_CONTROL_SYMBOL);
    ck_assert_ptr_nonnull(sym);
    memcpy(&controls, &sym, sizeof controls);
    const storage_fault_control *held = controls();
    held->hold_loads(loader.inst);
    commands_use_loader(&R.cp, &loader);
    R.cp.start_waits = 0;
    return held;
}

/* The start's load ended and was discarded: nothing in hand, no run, no
 * process, valve 1 never opened, the machine idle. Then the teardown. */
static void nothing_ran_and_nothing_in_hand(void)
{
    ck_assert(!starter_in_hand(&R.cp.starter, NULL, 0));
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_str_eq(rig_query("SELECT status FROM machines"), "idle");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, rig_valve_tag(1), 1.0), 0);
    commands_stop(&R.cp);
    plugin_instance_destroy(&loader);
}

/* The rig, recipe r (valve 1, 20 ms), and command "start" of it taken, its
 * load held in the loader. */
static const storage_fault_control *begin_held_start(void)
{
    rig_up();
    rig_valve_recipe("r", 1, 20);
    const storage_fault_control *held = hold_loads_in_a_loader();
    rig_command("start", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_int_eq(held->wait_held(loader.inst, 60000), 0); /* the load is in the store */
    return held;
}

static const char *command_outcome(const char *id)
{
    return rig_query("SELECT status || ': ' || coalesce(error_message, '') FROM "
                     "recipe_commands WHERE id = '%s'", id);
}

/* Item 8: a recipe start never blocks command intake. While the start's
 * load is held in the store: a second start is refused, a set_parameter is
 * written and completed, and a stop is completed and cancels the start (a
 * start while the cancelled one still loads is refused too, saying so);
 * the load then ends and its recipe is discarded: no process, no valve
 * opened, nothing left in hand. */
START_TEST(commands_are_taken_while_a_start_loads_and_a_stop_cancels_it)
{
    const storage_fault_control *held = begin_held_start();
    ck_assert_str_eq(command_outcome("start"), "processing: ");
    rig_command("again", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_str_eq(command_outcome("again"), "error: a recipe is already starting (command "
                                               "start): wait until it runs, or stop it");
    rig_command("set", "set_parameter", "{\"parameter_id\": \"" RIG_MFC1 "\", \"value\": 120}");
    rig_command("stop", "stop", "{}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 2);
    ck_assert_str_eq(command_outcome("set"), "completed: ");
    ck_assert_double_eq(R.fault->value(R.plc.inst, rig_param_tag(RIG_MFC1)), 120.0);
    ck_assert_str_eq(command_outcome("stop"), "completed: ");
    ck_assert_str_eq(command_outcome("start"),
                     "error: stopped by command stop before the recipe started");
    ck_assert_int_eq(held->wait_held(loader.inst, 0), 0); /* all that while, still loading */
    rig_command("later", "start_recipe", "{\"recipe_id\": \"r\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert_str_eq(command_outcome("later"), "error: the cancelled start (command start) is "
                                               "still loading its recipe: send the start "
                                               "again in a moment");
    ck_assert_uint_eq(held->load_count(loader.inst), 1);
    held->release(loader.inst);
    ck_assert_int_eq(starter_wait(&R.cp.starter, 60000), 0);
    ck_assert_int_eq(commands_poll_once(&R.cp), 0); /* the discarded load settles nothing */
    nothing_ran_and_nothing_in_hand();
}
END_TEST

/* The other end of the same path: a held load that is released runs its
 * recipe, begun by a later poll, and the start command completes with it. */
START_TEST(a_start_whose_load_ends_runs_from_a_later_poll)
{
    const storage_fault_control *held = begin_held_start();
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    held->release(loader.inst);
    ck_assert_int_eq(starter_wait(&R.cp.starter, 60000), 0);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1); /* this poll begins the run */
    rig_wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_COMPLETED);
    ck_assert_str_eq(command_outcome("start"), "completed: ");
    ck_assert_str_eq(rig_query("SELECT status FROM process_executions"), "completed");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, rig_valve_tag(1), 1.0), 1);
    commands_stop(&R.cp);
    executor_shutdown(&R.exec);
    plugin_instance_destroy(&loader);
}
END_TEST

/* Another engine takes the lease while a start loads: the start is
 * cancelled with the reason, and its load, once it ends, runs nothing, even
 * after this engine holds the lease again. */
START_TEST(a_start_loading_when_the_lease_is_lost_never_runs)
{
    const storage_fault_control *held = begin_held_start();
    rig_sql("UPDATE engine_leases SET holder = 'other', expires_at = '2999-01-01T00:00:00.000Z'");
    ck_assert_int_eq(commands_poll_once(&R.cp), 0); /* a standby now */
    ck_assert_str_eq(command_outcome("start"), "error: another engine took the machine's "
                                               "lease before the recipe started");
    held->release(loader.inst);
    ck_assert_int_eq(starter_wait(&R.cp.starter, 60000), 0);
    rig_sql("DELETE FROM engine_leases"); /* the other engine is gone */
    ck_assert_int_eq(commands_poll_once(&R.cp), 0);
    ck_assert_str_ne(rig_query("SELECT holder FROM engine_leases"), "other");
    nothing_ran_and_nothing_in_hand();
}
END_TEST

START_TEST(a_stop_pending_with_an_older_start_cancels_it_and_a_newer_start_runs)
{
    rig_up();
    rig_valve_recipe("r", 1, 60000);
    insert_aged("start", "start_recipe", "{\"recipe_id\": \"r\"}", 2);
    insert_aged("stop", "stop", "{}", 1);
    ck_assert_int_eq(commands_poll_once(&R.cp), 1); /* the stop; it took the start */
    ck_assert_str_eq(rig_query("SELECT status || ': ' || error_message FROM recipe_commands "
                               "WHERE id = 'start'"),
                     "error: stopped by command stop before the recipe started");
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id = 'stop'"),
                     "completed");
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(rig_query("SELECT count(*) FROM process_executions"), "0");
    ck_assert_uint_eq(R.fault->write_count(R.plc.inst), 0);
    /* a start created after a stop is not the stop's business */
    insert_aged("stop2", "stop", "{}", 3);
    insert_aged("start2", "start_recipe", "{\"recipe_id\": \"r\"}", 0);
    ck_assert_int_eq(commands_poll_once(&R.cp), 2);
    ck_assert_str_eq(rig_query("SELECT status FROM recipe_commands WHERE id = 'stop2'"), "error");
    ck_assert(executor_busy(&R.exec));
    executor_stop(&R.exec, "test over");
    rig_wait_idle();
}
END_TEST

START_TEST(a_parameter_control_command_older_than_the_limit_writes_nothing)
{
    rig_up();
    rig_sql("INSERT INTO parameter_control_commands(id, component_parameter_id, target_value, "
            "machine_id, created_at) VALUES('pc-old', '%s', 80, '%s', "
            "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now', '-120 seconds')),"
            "('pc-new', '%s', 90, '%s', strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'))",
            RIG_MFC1, RIG_MACHINE, RIG_MFC1, RIG_MACHINE);
    ck_assert_int_eq(commands_poll_once(&R.cp), 2);
    ck_assert_str_eq(rig_query("SELECT substr(error_message, 1, instr(error_message, ' ago') "
                               "+ 3) FROM parameter_control_commands WHERE id = 'pc-old'"),
                     "expired: created 120 s ago");
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, rig_param_tag(RIG_MFC1), 80), 0);
    ck_assert_uint_eq(R.fault->writes_of(R.plc.inst, rig_param_tag(RIG_MFC1), 90), 1);
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
    TCase *order = tcase_create("order and age");
    tcase_set_timeout(order, 120);
    tcase_add_test(order, a_stop_behind_ten_thousand_set_commands_is_taken_first);
    tcase_add_test(order, start_and_set_commands_older_than_the_limit_expire_and_do_nothing);
    tcase_add_test(order, a_fresh_start_runs_and_an_old_stop_still_stops);
    tcase_add_test(order, created_at_in_the_stores_forms_parses_and_junk_is_refused);
    tcase_add_test(order, a_stop_queued_behind_a_huge_start_cancels_it_before_anything_runs);
    tcase_add_test(order, a_stop_pending_with_an_older_start_cancels_it_and_a_newer_start_runs);
    tcase_add_test(order, commands_are_taken_while_a_start_loads_and_a_stop_cancels_it);
    tcase_add_test(order, a_start_whose_load_ends_runs_from_a_later_poll);
    tcase_add_test(order, a_start_loading_when_the_lease_is_lost_never_runs);
    tcase_add_test(order, a_parameter_control_command_older_than_the_limit_writes_nothing);
    suite_add_tcase(s, order);
    return run_suite(s);
}
