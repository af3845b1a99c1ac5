/*
 * sb_process.c - process_executions (one row per run) and
 * process_execution_state (live progress, upserted: each state the executor
 * writes, in order).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_store.h"

/* JSON text from the host as a JSON value (NULL text -> null). */
static ald_status parse_json_arg(sb_store *sb, const char *what, const char *text,
                                 json_t **out)
{
    json_error_t jerr;
    *out = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : json_null();
    if (*out)
        return ALD_OK;
    return sb_error(sb, ALD_ERR_INVALID, "create_process: %s is not valid JSON (%s at line %d "
                    "column %d)", what, jerr.text, jerr.line, jerr.column);
}

/* "150" -> 150: sites keep recipe_parameters.parameter_value numeric, so the
 * Python system's snapshots hold numbers; other text stays text. */
static json_t *param_value(const json_t *v)
{
    const char *text = json_string_value(v);
    if (!text || !*text)
        return json_deep_copy(v);
    char *end;
    double d = strtod(text, &end);
    return *end == '\0' && isfinite(d) ? json_real(d) : json_deep_copy(v);
}

/* {parameter_name: value} from the engine's snapshot, values as numbers
 * where they are numbers. */
static json_t *recipe_parameters(const json_t *version)
{
    json_t *out = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(version, "parameters"), name, v)
        json_object_set_new(out, name, param_value(v));
    return out;
}

/* The recipe's recipe_steps rows, as the Python system put them into
 * recipe_version.steps; NULL when they cannot be read (the engine's own
 * step tree is kept then). */
static json_t *recipe_step_rows(sb_store *sb, const char *recipe_id)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "recipe_steps", "create_process (recipe_version.steps)");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "recipe_id", "eq", recipe_id);
    sb_req_param(&req, "order", "sequence_number.asc,id.asc");
    json_t *rows = sb_send(sb, &req, &resp) == ALD_OK ? json_incref(resp.json) : NULL;
    sb_response_free(&resp);
    return rows;
}

/* The Python system's shapes (src/recipe_flow/starter.py, start_recipe):
 *   parameters      {parameter_name: parameter_value} of the recipe
 *   recipe_version  {id, name, version, steps: recipe_steps rows,
 *                    chamber_temperature_set_point, pressure_set_point,
 *                    parameters} (the engine's extra keys stay)
 * The engine's own process parameters (command_id, read back after a
 * restart by find_open_processes) travel in recipe_version.ald_engine.
 * Steals version and engine_params. */
static void python_shapes(sb_store *sb, const ald_process_start *s, json_t **version,
                          json_t **engine_params)
{
    if (!json_is_object(*version)) {
        json_decref(*version);
        *version = json_object();
    }
    json_t *steps = recipe_step_rows(sb, s->recipe_id);
    if (steps)
        json_object_set_new(*version, "steps", steps);
    if (!json_object_get(*version, "id"))
        json_object_set_new(*version, "id", json_string(s->recipe_id));
    json_t *params = recipe_parameters(*version);
    json_object_set(*version, "parameters", params);
    json_object_set_new(*version, "ald_engine", *engine_params);
    *engine_params = params;
}

static json_t *process_body(const sb_store *sb, const ald_process_start *s, const char *id,
                            json_t *version, json_t *params)
{
    int64_t start_ms = s->start_time_ms > 0 ? s->start_time_ms : sb_now_ms(sb);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "session_id", sb_jstr(s->session_id));
    json_object_set_new(o, "machine_id", sb_jstr(s->machine_id));
    json_object_set_new(o, "recipe_id", sb_jstr(s->recipe_id));
    json_object_set_new(o, "operator_id", sb_jstr(s->operator_id));
    json_object_set_new(o, "recipe_version", version);
    json_object_set_new(o, "parameters", params);
    json_object_set_new(o, "start_time", sb_jtime(start_ms));
    json_object_set_new(o, "status", json_string("running"));
    return o;
}

/* The state row, written as a run starts (as the Python system's starter.py
 * did): step 0 of total_steps. Later states update it, so a site's
 * UPDATE-only step-history trigger records the first step too. A failure is
 * not the run's: the first state upsert creates the row then. */
