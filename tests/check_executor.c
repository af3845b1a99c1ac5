/*
 * check_executor.c - recipes and commands end to end on the real plc-sim and
 * storage-sqlite plugins: exact counters for nested loops, the valve timeline
 * the simulator recorded, stop mid-pulse, malformed recipes, setpoints,
 * exactly-once claims, crash recovery. Waits poll for states; nothing asserts
 * how long something took, except generous sanity bounds on pulse lengths.
 */
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "engine_id.h"
#include "lease.h"
#include "metrics.h"
#include "ports/plc_port.h"
#include "executor.h"
#include "ports/plugin_instance.h"
#include "recipe.h"
#include "setpoint.h"
#include "state.h"
#include "tagmap.h"
#include "testutil.h"
#include "writer.h"

#define MACHINE "e3e6e280-0000-4000-8000-000000000001"
#define MFC1 "a0000000-0000-4000-8000-000000000701"
#define PG1 "a0000000-0000-4000-8000-000000000901"
#define QUICK "b0000000-0000-4000-8000-000000000002"
#define NESTED "b0000000-0000-4000-8000-000000000003"

typedef struct rig {
    char dir[512];
    char db_path[600];
    plugin_instance plc, store;
    tagmap tags;
    executor exec;
    command_processor cp;
    sqlite3 *db;
} rig;

static rig R;

static void create_instance(plugin_instance *pi, const char *name, const char *plugin,
                            plugin_role role, const char *settings)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", test_buildpath(plugin));
    plugin_conf conf = {.name = (char *)name, .plugin = path, .role = role, .active = 1,
                        .settings = test_config(settings)};
    snprintf(conf.where, sizeof conf.where, "test");
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(pi), ALD_OK);
}

static void rig_up(void)
{
    memset(&R, 0, sizeof R);
    snprintf(R.dir, sizeof R.dir, "%s", test_tmpdir("exec"));
    snprintf(R.db_path, sizeof R.db_path, "%s/ald.db", R.dir);
    char settings[1400];
    snprintf(settings, sizeof settings, "path = \"%s\"; data_dir = \"%s\"; machine_id = \"%s\";",
             R.db_path, R.dir, MACHINE);
    create_instance(&R.store, "local", "plugins/storage-sqlite/.libs/storage-sqlite.so",
                    ROLE_STORAGE, settings);
    create_instance(&R.plc, "sim", "plugins/plc-sim/.libs/plc-sim.so", ROLE_PLC, "seed = 7;");
    tagmap_init(&R.tags);
    ck_assert_int_eq(storage_ops(&R.store)->load_parameters(R.store.inst, MACHINE,
                                                            tagmap_add_parameter, &R.tags),
                     ALD_OK);
    ck_assert_int_eq(tagmap_finish(&R.tags), 0);
    ck_assert_int_eq(plc_ops(&R.plc)->set_tags(R.plc.inst, R.tags.tag_ptrs, R.tags.tag_count),
                     ALD_OK);
    ck_assert_int_eq(executor_init(&R.exec, &R.plc, &R.store, &R.tags, NULL, MACHINE, NULL), 0);
    commands_init(&R.cp, &R.store, &R.plc, &R.tags, &R.exec, MACHINE, 100);
    ck_assert_int_eq(sqlite3_open(R.db_path, &R.db), SQLITE_OK);
    sqlite3_busy_timeout(R.db, 5000);
}

static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sql(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *err = NULL;
    ck_assert_msg(sqlite3_exec(R.db, text, NULL, NULL, &err) == SQLITE_OK, "%s: %s", text, err);
}

