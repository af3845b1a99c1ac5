/*
 * check_sqlite_ops.c - storage-sqlite: command queue (exactly-once claims,
 * also across two processes), setpoint commands, machine state, sessions,
 * processes, health, leases and the outbox. Loads the real built plugin.
 */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_sqlite_util.h"
#include "testutil.h"

#define DEMO_RECIPE "b0000000-0000-4000-8000-000000000001"
#define OTHER_MACHINE "e3e6e280-0000-4000-8000-000000000002"
#define RACE_COMMANDS 100

static const ald_storage_vtable *vt;

static void setup(void)
{
    vt = sqt_vt();
}

/* ---- recipe_commands ------------------------------------------------------ */

typedef struct id_list {
    int count;
    char ids[RACE_COMMANDS + 8][40];
    char types[RACE_COMMANDS + 8][32];
} id_list;

static void collect_command(void *ctx, const ald_command *c)
{
    id_list *l = ctx;
    ck_assert_int_lt(l->count, RACE_COMMANDS + 8);
    ck_assert_str_eq(c->status, "pending");
    snprintf(l->ids[l->count], sizeof l->ids[0], "%s", c->id);
    snprintf(l->types[l->count++], sizeof l->types[0], "%s", c->type);
}

static void insert(void *inst, const char *machine, const char *type, char *id)
{
    ald_status rc = vt->insert_command(inst, machine, type, "{\"x\": 1}", id, 40);
    ck_assert_msg(rc == ALD_OK, "insert_command: %s", vt->last_error(inst));
}

static void copy_status(void *ctx, const ald_command *c)
{
    snprintf(ctx, 256, "%s:%s", c->type, c->status);
}

START_TEST(test_claim_succeeds_once_across_two_instances_on_one_file)
{
    const char *db = sqt_new_db_path("sqlite-claim");
    void *a = sqt_open(db, ""), *b = sqt_open(db, "");
    char id[40];
    insert(a, DEMO_MACHINE, "start_recipe", id);
    id_list seen = {0};
    ck_assert_int_eq(vt->fetch_pending_commands(b, DEMO_MACHINE, 10, collect_command, &seen),
                     ALD_OK);
    ck_assert_int_eq(seen.count, 1);
    ck_assert_str_eq(seen.ids[0], id);
    ck_assert_int_eq(vt->claim_command(a, id), ALD_OK);
    ck_assert_int_eq(vt->claim_command(b, id), ALD_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(vt->last_error(b), "processing"));
    ck_assert_int_eq(vt->claim_command(b, "no-such-command"), ALD_ERR_NOT_FOUND);
    char status[256] = "";
    ck_assert_int_eq(vt->get_command(b, id, copy_status, status), ALD_OK);
    ck_assert_str_eq(status, "start_recipe:processing");
    ck_assert_int_eq(vt->get_command(b, "no-such-command", copy_status, status),
                     ALD_ERR_NOT_FOUND);
    sqt_close(a);
    sqt_close(b);
}
END_TEST

/* Claims every pending command it sees until none is left; writes the ids it
 * won to fd, one per line. */
static int claim_all(const char *db, FILE *out)
{
    void *inst = sqt_open(db, "");
    int won = 0;
    for (;;) {
        id_list *l = calloc(1, sizeof *l);
        if (vt->fetch_pending_commands(inst, DEMO_MACHINE, 0, collect_command, l) != ALD_OK)
            return -1;
        int n = l->count;
        for (int i = 0; i < n; i++) {
            ald_status rc = vt->claim_command(inst, l->ids[i]);
            if (rc == ALD_OK) {
                fprintf(out, "%s\n", l->ids[i]);
                won++;
            } else if (rc != ALD_ERR_CONFLICT) {
                fprintf(stderr, "claim: %s\n", vt->last_error(inst));
                return -1;
            }
        }
        free(l);
        if (n == 0)
            break;
    }
    sqt_close(inst);
    return won;
}

