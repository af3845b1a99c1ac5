/*
 * sb_machines.c - machine status (machines + its machine_state mirror, one
 * RPC), operator sessions, machine_health (upsert) and engine_leases (RPC on
 * the database clock).
 */
#include <string.h>

#include "sb_store.h"

static int is_machine_status(const char *s)
{
    static const char *const known[] = {"idle", "processing", "error", "offline"};
    for (size_t i = 0; s && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return 1;
    return 0;
}

/* machine_state.failure_description, or NULL (the row may be missing). */
static ald_status fetch_failure(sb_store *sb, const char *machine_id, json_t **row)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "machine_state", "get_machine");
    sb_req_param(&req, "select", "failure_description");
    sb_req_filter(&req, "machine_id", "eq", machine_id);
    sb_req_param(&req, "limit", "1");
    ald_status rc = sb_send(sb, &req, &resp);
    *row = rc == ALD_OK && sb_rows(&resp) ? json_incref((json_t *)sb_row(&resp, 0)) : NULL;
    sb_response_free(&resp);
    return rc;
}

ald_status sb_get_machine(void *instance, const char *machine_id, ald_machine_sink sink,
                          void *ctx)
{
    sb_store *sb = instance;
    if (!machine_id || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "get_machine: machine_id and sink are required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "machines", "get_machine");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "id", "eq", machine_id);
    req.want_object = 1;
    ald_status rc = sb_send(sb, &req, &resp);
    if (rc == ALD_ERR_NOT_FOUND)
        sb_error(sb, rc, "get_machine: machine %s: no such row in machines", machine_id);
    json_t *state = NULL;
    if (rc == ALD_OK)
        rc = fetch_failure(sb, machine_id, &state);
    if (rc == ALD_OK) {
        ald_machine m = {
            .struct_size = sizeof m,
            .id = sb_str(resp.json, "id"),
            .status = sb_str(resp.json, "status"),
            .current_process_id = sb_str(resp.json, "current_process_id"),
            .current_operator_id = sb_str(resp.json, "current_operator_id"),
            .failure_description = sb_str(state, "failure_description"),
        };
        sink(ctx, &m);
    }
    json_decref(state);
    sb_response_free(&resp);
    return rc;
}

ald_status sb_set_machine_state(void *instance, const ald_machine_update *u)
{
    sb_store *sb = instance;
    if (!u || !u->machine_id || !is_machine_status(u->status))
        return sb_error(sb, ALD_ERR_INVALID, "set_machine_state: a machine_id and a status of "
                        "idle, processing, error or offline are required (got \"%s\")",
                        u && u->status ? u->status : "(null)");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "rpc/ald_set_machine_state", "set_machine_state");
    req.body = json_pack("{s:o,s:o,s:o,s:o,s:o}", "p_machine_id", sb_jstr(u->machine_id),
                         "p_status", sb_jstr(u->status), "p_process_id",
                         sb_jstr(u->process_id), "p_operator_id", sb_jstr(u->operator_id),
                         "p_failure_description", sb_jstr(u->failure_description));
    ald_status rc = sb_call(sb, &req, &resp);
    if (rc == ALD_OK && json_is_false(resp.json))
        rc = sb_error(sb, ALD_ERR_NOT_FOUND, "set_machine_state: machine %s: no such row in "
                      "machines", u->machine_id);
    else if (rc == ALD_OK && !json_is_true(resp.json))
        rc = sb_error(sb, ALD_ERR_PROTOCOL, "set_machine_state: rpc/ald_set_machine_state did "
                      "not answer true or false: apply deploy/supabase/migrations");
    sb_req_free(&req);
    sb_response_free(&resp);
    return rc;
}

/* The newest active session of operator+machine into out; *found = 0 if none. */
/* operator_sessions column names: HEAD-era sites renamed status and
 * start_time to session_status and session_start_time (sb_schema.c). */
static const char *session_col(const sb_store *sb, const char *name)
{
    if (!sb->session_head)
        return name;
    return strcmp(name, "status") == 0 ? "session_status" : "session_start_time";
}

static ald_status find_session(sb_store *sb, const char *op, const char *machine, char *out,
                               size_t out_len, int *found)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "operator_sessions", "get_or_create_session");
    sb_req_param(&req, "select", "id");
    sb_req_filter(&req, "operator_id", "eq", op);
    sb_req_filter(&req, "machine_id", "eq", machine);
    sb_req_filter(&req, session_col(sb, "status"), "eq", "active");
    sb_req_param(&req, "order", sb->session_head ? "session_start_time.desc" : "start_time.desc");
    sb_req_param(&req, "limit", "1");
    ald_status rc = sb_send(sb, &req, &resp);
    *found = rc == ALD_OK && sb_rows(&resp) > 0;
    if (*found)
        rc = sb_copy_out(sb, sb_str(sb_row(&resp, 0), "id"), out, out_len);
    sb_response_free(&resp);
    return rc;
}