/* The first column of the first row as text ("" when none). Static buffer. */
static const char *query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *query(const char *fmt, ...)
{
    static char out[1024];
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(R.db, text, -1, &st, NULL) == SQLITE_OK, "%s: %s", text,
                  sqlite3_errmsg(R.db));
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void command(const char *id, const char *type, const char *params)
{
    sql("INSERT INTO recipe_commands(id, type, parameters, status, machine_id, created_at, "
        "updated_at) VALUES('%s', '%s', '%s', 'pending', '%s', "
        "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'))",
        id, type, params, MACHINE);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void wait_idle(void)
{
    for (int i = 0; i < 6000 && executor_busy(&R.exec); i++)
        sleep_ms(10);
    ck_assert_msg(!executor_busy(&R.exec), "the recipe did not end within 60 s");
    executor_join(&R.exec);
}

typedef struct events {
    char addr[64][16];
    int open[64];
    uint64_t ns[64];
    int count;
} events;

static void on_event(void *ctx, const ald_valve_event *ev)
{
    events *e = ctx;
    if (e->count < 64) {
        snprintf(e->addr[e->count], 16, "%s", ev->tag);
        e->open[e->count] = ev->open;
        e->ns[e->count] = ev->mono_ns;
        e->count++;
    }
}

static void valve_timeline(events *e)
{
    memset(e, 0, sizeof *e);
    plc_ops(&R.plc)->valve_events(R.plc.inst, 0, on_event, e);
}

START_TEST(nested_recipe_ends_with_exact_counters_and_timeline)
{
    rig_up();
    command("c1", "start_recipe", "{\"recipe_id\": \"" NESTED "\", \"operator_id\": \"op-1\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_COMPLETED);
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='c1'"), "completed");
    ck_assert_str_eq(query("SELECT status FROM process_executions"), "completed");
    ck_assert_str_eq(query("SELECT status FROM machines WHERE id='%s'", MACHINE), "idle");
    ck_assert_str_eq(query("SELECT count(*) FROM operator_sessions WHERE operator_id='op-1'"), "1");
    /* 1 set-parameter + 3 x (2 x (valve + purge) + valve + purge) = 19 */
    ck_assert_str_eq(query("SELECT total_overall_steps FROM process_execution_state"), "19");
    ck_assert_str_eq(query("SELECT current_overall_step FROM process_execution_state"), "19");
    ck_assert_str_eq(query("SELECT current_step_type FROM process_execution_state"), "completed");
    ck_assert_str_eq(query("SELECT current_step_name FROM process_execution_state"),
                     "Recipe Completed");
    const char *progress = query("SELECT progress FROM process_execution_state");
    ck_assert_msg(strstr(progress, "\"completed_steps\":19") &&
                      strstr(progress, "\"total_cycles\":3") &&
                      strstr(progress, "\"completed_cycles\":3"),
                  "%s", progress);
    ck_assert_double_eq_tol(atof(query("SELECT set_value FROM component_parameters "
                                       "WHERE id='%s'", MFC1)),
                            150, 1e-6);

    events e;
    valve_timeline(&e);
    /* per outer cycle: valve 1 twice, then valve 2; each opens then closes */
    ck_assert_int_eq(e.count, 18);
    static const char *const order[] = {"coil:0", "coil:0", "coil:1"};
    static const int nominal[] = {20, 20, 30};
    for (int i = 0; i < 18; i += 2) {
        int k = (i / 2) % 3;
        ck_assert_str_eq(e.addr[i], order[k]);
        ck_assert_str_eq(e.addr[i + 1], order[k]);
        ck_assert_int_eq(e.open[i], 1);
        ck_assert_int_eq(e.open[i + 1], 0);
        /* The pulse is timed from the executor's open write, the simulator
         * stamps the write when it lands: under load the two differ by tens of
         * microseconds (19.875 and 19.948 ms were seen for 20). The test is
         * that each pulse waited its duration (a skipped or mis-scaled wait is
         * ~0 ms or seconds off), not the machine's timer slack, which
         * bench/recipe_bench.sh measures. */
        double ms = (double)(e.ns[i + 1] - e.ns[i]) / 1e6;
        ck_assert_msg(ms >= nominal[k] - 1.0 && ms < nominal[k] + 500,
                      "pulse %d lasted %.3f ms, nominal %d", i / 2, ms, nominal[k]);
    }
    executor_shutdown(&R.exec);
}
END_TEST

/* A store slower than the steps: every step transition still reaches it, in
 * order (step_execution_history depends on it), and none is dropped. The
 * trigger stands in for a site's history trigger and makes each state write
 * take a long while (a self-join over 1500 rows). */
START_TEST(every_step_reaches_a_slow_store_in_order)
{
    rig_up();
    sql("CREATE TABLE burn(n INTEGER);"
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1500) "
        "INSERT INTO burn SELECT n FROM c;"
        "CREATE TABLE step_log(seq INTEGER PRIMARY KEY, overall INTEGER, type TEXT, "
        "name TEXT, iteration INTEGER, burnt INTEGER);"
        "CREATE TRIGGER log_state AFTER UPDATE ON process_execution_state "
        "WHEN NEW.current_step_type IS NOT OLD.current_step_type "
        "OR NEW.current_step_name IS NOT OLD.current_step_name "
        "OR NEW.current_overall_step IS NOT OLD.current_overall_step "
        "OR NEW.current_loop_iteration IS NOT OLD.current_loop_iteration BEGIN "
        "INSERT INTO step_log(overall, type, name, iteration, burnt) VALUES("
        "NEW.current_overall_step, NEW.current_step_type, NEW.current_step_name, "
        "NEW.current_loop_iteration, (SELECT count(*) FROM burn a, burn b)); END;");
    command("c1", "start_recipe", "{\"recipe_id\": \"" NESTED "\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_COMPLETED);
    ck_assert_uint_eq(R.exec.pub_dropped, 0);
    /* 19 leaf steps, numbered 1..19 in order; the loops' rows: 3 outer
     * iterations and 2 inner ones in each; then the end marker, last. */
    ck_assert_msg(strcmp(query("SELECT count(*) FROM step_log WHERE type NOT IN ('loop', "
                               "'completed')"), "19") == 0, "%s",
                  query("SELECT group_concat(overall || ':' || type || ':' || name || ':' || "
                        "ifnull(iteration, '-'), ' | ') FROM step_log"));
    ck_assert_str_eq(query("SELECT group_concat(overall, ',') FROM (SELECT overall FROM "
                           "step_log WHERE type NOT IN ('loop', 'completed') ORDER BY seq)"),
                     "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19");
    ck_assert_str_eq(query("SELECT count(*) FROM step_log WHERE type = 'loop'"), "9");
    ck_assert_str_eq(query("SELECT type || '/' || name FROM step_log ORDER BY seq DESC"),
                     "completed/Recipe Completed");
    ck_assert_str_eq(query("SELECT count(*) FROM step_log WHERE type = 'starting'"), "0");
    /* the whole run is in the store before the process is marked finished */
    ck_assert_str_eq(query("SELECT status FROM process_executions"), "completed");
    executor_shutdown(&R.exec);
}
END_TEST

/* A failed run ends with Python's marker: type error, "Error: <message>". */
START_TEST(failed_run_ends_with_pythons_error_marker)
{
    rig_up();
    sql("INSERT INTO recipes(id, name) VALUES('w', 'never there');"
        "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type, parameters) "
        "VALUES('s', 'w', 1, 'wait for pressure', 'wait', '{\"parameter_id\": \"" PG1 "\", "
        "\"operator\": \">=\", \"value\": 1e9, \"timeout_ms\": 200}');");
    command("c1", "start_recipe", "{\"recipe_id\": \"w\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    ck_assert_int_eq(R.exec.last_outcome, RUN_FAILED);
    ck_assert_str_eq(query("SELECT current_step_type FROM process_execution_state"), "error");
    const char *name = query("SELECT current_step_name FROM process_execution_state");
    ck_assert_msg(strncmp(name, "Error: step 'wait for pressure': ", 33) == 0, "%s", name);
    ck_assert_uint_le(strlen(name), strlen("Error: ") + 100);
    executor_shutdown(&R.exec);
}
END_TEST

/* Start a recipe of one ten-second pulse of valve 3 ("start") and wait until
 * the valve is open; e holds the timeline so far. */
static void start_long_pulse(events *e)
{
    sql("INSERT INTO recipes(id, name) VALUES('long', 'long pulse')");
    sql("INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type) "
        "VALUES('s1', 'long', 1, 'ten second pulse', 'valve')");
    sql("INSERT INTO valve_step_config(id, step_id, valve_number, duration_ms) "
        "VALUES('vc1', 's1', 3, 10000)");
    command("start", "start_recipe", "{\"recipe_id\": \"long\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    for (int i = 0; i < 500; i++) { /* until the valve is open */
        valve_timeline(e);
        if (e->count == 1)
            break;
        sleep_ms(10);
    }
    ck_assert_int_eq(e->count, 1);
}

START_TEST(stop_mid_pulse_closes_the_valve_and_aborts)
{
    rig_up();
    events e;
    start_long_pulse(&e);
    ck_assert_str_eq(query("SELECT status FROM machines"), "processing");
    command("stop", "stop_recipe", "{}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    valve_timeline(&e);
    ck_assert_int_eq(e.count, 2);
    ck_assert_str_eq(e.addr[1], "coil:2");
    ck_assert_int_eq(e.open[1], 0);
    ck_assert_msg((e.ns[1] - e.ns[0]) / 1000000u < 10000, "the valve stayed open to the end");
    ck_assert_str_eq(query("SELECT status FROM process_executions"), "aborted");
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='start'"), "error");
    ck_assert_str_eq(query("SELECT error_message FROM recipe_commands WHERE id='start'"),
                     "aborted");
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='stop'"), "completed");
    ck_assert_str_eq(query("SELECT status FROM machines"), "idle");
    executor_shutdown(&R.exec);
}
END_TEST

/* A long pulse's step is in the store while its valve is open (only pulses
 * shorter than PUBLISH_AFTER_CLOSE_MS wait for their close). */
START_TEST(a_long_pulse_is_in_the_store_while_its_valve_is_open)
{
    rig_up();
    events e;
    start_long_pulse(&e);
    const char *step = "";
    for (int i = 0; i < 500; i++) { /* does not hang: 5 s of a 10 s pulse */
        step = query("SELECT current_step_type || '/' || current_step_name FROM "
                     "process_execution_state");
        if (strcmp(step, "valve/ten second pulse") == 0)
            break;
        sleep_ms(10);
    }
    ck_assert_str_eq(step, "valve/ten second pulse");
    valve_timeline(&e);
    ck_assert_int_eq(e.count, 1); /* still open */
    command("stop", "stop_recipe", "{}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    executor_shutdown(&R.exec);
}
END_TEST

/* A recipe whose rows are wrong in one way; the start command must say why. */
static void expect_start_error(const char *recipe_sql, const char *fragment)
{
    sql("%s", recipe_sql);
    command("bad", "start_recipe", "{\"recipe_id\": \"bad\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(!executor_busy(&R.exec));
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='bad'"), "error");
    const char *msg = query("SELECT error_message FROM recipe_commands WHERE id='bad'");
    ck_assert_msg(strstr(msg, fragment) != NULL, "'%s' not in '%s'", fragment, msg);
    ck_assert_str_eq(query("SELECT status FROM machines"), "idle");
}

START_TEST(malformed_recipes_end_the_command_in_error)
{
    rig_up();
    expect_start_error(
        "INSERT INTO recipes(id, name) VALUES('bad', 'zero loop');"
        "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type) "
        "VALUES('l', 'bad', 1, 'loop', 'loop'), ('v', 'bad', 1, 'v', 'valve');"
        "UPDATE recipe_steps SET parent_step_id='l' WHERE id='v';"
        "INSERT INTO loop_step_config(id, step_id, iteration_count) VALUES('lc', 'l', 0);"
        "INSERT INTO valve_step_config(id, step_id, valve_number, duration_ms) "
        "VALUES('vc', 'v', 1, 20);",
        "iteration_count 0 is out of range");
}
END_TEST

START_TEST(unknown_valve_and_out_of_range_setpoint_are_refused)
{
    rig_up();
    expect_start_error(
        "INSERT INTO recipes(id, name) VALUES('bad', 'valve 9');"
        "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type, parameters) "
        "VALUES('v', 'bad', 1, 'v9', 'valve', '{\"valve_number\": 9, \"duration_ms\": 20}');",
        "valve 9 does not exist");
    sql("DELETE FROM recipe_steps; DELETE FROM recipes WHERE id='bad';"
        "DELETE FROM recipe_commands");
    expect_start_error(
        "INSERT INTO recipes(id, name) VALUES('bad', 'too much flow');"
        "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type, parameters) "
        "VALUES('p', 'bad', 1, 'flow', 'set parameter', "
        "'{\"parameter_id\": \"" MFC1 "\", \"target_value\": 9999}');",
        "outside its limits");
}
END_TEST

START_TEST(unknown_command_type_and_missing_recipe)
{
    rig_up();
    command("u", "pause", "{}");
    command("m", "start_recipe", "{\"recipe_id\": \"nope\"}");
    command("j", "start_recipe", "{not json");
    ck_assert_int_eq(commands_poll_once(&R.cp), 3);
    ck_assert_str_eq(query("SELECT error_message FROM recipe_commands WHERE id='u'"),
                     "Unknown command type: pause");
    ck_assert_str_eq(query("SELECT error_message FROM recipe_commands WHERE id='m'"),
                     "recipe nope does not exist");
    ck_assert_ptr_nonnull(
        strstr(query("SELECT error_message FROM recipe_commands WHERE id='j'"), "JSON"));
}
END_TEST

START_TEST(set_parameter_commands_validate_write_and_record)
{
    rig_up();
    command("ok", "set_parameter", "{\"parameter_id\": \"" MFC1 "\", \"value\": 120}");
    command("hi", "set_parameter", "{\"parameter_id\": \"" MFC1 "\", \"value\": 9999}");
    command("ro", "set_parameter", "{\"parameter_id\": \"" PG1 "\", \"value\": 1}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 3);
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='ok'"), "completed");
    ck_assert_double_eq_tol(
        atof(query("SELECT set_value FROM component_parameters WHERE id='%s'", MFC1)), 120, 1e-6);
    ck_assert_ptr_nonnull(
        strstr(query("SELECT error_message FROM recipe_commands WHERE id='hi'"), "[0, 500]"));
    ck_assert_ptr_nonnull(
        strstr(query("SELECT error_message FROM recipe_commands WHERE id='ro'"), "read-only"));
    /* the PLC really holds the new setpoint */
    const tag_param *p = tagmap_find(&R.tags, MFC1);
    ald_tag_value v;
    ck_assert_int_eq(plc_ops(&R.plc)->read_tags(R.plc.inst, &p->setpoint_tag, 1, &v), ALD_OK);
    ck_assert_double_eq_tol(v.value, 120, 1e-3);
}
END_TEST

START_TEST(parameter_control_commands_are_claimed_and_finished)
{
    rig_up();
    sql("INSERT INTO parameter_control_commands(id, component_parameter_id, target_value, "
        "machine_id) VALUES('pc1', '%s', 80, '%s')", MFC1, MACHINE);
    sql("INSERT INTO parameter_control_commands(id, parameter_name, target_value, machine_id, "
        "write_modbus_address) VALUES('pc2', 'temperature', 160, '%s', 4)", MACHINE);
    sql("INSERT INTO parameter_control_commands(id, parameter_name, target_value, machine_id) "
        "VALUES('pc3', 'no_such_parameter', 1, '%s')", MACHINE);
    ck_assert_int_eq(commands_poll_once(&R.cp), 3);
    ck_assert_str_ne(query("SELECT coalesce(completed_at, '') FROM parameter_control_commands "
                           "WHERE id='pc1'"), "");
    ck_assert_str_eq(query("SELECT coalesce(error_message, '') FROM parameter_control_commands "
                           "WHERE id='pc2'"), "");
    ck_assert_double_eq_tol(atof(query("SELECT set_value FROM component_parameters WHERE "
                                       "id='a0000000-0000-4000-8000-000000001101'")),
                            160, 1e-6);
    ck_assert_ptr_nonnull(strstr(query("SELECT error_message FROM parameter_control_commands "
                                       "WHERE id='pc3'"), "no unique writable parameter"));
    ck_assert_int_eq(commands_poll_once(&R.cp), 0); /* claimed once, never again */
}
END_TEST

START_TEST(two_processors_execute_each_command_once)
{
    rig_up();
    plugin_instance store2;
    char settings[1400];
    snprintf(settings, sizeof settings, "path = \"%s\"; data_dir = \"%s\"; machine_id = \"%s\";",
             R.db_path, R.dir, MACHINE);
    create_instance(&store2, "local2", "plugins/storage-sqlite/.libs/storage-sqlite.so",
                    ROLE_STORAGE, settings);
    command_processor cp2;
    commands_init(&cp2, &store2, &R.plc, &R.tags, &R.exec, MACHINE, 100);
    for (int i = 0; i < 20; i++) {
        char id[16], params[160];
        snprintf(id, sizeof id, "set%02d", i);
        snprintf(params, sizeof params, "{\"parameter_id\": \"%s\", \"value\": %d}", MFC1, i);
        command(id, "set_parameter", params);
    }
    int handled = 0;
    for (int round = 0; round < 10; round++)
        handled += commands_poll_once(&R.cp) + commands_poll_once(&cp2);
    ck_assert_int_eq(handled, 20);
    ck_assert_str_eq(query("SELECT count(*) FROM recipe_commands WHERE status='completed'"), "20");
    /* only one engine holds the machine's lease at a time */
    ck_assert_int_ne(R.cp.lease_held, cp2.lease_held);
    plugin_instance_destroy(&store2);
}
END_TEST

/* Poll until g_state.lease_state is want (the keeper renews every 100 ms). */
static int lease_state_becomes(int want)
{
    for (int i = 0; i < 500 && atomic_load(&g_state.lease_state) != want; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&g_state.lease_state) == want;
}

START_TEST(lease_keeper_stands_by_then_takes_over_storing_only_new_cycles)
{
    rig_up();
    state_init(1000000000u);
    unsetenv("ALD_ENGINE_ID");
    sql("INSERT INTO engine_leases VALUES('%s', 'other', '2999-01-01T00:00:00.000Z')", MACHINE);
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &R.store, &R.plc, MACHINE, 600, 100), 0);
    ck_assert(lease_state_becomes(0));
    ck_assert_int_eq(lease_gate(clock_realtime_ms()), LEASE_SKIP); /* a standby stores nothing */
    ck_assert(!lease_is_held());
    int64_t read_before_takeover = clock_realtime_ms();
    struct timespec ms2 = {0, 2 * 1000000L}; /* the takeover is strictly later */
    nanosleep(&ms2, NULL);
    sql("DELETE FROM engine_leases"); /* the other engine released it */
    ck_assert(lease_state_becomes(1));
    ck_assert_int_eq(lease_gate(read_before_takeover), LEASE_SKIP); /* its holder's cycle */
    ck_assert_int_eq(lease_gate(clock_realtime_ms()), LEASE_STORE);
    ck_assert(lease_is_held());
    ck_assert_str_ne(query("SELECT holder FROM engine_leases"), "other");
    lease_stop(&k);
    ck_assert_str_eq(query("SELECT count(*) FROM engine_leases"), "0"); /* released */
    ck_assert_int_eq(lease_gate(clock_realtime_ms()), LEASE_SKIP);
}
END_TEST

/* Poll until lease_gate(now) answers want (bounded; the TTL is 600 ms). */
static int gate_becomes(lease_gate_result want)
{
    for (int i = 0; i < 500 && lease_gate(clock_realtime_ms()) != want; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return lease_gate(clock_realtime_ms()) == want;
}

/* Samples stored so far, as a number. */
static long stored_samples(void)
{
    return atol(query("SELECT count(*) FROM parameter_value_history"));
}

/* The holder's lease lapses unconfirmed (its renewals fail: the lease table is
 * gone): a batch cycled then is held, neither stored nor dropped, and stored
 * once a renewal confirms the lease again. */
START_TEST(writer_holds_a_batch_until_the_lease_is_confirmed)
{
    rig_up();
    state_init(1000000000u);
    unsetenv("ALD_ENGINE_ID");
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &R.store, &R.plc, MACHINE, 600, 100), 0);
    ck_assert(lease_state_becomes(1));
    sql("ALTER TABLE engine_leases RENAME TO engine_leases_away");
    ck_assert(gate_becomes(LEASE_WAIT));

    batchq q;
    sample_writer w;
    ck_assert_int_eq(batchq_init(&q, 8, R.tags.tag_count), 0);
    ck_assert_int_eq(writer_start(&w, &R.store, &R.tags, &q, MACHINE, NULL), 0);
    ald_tag_value *vals = calloc(R.tags.tag_count, sizeof *vals);
    ck_assert_ptr_nonnull(vals);
    ck_assert_int_eq(plc_ops(&R.plc)->read_all(R.plc.inst, vals, R.tags.tag_count), ALD_OK);
    long before = stored_samples();
    batchq_push(&q, clock_realtime_ms(), clock_mono_ns(), vals, R.tags.tag_count);
    for (int i = 0; i < 500 && batchq_length(&q) > 0; i++) { /* the writer took it */
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_eq(batchq_length(&q), 0);
    ck_assert_int_eq(stored_samples(), before); /* held: not stored unconfirmed */

    sql("ALTER TABLE engine_leases_away RENAME TO engine_leases");
    ck_assert(gate_becomes(LEASE_STORE));
    for (int i = 0; i < 500 && stored_samples() == before; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(stored_samples() > before, "the held batch was dropped, not stored");
    writer_stop(&w);
    batchq_destroy(&q);
    free(vals);
    lease_stop(&k);
}
END_TEST

START_TEST(lease_keeper_with_the_same_engine_id_reclaims_at_once)
{
    rig_up();
    state_init(1000000000u);
    setenv("ALD_ENGINE_ID", "blue", 1);
    /* left by a killed "blue": not expired */
    sql("INSERT INTO engine_leases VALUES('%s', 'blue', '2999-01-01T00:00:00.000Z')", MACHINE);
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &R.store, &R.plc, MACHINE, 600, 100), 0);
    ck_assert(lease_state_becomes(1));
    ck_assert_str_eq(query("SELECT holder FROM engine_leases"), "blue");
    lease_stop(&k);
    unsetenv("ALD_ENGINE_ID");
}
END_TEST

/* Without ALD_ENGINE_ID a restart on the same data directory is the same
 * holder: the id kept in <data_dir>/engine-id (issue 9, item 3). */
START_TEST(restart_on_the_same_data_dir_reclaims_at_once)
{
    rig_up();
    state_init(1000000000u);
    unsetenv("ALD_ENGINE_ID");
    engine_id_claim(R.dir); /* the first life creates the id */
    char first[96];
    snprintf(first, sizeof first, "%s", engine_id_name());
    ck_assert(!strchr(first, ':')); /* not host:pid */
    engine_id_release();        /* the kernel drops the lock of a killed engine */
    engine_id_claim(R.dir);     /* the second life reads it back */
    ck_assert_str_eq(engine_id_name(), first);
    /* left by the killed first life: not expired */
    sql("INSERT INTO engine_leases VALUES('%s', '%s', '2999-01-01T00:00:00.000Z')", MACHINE,
        first);
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &R.store, &R.plc, MACHINE, 600, 100), 0);
    ck_assert(lease_state_becomes(1));
    ck_assert_str_eq(query("SELECT holder FROM engine_leases"), first);
    lease_stop(&k);
    engine_id_release();
}
END_TEST

/* A second live engine on the same data directory never gets the same name:
 * the first keeps the id file locked. */
START_TEST(a_second_engine_on_the_same_data_dir_gets_its_own_name)
{
    rig_up();
    unsetenv("ALD_ENGINE_ID");
    engine_id_claim(R.dir);
    char first[96];
    snprintf(first, sizeof first, "%s", engine_id_name());
    engine_id_release();
    char path[600];
    snprintf(path, sizeof path, "%s/" ENGINE_ID_FILE, R.dir);
    int other = open(path, O_RDWR); /* another engine's lock */
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), 0);
    engine_id_claim(R.dir);
    ck_assert_str_ne(engine_id_name(), first);
    char pid[32];
    snprintf(pid, sizeof pid, ":%d", (int)getpid());
    ck_assert_ptr_nonnull(strstr(engine_id_name(), pid));
    engine_id_release();
    close(other);
    /* ALD_ENGINE_ID wins over the file */
    setenv("ALD_ENGINE_ID", "green", 1);
    engine_id_claim(R.dir);
    ck_assert_str_eq(engine_id_name(), "green");
    engine_id_release();
    unsetenv("ALD_ENGINE_ID");
}
END_TEST

