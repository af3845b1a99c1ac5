/*
 * sqlite_process.c - process_executions (one row per run) and
 * process_execution_state (the live progress row: a start row with the
 * process, then each state the executor writes).
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_CREATE[] =
    "INSERT INTO process_executions (id, session_id, machine_id, recipe_id, recipe_version,"
    " start_time, operator_id, status, parameters, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9, ?9)";
/* The state row at start, as the Python system's starter inserted it: step 0,
 * the totals (from the engine's recipe snapshot), nothing completed. */
static const char SQL_START_STATE[] =
    "INSERT INTO process_execution_state (execution_id, current_step_index,"
    " current_overall_step, total_overall_steps, progress, last_updated)"
    " SELECT ?1, 0, 0, t.steps, json_object('total_steps', t.steps, 'completed_steps', 0,"
    "  'total_cycles', t.cycles, 'completed_cycles', 0), ?3"
    " FROM (SELECT CASE WHEN json_valid(?2) THEN coalesce(json_extract(?2, '$.total_steps'),"
    "  0) ELSE 0 END AS steps, CASE WHEN json_valid(?2) THEN"
    "  coalesce(json_extract(?2, '$.total_cycles'), 0) ELSE 0 END AS cycles) t"
    " WHERE true ON CONFLICT (execution_id) DO NOTHING";
static const char SQL_FINISH[] =
    "UPDATE process_executions SET status = ?2, error_message = ?3, end_time = ?4,"
    " updated_at = ?5 WHERE id = ?1";
static const char SQL_OPEN[] =
    "SELECT id, machine_id, recipe_id, status, start_time, end_time, error_message,"
    " parameters FROM process_executions WHERE machine_id = ?1"
    " AND status IN ('preparing', 'running', 'paused') ORDER BY start_time, id";
static const char SQL_LAST_FINISHED[] =
    "SELECT id, machine_id, recipe_id, status, start_time, end_time, error_message,"
    " parameters FROM process_executions WHERE machine_id = ?1"
    " AND end_time IS NOT NULL ORDER BY end_time DESC, id DESC LIMIT 1";
static const char SQL_UPSERT_STATE[] =
    "INSERT INTO process_execution_state (execution_id, current_step_index,"
    " current_overall_step, total_overall_steps, current_step_type, current_step_name,"
    " current_valve_number, current_valve_duration_ms, current_purge_duration_ms,"
    " current_parameter_id, current_parameter_value, current_loop_count,"
    " current_loop_iteration, progress, last_updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
    "  json_object('total_steps', ?14, 'completed_steps', ?15, 'total_cycles', ?16,"
    "   'completed_cycles', ?17), ?18)"
    " ON CONFLICT (execution_id) DO UPDATE SET"
    " current_step_index = excluded.current_step_index,"
    " current_overall_step = excluded.current_overall_step,"
    " total_overall_steps = excluded.total_overall_steps,"
    " current_step_type = excluded.current_step_type,"
    " current_step_name = excluded.current_step_name,"
    " current_valve_number = excluded.current_valve_number,"
    " current_valve_duration_ms = excluded.current_valve_duration_ms,"
    " current_purge_duration_ms = excluded.current_purge_duration_ms,"
    " current_parameter_id = excluded.current_parameter_id,"
    " current_parameter_value = excluded.current_parameter_value,"
    " current_loop_count = excluded.current_loop_count,"
    " current_loop_iteration = excluded.current_loop_iteration,"
    " progress = excluded.progress, last_updated = excluded.last_updated";
static const char SQL_GET_STATE[] =
    "SELECT execution_id, current_step_index, current_overall_step, total_overall_steps,"
    " current_step_type, current_step_name, current_valve_number, current_valve_duration_ms,"
    " current_purge_duration_ms, current_parameter_id, current_parameter_value,"
    " current_loop_count, current_loop_iteration,"
    " json_extract(progress, '$.total_steps'), json_extract(progress, '$.completed_steps'),"
    " json_extract(progress, '$.total_cycles'), json_extract(progress, '$.completed_cycles'),"
    " last_updated FROM process_execution_state WHERE execution_id = ?1";

static int is_final_status(const char *s)
{
    return s && (strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0 ||
                 strcmp(s, "aborted") == 0);
}

static ald_status insert_start_state(sq_store *sq, const char *id, const char *version,
                                     const char *now)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_START_STATE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, version);
    sq_bind_text(st, 3, now);
    return sq_run(sq, st, "inserting the start row of process_execution_state");
}