static void initial_state(sb_store *sb, const char *id, long long total_steps,
                          long long total_cycles)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "process_execution_state", "create_process (initial state)");
    sb_req_param(&req, "on_conflict", "execution_id");
    req.prefer = "resolution=ignore-duplicates,return=minimal";
    req.body = json_pack("{s:s,s:i,s:i,s:I,s:{s:I,s:i,s:I,s:i},s:o}", "execution_id", id,
                         "current_step_index", 0, "current_overall_step", 0,
                         "total_overall_steps", (json_int_t)total_steps, "progress",
                         "total_steps", (json_int_t)total_steps, "completed_steps", 0,
                         "total_cycles", (json_int_t)total_cycles, "completed_cycles", 0,
                         "last_updated", sb_jtime(sb_now_ms(sb)));
    if (sb_send(sb, &req, &resp) != ALD_OK)
        sb->host->log(sb->host, ALD_LOG_WARNING, "storage-supabase: %s", sb_last_error(sb));
    sb_response_free(&resp);
}

ald_status sb_create_process(void *instance, const ald_process_start *s, char *process_id_out,
                             size_t out_len)
{
    sb_store *sb = instance;
    if (!s || !s->machine_id || !s->recipe_id || !process_id_out || out_len < SB_UUID_LEN)
        return sb_error(sb, ALD_ERR_INVALID, "create_process: machine_id, recipe_id and an id "
                        "buffer of at least %d bytes are required", SB_UUID_LEN);
    json_t *version = NULL, *params = NULL;
    ald_status rc = parse_json_arg(sb, "recipe_version_json", s->recipe_version_json, &version);
    if (rc == ALD_OK)
        rc = parse_json_arg(sb, "parameters_json", s->parameters_json, &params);
    if (rc != ALD_OK) {
        json_decref(version);
        return rc;
    }
    python_shapes(sb, s, &version, &params);
    char id[SB_UUID_LEN];
    sb_uuid(id); /* chosen here: a retried insert is recognised by its id (409) */
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "process_executions", "create_process");
    sb_req_param(&req, "select", "id");
    req.prefer = "return=representation";
    req.want_object = 1;
    req.body = process_body(sb, s, id, version, params);
    long long total_steps = json_integer_value(json_object_get(version, "total_steps"));
    long long total_cycles = json_integer_value(json_object_get(version, "total_cycles"));
    rc = sb_send(sb, &req, &resp);
    if (rc == ALD_ERR_CONFLICT && resp.attempts > 1)
        rc = ALD_OK; /* an earlier attempt landed; its answer was lost */
    sb_response_free(&resp);
    if (rc == ALD_OK)
        initial_state(sb, id, total_steps, total_cycles);
    else if (rc == ALD_ERR_INVALID && !s->operator_id && strstr(sb_last_error(sb), "23502"))
        /* a site's NOT NULL session_id/operator_id: say it as the Python system did */
        rc = sb_error(sb, ALD_ERR_INVALID, "No operator specified for recipe execution (give "
                      "parameters.operator_id in the command, or set the machine's "
                      "current_operator_id: this project's process_executions requires one)");
    return rc == ALD_OK ? sb_copy_out(sb, id, process_id_out, out_len) : rc;
}