/* ---- a second engine during a run (issue 9, item 2) ----------------------------------- */

static void open_run(const char *id, const char *command_id, const char *engine,
                     const char *instance)
{
    sql("INSERT INTO process_executions(id, machine_id, recipe_id, start_time, status, "
        "parameters) VALUES('%s', '%s', '" QUICK "', '2026-01-01T00:00:00.000Z', 'running', "
        "'{\"command_id\": \"%s\", \"engine\": \"%s\", \"engine_instance\": \"%s\"}')",
        id, MACHINE, command_id, engine, instance);
}

START_TEST(a_standby_leaves_the_live_run_alone_the_holder_recovers_it_once_its_owner_is_gone)
{
    rig_up();
    sql("INSERT INTO engine_leases VALUES('%s', 'blue', '2999-01-01T00:00:00.000Z')", MACHINE);
    open_run("live", "c-live", "blue", "1-0123456789abcdef");
    sql("UPDATE machines SET status='processing', current_process_id='live'");
    /* a newcomer (blue/green, same store): a standby, it touches nothing */
    ck_assert_int_eq(commands_poll_once(&R.cp), 0);
    ck_assert_int_eq(R.cp.lease_held, 0);
    ck_assert_str_eq(query("SELECT status FROM process_executions WHERE id='live'"), "running");
    ck_assert_str_eq(query("SELECT status FROM machines"), "processing");
    events e;
    valve_timeline(&e);
    ck_assert_int_eq(e.count, 0); /* no PLC write either */
    /* blue is gone (its lease released or expired): the new holder recovers */
    sql("DELETE FROM engine_leases");
    commands_poll_once(&R.cp);
    ck_assert_int_eq(R.cp.lease_held, 1);
    ck_assert_str_eq(query("SELECT status FROM process_executions WHERE id='live'"), "failed");
    ck_assert_str_eq(query("SELECT status FROM machines"), "error");
}
END_TEST

