/*
 * sb_commands.c - the command queue (recipe_commands) and setpoint commands
 * (parameter_control_commands).
 *
 * Claims are ONE conditional PATCH each (compare-and-set in PostgreSQL's row
 * lock): `id=eq.X&status=eq.pending` (or `executed_at=is.null`) with
 * Prefer: return=representation. Exactly one row back = ours; none = another
 * engine got it first. Two engines can race; only one row update wins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_store.h"

static void emit_command(const json_t *row, ald_command_sink sink, void *ctx)
{
    char *parameters = sb_json_text(row, "parameters");
    ald_command c = {
        .struct_size = sizeof c,
        .id = sb_str(row, "id"),
        .type = sb_str(row, "type"),
        .parameters_json = parameters,
        .machine_id = sb_str(row, "machine_id"),
        .status = sb_str(row, "status"),
        .created_at = sb_str(row, "created_at"),
        .error_message = sb_str(row, "error_message"),
    };
    sink(ctx, &c);
    free(parameters);
}

static void add_limit(sb_request *req, unsigned limit)
{
    char text[16];
    snprintf(text, sizeof text, "%u", limit ? limit : 10);
    sb_req_param(req, "limit", text);
}

/* or=(machine_id.eq.M,machine_id.is.null): this machine's rows and those
 * addressed to any machine. */
static void filter_machine_or_any(sb_request *req, const char *machine_id)
{
    sb_buf tree = {0};
    sb_buf_puts(&tree, "(machine_id.eq.");
    sb_buf_pgrst_item(&tree, machine_id);
    sb_buf_puts(&tree, ",machine_id.is.null)");
    sb_req_param(req, "or", tree.oom ? "" : tree.data);
    req->path.oom |= tree.oom;
    sb_buf_free(&tree);
}

/* The command types that stop a run: fetched before anything else, so a stop
 * is never queued behind a flood of set_parameter rows (issue 9, item 7). */
static const char STOP_TYPES[] = "(stop,stop_recipe,abort)";

/* One GET of pending rows whose type is (op "in") or is not ("not.in") a stop
 * type, oldest first; *emitted counts the rows handed to the sink. */
static ald_status fetch_pending_part(sb_store *sb, const char *machine_id, const char *op,
                                     unsigned limit, ald_command_sink sink, void *ctx,
                                     unsigned *emitted)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "recipe_commands", "fetch_pending_commands");
    sb_req_param(&req, "select", "id,type,parameters,machine_id,created_at,status,"
                                 "error_message");
    sb_req_filter(&req, "status", "eq", "pending");
    sb_req_filter(&req, "type", op, STOP_TYPES);
    if (machine_id) /* ours, or addressed to any machine */
        filter_machine_or_any(&req, machine_id);
    sb_req_param(&req, "order", "created_at.asc,id.asc");
    add_limit(&req, limit);
    ald_status rc = sb_send(sb, &req, &resp);
    for (size_t i = 0; rc == ALD_OK && i < sb_rows(&resp); i++)
        emit_command(sb_row(&resp, i), sink, ctx);
    *emitted = rc == ALD_OK ? (unsigned)sb_rows(&resp) : 0;
    sb_response_free(&resp);
    return rc;
}

/* Stops first, then the rest in creation order, `limit` rows in all. */
ald_status sb_fetch_pending_commands(void *instance, const char *machine_id, unsigned limit,
                                     ald_command_sink sink, void *ctx)
{
    sb_store *sb = instance;
    if (!sink)
        return sb_error(sb, ALD_ERR_INVALID, "fetch_pending_commands: a sink is required");
    unsigned want = limit ? limit : 10, stops = 0, rest = 0;
    ald_status rc = fetch_pending_part(sb, machine_id, "in", want, sink, ctx, &stops);
    if (rc == ALD_OK && stops < want)
        rc = fetch_pending_part(sb, machine_id, "not.in", want - stops, sink, ctx, &rest);
    return rc;
}