static ald_status create_locked(sq_store *sq, const ald_process_start *p, char *out,
                                size_t out_len)
{
    char id[SQ_UUID_LEN], start[SQ_ISO_LEN], now[SQ_ISO_LEN];
    int64_t now_ms = sq_now_ms(sq);
    sqlite3_stmt *st = sq_stmt(sq, SQL_CREATE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_uuid(id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, p->session_id);
    sq_bind_text(st, 3, p->machine_id);
    sq_bind_text(st, 4, p->recipe_id);
    sq_bind_text(st, 5, p->recipe_version_json);
    sq_bind_text(st, 6, sq_iso_time(p->start_time_ms > 0 ? p->start_time_ms : now_ms, start));
    sq_bind_text(st, 7, p->operator_id);
    sq_bind_text(st, 8, p->parameters_json);
    sq_bind_text(st, 9, sq_iso_time(now_ms, now));
    ald_status rc = sq_begin(sq, "create_process");
    if (rc == ALD_OK)
        rc = sq_run(sq, st,
                    "inserting process_executions (are machine, recipe and session known?)");
    if (rc == ALD_OK)
        rc = insert_start_state(sq, id, p->recipe_version_json, now);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    rc = sq_commit(sq, "committing create_process");
    return rc == ALD_OK ? sq_copy_out(sq, id, out, out_len) : rc;
}

ald_status sq_create_process(void *instance, const ald_process_start *start,
                             char *process_id_out, size_t out_len)
{
    sq_store *sq = instance;
    if (!start || !start->machine_id || !start->recipe_id || !process_id_out ||
        out_len < SQ_UUID_LEN)
        return sq_error(sq, ALD_ERR_INVALID,
                        "create_process: machine_id, recipe_id and an id "
                        "buffer of at least %d bytes are required",
                        SQ_UUID_LEN);
    ald_status rc = sq_enter(sq, "create_process");
    return rc == ALD_OK ? sq_leave(sq, create_locked(sq, start, process_id_out, out_len))
                        : rc;
}

static void bind_state(sq_store *sq, sqlite3_stmt *st, const ald_process_state *s, char *ts)
{
    sq_bind_text(st, 1, s->execution_id);
    sqlite3_bind_int64(st, 2, s->current_step_index);
    sqlite3_bind_int64(st, 3, s->current_overall_step);
    sqlite3_bind_int64(st, 4, s->total_overall_steps);
    sq_bind_text(st, 5, s->current_step_type);
    sq_bind_text(st, 6, s->current_step_name);
    sq_bind_int_or_null(st, 7, s->current_valve_number);
    sq_bind_int_or_null(st, 8, s->current_valve_duration_ms);
    sq_bind_int_or_null(st, 9, s->current_purge_duration_ms);
    sq_bind_text(st, 10, s->current_parameter_id);
    sq_bind_double(st, 11, s->current_parameter_value);
    sq_bind_int_or_null(st, 12, s->current_loop_count);
    sq_bind_int_or_null(st, 13, s->current_loop_iteration);
    sqlite3_bind_int64(st, 14, s->progress_total_steps);
    sqlite3_bind_int64(st, 15, s->progress_completed_steps);
    sqlite3_bind_int64(st, 16, s->progress_total_cycles);
    sqlite3_bind_int64(st, 17, s->progress_completed_cycles);
    sq_bind_text(
        st, 18, sq_iso_time(s->last_updated_ms > 0 ? s->last_updated_ms : sq_now_ms(sq), ts));
}

ald_status sq_update_process_state(void *instance, const ald_process_state *state)
{
    sq_store *sq = instance;
    if (!state || !state->execution_id)
        return sq_error(sq, ALD_ERR_INVALID,
                        "update_process_state: execution_id is required");
    ald_status rc = sq_enter(sq, "update_process_state");
    if (rc != ALD_OK)
        return rc;
    char ts[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_UPSERT_STATE);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    bind_state(sq, st, state, ts);
    return sq_leave(sq, sq_run(sq, st,
                               "upserting process_execution_state (is execution_id "
                               "a known process?)"));
}

static ald_status finish_locked(sq_store *sq, const char *id, const char *status,
                                const char *error_message, int64_t end_ms)
{
    char end[SQ_ISO_LEN], now[SQ_ISO_LEN];
    int64_t now_ms = sq_now_ms(sq);
    sqlite3_stmt *st = sq_stmt(sq, SQL_FINISH);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, status);
    sq_bind_text(st, 3, error_message);
    sq_bind_text(st, 4, sq_iso_time(end_ms > 0 ? end_ms : now_ms, end));
    sq_bind_text(st, 5, sq_iso_time(now_ms, now));
    ald_status rc = sq_run(sq, st, "finishing process_executions");
    if (rc == ALD_OK && sqlite3_changes(sq->db) == 0)
        return sq_error(sq, ALD_ERR_NOT_FOUND,
                        "finish_process: process %s: no such row in "
                        "process_executions",
                        id);
    return rc;
}