START_TEST(the_run_this_process_drives_is_never_an_orphan_its_previous_life_is)
{
    rig_up();
    open_run("mine", "c-mine", "blue", engine_id_instance());
    open_run("before", "c-before", "blue", "1-0000000000000000"); /* blue before kill -9 */
    commands_recover_orphans(&R.store, &R.plc, &R.tags, MACHINE);
    ck_assert_str_eq(query("SELECT status FROM process_executions WHERE id='mine'"), "running");
    ck_assert_str_eq(query("SELECT status FROM process_executions WHERE id='before'"), "failed");
}
END_TEST

START_TEST(a_run_records_its_engine_and_stops_when_another_engine_takes_the_lease)
{
    rig_up();
    events e;
    start_long_pulse(&e);
    const char *params = query("SELECT parameters FROM process_executions");
    ck_assert_msg(strstr(params, R.cp.holder) && strstr(params, engine_id_instance()), "%s",
                  params);
    /* another engine holds the lease now (a CONFLICT, not an outage) */
    sql("UPDATE engine_leases SET holder='green', expires_at='2999-01-01T00:00:00.000Z'");
    ck_assert_int_eq(commands_poll_once(&R.cp), 0);
    wait_idle();
    valve_timeline(&e);
    ck_assert_int_eq(e.count, 2);
    ck_assert_int_eq(e.open[1], 0);
    ck_assert_msg((e.ns[1] - e.ns[0]) / 1000000u < 10000, "the valve stayed open to the end");
    ck_assert_str_eq(query("SELECT status FROM process_executions"), "aborted");
    executor_shutdown(&R.exec);
}
END_TEST