static int count_lines_with(const char *file, const char *id)
{
    FILE *f = fopen(file, "r");
    ck_assert_ptr_nonnull(f);
    char line[64];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, id, strlen(id)) == 0;
    fclose(f);
    return n;
}

START_TEST(test_two_processes_racing_claim_every_command_exactly_once)
{
    const char *db = sqt_new_db_path("sqlite-race");
    void *inst = sqt_open(db, "");
    static char ids[RACE_COMMANDS][40];
    for (int i = 0; i < RACE_COMMANDS; i++)
        insert(inst, i % 3 ? DEMO_MACHINE : NULL, "set_parameter", ids[i]);
    sqt_close(inst);

    char parent_file[700], child_file[700];
    snprintf(parent_file, sizeof parent_file, "%s/parent", test_tmpdir("sqlite-race-out"));
    snprintf(child_file, sizeof child_file, "%s/child", test_tmpdir("sqlite-race-out"));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *out = fopen(child_file, "w");
        int won = out ? claim_all(db, out) : -1;
        _exit(out && fclose(out) == 0 && won >= 0 ? 0 : 1);
    }
    FILE *out = fopen(parent_file, "w");
    ck_assert_ptr_nonnull(out);
    int won = claim_all(db, out);
    fclose(out);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed");
    ck_assert_int_ge(won, 0);

    for (int i = 0; i < RACE_COMMANDS; i++) {
        int times =
            count_lines_with(parent_file, ids[i]) + count_lines_with(child_file, ids[i]);
        ck_assert_msg(times == 1, "command %s claimed %d times", ids[i], times);
    }
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM recipe_commands WHERE status = "
                                 "'processing' AND executed_at IS NOT NULL"),
                     RACE_COMMANDS);
}
END_TEST

START_TEST(test_fetch_returns_this_machine_and_unassigned_stops_then_oldest_first)
{
    const char *db = sqt_new_db_path("sqlite-fetch");
    sqt_close(sqt_open(db, ""));
    sqt_exec(db, "INSERT INTO machines (id, name, status) VALUES ('" OTHER_MACHINE "', "
                 "'Other', 'idle')");
    void *inst = sqt_open(db, "");
    char newest[40], other[40], any[40], oldest[40], stop[40];
    insert(inst, DEMO_MACHINE, "newest", newest);
    insert(inst, DEMO_MACHINE, "stop", stop); /* as new as "newest", yet first */
    insert(inst, OTHER_MACHINE, "other", other);
    insert(inst, NULL, "any", any);
    insert(inst, DEMO_MACHINE, "oldest", oldest);
    sqt_exec(db, "UPDATE recipe_commands SET created_at = CASE type"
                 " WHEN 'oldest' THEN '2020-01-01T00:00:00.000Z'"
                 " WHEN 'any' THEN '2020-01-01T00:00:01.000Z'"
                 " ELSE '2020-01-01T00:00:02.000Z' END");
    id_list l = {0};
    ck_assert_int_eq(vt->fetch_pending_commands(inst, DEMO_MACHINE, 0, collect_command, &l),
                     ALD_OK);
    ck_assert_int_eq(l.count, 4);
    ck_assert_str_eq(l.types[0], "stop");
    ck_assert_str_eq(l.types[1], "oldest");
    ck_assert_str_eq(l.types[2], "any");
    ck_assert_str_eq(l.types[3], "newest");
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(vt->fetch_pending_commands(inst, DEMO_MACHINE, 2, collect_command, &l),
                     ALD_OK);
    ck_assert_int_eq(l.count, 2); /* the limit holds */
    sqt_close(inst);
}
END_TEST

