/*
 * sb_samples.c - the parameter map (component_parameters_full), live values
 * (one RPC per logger cycle) and samples (parameter_value_history and
 * process_data_points, one bulk insert each per batch).
 *
 * Idempotent sample writes: both tables have a unique key that includes the
 * timestamp (migration 0001). A replayed batch is sent with
 * on_conflict=<key> + resolution=ignore-duplicates, so rows already present
 * are skipped. A first-time batch that meets a 409 (it reached the database
 * before, e.g. an attempt whose answer was lost) is sent once more the same
 * way: rows that were missing land, duplicates are skipped, and the batch is
 * reported as applied. On a site whose history holds duplicates the key
 * cannot exist; there a BEFORE INSERT trigger skips rows already present,
 * and a replay that PostgreSQL refuses for its on_conflict (400, 42P10) is
 * sent plainly.
 *
 * append_sample_batches (ABI 1.1, the outbox replay) sends the rows of many
 * batches, each with its own timestamp, as one bulk upsert per table with
 * the same on_conflict key: one round trip per table instead of one per
 * second of outage. PostgREST runs a request in one transaction, so the call
 * is all or nothing.
 */
#include <math.h>
#include <string.h>

#include "sb_store.h"

static const char *const HISTORY_COLUMNS = "\"parameter_id\",\"value\",\"set_point\",\"timestamp\"";
static const char *const HISTORY_KEY = "parameter_id,timestamp";
static const char *const POINTS_COLUMNS =
    "\"process_id\",\"parameter_id\",\"value\",\"set_point\",\"timestamp\"";
static const char *const POINTS_KEY = "process_id,parameter_id,timestamp";

static void emit_parameter(const json_t *row, ald_parameter_sink sink, void *ctx)
{
    ald_parameter p = {
        .struct_size = sizeof p,
        .id = sb_str(row, "id"),
        .component_id = sb_str(row, "component_id"),
        .component_name = sb_str(row, "component_name"),
        .name = sb_str(row, "parameter_name"),
        .unit = sb_str(row, "unit"),
        .data_type = sb_str(row, "data_type"),
        .read_type = sb_str(row, "read_modbus_type"),
        .read_address = sb_int(row, "read_modbus_address"),
        .write_type = sb_str(row, "write_modbus_type"),
        .write_address = sb_int(row, "write_modbus_address"),
        .is_writable = sb_bool(row, "is_writable"),
        .min_value = sb_num(row, "min_value"),
        .max_value = sb_num(row, "max_value"),
        .current_value = sb_num(row, "current_value"),
        .set_value = sb_num(row, "set_value"),
    };
    sink(ctx, &p);
}

ald_status sb_load_parameters(void *instance, const char *machine_id, ald_parameter_sink sink,
                              void *ctx)
{
    sb_store *sb = instance;
    const char *machine = machine_id ? machine_id : sb->machine_id;
    if (!machine || !sink)
        return sb_error(sb, ALD_ERR_INVALID, "load_parameters: a machine_id (argument or "
                        "setting) and a sink are required");
    sb_request req;
    sb_response resp;
    /* select=* so a site's view with extra columns (or fewer optional ones) works */
    sb_req_init(&req, "GET", "component_parameters_full", "load_parameters");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "machine_id", "eq", machine);
    sb_req_param(&req, "order", "component_name.asc,parameter_name.asc,id.asc");
    ald_status rc = sb_send(sb, &req, &resp);
    for (size_t i = 0; rc == ALD_OK && i < sb_rows(&resp); i++)
        emit_parameter(sb_row(&resp, i), sink, ctx);
    sb_response_free(&resp);
    return rc;
}