START_TEST(orphaned_run_is_failed_with_valves_closed_then_cleared)
{
    rig_up();
    sql("INSERT INTO process_executions(id, machine_id, recipe_id, start_time, status, "
        "parameters) VALUES('orphan', '%s', '" QUICK "', '2026-01-01T00:00:00.000Z', 'running', "
        "'{\"command_id\": \"lost\"}')", MACHINE);
    command("lost", "start_recipe", "{}");
    sql("UPDATE recipe_commands SET status='processing' WHERE id='lost'");
    sql("UPDATE machines SET status='processing', current_process_id='orphan'");
    ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, 2, 1, NULL),
                     ALD_OK); /* left open by the crash */
    commands_recover_orphans(&R.store, &R.plc, &R.tags, MACHINE);
    events e;
    valve_timeline(&e);
    ck_assert_int_eq(e.count, 2);
    ck_assert_str_eq(e.addr[1], "coil:1");
    ck_assert_int_eq(e.open[1], 0);
    ck_assert_str_eq(query("SELECT status FROM process_executions WHERE id='orphan'"), "failed");
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='lost'"), "error");
    ck_assert_str_eq(query("SELECT status FROM machines"), "error");
    /* a start is refused until an operator clears the error */
    command("s1", "start_recipe", "{\"recipe_id\": \"" QUICK "\"}");
    command("clr", "clear_error", "{}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 2);
    ck_assert_ptr_nonnull(
        strstr(query("SELECT error_message FROM recipe_commands WHERE id='s1'"), "clear"));
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='clr'"), "completed");
    ck_assert_str_eq(query("SELECT status FROM machines"), "idle");
}
END_TEST

