/*
 * sqlite_machines.c - machine status (machines + its machine_state mirror),
 * operator sessions, machine_health and engine_leases.
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_GET_MACHINE[] =
    "SELECT m.id, m.status, m.current_process_id, m.current_operator_id, "
    "s.failure_description"
    " FROM machines m LEFT JOIN machine_state s ON s.machine_id = m.id WHERE m.id = ?1";
static const char SQL_SET_MACHINE[] =
    "UPDATE machines SET status = ?2, current_process_id = ?3,"
    " current_operator_id = coalesce(?4, current_operator_id), updated_at = ?5 WHERE id = ?1";
/* state_since only moves when the state changes. */
static const char SQL_MIRROR_STATE[] =
    "INSERT INTO machine_state (machine_id, current_state, state_since, process_id,"
    " is_failure_mode, failure_description, updated_at)"
    " VALUES (?1, ?2, ?5, ?3, ?4 IS NOT NULL, ?4, ?5)"
    " ON CONFLICT (machine_id) DO UPDATE SET current_state = excluded.current_state,"
    " state_since = CASE WHEN machine_state.current_state = excluded.current_state"
    "  THEN machine_state.state_since ELSE excluded.state_since END,"
    " process_id = excluded.process_id, is_failure_mode = excluded.is_failure_mode,"
    " failure_description = excluded.failure_description, updated_at = excluded.updated_at";
static const char SQL_FIND_SESSION[] =
    "SELECT id FROM operator_sessions WHERE operator_id = ?1 AND machine_id = ?2"
    " AND status = 'active' ORDER BY start_time DESC LIMIT 1";
static const char SQL_NEW_SESSION[] =
    "INSERT INTO operator_sessions (id, operator_id, machine_id, start_time, status)"
    " VALUES (?1, ?2, ?3, ?4, 'active')";
static const char SQL_HEALTH[] =
    "INSERT INTO machine_health (id, machine_id, plc_connected, plc_last_check,"
    " plc_last_connected, plc_reconnect_attempts, plc_error, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (machine_id) DO UPDATE SET plc_connected = excluded.plc_connected,"
    " plc_last_check = excluded.plc_last_check,"
    " plc_last_connected = coalesce(excluded.plc_last_connected, plc_last_connected),"
    " plc_reconnect_attempts = excluded.plc_reconnect_attempts,"
    " plc_error = excluded.plc_error, updated_at = excluded.updated_at";
/* One statement: take a free or expired lease, or renew our own. */
static const char SQL_ACQUIRE[] =
    "INSERT INTO engine_leases (machine_id, holder, expires_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (machine_id) DO UPDATE SET holder = excluded.holder,"
    " expires_at = excluded.expires_at"
    " WHERE engine_leases.holder = excluded.holder OR engine_leases.expires_at <= ?4";
static const char SQL_LEASE_HOLDER[] =
    "SELECT holder, expires_at FROM engine_leases WHERE machine_id = ?1";
static const char SQL_RELEASE[] =
    "DELETE FROM engine_leases WHERE machine_id = ?1 AND holder = ?2";

static int is_machine_status(const char *s)
{
    static const char *const known[] = {"idle", "processing", "error", "offline"};
    for (size_t i = 0; s && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return 1;
    return 0;
}

static ald_status get_machine_locked(sq_store *sq, const char *id, ald_machine_sink sink,
                                     void *ctx)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_GET_MACHINE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        ald_machine m = {
            .struct_size = sizeof m,
            .id = sq_col_text(st, 0),
            .status = sq_col_text(st, 1),
            .current_process_id = sq_col_text(st, 2),
            .current_operator_id = sq_col_text(st, 3),
            .failure_description = sq_col_text(st, 4),
        };
        sink(ctx, &m);
    }
    sqlite3_reset(st);
    if (src == SQLITE_DONE)
        return sq_error(sq, ALD_ERR_NOT_FOUND, "machine %s: no such row in machines", id);
    return src == SQLITE_ROW ? ALD_OK : sq_fail(sq, src, "reading machines");
}

ald_status sq_get_machine(void *instance, const char *machine_id, ald_machine_sink sink,
                          void *ctx)
{
    sq_store *sq = instance;
    if (!machine_id || !sink)
        return sq_error(sq, ALD_ERR_INVALID, "get_machine: machine_id and sink are required");
    ald_status rc = sq_enter(sq, "get_machine");
    return rc == ALD_OK ? sq_leave(sq, get_machine_locked(sq, machine_id, sink, ctx)) : rc;
}