START_TEST(test_finish_command_records_status_and_reason)
{
    const char *db = sqt_new_db_path("sqlite-finish");
    void *inst = sqt_open(db, "");
    char ok[40], bad[40];
    insert(inst, DEMO_MACHINE, "start_recipe", ok);
    insert(inst, DEMO_MACHINE, "bogus", bad);
    ck_assert_int_eq(vt->finish_command(inst, ok, "completed", NULL), ALD_ERR_CONFLICT);
    ck_assert_int_eq(vt->claim_command(inst, ok), ALD_OK);
    ck_assert_int_eq(vt->claim_command(inst, bad), ALD_OK);
    ck_assert_int_eq(vt->finish_command(inst, ok, "done", NULL), ALD_ERR_INVALID);
    ck_assert_int_eq(vt->finish_command(inst, ok, "completed", NULL), ALD_OK);
    ck_assert_int_eq(vt->finish_command(inst, ok, "completed", NULL), ALD_ERR_CONFLICT);
    ck_assert_int_eq(vt->finish_command(inst, bad, "error", "Unknown command type: bogus"),
                     ALD_OK);
    ck_assert_int_eq(vt->finish_command(inst, "nope", "error", "x"), ALD_ERR_NOT_FOUND);
    sqt_close(inst);
    char *t = sqt_text(db, "SELECT group_concat(type || '=' || status || ':' ||"
                           " coalesce(error_message, '-'), ';') FROM"
                           " (SELECT * FROM recipe_commands ORDER BY type)");
    ck_assert_str_eq(t, "bogus=error:Unknown command type: bogus;start_recipe=completed:-");
    free(t);
}
END_TEST

START_TEST(test_insert_command_refuses_invalid_json_and_unknown_machine)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-insert"), "");
    char id[40];
    ck_assert_int_eq(vt->insert_command(inst, DEMO_MACHINE, "stop", "{oops", id, sizeof id),
                     ALD_ERR_INVALID);
    ck_assert_int_eq(vt->insert_command(inst, "no-machine", "stop", NULL, id, sizeof id),
                     ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(vt->insert_command(inst, NULL, "stop", NULL, id, sizeof id), ALD_OK);
    ck_assert_int_eq(strlen(id), 36);
    ck_assert_int_eq(id[14], '4'); /* a version-4 uuid */
    sqt_close(inst);
}
END_TEST

START_TEST(test_a_file_locked_by_another_process_is_a_transient_error)
{
    const char *db = sqt_new_db_path("sqlite-busy");
    void *inst = sqt_open(db, "busy_timeout_ms = 0;");
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    char id[40];
    ck_assert_int_eq(vt->insert_command(inst, NULL, "stop", NULL, id, sizeof id),
                     ALD_ERR_TRANSIENT);
    ck_assert_msg(strstr(vt->last_error(inst), "locked") && strstr(vt->last_error(inst), db),
                  "got \"%s\"", vt->last_error(inst));
    ck_assert_int_eq(vt->is_connected(inst), 1); /* busy is not unreachable */
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(vt->insert_command(inst, NULL, "stop", NULL, id, sizeof id), ALD_OK);
    sqt_close(inst);
}
END_TEST

/* ---- parameter_control_commands -------------------------------------------------- */

static void collect_setpoint(void *ctx, const ald_setpoint_command *c)
{
    id_list *l = ctx;
    snprintf(l->ids[l->count], sizeof l->ids[0], "%s", c->id);
    snprintf(l->types[l->count++], sizeof l->types[0], "%s@%lld=%g", c->parameter_name,
             (long long)c->write_modbus_address, c->target_value);
}