START_TEST(shutdown_during_a_run_aborts_it_safely)
{
    rig_up();
    command("c", "start_recipe", "{\"recipe_id\": \"b0000000-0000-4000-8000-000000000001\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    sleep_ms(300);
    executor_shutdown(&R.exec);
    ck_assert_int_eq(R.exec.last_outcome, RUN_ABORTED);
    ck_assert_str_eq(query("SELECT status FROM process_executions"), "aborted");
    ck_assert_str_eq(query("SELECT error_message FROM recipe_commands WHERE id='c'"), "aborted");
    events e;
    valve_timeline(&e);
    ck_assert_int_ge(e.count, 1);
    ck_assert_int_eq(e.open[e.count - 1], 0); /* the last transition is a close */
}
END_TEST

START_TEST(readiness_conditions_gate_a_start)
{
    rig_up();
    const ald_config *root = test_config(
        "r = ( { parameter = \"a0000000-0000-4000-8000-000000001302\"; op = \">=\"; value = 1.0; },"
        "      { parameter = \"a0000000-0000-4000-8000-000000000801\"; op = \">=\"; value = 50.0; } );");
    R.cp.readiness = (const ald_config *)config_setting_lookup((config_setting_t *)root, "r");
    ck_assert_ptr_nonnull(R.cp.readiness);
    /* MFC 2 flows ~0 sccm: the second condition fails, nothing starts */
    command("c1", "start_recipe", "{\"recipe_id\": \"" QUICK "\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    ck_assert(!executor_busy(&R.exec));
    const char *msg = query("SELECT error_message FROM recipe_commands WHERE id='c1'");
    ck_assert_msg(strstr(msg, "not ready: MFC 2 flow_rate is") && strstr(msg, "needs >= 50"),
                  "%s", msg);
    ck_assert_str_eq(query("SELECT count(*) FROM process_executions"), "0");
    /* only the pump condition (pump running = 1): the run starts */
    R.cp.readiness = (const ald_config *)config_setting_lookup((config_setting_t *)root, "r");
    config_setting_remove_elem((config_setting_t *)R.cp.readiness, 1);
    command("c2", "start_recipe", "{\"recipe_id\": \"" QUICK "\"}");
    ck_assert_int_eq(commands_poll_once(&R.cp), 1);
    wait_idle();
    ck_assert_str_eq(query("SELECT status FROM recipe_commands WHERE id='c2'"), "completed");
    executor_shutdown(&R.exec);
}
END_TEST

/* ---- the ports: one calling convention for every plugin call ---- */

START_TEST(plc_port_names_an_unknown_valve_and_a_missing_operation)
{
    rig_up();
    port_error err;
    ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, 42, 1, &err), ALD_ERR_NOT_FOUND);
    ck_assert_str_eq(err.text, "no such valve: 42");
    /* plc-sim has no PLC-timed pulse: unsupported, naming instance and operation */
    ck_assert_int_eq(plc_port_pulse(&R.plc, &R.tags, 1, 20, &err), ALD_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.text, "'sim'") && strstr(err.text, "pulse"), "%s", err.text);
}
END_TEST