/* {"id": ..., "current_value"?: ..., "set_value"?: ...}; NULL when both are NaN. */
static json_t *value_update(const ald_parameter_value *v)
{
    if (!v->parameter_id || (isnan(v->current_value) && isnan(v->set_value)))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", sb_jstr(v->parameter_id));
    if (!isnan(v->current_value))
        json_object_set_new(o, "current_value", sb_jnum(v->current_value));
    if (!isnan(v->set_value))
        json_object_set_new(o, "set_value", sb_jnum(v->set_value));
    return o;
}

ald_status sb_update_parameter_values(void *instance, const ald_parameter_value *values,
                                      size_t count)
{
    sb_store *sb = instance;
    if (count > 0 && !values)
        return sb_error(sb, ALD_ERR_INVALID, "update_parameter_values: values is NULL");
    if (!sb_schema_has(sb, "/rpc/batch_update_parameter_values")) /* said once, at start */
        return sb_error(sb, ALD_ERR_UNSUPPORTED, "update_parameter_values: the project has no "
                        "function batch_update_parameter_values; %s", sb_schema_hint());
    json_t *updates = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *u = value_update(&values[i]);
        if (u)
            json_array_append_new(updates, u);
    }
    if (json_array_size(updates) == 0) { /* nothing to change: no request */
        json_decref(updates);
        return ALD_OK;
    }
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "rpc/batch_update_parameter_values", "update_parameter_values");
    req.body = json_object();
    json_object_set_new(req.body, "p_updates", updates);
    ald_status rc = sb_call(sb, &req, &resp);
    sb_req_free(&req);
    sb_response_free(&resp);
    return rc;
}

/* The rows of one bulk insert as JSON text, written directly: an hour of
 * outage at 1000 tags is 3.6 million rows, and a jansson object per row (with
 * its allocations, hashing and number formatting) cost the replay more than
 * the request. */
typedef struct sample_rows {
    sb_buf text; /* "[{...},{...}" while open, "]" appended by rows_close */
    size_t count;
} sample_rows;

static void rows_add(sample_rows *rows, const char *process_id, const ald_sample *s,
                     const char *ts)
{
    sb_buf *b = &rows->text;
    sb_buf_puts(b, rows->count++ ? ",{" : "[{");
    if (process_id) {
        sb_buf_puts(b, "\"process_id\":");
        sb_buf_json_str(b, process_id);
        sb_buf_puts(b, ",");
    }
    sb_buf_puts(b, "\"parameter_id\":");
    sb_buf_json_str(b, s->parameter_id);
    sb_buf_puts(b, ",\"value\":");
    sb_buf_json_num(b, s->value);
    if (isfinite(s->set_point)) { /* a key left out is NULL: ?columns= names it */
        sb_buf_puts(b, ",\"set_point\":");
        sb_buf_json_num(b, s->set_point);
    }
    sb_buf_puts(b, ",\"timestamp\":\"");
    sb_buf_puts(b, ts); /* sb_iso_time: digits and -:.TZ only */
    sb_buf_puts(b, "\"}");
}

static void rows_close(sample_rows *rows)
{
    sb_buf_puts(&rows->text, rows->count ? "]" : "[]");
}

static ald_status post_rows(sb_store *sb, const char *table, const char *columns,
                            const char *key, const sample_rows *rows, int ignore_duplicates,
                            long *http_status)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", table, "append_samples");
    if (ignore_duplicates)
        sb_req_param(&req, "on_conflict", key);
    sb_req_param(&req, "columns", columns);
    req.prefer = ignore_duplicates ? "return=minimal,resolution=ignore-duplicates"
                                   : "return=minimal";
    req.raw_body = rows->text.data;
    ald_status rc = sb_send(sb, &req, &resp);
    *http_status = resp.status;
    sb_response_free(&resp);
    return rc;
}