static json_t *state_body(const sb_store *sb, const ald_process_state *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "execution_id", sb_jstr(st->execution_id));
    json_object_set_new(o, "current_step_index", sb_jint(st->current_step_index));
    json_object_set_new(o, "current_overall_step", sb_jint(st->current_overall_step));
    json_object_set_new(o, "total_overall_steps", sb_jint(st->total_overall_steps));
    json_object_set_new(o, "current_step_type", sb_jstr(st->current_step_type));
    json_object_set_new(o, "current_step_name", sb_jstr(st->current_step_name));
    json_object_set_new(o, "current_valve_number", sb_jint(st->current_valve_number));
    json_object_set_new(o, "current_valve_duration_ms", sb_jint(st->current_valve_duration_ms));
    json_object_set_new(o, "current_purge_duration_ms", sb_jint(st->current_purge_duration_ms));
    json_object_set_new(o, "current_parameter_id", sb_jstr(st->current_parameter_id));
    json_object_set_new(o, "current_parameter_value", sb_jnum(st->current_parameter_value));
    json_object_set_new(o, "current_loop_count", sb_jint(st->current_loop_count));
    json_object_set_new(o, "current_loop_iteration", sb_jint(st->current_loop_iteration));
    json_object_set_new(o, "progress",
                        json_pack("{s:o,s:o,s:o,s:o}", "total_steps",
                                  sb_jint(st->progress_total_steps), "completed_steps",
                                  sb_jint(st->progress_completed_steps), "total_cycles",
                                  sb_jint(st->progress_total_cycles), "completed_cycles",
                                  sb_jint(st->progress_completed_cycles)));
    json_object_set_new(o, "last_updated",
                        sb_jtime(st->last_updated_ms > 0 ? st->last_updated_ms
                                                         : sb_now_ms(sb)));
    return o;
}

ald_status sb_update_process_state(void *instance, const ald_process_state *state)
{
    sb_store *sb = instance;
    if (!state || !state->execution_id)
        return sb_error(sb, ALD_ERR_INVALID, "update_process_state: a state with execution_id "
                        "is required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "process_execution_state", "update_process_state");
    sb_req_param(&req, "on_conflict", "execution_id");
    req.prefer = "resolution=merge-duplicates,return=minimal";
    req.body = state_body(sb, state);
    ald_status rc = sb_send(sb, &req, &resp);
    sb_response_free(&resp);
    return rc;
}

static int is_final_status(const char *s)
{
    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "aborted"));
}

ald_status sb_finish_process(void *instance, const char *process_id, const char *status,
                             const char *error_message, int64_t end_time_ms)
{
    sb_store *sb = instance;
    if (!process_id || !is_final_status(status))
        return sb_error(sb, ALD_ERR_INVALID, "finish_process: a process_id and a status of "
                        "completed, failed or aborted are required (got \"%s\")",
                        status ? status : "(null)");
    int64_t now = sb_now_ms(sb);
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "PATCH", "process_executions", "finish_process");
    sb_req_filter(&req, "id", "eq", process_id);
    sb_req_param(&req, "select", "id");
    req.prefer = "return=representation";
    req.body = json_pack("{s:s,s:o,s:o,s:o}", "status", status, "error_message",
                         sb_jstr(error_message), "end_time",
                         sb_jtime(end_time_ms > 0 ? end_time_ms : now), "updated_at",
                         sb_jtime(now));
    ald_status rc = sb_send(sb, &req, &resp);
    if (rc == ALD_OK && sb_rows(&resp) == 0)
        rc = sb_error(sb, ALD_ERR_NOT_FOUND, "finish_process: process %s: no such row in "
                      "process_executions", process_id);
    sb_response_free(&resp);
    return rc;
}

static void emit_process(const json_t *row, ald_process_sink sink, void *ctx)
{
    /* the engine's parameters: recipe_version.ald_engine (python_shapes);
     * rows written before that, or by others, have them in parameters */
    const json_t *ours = json_object_get(json_object_get(row, "recipe_version"), "ald_engine");
    char *parameters = ours ? json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY)
                            : sb_json_text(row, "parameters");
    ald_process p = {
        .struct_size = sizeof p,
        .id = sb_str(row, "id"),
        .machine_id = sb_str(row, "machine_id"),
        .recipe_id = sb_str(row, "recipe_id"),
        .status = sb_str(row, "status"),
        .start_time_ms = sb_parse_iso(sb_str(row, "start_time")),
        .end_time_ms = sb_parse_iso(sb_str(row, "end_time")),
        .error_message = sb_str(row, "error_message"),
        .parameters_json = parameters,
    };
    sink(ctx, &p);
    free(parameters);
}

/* A process_executions read of one machine: the request, with its filters
 * and order added by the caller. NULL machine or sink: ALD_ERR_INVALID. */