START_TEST(plc_port_returns_the_text_of_the_failed_write)
{
    rig_up();
    const tag_param *gauge = tagmap_find(&R.tags, PG1); /* read-only: no write address */
    ck_assert_ptr_nonnull(gauge);
    port_error err;
    double readback;
    ck_assert_int_eq(plc_port_write_setpoint(&R.plc, gauge->value_tag, 1.0, &readback, &err),
                     ALD_ERR_INVALID);
    ck_assert_msg(strstr(err.text, "no write address"), "%s", err.text);
}
END_TEST

/* The value of one series in a fresh scrape; -1 when it is not there. */
static double scraped(const char *series)
{
    char *text = metrics_render(NULL);
    ck_assert_ptr_nonnull(text);
    char key[300];
    snprintf(key, sizeof key, "\n%s ", series);
    const char *at = strstr(text, key);
    double v = at ? strtod(at + strlen(key), NULL) : -1;
    free(text);
    return v;
}

/* ald_plugin_calls_total of instance/op/outcome. */
static double calls(const char *instance, const char *op, const char *outcome)
{
    char series[256];
    snprintf(series, sizeof series,
             "ald_plugin_calls_total{instance=\"%s\",op=\"%s\",outcome=\"%s\"}", instance,
             op, outcome);
    return scraped(series);
}