/* PATCH <table>?id=eq.<id>[&<guard>]&select=id with body; *rows = rows changed. */
static ald_status patch_rows(sb_store *sb, const char *table, const char *what, const char *id,
                             const char *guard_col, const char *guard_op,
                             const char *guard_value, json_t *body, size_t *rows)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "PATCH", table, what);
    sb_req_filter(&req, "id", "eq", id);
    if (guard_col)
        sb_req_filter(&req, guard_col, guard_op, guard_value);
    sb_req_param(&req, "select", "id");
    req.prefer = "return=representation";
    req.body = body;
    ald_status rc = sb_send(sb, &req, &resp);
    *rows = sb_rows(&resp);
    sb_response_free(&resp);
    return rc;
}

static json_t *now_json(const sb_store *sb)
{
    return sb_jtime(sb_now_ms(sb));
}

ald_status sb_claim_command(void *instance, const char *command_id)
{
    sb_store *sb = instance;
    if (!command_id)
        return sb_error(sb, ALD_ERR_INVALID, "claim_command: command_id is required");
    json_t *body = json_pack("{s:s,s:o}", "status", "processing", "updated_at", now_json(sb));
    size_t rows = 0;
    ald_status rc = patch_rows(sb, "recipe_commands", "claim_command", command_id, "status",
                               "eq", "pending", body, &rows);
    if (rc == ALD_OK && rows != 1)
        return sb_error(sb, ALD_ERR_CONFLICT, "claim_command: command %s is not pending any "
                        "more (another engine claimed it first, or it does not exist)",
                        command_id);
    return rc;
}

ald_status sb_finish_command(void *instance, const char *command_id, const char *status,
                             const char *error_message)
{
    sb_store *sb = instance;
    if (!command_id || !status || (strcmp(status, "completed") && strcmp(status, "error")))
        return sb_error(sb, ALD_ERR_INVALID, "finish_command: a command_id and a status of "
                        "completed or error are required (got \"%s\")",
                        status ? status : "(null)");
    json_t *body = json_pack("{s:s,s:o,s:o}", "status", status, "error_message",
                             sb_jstr(error_message), "updated_at", now_json(sb));
    /* As the Python system (command_flow/status.py, update_command_status):
     * executed_at is the time a command completed; an error leaves it NULL. */
    if (strcmp(status, "completed") == 0)
        json_object_set_new(body, "executed_at", now_json(sb));
    size_t rows = 0;
    ald_status rc = patch_rows(sb, "recipe_commands", "finish_command", command_id, NULL, NULL,
                               NULL, body, &rows);
    if (rc == ALD_OK && rows == 0)
        return sb_error(sb, ALD_ERR_NOT_FOUND, "finish_command: command %s: no such row in "
                        "recipe_commands", command_id);
    return rc;
}

/* POST one row with a client-chosen id, so a retried insert whose first
 * answer was lost meets a 409 on that id: already applied, not an error. */
static ald_status insert_with_id(sb_store *sb, const char *table, const char *what,
                                 json_t *body)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", table, what);
    req.prefer = "return=minimal";
    req.body = body;
    ald_status rc = sb_send(sb, &req, &resp);
    if (rc == ALD_ERR_CONFLICT && resp.attempts > 1)
        rc = ALD_OK;
    sb_response_free(&resp);
    return rc;
}

ald_status sb_insert_command(void *instance, const char *machine_id, const char *type,
                             const char *parameters_json, char *id_out, size_t out_len)
{
    sb_store *sb = instance;
    if (!type || !id_out || out_len < SB_UUID_LEN)
        return sb_error(sb, ALD_ERR_INVALID, "insert_command: a type and an id buffer of at "
                        "least %d bytes are required", SB_UUID_LEN);
    json_error_t jerr;
    json_t *params = parameters_json ? json_loads(parameters_json, JSON_DECODE_ANY, &jerr)
                                     : json_null();
    if (!params)
        return sb_error(sb, ALD_ERR_INVALID, "insert_command: parameters are not valid JSON "
                        "(%s at line %d column %d)", jerr.text, jerr.line, jerr.column);
    char id[SB_UUID_LEN];
    sb_uuid(id);
    json_t *body = json_pack("{s:s,s:s,s:o,s:o,s:s,s:o}", "id", id, "type", type, "parameters",
                             params, "machine_id", sb_jstr(machine_id), "status", "pending",
                             "created_at", now_json(sb));
    ald_status rc = insert_with_id(sb, "recipe_commands", "insert_command", body);
    return rc == ALD_OK ? sb_copy_out(sb, id, id_out, out_len) : rc;
}

