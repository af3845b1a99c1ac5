/*
 * sqlite_commands.c - the two command queues: recipe_commands (status
 * pending -> processing -> completed | error) and parameter_control_commands
 * (pending = executed_at IS NULL).
 *
 * A claim is ONE conditional UPDATE in autocommit mode. SQLite serialises
 * writers on the file, so of two engine processes racing for the same row
 * exactly one sees sqlite3_changes() == 1; the other gets ALD_ERR_CONFLICT.
 */
#include <string.h>

#include "sqlite_store.h"

/* Stops first (issue 9, item 7: a stop is never queued behind a flood of
 * set_parameter rows), then creation order. */
static const char SQL_FETCH[] =
    "SELECT id, type, parameters, machine_id, status, created_at, error_message"
    " FROM recipe_commands WHERE status = 'pending'"
    " AND (?1 IS NULL OR machine_id = ?1 OR machine_id IS NULL)"
    " ORDER BY type NOT IN ('stop', 'stop_recipe', 'abort'), created_at, rowid LIMIT ?2";
static const char SQL_CLAIM[] =
    "UPDATE recipe_commands SET status = 'processing', executed_at = ?2, updated_at = ?2"
    " WHERE id = ?1 AND status = 'pending'";
static const char SQL_FINISH[] =
    "UPDATE recipe_commands SET status = ?2, error_message = ?3, updated_at = ?4"
    " WHERE id = ?1 AND status = 'processing'";
static const char SQL_STATUS[] = "SELECT status FROM recipe_commands WHERE id = ?1";
static const char SQL_INSERT[] =
    "INSERT INTO recipe_commands (id, type, parameters, status, machine_id, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5)";
static const char SQL_JSON_VALID[] = "SELECT json_valid(?1)";

static const char SQL_SP_FETCH[] =
    "SELECT id, parameter_name, component_parameter_id, target_value, machine_id,"
    " write_modbus_address, data_type, created_at FROM parameter_control_commands"
    " WHERE executed_at IS NULL AND (?1 IS NULL OR machine_id = ?1 OR machine_id IS NULL)"
    " ORDER BY created_at, rowid LIMIT ?2";
static const char SQL_SP_CLAIM[] = "UPDATE parameter_control_commands SET executed_at = ?2"
                                   " WHERE id = ?1 AND executed_at IS NULL";
static const char SQL_SP_FINISH[] =
    "UPDATE parameter_control_commands"
    " SET completed_at = CASE WHEN ?2 IS NULL THEN ?3 END, error_message = ?2"
    " WHERE id = ?1 AND executed_at IS NOT NULL AND completed_at IS NULL"
    " AND error_message IS NULL";
static const char SQL_SP_STATE[] =
    "SELECT CASE WHEN completed_at IS NOT NULL THEN 'completed'"
    " WHEN error_message IS NOT NULL THEN 'failed' WHEN executed_at IS NOT NULL THEN "
    "'claimed'"
    " ELSE 'pending' END FROM parameter_control_commands WHERE id = ?1";

/* SQLite's LIMIT -1 means "no limit": the ABI's limit 0 asks for everything. */
static int64_t sql_limit(unsigned limit)
{
    return limit ? (int64_t)limit : -1;
}

/* After an UPDATE matched nothing: NOT_FOUND for an unknown id, else CONFLICT
 * naming the state the row is in (`sql` selects that state by id). */
static ald_status explain_no_change(sq_store *sq, const char *sql, const char *table,
                                    const char *id, const char *wanted)
{
    sqlite3_stmt *st = sq_stmt(sq, sql);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src = sqlite3_step(st);
    ald_status rc;
    if (src == SQLITE_DONE)
        rc = sq_error(sq, ALD_ERR_NOT_FOUND, "%s %s: no such row", table, id);
    else if (src == SQLITE_ROW)
        rc = sq_error(sq, ALD_ERR_CONFLICT, "%s %s: %s, it is %s", table, id, wanted,
                      sq_col_text(st, 0) ? sq_col_text(st, 0) : "(null)");
    else
        rc = sq_fail(sq, src, table);
    sqlite3_reset(st);
    return rc;
}

/* Runs an UPDATE bound by the caller and checks that exactly one row changed. */
static ald_status update_exactly_one(sq_store *sq, sqlite3_stmt *st, const char *what)
{
    ald_status rc = sq_run(sq, st, what);
    if (rc == ALD_OK && sqlite3_changes(sq->db) != 1)
        return ALD_ERR_CONFLICT; /* caller explains */
    return rc;
}