/* ald_plugin_call_seconds_<part> of instance/op (part: count, sum). */
static double timed(const char *part, const char *instance, const char *op)
{
    char series[256];
    snprintf(series, sizeof series, "ald_plugin_call_seconds_%s{instance=\"%s\",op=\"%s\"}",
             part, instance, op);
    return scraped(series);
}

START_TEST(port_calls_are_counted_by_instance_operation_and_outcome)
{
    rig_up();
    /* the valve path's series exist before its first call (registered by
     * executor_init: no allocation on a run's first pulse) */
    ck_assert(timed("count", "sim", "write_tag") == 0);
    ck_assert(timed("count", "sim", "read_tags") == 0);
    port_error err;
    ald_tag_value *vals = calloc(R.tags.tag_count, sizeof *vals);
    ck_assert_ptr_nonnull(vals);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(plc_port_read_all(&R.plc, vals, R.tags.tag_count, NULL, &err), ALD_OK);
    free(vals);
    ck_assert_int_eq(plc_port_valve_set(&R.plc, &R.tags, 1, 0, &err), ALD_OK);
    ck_assert_int_eq(plc_port_pulse(&R.plc, &R.tags, 1, 100, &err), ALD_ERR_UNSUPPORTED);
    storage_machine m;
    ck_assert_int_eq(storage_port_get_machine(&R.store, MACHINE, &m, NULL), ALD_OK);
    ck_assert_int_eq(storage_port_get_machine(&R.store, "00000000-0000-4000-8000-000000000000",
                                              &m, &err),
                     ALD_ERR_NOT_FOUND);

    ck_assert(calls("sim", "read_all", "ok") == 3); /* the read lane */
    ck_assert(calls("sim", "read_all", "transient") == 0);
    ck_assert(calls("sim", "read_all", "refused") == 0);
    ck_assert(timed("count", "sim", "read_all") == 3);
    ck_assert(timed("sum", "sim", "read_all") > 0); /* durations are measured */
    ck_assert(calls("sim", "write_tag", "ok") == 1); /* the control lane */
    ck_assert(timed("count", "sim", "write_tag") == 1);
    ck_assert(timed("count", "sim", "pulse") == -1); /* not implemented: no call */
    ck_assert(calls("local", "get_machine", "ok") == 1); /* the storage port */
    ck_assert(calls("local", "get_machine", "refused") == 1);
    ck_assert(timed("count", "local", "get_machine") == 2);
}
END_TEST

START_TEST(storage_port_reads_the_machine_for_the_engine_and_aldctl)
{
    rig_up();
    storage_machine m;
    ck_assert_int_eq(storage_port_get_machine(&R.store, MACHINE, &m, NULL), ALD_OK);
    ck_assert_str_eq(m.status, query("SELECT status FROM machines WHERE id='%s'", MACHINE));
    port_error err;
    ck_assert_int_eq(storage_port_get_machine(&R.store, "00000000-0000-4000-8000-000000000000",
                                              &m, &err),
                     ALD_ERR_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("executor");
    TCase *tc = tcase_create("recipes and commands");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, nested_recipe_ends_with_exact_counters_and_timeline);
    tcase_add_test(tc, every_step_reaches_a_slow_store_in_order);
    tcase_add_test(tc, failed_run_ends_with_pythons_error_marker);
    tcase_add_test(tc, stop_mid_pulse_closes_the_valve_and_aborts);
    tcase_add_test(tc, a_long_pulse_is_in_the_store_while_its_valve_is_open);
    tcase_add_test(tc, malformed_recipes_end_the_command_in_error);
    tcase_add_test(tc, unknown_valve_and_out_of_range_setpoint_are_refused);
    tcase_add_test(tc, unknown_command_type_and_missing_recipe);
    tcase_add_test(tc, set_parameter_commands_validate_write_and_record);
    tcase_add_test(tc, parameter_control_commands_are_claimed_and_finished);
    tcase_add_test(tc, two_processors_execute_each_command_once);
    tcase_add_test(tc, lease_keeper_stands_by_then_takes_over_storing_only_new_cycles);
    tcase_add_test(tc, lease_keeper_with_the_same_engine_id_reclaims_at_once);
    tcase_add_test(tc, restart_on_the_same_data_dir_reclaims_at_once);
    tcase_add_test(tc, a_second_engine_on_the_same_data_dir_gets_its_own_name);
    tcase_add_test(tc,
                   a_standby_leaves_the_live_run_alone_the_holder_recovers_it_once_its_owner_is_gone);
    tcase_add_test(tc, the_run_this_process_drives_is_never_an_orphan_its_previous_life_is);
    tcase_add_test(tc, a_run_records_its_engine_and_stops_when_another_engine_takes_the_lease);
    tcase_add_test(tc, writer_holds_a_batch_until_the_lease_is_confirmed);
    tcase_add_test(tc, port_calls_are_counted_by_instance_operation_and_outcome);
    tcase_add_test(tc, orphaned_run_is_failed_with_valves_closed_then_cleared);
    tcase_add_test(tc, shutdown_during_a_run_aborts_it_safely);
    tcase_add_test(tc, readiness_conditions_gate_a_start);
    suite_add_tcase(s, tc);
    TCase *ports = tcase_create("ports");
    tcase_set_timeout(ports, 30);
    tcase_add_test(ports, plc_port_names_an_unknown_valve_and_a_missing_operation);
    tcase_add_test(ports, plc_port_returns_the_text_of_the_failed_write);
    tcase_add_test(ports, storage_port_reads_the_machine_for_the_engine_and_aldctl);
    suite_add_tcase(s, ports);
    return run_suite(s);
}
