/*
 * sqlite_samples.c - the parameter map and the 1 Hz data path: live values of
 * component_parameters, parameter_value_history and process_data_points.
 *
 * append_samples writes a whole batch in one transaction with cached
 * statements; INSERT OR IGNORE on the (parameter_id, timestamp) natural key
 * makes a replayed batch a no-op. append_sample_batches (ABI 1.1, the outbox
 * replay) writes many batches in ONE transaction: one commit (one fsync)
 * for the lot, and all or nothing.
 */
#include <math.h>
#include <stdio.h>

#include "sqlite_store.h"

static const char SQL_PARAMETERS[] =
    "SELECT id, component_id, component_name, parameter_name, unit, data_type,"
    " read_modbus_type, read_modbus_address, write_modbus_type, write_modbus_address,"
    " is_writable, min_value, max_value, current_value, set_value"
    " FROM component_parameters_full WHERE machine_id = ?1"
    " ORDER BY component_name, parameter_name";
static const char SQL_UPDATE_VALUE[] =
    "UPDATE component_parameters SET current_value = coalesce(?2, current_value),"
    " set_value = coalesce(?3, set_value), updated_at = ?4 WHERE id = ?1";
static const char SQL_HISTORY[] = "INSERT OR IGNORE INTO parameter_value_history "
                                  "(parameter_id, value, set_point, timestamp)"
                                  " VALUES (?1, ?2, ?3, ?4)";
static const char SQL_DATA_POINT[] =
    "INSERT OR IGNORE INTO process_data_points (process_id, parameter_id, value, set_point,"
    " timestamp) VALUES (?1, ?2, ?3, ?4, ?5)";

static void emit_parameter(sqlite3_stmt *st, ald_parameter_sink sink, void *ctx)
{
    ald_parameter p = {
        .struct_size = sizeof p,
        .id = sq_col_text(st, 0),
        .component_id = sq_col_text(st, 1),
        .component_name = sq_col_text(st, 2),
        .name = sq_col_text(st, 3),
        .unit = sq_col_text(st, 4),
        .data_type = sq_col_text(st, 5),
        .read_type = sq_col_text(st, 6),
        .read_address = sq_col_int(st, 7),
        .write_type = sq_col_text(st, 8),
        .write_address = sq_col_int(st, 9),
        .is_writable = sqlite3_column_int(st, 10) != 0,
        .min_value = sq_col_double(st, 11),
        .max_value = sq_col_double(st, 12),
        .current_value = sq_col_double(st, 13),
        .set_value = sq_col_double(st, 14),
    };
    sink(ctx, &p);
}

ald_status sq_load_parameters(void *instance, const char *machine_id, ald_parameter_sink sink,
                              void *ctx)
{
    sq_store *sq = instance;
    if (!machine_id || !sink)
        return sq_error(sq, ALD_ERR_INVALID,
                        "load_parameters: machine_id and sink are "
                        "required");
    ald_status rc = sq_enter(sq, "load_parameters");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_PARAMETERS);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, machine_id);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        emit_parameter(st, sink, ctx);
    rc = src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading component_parameters_full");
    sqlite3_reset(st);
    return sq_leave(sq, rc);
}

/* Updates one row; *missing counts ids that matched nothing. */
static ald_status update_one(sq_store *sq, const ald_parameter_value *v, const char *now,
                             size_t *missing, const char **first_missing)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_UPDATE_VALUE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, v->parameter_id);
    sq_bind_double(st, 2, v->current_value);
    sq_bind_double(st, 3, v->set_value);
    sq_bind_text(st, 4, now);
    ald_status rc = sq_run(sq, st, "updating component_parameters");
    if (rc == ALD_OK && sqlite3_changes(sq->db) == 0 && (*missing)++ == 0)
        *first_missing = v->parameter_id;
    return rc;
}

static ald_status update_values_locked(sq_store *sq, const ald_parameter_value *values,
                                       size_t count)
{
    char now[SQ_ISO_LEN];
    sq_iso_time(sq_now_ms(sq), now);
    size_t missing = 0;
    const char *first_missing = NULL;
    ald_status rc = sq_begin(sq, "update_parameter_values");
    for (size_t i = 0; i < count && rc == ALD_OK; i++)
        rc = update_one(sq, &values[i], now, &missing, &first_missing);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    rc = sq_commit(sq, "committing update_parameter_values");
    if (rc == ALD_OK && missing)
        return sq_error(sq, ALD_ERR_NOT_FOUND,
                        "update_parameter_values: %zu of %zu parameter "
                        "ids are not in component_parameters (first: %s); the others were "
                        "updated",
                        missing, count, first_missing);
    return rc;
}