static void emit_command(sqlite3_stmt *st, ald_command_sink sink, void *ctx)
{
    ald_command c = {
        .struct_size = sizeof c,
        .id = sq_col_text(st, 0),
        .type = sq_col_text(st, 1),
        .parameters_json = sq_col_text(st, 2),
        .machine_id = sq_col_text(st, 3),
        .status = sq_col_text(st, 4),
        .created_at = sq_col_text(st, 5),
        .error_message = sq_col_text(st, 6),
    };
    sink(ctx, &c);
}

ald_status sq_fetch_pending_commands(void *instance, const char *machine_id, unsigned limit,
                                     ald_command_sink sink, void *ctx)
{
    sq_store *sq = instance;
    if (!sink)
        return sq_error(sq, ALD_ERR_INVALID, "fetch_pending_commands: sink is required");
    ald_status rc = sq_enter(sq, "fetch_pending_commands");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_FETCH);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, machine_id);
    sqlite3_bind_int64(st, 2, sql_limit(limit));
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        emit_command(st, sink, ctx);
    sqlite3_reset(st);
    rc = src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading pending recipe_commands");
    return sq_leave(sq, rc);
}

static ald_status claim_locked(sq_store *sq, const char *id)
{
    char now[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_CLAIM);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, sq_iso_time(sq_now_ms(sq), now));
    ald_status rc = update_exactly_one(sq, st, "claiming a recipe_commands row");
    if (rc != ALD_ERR_CONFLICT)
        return rc;
    return explain_no_change(sq, SQL_STATUS, "recipe_commands", id,
                             "already claimed (not pending)");
}

ald_status sq_claim_command(void *instance, const char *command_id)
{
    sq_store *sq = instance;
    if (!command_id)
        return sq_error(sq, ALD_ERR_INVALID, "claim_command: command_id is required");
    ald_status rc = sq_enter(sq, "claim_command");
    return rc == ALD_OK ? sq_leave(sq, claim_locked(sq, command_id)) : rc;
}

static ald_status finish_locked(sq_store *sq, const char *id, const char *status,
                                const char *error_message)
{
    char now[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_FINISH);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, status);
    sq_bind_text(st, 3, error_message);
    sq_bind_text(st, 4, sq_iso_time(sq_now_ms(sq), now));
    ald_status rc = update_exactly_one(sq, st, "finishing a recipe_commands row");
    if (rc != ALD_ERR_CONFLICT)
        return rc;
    return explain_no_change(sq, SQL_STATUS, "recipe_commands", id,
                             "cannot finish a command that is not processing");
}

ald_status sq_finish_command(void *instance, const char *command_id, const char *status,
                             const char *error_message)
{
    sq_store *sq = instance;
    if (!command_id || !status ||
        (strcmp(status, "completed") != 0 && strcmp(status, "error") != 0))
        return sq_error(sq, ALD_ERR_INVALID,
                        "finish_command %s: status must be \"completed\" "
                        "or \"error\" (got \"%s\")",
                        command_id ? command_id : "(null)", status ? status : "(null)");
    ald_status rc = sq_enter(sq, "finish_command");
    return rc == ALD_OK ? sq_leave(sq, finish_locked(sq, command_id, status, error_message))
                        : rc;
}

static ald_status check_json(sq_store *sq, const char *json)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_JSON_VALID);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, json);
    int src = sqlite3_step(st);
    int valid = src == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (src != SQLITE_ROW)
        return sq_fail(sq, src, "validating command parameters");
    return valid ? ALD_OK
                 : sq_error(sq, ALD_ERR_INVALID,
                            "insert_command: parameters are "
                            "not valid JSON: %.200s",
                            json);
}

static ald_status insert_locked(sq_store *sq, const char *machine_id, const char *type,
                                const char *json, char *id_out, size_t out_len)
{
    char id[SQ_UUID_LEN], now[SQ_ISO_LEN];
    ald_status rc = json ? check_json(sq, json) : ALD_OK;
    sqlite3_stmt *st = rc == ALD_OK ? sq_stmt(sq, SQL_INSERT) : NULL;
    if (!st)
        return rc != ALD_OK ? rc : ALD_ERR_INTERNAL;
    sq_uuid(id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, type);
    sq_bind_text(st, 3, json);
    sq_bind_text(st, 4, machine_id);
    sq_bind_text(st, 5, sq_iso_time(sq_now_ms(sq), now));
    rc = sq_run(sq, st, "inserting a recipe_commands row (is machine_id a known machine?)");
    return rc == ALD_OK ? sq_copy_out(sq, id, id_out, out_len) : rc;
}