static ald_status update_machine_row(sq_store *sq, const ald_machine_update *u,
                                     const char *now)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_SET_MACHINE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, u->machine_id);
    sq_bind_text(st, 2, u->status);
    sq_bind_text(st, 3, u->process_id);
    sq_bind_text(st, 4, u->operator_id);
    sq_bind_text(st, 5, now);
    ald_status rc = sq_run(sq, st, "updating machines");
    if (rc == ALD_OK && sqlite3_changes(sq->db) == 0)
        return sq_error(sq, ALD_ERR_NOT_FOUND,
                        "set_machine_state: machine %s: no such row "
                        "in machines",
                        u->machine_id);
    return rc;
}

static ald_status mirror_state(sq_store *sq, const ald_machine_update *u, const char *now)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_MIRROR_STATE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, u->machine_id);
    sq_bind_text(st, 2, u->status);
    sq_bind_text(st, 3, u->process_id);
    sq_bind_text(st, 4, u->failure_description);
    sq_bind_text(st, 5, now);
    return sq_run(sq, st, "upserting machine_state");
}

static ald_status set_machine_locked(sq_store *sq, const ald_machine_update *u)
{
    char now[SQ_ISO_LEN];
    sq_iso_time(sq_now_ms(sq), now);
    ald_status rc = sq_begin(sq, "set_machine_state");
    if (rc == ALD_OK)
        rc = update_machine_row(sq, u, now);
    if (rc == ALD_OK)
        rc = mirror_state(sq, u, now);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    return sq_commit(sq, "committing set_machine_state");
}

ald_status sq_set_machine_state(void *instance, const ald_machine_update *update)
{
    sq_store *sq = instance;
    if (!update || !update->machine_id || !is_machine_status(update->status))
        return sq_error(sq, ALD_ERR_INVALID,
                        "set_machine_state: a machine_id and a status of "
                        "idle, processing, error or offline are required (got \"%s\")",
                        update && update->status ? update->status : "(null)");
    ald_status rc = sq_enter(sq, "set_machine_state");
    return rc == ALD_OK ? sq_leave(sq, set_machine_locked(sq, update)) : rc;
}

/* Copies the active session's id into id; 0 when there is none. */
static ald_status find_session(sq_store *sq, const char *op, const char *machine, char *id,
                               int *found)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_FIND_SESSION);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, op);
    sq_bind_text(st, 2, machine);
    int src = sqlite3_step(st);
    *found = src == SQLITE_ROW && sq_col_text(st, 0);
    if (*found) {
        strncpy(id, sq_col_text(st, 0), SQ_UUID_LEN - 1);
        id[SQ_UUID_LEN - 1] = '\0';
    }
    sqlite3_reset(st);
    return src == SQLITE_ROW || src == SQLITE_DONE
               ? ALD_OK
               : sq_fail(sq, src, "reading operator_sessions");
}

static ald_status new_session(sq_store *sq, const char *op, const char *machine, char *id)
{
    char now[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_NEW_SESSION);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_uuid(id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, op);
    sq_bind_text(st, 3, machine);
    sq_bind_text(st, 4, sq_iso_time(sq_now_ms(sq), now));
    return sq_run(sq, st, "inserting operator_sessions (is machine_id a known machine?)");
}

static ald_status session_locked(sq_store *sq, const char *op, const char *machine, char *out,
                                 size_t out_len)
{
    char id[SQ_UUID_LEN];
    int found = 0;
    ald_status rc = sq_begin(sq, "get_or_create_session");
    if (rc == ALD_OK)
        rc = find_session(sq, op, machine, id, &found);
    if (rc == ALD_OK && !found)
        rc = new_session(sq, op, machine, id);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    rc = sq_commit(sq, "committing get_or_create_session");
    return rc == ALD_OK ? sq_copy_out(sq, id, out, out_len) : rc;
}

ald_status sq_get_or_create_session(void *instance, const char *operator_id,
                                    const char *machine_id, char *session_id_out,
                                    size_t out_len)
{
    sq_store *sq = instance;
    if (!operator_id || !machine_id || !session_id_out || out_len < SQ_UUID_LEN)
        return sq_error(sq, ALD_ERR_INVALID,
                        "get_or_create_session: operator_id, machine_id "
                        "and an id buffer of at least %d bytes are required",
                        SQ_UUID_LEN);
    ald_status rc = sq_enter(sq, "get_or_create_session");
    return rc == ALD_OK ? sq_leave(sq, session_locked(sq, operator_id, machine_id,
                                                      session_id_out, out_len))
                        : rc;
}