ald_status sb_get_or_create_session(void *instance, const char *operator_id,
                                    const char *machine_id, char *session_id_out,
                                    size_t out_len)
{
    sb_store *sb = instance;
    if (!operator_id || !machine_id || !session_id_out || out_len < SB_UUID_LEN)
        return sb_error(sb, ALD_ERR_INVALID, "get_or_create_session: operator_id, machine_id "
                        "and an id buffer of at least %d bytes are required", SB_UUID_LEN);
    int found = 0;
    ald_status rc = find_session(sb, operator_id, machine_id, session_id_out, out_len, &found);
    if (rc != ALD_OK || found)
        return rc;
    char id[SB_UUID_LEN];
    sb_uuid(id);
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "operator_sessions", "get_or_create_session");
    req.prefer = "return=minimal";
    req.body = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "operator_id", operator_id,
                         "machine_id", machine_id, session_col(sb, "status"), "active",
                         session_col(sb, "start_time"), sb_jtime(sb_now_ms(sb)));
    rc = sb_send(sb, &req, &resp);
    sb_response_free(&resp);
    if (rc == ALD_OK)
        return sb_copy_out(sb, id, session_id_out, out_len);
    if (rc != ALD_ERR_CONFLICT)
        return rc;
    /* 409: another engine (or our own lost-answer attempt) created it: use that one */
    rc = find_session(sb, operator_id, machine_id, session_id_out, out_len, &found);
    if (rc == ALD_OK && !found)
        rc = sb_error(sb, ALD_ERR_CONFLICT, "get_or_create_session: inserting a session for "
                      "operator %s on machine %s conflicted, yet none is active: retry",
                      operator_id, machine_id);
    return rc;
}

ald_status sb_write_health(void *instance, const ald_health_report *r)
{
    sb_store *sb = instance;
    if (!r || !r->machine_id)
        return sb_error(sb, ALD_ERR_INVALID, "write_health: a report with machine_id is "
                        "required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "machine_health", "write_health");
    sb_req_param(&req, "on_conflict", "machine_id");
    req.prefer = "resolution=merge-duplicates,return=minimal";
    req.body = json_pack("{s:o,s:b,s:o,s:I,s:o,s:o}", "machine_id", sb_jstr(r->machine_id),
                         "plc_connected", r->plc_connected != 0, "plc_last_check",
                         sb_jtime(r->plc_last_check_ms), "plc_reconnect_attempts",
                         (json_int_t)r->plc_reconnect_attempts, "plc_error",
                         sb_jstr(r->plc_error), "updated_at", sb_jtime(sb_now_ms(sb)));
    /* absent, not null: the merge keeps the last time the PLC was connected */
    if (r->plc_last_connected_ms >= 0)
        json_object_set_new(req.body, "plc_last_connected", sb_jtime(r->plc_last_connected_ms));
    ald_status rc = sb_send(sb, &req, &resp);
    sb_response_free(&resp);
    return rc;
}

ald_status sb_acquire_lease(void *instance, const char *machine_id, const char *holder,
                            int64_t ttl_ms)
{
    sb_store *sb = instance;
    if (!machine_id || !holder || ttl_ms <= 0)
        return sb_error(sb, ALD_ERR_INVALID, "acquire_lease: machine_id, holder and a "
                        "positive ttl_ms are required (got ttl_ms=%lld)", (long long)ttl_ms);
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "rpc/acquire_engine_lease", "acquire_lease");
    req.body = json_pack("{s:s,s:s,s:I}", "p_machine_id", machine_id, "p_holder", holder,
                         "p_ttl_ms", (json_int_t)ttl_ms);
    ald_status rc = sb_call(sb, &req, &resp);
    if (rc == ALD_ERR_NOT_FOUND) /* not "another engine": the function is missing */
        rc = sb_error(sb, ALD_ERR_NOT_FOUND, "acquire_lease: the project has no function "
                      "acquire_engine_lease (HTTP %ld), so no lease and no commands; %s",
                      resp.status, sb_schema_hint());
    else if (rc == ALD_OK && !json_is_boolean(json_object_get(resp.json, "acquired")))
        rc = sb_error(sb, ALD_ERR_PROTOCOL, "acquire_lease: rpc/acquire_engine_lease answered "
                      "without \"acquired\": apply deploy/supabase/migrations");
    else if (rc == ALD_OK && !sb_bool(resp.json, "acquired"))
        rc = sb_error(sb, ALD_ERR_CONFLICT, "engine lease of machine %s is held by \"%s\" "
                      "until %s: another engine runs this machine", machine_id,
                      sb_str(resp.json, "holder") ? sb_str(resp.json, "holder") : "?",
                      sb_str(resp.json, "expires_at") ? sb_str(resp.json, "expires_at") : "?");
    sb_req_free(&req);
    sb_response_free(&resp);
    return rc;
}

/* Releasing a lease we do not hold is a no-op (another holder's is never touched). */
ald_status sb_release_lease(void *instance, const char *machine_id, const char *holder)
{
    sb_store *sb = instance;
    if (!machine_id || !holder)
        return sb_error(sb, ALD_ERR_INVALID, "release_lease: machine_id and holder are "
                        "required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "DELETE", "engine_leases", "release_lease");
    sb_req_filter(&req, "machine_id", "eq", machine_id);
    sb_req_filter(&req, "holder", "eq", holder);
    ald_status rc = sb_send(sb, &req, &resp);
    sb_response_free(&resp);
    return rc;
}