START_TEST(test_setpoint_commands_claim_once_and_finish)
{
    const char *db = sqt_new_db_path("sqlite-setpoint");
    sqt_close(sqt_open(db, ""));
    sqt_exec(db,
             "INSERT INTO parameter_control_commands (id, parameter_name, target_value,"
             " machine_id, write_modbus_address, created_at) VALUES"
             " ('sp1', 'flow_rate', 120, '" DEMO_MACHINE "', 2, '2020-01-01T00:00:00.000Z'),"
             " ('sp2', 'temperature', 160, NULL, NULL, '2020-01-01T00:00:01.000Z'),"
             " ('sp3', 'flow_rate', 1, '" OTHER_MACHINE
             "', NULL, '2020-01-01T00:00:00.000Z')");
    void *inst = sqt_open(db, "");
    id_list l = {0};
    ck_assert_int_eq(vt->fetch_setpoint_commands(inst, DEMO_MACHINE, 0, collect_setpoint, &l),
                     ALD_OK);
    ck_assert_int_eq(l.count, 2);
    ck_assert_str_eq(l.types[0], "flow_rate@2=120");
    ck_assert_str_eq(l.types[1], "temperature@-1=160");
    ck_assert_int_eq(vt->claim_setpoint_command(inst, "sp1"), ALD_OK);
    ck_assert_int_eq(vt->claim_setpoint_command(inst, "sp1"), ALD_ERR_CONFLICT);
    ck_assert_int_eq(vt->claim_setpoint_command(inst, "sp2"), ALD_OK);
    ck_assert_int_eq(vt->claim_setpoint_command(inst, "spX"), ALD_ERR_NOT_FOUND);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(vt->fetch_setpoint_commands(inst, DEMO_MACHINE, 0, collect_setpoint, &l),
                     ALD_OK);
    ck_assert_int_eq(l.count, 0);
    ck_assert_int_eq(vt->finish_setpoint_command(inst, "sp1", NULL), ALD_OK);
    ck_assert_int_eq(vt->finish_setpoint_command(inst, "sp1", NULL), ALD_ERR_CONFLICT);
    ck_assert_int_eq(vt->finish_setpoint_command(inst, "sp2", "above max 400"), ALD_OK);
    ck_assert_int_eq(vt->finish_setpoint_command(inst, "sp3", NULL), ALD_ERR_CONFLICT);
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT completed_at IS NOT NULL AND error_message IS NULL"
                                 " FROM parameter_control_commands WHERE id = 'sp1'"),
                     1);
    char *t = sqt_text(db, "SELECT error_message FROM parameter_control_commands WHERE id = "
                           "'sp2'");
    ck_assert_str_eq(t, "above max 400");
    free(t);
}
END_TEST

/* ---- machines and sessions ---------------------------------------------------------- */

static void copy_machine(void *ctx, const ald_machine *m)
{
    snprintf(ctx, 256, "%s|%s|%s|%s", m->status,
             m->current_process_id ? m->current_process_id : "-",
             m->current_operator_id ? m->current_operator_id : "-",
             m->failure_description ? m->failure_description : "-");
}

static void set_state(void *inst, const char *status, const char *process, const char *op,
                      const char *failure)
{
    ald_machine_update u = {sizeof u, DEMO_MACHINE, status, process, op, failure};
    ald_status rc = vt->set_machine_state(inst, &u);
    ck_assert_msg(rc == ALD_OK, "set_machine_state: %s", vt->last_error(inst));
}

START_TEST(test_machine_state_transitions_are_mirrored_to_machine_state)
{
    const char *db = sqt_new_db_path("sqlite-machine");
    void *inst = sqt_open(db, "");
    char m[256];
    set_state(inst, "processing", "proc-1", "op-1", NULL);
    ck_assert_int_eq(vt->get_machine(inst, DEMO_MACHINE, copy_machine, m), ALD_OK);
    ck_assert_str_eq(m, "processing|proc-1|op-1|-");
    ck_assert_int_eq(sqt_int(db,
                             "SELECT current_state = 'processing' AND process_id = 'proc-1'"
                             " AND is_failure_mode = 0 FROM machine_state"),
                     1);
    set_state(inst, "error", NULL, NULL, "Recipe execution error: PLC lost");
    ck_assert_int_eq(vt->get_machine(inst, DEMO_MACHINE, copy_machine, m), ALD_OK);
    ck_assert_str_eq(m, "error|-|op-1|Recipe execution error: PLC lost"); /* operator kept */
    ck_assert_int_eq(sqt_int(db, "SELECT current_state = 'error' AND process_id IS NULL AND"
                                 " is_failure_mode = 1 FROM machine_state"),
                     1);
    /* An old site without a machine_state row: the row is created. */
    sqt_exec(db, "DELETE FROM machine_state");
    set_state(inst, "idle", NULL, NULL, NULL);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machine_state WHERE current_state = "
                                 "'idle' AND is_failure_mode = 0"),
                     1);
    sqt_close(inst);
}
END_TEST