/* One bulk insert; a 409 means the batch (or part of it) is already there. */
static ald_status insert_samples(sb_store *sb, const char *table, const char *columns,
                                 const char *key, sample_rows *rows, int replay)
{
    long status = 0;
    rows_close(rows);
    if (rows->text.oom)
        return sb_error(sb, ALD_ERR_NOMEM, "append_samples: out of memory building %zu rows "
                        "for %s", rows->count, table);
    ald_status rc = post_rows(sb, table, columns, key, rows, replay, &status);
    if (rc == ALD_ERR_CONFLICT && !replay)
        rc = post_rows(sb, table, columns, key, rows, 1, &status);
    if (rc == ALD_ERR_INVALID && status == 400 && !replay)
        return rc; /* a bad batch, not a missing key */
    if (rc == ALD_ERR_INVALID && status == 400) {
        /* 42P10: no unique key to name in on_conflict. Sites whose history
         * holds duplicates get a skip-duplicates trigger instead (migration
         * 0001), which makes a plain insert idempotent. */
        rc = post_rows(sb, table, columns, key, rows, 0, &status);
    }
    if (rc == ALD_ERR_CONFLICT && status == 409)
        return ALD_OK; /* a site whose key is not the one named: already applied */
    return rc;
}

static ald_status check_batch(sb_store *sb, const ald_sample_batch *b)
{
    if (!b || (b->count > 0 && !b->samples) || b->timestamp_ms < 0)
        return sb_error(sb, ALD_ERR_INVALID, "append_samples: a batch with samples and a "
                        "timestamp is required");
    for (size_t i = 0; i < b->count; i++)
        if (!b->samples[i].parameter_id)
            return sb_error(sb, ALD_ERR_INVALID, "append_samples: sample %zu has no "
                            "parameter_id", i);
    return ALD_OK;
}

/* Rows of every batch for one table: history (process_id NULL) or the
 * process points of the batches that have a process. */
static void batch_rows(sample_rows *rows, const ald_sample_batch *const *batches, size_t count,
                       int points)
{
    for (size_t b = 0; b < count; b++) {
        const ald_sample_batch *batch = batches[b];
        if (points && !batch->process_id)
            continue;
        char ts[SB_ISO_LEN];
        sb_iso_time(batch->timestamp_ms, ts);
        for (size_t i = 0; i < batch->count; i++)
            rows_add(rows, points ? batch->process_id : NULL, &batch->samples[i], ts);
    }
}

/* Both tables' inserts for these batches: history first, then the points
 * of the batches with a process; replay = idempotent (on_conflict). */
static ald_status insert_batches(sb_store *sb, const ald_sample_batch *const *batches,
                                 size_t count, int replay)
{
    sample_rows rows = {0};
    batch_rows(&rows, batches, count, 0);
    ald_status rc = rows.count ? insert_samples(sb, "parameter_value_history", HISTORY_COLUMNS,
                                                HISTORY_KEY, &rows, replay)
                               : ALD_OK;
    sb_buf_free(&rows.text);
    if (rc != ALD_OK)
        return rc;
    rows = (sample_rows){0};
    batch_rows(&rows, batches, count, 1);
    if (rows.count)
        rc = insert_samples(sb, "process_data_points", POINTS_COLUMNS, POINTS_KEY, &rows,
                            replay);
    sb_buf_free(&rows.text);
    return rc;
}

ald_status sb_append_sample_batches(void *instance, const ald_sample_batch *const *batches,
                                    size_t count)
{
    sb_store *sb = instance;
    if (count > 0 && !batches)
        return sb_error(sb, ALD_ERR_INVALID, "append_sample_batches: batches is NULL");
    for (size_t b = 0; b < count; b++) {
        ald_status rc = check_batch(sb, batches[b]);
        if (rc != ALD_OK)
            return rc;
    }
    return insert_batches(sb, batches, count, 1);
}

ald_status sb_append_samples(void *instance, const ald_sample_batch *batch)
{
    sb_store *sb = instance;
    ald_status rc = check_batch(sb, batch);
    if (rc != ALD_OK || batch->count == 0)
        return rc;
    return insert_batches(sb, &batch, 1, batch->replay);
}