static ald_status process_query(sb_store *sb, sb_request *req, const char *op,
                                const char *machine_id, ald_process_sink sink)
{
    if (!machine_id || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "%s: machine_id and sink are required", op);
    sb_req_init(req, "GET", "process_executions", op);
    sb_req_param(req, "select", "id,machine_id,recipe_id,status,start_time,end_time,"
                                "error_message,parameters,recipe_version");
    sb_req_filter(req, "machine_id", "eq", machine_id);
    return ALD_OK;
}

static ald_status emit_processes(sb_store *sb, sb_request *req, ald_process_sink sink,
                                 void *ctx)
{
    sb_response resp;
    ald_status rc = sb_send(sb, req, &resp);
    for (size_t i = 0; rc == ALD_OK && i < sb_rows(&resp); i++)
        emit_process(sb_row(&resp, i), sink, ctx);
    sb_response_free(&resp);
    return rc;
}

ald_status sb_find_open_processes(void *instance, const char *machine_id,
                                  ald_process_sink sink, void *ctx)
{
    static const char *const open_states[] = {"preparing", "running", "paused"};
    sb_request req;
    ald_status rc = process_query(instance, &req, "find_open_processes", machine_id, sink);
    if (rc != ALD_OK)
        return rc;
    sb_req_filter_in(&req, "status", open_states, 3);
    sb_req_param(&req, "order", "start_time.asc,id.asc");
    return emit_processes(instance, &req, sink, ctx);
}

ald_status sb_find_last_finished_process(void *instance, const char *machine_id,
                                         ald_process_sink sink, void *ctx)
{
    sb_request req;
    ald_status rc =
        process_query(instance, &req, "find_last_finished_process", machine_id, sink);
    if (rc != ALD_OK)
        return rc;
    sb_req_filter(&req, "end_time", "not.is", "null");
    sb_req_param(&req, "order", "end_time.desc,id.desc");
    sb_req_param(&req, "limit", "1");
    return emit_processes(instance, &req, sink, ctx);
}

static void emit_state(const json_t *row, ald_process_state_sink sink, void *ctx)
{
    const json_t *progress = json_object_get(row, "progress");
    ald_process_state s = {
        .struct_size = sizeof s,
        .execution_id = sb_str(row, "execution_id"),
        .current_step_index = sb_int(row, "current_step_index"),
        .current_overall_step = sb_int(row, "current_overall_step"),
        .total_overall_steps = sb_int(row, "total_overall_steps"),
        .current_step_type = sb_str(row, "current_step_type"),
        .current_step_name = sb_str(row, "current_step_name"),
        .current_valve_number = sb_int(row, "current_valve_number"),
        .current_valve_duration_ms = sb_int(row, "current_valve_duration_ms"),
        .current_purge_duration_ms = sb_int(row, "current_purge_duration_ms"),
        .current_parameter_id = sb_str(row, "current_parameter_id"),
        .current_parameter_value = sb_num(row, "current_parameter_value"),
        .current_loop_count = sb_int(row, "current_loop_count"),
        .current_loop_iteration = sb_int(row, "current_loop_iteration"),
        .progress_total_steps = sb_int(progress, "total_steps"),
        .progress_completed_steps = sb_int(progress, "completed_steps"),
        .progress_total_cycles = sb_int(progress, "total_cycles"),
        .progress_completed_cycles = sb_int(progress, "completed_cycles"),
        .last_updated_ms = sb_parse_iso(sb_str(row, "last_updated")),
    };
    sink(ctx, &s);
}

ald_status sb_get_process_state(void *instance, const char *process_id,
                                ald_process_state_sink sink, void *ctx)
{
    sb_store *sb = instance;
    if (!process_id || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "get_process_state: process_id and sink are "
                        "required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "process_execution_state", "get_process_state");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "execution_id", "eq", process_id);
    req.want_object = 1;
    ald_status rc = sb_send(sb, &req, &resp);
    if (rc == ALD_OK)
        emit_state(resp.json, sink, ctx);
    else if (rc == ALD_ERR_NOT_FOUND)
        sb_error(sb, rc, "process %s: no row in process_execution_state", process_id);
    sb_response_free(&resp);
    return rc;
}