START_TEST(test_state_since_moves_only_when_the_state_changes)
{
    const char *db = sqt_new_db_path("sqlite-machine2");
    void *inst = sqt_open(db, "");
    sqt_exec(db, "UPDATE machine_state SET state_since = '2000-01-01T00:00:00.000Z'");
    set_state(inst, "idle", NULL, NULL, NULL);
    char *t = sqt_text(db, "SELECT state_since FROM machine_state");
    ck_assert_str_eq(t, "2000-01-01T00:00:00.000Z");
    free(t);
    set_state(inst, "processing", "p", NULL, NULL);
    t = sqt_text(db, "SELECT state_since FROM machine_state");
    ck_assert_str_ne(t, "2000-01-01T00:00:00.000Z");
    free(t);
    sqt_close(inst);
}
END_TEST

START_TEST(test_unknown_machine_and_bad_status_are_refused)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-machine3"), "");
    char m[256];
    ald_machine_update u = {sizeof u, "nope", "idle", NULL, NULL, NULL};
    ck_assert_int_eq(vt->set_machine_state(inst, &u), ALD_ERR_NOT_FOUND);
    u.machine_id = DEMO_MACHINE;
    u.status = "busy";
    ck_assert_int_eq(vt->set_machine_state(inst, &u), ALD_ERR_INVALID);
    ck_assert_int_eq(vt->get_machine(inst, "nope", copy_machine, m), ALD_ERR_NOT_FOUND);
    sqt_close(inst);
}
END_TEST

START_TEST(test_active_session_is_reused_per_operator_and_machine)
{
    const char *db = sqt_new_db_path("sqlite-session");
    void *inst = sqt_open(db, "");
    char s1[40], s2[40], s3[40], s4[40];
    ck_assert_int_eq(vt->get_or_create_session(inst, "op-1", DEMO_MACHINE, s1, sizeof s1),
                     ALD_OK);
    ck_assert_int_eq(vt->get_or_create_session(inst, "op-1", DEMO_MACHINE, s2, sizeof s2),
                     ALD_OK);
    ck_assert_str_eq(s1, s2);
    ck_assert_int_eq(vt->get_or_create_session(inst, "op-2", DEMO_MACHINE, s3, sizeof s3),
                     ALD_OK);
    ck_assert_str_ne(s1, s3);
    sqt_exec(db, "UPDATE operator_sessions SET status = 'ended' WHERE operator_id = 'op-1'");
    ck_assert_int_eq(vt->get_or_create_session(inst, "op-1", DEMO_MACHINE, s4, sizeof s4),
                     ALD_OK);
    ck_assert_str_ne(s1, s4);
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM operator_sessions"), 3);
}
END_TEST

/* ---- processes ---------------------------------------------------------------------- */

typedef struct proc_list {
    int count;
    char id[40], status[16];
    int64_t start_ms, end_ms;
} proc_list;

static void collect_process(void *ctx, const ald_process *p)
{
    proc_list *l = ctx;
    l->count++;
    snprintf(l->id, sizeof l->id, "%s", p->id);
    snprintf(l->status, sizeof l->status, "%s", p->status);
    l->start_ms = p->start_time_ms;
    l->end_ms = p->end_time_ms;
}

static void copy_state(void *ctx, const ald_process_state *s)
{
    *(ald_process_state *)ctx = *s;
    ((ald_process_state *)ctx)->execution_id = NULL; /* only valid in the callback */
    ((ald_process_state *)ctx)->current_step_type = NULL;
    ((ald_process_state *)ctx)->current_step_name = NULL;
    ((ald_process_state *)ctx)->current_parameter_id = NULL;
}