ald_status sq_insert_command(void *instance, const char *machine_id, const char *type,
                             const char *parameters_json, char *id_out, size_t out_len)
{
    sq_store *sq = instance;
    if (!type || !type[0] || !id_out || out_len < SQ_UUID_LEN)
        return sq_error(sq, ALD_ERR_INVALID,
                        "insert_command: a type and an id buffer of at "
                        "least %d bytes are required",
                        SQ_UUID_LEN);
    ald_status rc = sq_enter(sq, "insert_command");
    return rc == ALD_OK ? sq_leave(sq, insert_locked(sq, machine_id, type, parameters_json,
                                                     id_out, out_len))
                        : rc;
}

static void emit_setpoint(sqlite3_stmt *st, ald_setpoint_command_sink sink, void *ctx)
{
    ald_setpoint_command c = {
        .struct_size = sizeof c,
        .id = sq_col_text(st, 0),
        .parameter_name = sq_col_text(st, 1),
        .component_parameter_id = sq_col_text(st, 2),
        .target_value = sq_col_double(st, 3),
        .machine_id = sq_col_text(st, 4),
        .write_modbus_address = sq_col_int(st, 5),
        .data_type = sq_col_text(st, 6),
        .created_at = sq_col_text(st, 7),
    };
    sink(ctx, &c);
}

ald_status sq_fetch_setpoint_commands(void *instance, const char *machine_id, unsigned limit,
                                      ald_setpoint_command_sink sink, void *ctx)
{
    sq_store *sq = instance;
    if (!sink)
        return sq_error(sq, ALD_ERR_INVALID, "fetch_setpoint_commands: sink is required");
    ald_status rc = sq_enter(sq, "fetch_setpoint_commands");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_SP_FETCH);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, machine_id);
    sqlite3_bind_int64(st, 2, sql_limit(limit));
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        emit_setpoint(st, sink, ctx);
    sqlite3_reset(st);
    rc = src == SQLITE_DONE ? ALD_OK
                            : sq_fail(sq, src, "reading pending parameter_control_commands");
    return sq_leave(sq, rc);
}

static ald_status sp_claim_locked(sq_store *sq, const char *id)
{
    char now[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_SP_CLAIM);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, sq_iso_time(sq_now_ms(sq), now));
    ald_status rc = update_exactly_one(sq, st, "claiming a parameter_control_commands row");
    if (rc != ALD_ERR_CONFLICT)
        return rc;
    return explain_no_change(sq, SQL_SP_STATE, "parameter_control_commands", id,
                             "already claimed (executed_at is set)");
}

ald_status sq_claim_setpoint_command(void *instance, const char *command_id)
{
    sq_store *sq = instance;
    if (!command_id)
        return sq_error(sq, ALD_ERR_INVALID,
                        "claim_setpoint_command: command_id is required");
    ald_status rc = sq_enter(sq, "claim_setpoint_command");
    return rc == ALD_OK ? sq_leave(sq, sp_claim_locked(sq, command_id)) : rc;
}

static ald_status sp_finish_locked(sq_store *sq, const char *id, const char *error_message)
{
    char now[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_SP_FINISH);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, error_message);
    sq_bind_text(st, 3, sq_iso_time(sq_now_ms(sq), now));
    ald_status rc = update_exactly_one(sq, st, "finishing a parameter_control_commands row");
    if (rc != ALD_ERR_CONFLICT)
        return rc;
    return explain_no_change(sq, SQL_SP_STATE, "parameter_control_commands", id,
                             "not claimed, or already finished");
}

ald_status sq_finish_setpoint_command(void *instance, const char *command_id,
                                      const char *error_message)
{
    sq_store *sq = instance;
    if (!command_id)
        return sq_error(sq, ALD_ERR_INVALID,
                        "finish_setpoint_command: command_id is required");
    ald_status rc = sq_enter(sq, "finish_setpoint_command");
    return rc == ALD_OK ? sq_leave(sq, sp_finish_locked(sq, command_id, error_message)) : rc;
}