static ald_status health_locked(sq_store *sq, const ald_health_report *r)
{
    char id[SQ_UUID_LEN], now[SQ_ISO_LEN], check[SQ_ISO_LEN], connected[SQ_ISO_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_HEALTH);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_uuid(id); /* used only when the row is new */
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, r->machine_id);
    sqlite3_bind_int(st, 3, r->plc_connected != 0);
    sq_bind_text(st, 4,
                 r->plc_last_check_ms >= 0 ? sq_iso_time(r->plc_last_check_ms, check) : NULL);
    sq_bind_text(st, 5,
                 r->plc_last_connected_ms >= 0
                     ? sq_iso_time(r->plc_last_connected_ms, connected)
                     : NULL);
    sqlite3_bind_int64(st, 6, r->plc_reconnect_attempts);
    sq_bind_text(st, 7, r->plc_error);
    sq_bind_text(st, 8, sq_iso_time(sq_now_ms(sq), now));
    return sq_run(sq, st, "upserting machine_health");
}

ald_status sq_write_health(void *instance, const ald_health_report *report)
{
    sq_store *sq = instance;
    if (!report || !report->machine_id)
        return sq_error(sq, ALD_ERR_INVALID,
                        "write_health: a report with machine_id is "
                        "required");
    ald_status rc = sq_enter(sq, "write_health");
    return rc == ALD_OK ? sq_leave(sq, health_locked(sq, report)) : rc;
}

/* Names the live holder in last_error after a lost acquire. */
static ald_status lease_conflict(sq_store *sq, const char *machine_id)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_LEASE_HOLDER);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, machine_id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        sq_error(sq, ALD_ERR_CONFLICT,
                 "engine lease of machine %s is held by \"%s\" until %s: "
                 "another engine runs this machine",
                 machine_id, sq_col_text(st, 0), sq_col_text(st, 1));
    else
        sq_error(sq, ALD_ERR_CONFLICT, "engine lease of machine %s: lost a race, retry",
                 machine_id);
    sqlite3_reset(st);
    return ALD_ERR_CONFLICT;
}

static ald_status acquire_locked(sq_store *sq, const char *machine_id, const char *holder,
                                 int64_t ttl_ms)
{
    char now[SQ_ISO_LEN], expires[SQ_ISO_LEN];
    int64_t now_ms = sq_now_ms(sq);
    sqlite3_stmt *st = sq_stmt(sq, SQL_ACQUIRE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, machine_id);
    sq_bind_text(st, 2, holder);
    sq_bind_text(st, 3, sq_iso_time(now_ms + ttl_ms, expires));
    sq_bind_text(st, 4, sq_iso_time(now_ms, now));
    ald_status rc = sq_run(sq, st, "acquiring engine_leases");
    if (rc == ALD_OK && sqlite3_changes(sq->db) != 1)
        return lease_conflict(sq, machine_id);
    return rc;
}

ald_status sq_acquire_lease(void *instance, const char *machine_id, const char *holder,
                            int64_t ttl_ms)
{
    sq_store *sq = instance;
    if (!machine_id || !holder || ttl_ms <= 0)
        return sq_error(sq, ALD_ERR_INVALID,
                        "acquire_lease: machine_id, holder and a "
                        "positive ttl_ms are required (got ttl_ms=%lld)",
                        (long long)ttl_ms);
    ald_status rc = sq_enter(sq, "acquire_lease");
    return rc == ALD_OK ? sq_leave(sq, acquire_locked(sq, machine_id, holder, ttl_ms)) : rc;
}

/* Releasing a lease we do not hold is a no-op: the goal (we do not hold it)
 * is already reached, and another holder's lease is never touched. */
ald_status sq_release_lease(void *instance, const char *machine_id, const char *holder)
{
    sq_store *sq = instance;
    if (!machine_id || !holder)
        return sq_error(sq, ALD_ERR_INVALID,
                        "release_lease: machine_id and holder are "
                        "required");
    ald_status rc = sq_enter(sq, "release_lease");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_RELEASE);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, machine_id);
    sq_bind_text(st, 2, holder);
    return sq_leave(sq, sq_run(sq, st, "releasing engine_leases"));
}