ald_status sq_update_parameter_values(void *instance, const ald_parameter_value *values,
                                      size_t count)
{
    sq_store *sq = instance;
    for (size_t i = 0; i < count; i++)
        if (!values[i].parameter_id)
            return sq_error(sq, ALD_ERR_INVALID,
                            "update_parameter_values: value %zu has no "
                            "parameter_id",
                            i);
    if (count == 0)
        return ALD_OK;
    ald_status rc = sq_enter(sq, "update_parameter_values");
    return rc == ALD_OK ? sq_leave(sq, update_values_locked(sq, values, count)) : rc;
}

/* Binds and runs one row; `st` is reused for the whole batch (reset, not
 * re-fetched from the cache, keeps the per-row cost to the insert itself). */
static ald_status insert_sample(sq_store *sq, sqlite3_stmt *st, const char *process_id,
                                const ald_sample *s, const char *ts)
{
    int col = 1;
    if (process_id)
        sqlite3_bind_text(st, col++, process_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, col++, s->parameter_id, -1, SQLITE_STATIC);
    sq_bind_double(st, col++, s->value);
    sq_bind_double(st, col++, s->set_point);
    sqlite3_bind_text(st, col, ts, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    return src == SQLITE_DONE ? ALD_OK
                              : sq_fail(sq, src,
                                        process_id ? "inserting process_data_points"
                                                   : "inserting "
                                                     "parameter_value_history");
}

/* The rows of one batch, inside the caller's transaction. */
static ald_status insert_rows(sq_store *sq, const ald_sample_batch *b)
{
    char ts[SQ_ISO_LEN];
    sq_iso_time(b->timestamp_ms, ts);
    sqlite3_stmt *history = sq_stmt(sq, SQL_HISTORY);
    sqlite3_stmt *points = b->process_id ? sq_stmt(sq, SQL_DATA_POINT) : NULL;
    if (!history || (b->process_id && !points))
        return ALD_ERR_INTERNAL;
    ald_status rc = ALD_OK;
    for (size_t i = 0; i < b->count && rc == ALD_OK; i++) {
        rc = insert_sample(sq, history, NULL, &b->samples[i], ts);
        if (rc == ALD_OK && points)
            rc = insert_sample(sq, points, b->process_id, &b->samples[i], ts);
    }
    /* The statements hold pointers into the caller's batch: drop them. */
    sqlite3_clear_bindings(history);
    if (points)
        sqlite3_clear_bindings(points);
    return rc;
}

/* Many batches, one transaction. */
static ald_status insert_batches(sq_store *sq, const ald_sample_batch *const *batches,
                                 size_t count)
{
    ald_status rc = sq_begin(sq, "append_samples");
    for (size_t i = 0; i < count && rc == ALD_OK; i++)
        rc = insert_rows(sq, batches[i]);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    return sq_commit(sq, "committing append_samples");
}

/* With durable_samples off only this commit skips the fsync; the next FULL
 * commit (an outbox push, a command) syncs the WAL including these frames. */
static ald_status append_locked(sq_store *sq, const ald_sample_batch *b)
{
    if (sq->durable_samples)
        return insert_batches(sq, &b, 1);
    ald_status rc = sq_exec(sq, "PRAGMA synchronous=NORMAL", "relaxing synchronous");
    if (rc == ALD_OK)
        rc = insert_batches(sq, &b, 1);
    ald_status back = sq_exec(sq, "PRAGMA synchronous=FULL", "restoring synchronous=FULL");
    return rc != ALD_OK ? rc : back;
}

/* OR IGNORE would also swallow a NULL key silently: refuse it up front. */
static ald_status check_batch(sq_store *sq, const ald_sample_batch *batch)
{
    if (!batch || (batch->count && !batch->samples))
        return sq_error(sq, ALD_ERR_INVALID, "append_samples: no batch or no samples array");
    for (size_t i = 0; i < batch->count; i++)
        if (!batch->samples[i].parameter_id)
            return sq_error(sq, ALD_ERR_INVALID,
                            "append_samples: sample %zu has no "
                            "parameter_id",
                            i);
    return ALD_OK;
}

ald_status sq_append_samples(void *instance, const ald_sample_batch *batch)
{
    sq_store *sq = instance;
    ald_status rc = check_batch(sq, batch);
    if (rc != ALD_OK || batch->count == 0)
        return rc;
    rc = sq_enter(sq, "append_samples");
    return rc == ALD_OK ? sq_leave(sq, append_locked(sq, batch)) : rc;
}

/* Replay of a backlog: always durable (the outbox acknowledges after it). */
ald_status sq_append_sample_batches(void *instance, const ald_sample_batch *const *batches,
                                    size_t count)
{
    sq_store *sq = instance;
    if (count > 0 && !batches)
        return sq_error(sq, ALD_ERR_INVALID, "append_sample_batches: batches is NULL");
    for (size_t i = 0; i < count; i++) {
        ald_status rc = check_batch(sq, batches[i]);
        if (rc != ALD_OK)
            return rc;
    }
    if (count == 0)
        return ALD_OK;
    ald_status rc = sq_enter(sq, "append_sample_batches");
    return rc == ALD_OK ? sq_leave(sq, insert_batches(sq, batches, count)) : rc;
}