static ald_process_state state_at(const char *pid, int64_t step, int64_t iteration)
{
    return (ald_process_state){.struct_size = sizeof(ald_process_state),
                               .execution_id = pid,
                               .current_step_index = step,
                               .current_overall_step = step,
                               .total_overall_steps = 401,
                               .current_step_type = "valve",
                               .current_step_name = "TMA pulse",
                               .current_valve_number = 1,
                               .current_valve_duration_ms = 20,
                               .current_purge_duration_ms = -1,
                               .current_parameter_id = NULL,
                               .current_parameter_value = NAN,
                               .current_loop_count = 100,
                               .current_loop_iteration = iteration,
                               .progress_total_steps = 401,
                               .progress_completed_steps = step,
                               .progress_total_cycles = 100,
                               .progress_completed_cycles = iteration - 1,
                               .last_updated_ms = 1795750146123};
}

START_TEST(test_process_create_update_finish_and_find_open)
{
    const char *db = sqt_new_db_path("sqlite-process");
    void *inst = sqt_open(db, "");
    char session[40], pid[40];
    ck_assert_int_eq(
        vt->get_or_create_session(inst, "op-1", DEMO_MACHINE, session, sizeof session),
        ALD_OK);
    ald_process_start start = {sizeof start, DEMO_MACHINE, DEMO_RECIPE,
                               session,      "op-1",       "{\"name\": \"Al2O3 demo\"}",
                               "{}",         1795750146123};
    ck_assert_int_eq(vt->create_process(inst, &start, pid, sizeof pid), ALD_OK);
    proc_list open = {0};
    ck_assert_int_eq(vt->find_open_processes(inst, DEMO_MACHINE, collect_process, &open),
                     ALD_OK);
    ck_assert_int_eq(open.count, 1);
    ck_assert_str_eq(open.id, pid);
    ck_assert_int_eq(open.start_ms, 1795750146123);
    ck_assert_int_eq(open.end_ms, -1);

    ald_process_state s = state_at(pid, 5, 2);
    ck_assert_int_eq(vt->update_process_state(inst, &s), ALD_OK);
    s = state_at(pid, 9, 3);
    ck_assert_int_eq(vt->update_process_state(inst, &s), ALD_OK);
    ald_process_state got = {0};
    ck_assert_int_eq(vt->get_process_state(inst, pid, copy_state, &got), ALD_OK);
    ck_assert_int_eq(got.current_overall_step, 9);
    ck_assert_int_eq(got.current_loop_iteration, 3);
    ck_assert_int_eq(got.progress_completed_cycles, 2);
    ck_assert_int_eq(got.progress_total_steps, 401);
    ck_assert_int_eq(got.current_purge_duration_ms, -1);
    ck_assert(isnan(got.current_parameter_value));
    ck_assert_int_eq(got.last_updated_ms, 1795750146123);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM process_execution_state"), 1);

    ck_assert_int_eq(vt->finish_process(inst, pid, "completed", NULL, 1795750246123), ALD_OK);
    memset(&open, 0, sizeof open);
    ck_assert_int_eq(vt->find_open_processes(inst, DEMO_MACHINE, collect_process, &open),
                     ALD_OK);
    ck_assert_int_eq(open.count, 0);
    ck_assert_int_eq(vt->finish_process(inst, "nope", "failed", "x", 0), ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(vt->finish_process(inst, pid, "done", NULL, 0), ALD_ERR_INVALID);
    s.execution_id = "nope";
    ck_assert_int_eq(vt->update_process_state(inst, &s), ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(vt->get_process_state(inst, "nope", copy_state, &got),
                     ALD_ERR_NOT_FOUND);
    sqt_close(inst);
    char *t = sqt_text(db, "SELECT status || ' ' || end_time || ' ' ||"
                           " json_extract(progress, '$.total_cycles')"
                           " FROM process_executions JOIN process_execution_state"
                           " ON execution_id = id");
    ck_assert_str_eq(t, "completed 2026-11-27T03:30:46.123Z 100");
    free(t);
}
END_TEST

/* ---- health and leases ------------------------------------------------------------------
 */

START_TEST(test_health_is_one_row_per_machine_with_the_latest_values)
{
    const char *db = sqt_new_db_path("sqlite-health");
    void *inst = sqt_open(db, "");
    ald_health_report r = {sizeof r, DEMO_MACHINE, 1, 1795750146123, 1795750146123, 0, NULL};
    ck_assert_int_eq(vt->write_health(inst, &r), ALD_OK);
    r = (ald_health_report){sizeof r, DEMO_MACHINE, 0, 1795750147123, -1, 3, "refused"};
    ck_assert_int_eq(vt->write_health(inst, &r), ALD_OK);
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machine_health"), 1);
    char *t = sqt_text(db, "SELECT plc_connected || ' ' || plc_last_check || ' ' ||"
                           " plc_last_connected || ' ' || plc_reconnect_attempts || ' ' ||"
                           " plc_error FROM machine_health");
    ck_assert_str_eq(t, "0 2026-11-27T03:29:07.123Z 2026-11-27T03:29:06.123Z 3 refused");
    free(t);
}
END_TEST

START_TEST(test_lease_conflicts_with_a_live_holder_and_honours_expiry)
{
    const char *db = sqt_new_db_path("sqlite-lease");
    void *a = sqt_open(db, ""), *b = sqt_open(db, "");
    ck_assert_int_eq(vt->acquire_lease(a, DEMO_MACHINE, "engine-a", 60000), ALD_OK);
    ck_assert_int_eq(vt->acquire_lease(a, DEMO_MACHINE, "engine-a", 60000),
                     ALD_OK); /* renew */
    ck_assert_int_eq(vt->acquire_lease(b, DEMO_MACHINE, "engine-b", 60000), ALD_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(vt->last_error(b), "engine-a"));
    ck_assert_int_eq(vt->release_lease(b, DEMO_MACHINE, "engine-b"), ALD_OK); /* not b's */
    ck_assert_int_eq(vt->acquire_lease(b, DEMO_MACHINE, "engine-b", 60000), ALD_ERR_CONFLICT);
    /* expiry: a's lease lapsed (as if a died long ago) */
    sqt_exec(db, "UPDATE engine_leases SET expires_at = '2000-01-01T00:00:00.000Z'");
    ck_assert_int_eq(vt->acquire_lease(b, DEMO_MACHINE, "engine-b", 60000), ALD_OK);
    ck_assert_int_eq(vt->acquire_lease(a, DEMO_MACHINE, "engine-a", 60000), ALD_ERR_CONFLICT);
    ck_assert_int_eq(vt->release_lease(b, DEMO_MACHINE, "engine-b"), ALD_OK);
    ck_assert_int_eq(vt->acquire_lease(a, DEMO_MACHINE, "engine-a", 60000), ALD_OK);
    ck_assert_int_eq(vt->acquire_lease(a, DEMO_MACHINE, "engine-a", 0), ALD_ERR_INVALID);
    sqt_close(a);
    sqt_close(b);
}
END_TEST

/* ---- outbox
 * -------------------------------------------------------------------------------- */

typedef struct outbox_copy {
    int count;
    int64_t seq[8];
    char kind[8][16];
    char payload[8][16];
    size_t len[8];
} outbox_copy;

static void copy_record(void *ctx, const ald_outbox_record *r)
{
    outbox_copy *c = ctx;
    ck_assert_int_lt(c->count, 8);
    ck_assert_uint_le(r->payload_len, sizeof c->payload[0]);
    c->seq[c->count] = r->seq;
    snprintf(c->kind[c->count], sizeof c->kind[0], "%s", r->kind);
    memcpy(c->payload[c->count], r->payload, r->payload_len);
    c->len[c->count++] = r->payload_len;
}

static void push(void *inst, const char *kind, int n)
{
    char payload[4] = {'p', '\0', (char)n, 'z'}; /* binary: an embedded NUL survives */
    ck_assert_int_eq(vt->outbox_push(inst, kind, payload, sizeof payload), ALD_OK);
}

START_TEST(test_outbox_hands_out_oldest_first_and_ack_deletes_up_to_seq)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-outbox"), "");
    for (int i = 0; i < 5; i++)
        push(inst, i % 2 ? "samples" : "process_state", i);
    outbox_copy c = {0};
    ck_assert_int_eq(vt->outbox_peek(inst, 3, copy_record, &c), ALD_OK);
    ck_assert_int_eq(c.count, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(c.len[i], 4);
        ck_assert_int_eq(c.payload[i][1], '\0');
        ck_assert_int_eq(c.payload[i][2], i);
        if (i)
            ck_assert_int_gt(c.seq[i], c.seq[i - 1]);
    }
    ck_assert_str_eq(c.kind[1], "samples");
    int64_t depth = 0, oldest = 0;
    ck_assert_int_eq(vt->outbox_stats(inst, &depth, &oldest), ALD_OK);
    ck_assert_int_eq(depth, 5);
    ck_assert_int_gt(oldest, 0);
    ck_assert_int_eq(vt->outbox_ack(inst, c.seq[2]), ALD_OK);
    int64_t last_acked = c.seq[2];
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(vt->outbox_peek(inst, 0, copy_record, &c), ALD_OK);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.payload[0][2], 3);
    ck_assert_int_eq(vt->outbox_ack(inst, c.seq[1]), ALD_OK);
    ck_assert_int_eq(vt->outbox_stats(inst, &depth, &oldest), ALD_OK);
    ck_assert_int_eq(depth, 0);
    ck_assert_int_eq(oldest, -1);
    push(inst, "samples", 9); /* seq keeps increasing after the table emptied */
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(vt->outbox_peek(inst, 0, copy_record, &c), ALD_OK);
    ck_assert_int_gt(c.seq[0], last_acked + 1);
    sqt_close(inst);
}
END_TEST