ald_status sq_finish_process(void *instance, const char *process_id, const char *status,
                             const char *error_message, int64_t end_time_ms)
{
    sq_store *sq = instance;
    if (!process_id || !is_final_status(status))
        return sq_error(sq, ALD_ERR_INVALID,
                        "finish_process: a process_id and a status of "
                        "completed, failed or aborted are required (got \"%s\")",
                        status ? status : "(null)");
    ald_status rc = sq_enter(sq, "finish_process");
    return rc == ALD_OK ? sq_leave(sq, finish_locked(sq, process_id, status, error_message,
                                                     end_time_ms))
                        : rc;
}

static void emit_process(sqlite3_stmt *st, ald_process_sink sink, void *ctx)
{
    ald_process p = {
        .struct_size = sizeof p,
        .id = sq_col_text(st, 0),
        .machine_id = sq_col_text(st, 1),
        .recipe_id = sq_col_text(st, 2),
        .status = sq_col_text(st, 3),
        .start_time_ms = sq_parse_iso(sq_col_text(st, 4)),
        .end_time_ms = sq_parse_iso(sq_col_text(st, 5)),
        .error_message = sq_col_text(st, 6),
        .parameters_json = sq_col_text(st, 7),
    };
    sink(ctx, &p);
}

/* Every row of one process_executions query of a machine, to sink. */
static ald_status emit_processes(sq_store *sq, const char *sql, const char *machine_id,
                                 ald_process_sink sink, void *ctx, const char *what)
{
    if (!machine_id || !sink)
        return sq_error(sq, ALD_ERR_INVALID, "%s: machine_id and sink are required", what);
    ald_status rc = sq_enter(sq, what);
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, sql);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, machine_id);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        emit_process(st, sink, ctx);
    sqlite3_reset(st);
    rc = src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading process_executions");
    return sq_leave(sq, rc);
}

ald_status sq_find_open_processes(void *instance, const char *machine_id,
                                  ald_process_sink sink, void *ctx)
{
    return emit_processes(instance, SQL_OPEN, machine_id, sink, ctx, "find_open_processes");
}

ald_status sq_find_last_finished_process(void *instance, const char *machine_id,
                                         ald_process_sink sink, void *ctx)
{
    return emit_processes(instance, SQL_LAST_FINISHED, machine_id, sink, ctx,
                          "find_last_finished_process");
}

static void emit_state(sqlite3_stmt *st, ald_process_state_sink sink, void *ctx)
{
    ald_process_state s = {
        .struct_size = sizeof s,
        .execution_id = sq_col_text(st, 0),
        .current_step_index = sq_col_int(st, 1),
        .current_overall_step = sq_col_int(st, 2),
        .total_overall_steps = sq_col_int(st, 3),
        .current_step_type = sq_col_text(st, 4),
        .current_step_name = sq_col_text(st, 5),
        .current_valve_number = sq_col_int(st, 6),
        .current_valve_duration_ms = sq_col_int(st, 7),
        .current_purge_duration_ms = sq_col_int(st, 8),
        .current_parameter_id = sq_col_text(st, 9),
        .current_parameter_value = sq_col_double(st, 10),
        .current_loop_count = sq_col_int(st, 11),
        .current_loop_iteration = sq_col_int(st, 12),
        .progress_total_steps = sq_col_int(st, 13),
        .progress_completed_steps = sq_col_int(st, 14),
        .progress_total_cycles = sq_col_int(st, 15),
        .progress_completed_cycles = sq_col_int(st, 16),
        .last_updated_ms = sq_parse_iso(sq_col_text(st, 17)),
    };
    sink(ctx, &s);
}

static ald_status get_state_locked(sq_store *sq, const char *id, ald_process_state_sink sink,
                                   void *ctx)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_GET_STATE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        emit_state(st, sink, ctx);
    sqlite3_reset(st);
    if (src == SQLITE_DONE)
        return sq_error(sq, ALD_ERR_NOT_FOUND,
                        "process %s: no row in "
                        "process_execution_state",
                        id);
    return src == SQLITE_ROW ? ALD_OK : sq_fail(sq, src, "reading process_execution_state");
}

ald_status sq_get_process_state(void *instance, const char *process_id,
                                ald_process_state_sink sink, void *ctx)
{
    sq_store *sq = instance;
    if (!process_id || !sink)
        return sq_error(sq, ALD_ERR_INVALID,
                        "get_process_state: process_id and sink are "
                        "required");
    ald_status rc = sq_enter(sq, "get_process_state");
    return rc == ALD_OK ? sq_leave(sq, get_state_locked(sq, process_id, sink, ctx)) : rc;
}