ald_status sb_get_command(void *instance, const char *command_id, ald_command_sink sink,
                          void *ctx)
{
    sb_store *sb = instance;
    if (!command_id || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "get_command: command_id and sink are required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "recipe_commands", "get_command");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "id", "eq", command_id);
    req.want_object = 1;
    ald_status rc = sb_send(sb, &req, &resp);
    if (rc == ALD_OK)
        emit_command(resp.json, sink, ctx);
    else if (rc == ALD_ERR_NOT_FOUND)
        sb_error(sb, rc, "get_command: command %s: no such row in recipe_commands",
                 command_id);
    sb_response_free(&resp);
    return rc;
}

/* ---- setpoint commands ---------------------------------------------------------- */

static void emit_setpoint(const json_t *row, ald_setpoint_command_sink sink, void *ctx)
{
    ald_setpoint_command c = {
        .struct_size = sizeof c,
        .id = sb_str(row, "id"),
        .parameter_name = sb_str(row, "parameter_name"),
        .component_parameter_id = sb_str(row, "component_parameter_id"),
        .target_value = sb_num(row, "target_value"),
        .machine_id = sb_str(row, "machine_id"),
        .write_modbus_address = sb_int(row, "write_modbus_address"),
        .data_type = sb_str(row, "data_type"),
        .created_at = sb_str(row, "created_at"),
    };
    sink(ctx, &c);
}

/* This machine's commands and those with a NULL machine_id, as the Python
 * system's HEAD (terminal3_clean.py: machine_id in [MACHINE_ID, None]): a
 * NULL-machine setpoint whose parameter is not on this tool ends failed. */
ald_status sb_fetch_setpoint_commands(void *instance, const char *machine_id, unsigned limit,
                                      ald_setpoint_command_sink sink, void *ctx)
{
    sb_store *sb = instance;
    const char *machine = machine_id ? machine_id : sb->machine_id;
    if (!machine || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "fetch_setpoint_commands: a machine_id "
                        "(argument or setting) and a sink are required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "parameter_control_commands", "fetch_setpoint_commands");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "executed_at", "is", "null");
    filter_machine_or_any(&req, machine);
    sb_req_param(&req, "order", "created_at.asc,id.asc");
    add_limit(&req, limit);
    ald_status rc = sb_send(sb, &req, &resp);
    for (size_t i = 0; rc == ALD_OK && i < sb_rows(&resp); i++)
        emit_setpoint(sb_row(&resp, i), sink, ctx);
    sb_response_free(&resp);
    return rc;
}

ald_status sb_claim_setpoint_command(void *instance, const char *command_id)
{
    sb_store *sb = instance;
    if (!command_id)
        return sb_error(sb, ALD_ERR_INVALID, "claim_setpoint_command: command_id is required");
    json_t *body = json_pack("{s:o}", "executed_at", now_json(sb));
    size_t rows = 0;
    ald_status rc = patch_rows(sb, "parameter_control_commands", "claim_setpoint_command",
                               command_id, "executed_at", "is", "null", body, &rows);
    if (rc == ALD_OK && rows != 1)
        return sb_error(sb, ALD_ERR_CONFLICT, "claim_setpoint_command: command %s is already "
                        "claimed (executed_at is set) or does not exist", command_id);
    return rc;
}

ald_status sb_finish_setpoint_command(void *instance, const char *command_id,
                                      const char *error_message)
{
    sb_store *sb = instance;
    if (!command_id)
        return sb_error(sb, ALD_ERR_INVALID, "finish_setpoint_command: command_id is required");
    /* completed_at on success and failure alike, as the Python system
     * (terminal3_clean.py, update_command_status); error_message tells which */
    json_t *body = json_pack("{s:o,s:o}", "completed_at", now_json(sb), "error_message",
                             sb_jstr(error_message));
    size_t rows = 0;
    ald_status rc = patch_rows(sb, "parameter_control_commands", "finish_setpoint_command",
                               command_id, "completed_at", "is", "null", body, &rows);
    if (rc == ALD_OK && rows == 0)
        return sb_error(sb, ALD_ERR_CONFLICT, "finish_setpoint_command: command %s is already "
                        "finished or does not exist", command_id);
    return rc;
}
