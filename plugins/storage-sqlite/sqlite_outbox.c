/*
 * sqlite_outbox.c - the durable outbox that makes this store a fallback:
 * records the primary store could not take wait here, oldest first, until a
 * replay worker forwards them and acks.
 *
 * A push is one autocommit INSERT; with synchronous=FULL in WAL mode the
 * commit is fsync'd before sqlite3_step returns, so ALD_OK means on disk.
 * AUTOINCREMENT keeps seq increasing even after the newest rows were acked.
 */
#include "sqlite_store.h"

static const char SQL_PUSH[] =
    "INSERT INTO outbox (kind, payload, created_ms) VALUES (?1, ?2, ?3)";
static const char SQL_PEEK[] =
    "SELECT seq, kind, payload, created_ms FROM outbox ORDER BY seq LIMIT ?1";
static const char SQL_ACK[] = "DELETE FROM outbox WHERE seq <= ?1";
static const char SQL_STATS[] = "SELECT count(*), min(created_ms) FROM outbox";

ald_status sq_outbox_push(void *instance, const char *kind, const void *payload,
                          size_t payload_len)
{
    sq_store *sq = instance;
    if (!kind || (payload_len && !payload) || payload_len > (size_t)INT32_MAX)
        return sq_error(sq, ALD_ERR_INVALID,
                        "outbox_push: a kind and a payload under 2 GiB "
                        "are required");
    ald_status rc = sq_enter(sq, "outbox_push");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_PUSH);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sq_bind_text(st, 1, kind);
    sqlite3_bind_blob(st, 2, payload_len ? payload : "", (int)payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, sq_now_ms(sq));
    rc = sq_run(sq, st, "pushing to the outbox");
    sqlite3_clear_bindings(st); /* do not keep the caller's payload pointer */
    return sq_leave(sq, rc);
}

static void emit_record(sqlite3_stmt *st, ald_outbox_sink sink, void *ctx)
{
    ald_outbox_record r = {
        .struct_size = sizeof r,
        .seq = sqlite3_column_int64(st, 0),
        .kind = sq_col_text(st, 1),
        .payload = sqlite3_column_blob(st, 2),
        .payload_len = (size_t)sqlite3_column_bytes(st, 2),
        .created_ms = sqlite3_column_int64(st, 3),
    };
    sink(ctx, &r);
}

ald_status sq_outbox_peek(void *instance, unsigned limit, ald_outbox_sink sink, void *ctx)
{
    sq_store *sq = instance;
    if (!sink)
        return sq_error(sq, ALD_ERR_INVALID, "outbox_peek: sink is required");
    ald_status rc = sq_enter(sq, "outbox_peek");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_PEEK);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sqlite3_bind_int64(st, 1, limit ? (int64_t)limit : -1);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        emit_record(st, sink, ctx);
    sqlite3_reset(st);
    rc = src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading the outbox");
    return sq_leave(sq, rc);
}

ald_status sq_outbox_ack(void *instance, int64_t upto_seq)
{
    sq_store *sq = instance;
    ald_status rc = sq_enter(sq, "outbox_ack");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_ACK);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    sqlite3_bind_int64(st, 1, upto_seq);
    return sq_leave(sq, sq_run(sq, st, "acknowledging outbox records"));
}

ald_status sq_outbox_stats(void *instance, int64_t *depth, int64_t *oldest_created_ms)
{
    sq_store *sq = instance;
    ald_status rc = sq_enter(sq, "outbox_stats");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_STATS);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        if (depth)
            *depth = sqlite3_column_int64(st, 0);
        if (oldest_created_ms)
            *oldest_created_ms = sq_col_int(st, 1); /* -1 when empty */
    }
    sqlite3_reset(st);
    rc = src == SQLITE_ROW ? ALD_OK : sq_fail(sq, src, "reading outbox statistics");
    return sq_leave(sq, rc);
}