START_TEST(test_outbox_records_survive_a_restart)
{
    const char *db = sqt_new_db_path("sqlite-outbox2");
    void *inst = sqt_open(db, "");
    push(inst, "samples", 1);
    push(inst, "samples", 2);
    sqt_close(inst);
    inst = sqt_open(db, "");
    outbox_copy c = {0};
    ck_assert_int_eq(vt->outbox_peek(inst, 0, copy_record, &c), ALD_OK);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.payload[1][2], 2);
    sqt_close(inst);
}
END_TEST

static Suite *ops_suite(void)
{
    Suite *s = suite_create("storage-sqlite operations");
    TCase *tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_claim_succeeds_once_across_two_instances_on_one_file);
    tcase_add_test(tc, test_two_processes_racing_claim_every_command_exactly_once);
    tcase_add_test(tc, test_fetch_returns_this_machine_and_unassigned_stops_then_oldest_first);
    tcase_add_test(tc, test_finish_command_records_status_and_reason);
    tcase_add_test(tc, test_insert_command_refuses_invalid_json_and_unknown_machine);
    tcase_add_test(tc, test_a_file_locked_by_another_process_is_a_transient_error);
    tcase_add_test(tc, test_setpoint_commands_claim_once_and_finish);
    tcase_add_test(tc, test_machine_state_transitions_are_mirrored_to_machine_state);
    tcase_add_test(tc, test_state_since_moves_only_when_the_state_changes);
    tcase_add_test(tc, test_unknown_machine_and_bad_status_are_refused);
    tcase_add_test(tc, test_active_session_is_reused_per_operator_and_machine);
    tcase_add_test(tc, test_process_create_update_finish_and_find_open);
    tcase_add_test(tc, test_health_is_one_row_per_machine_with_the_latest_values);
    tcase_add_test(tc, test_lease_conflicts_with_a_live_holder_and_honours_expiry);
    tcase_add_test(tc, test_outbox_hands_out_oldest_first_and_ack_deletes_up_to_seq);
    tcase_add_test(tc, test_outbox_records_survive_a_restart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(ops_suite());
}
