/*
 * sqlite_db.c - the small toolbox every operation of the plugin uses: error
 * mapping, the prepared-statement cache, transactions, NULL-aware binding and
 * reading, timestamps and uuids.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sqlite_store.h"

#include "ald/number.h"

ald_status sq_map_rc(int sqlite_rc)
{
    /* A foreign key failure means a row names an id that does not exist. */
    if (sqlite_rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return ALD_ERR_NOT_FOUND;
    switch (sqlite_rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ALD_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ALD_ERR_TRANSIENT;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return ALD_ERR_IO;
    case SQLITE_CONSTRAINT:
        return ALD_ERR_CONFLICT;
    case SQLITE_NOMEM:
        return ALD_ERR_NOMEM;
    default:
        return ALD_ERR_INTERNAL;
    }
}

/* What an operator should do about a class of failure; "" when nothing useful. */
static const char *hint_for(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "; another process holds the database lock, retry later";
    case SQLITE_FULL:
        return "; the disk is full, free space";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "; the file is not a usable SQLite database: restart the engine, which "
               "moves it aside and creates a fresh store";
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        return "; check that the directory exists and is writable by the engine";
    default:
        return "";
    }
}

ald_status sq_fail(sq_store *sq, int sqlite_rc, const char *what)
{
    const char *msg = sq->db ? sqlite3_errmsg(sq->db) : sqlite3_errstr(sqlite_rc);
    snprintf(sq->last_error, sizeof sq->last_error, "%s: %s (%s, database %s)%s", what, msg,
             sqlite3_errstr(sqlite_rc), sq->path, hint_for(sqlite_rc));
    ald_status st = sq_map_rc(sqlite_rc);
    return st == ALD_OK ? ALD_ERR_INTERNAL : st;
}

ald_status sq_error(sq_store *sq, ald_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sq->last_error, sizeof sq->last_error, fmt, ap);
    va_end(ap);
    return status;
}

ald_status sq_enter(sq_store *sq, const char *what)
{
    pthread_mutex_lock(&sq->lock);
    if (sq->db)
        return ALD_OK;
    pthread_mutex_unlock(&sq->lock);
    return sq_error(sq, ALD_ERR_DISCONNECTED,
                    "%s: database %s is not open (start() failed or "
                    "was not called)",
                    what, sq->path);
}

ald_status sq_leave(sq_store *sq, ald_status rc)
{
    /* Only a failure of the file itself means "not reachable"; a conflict or
     * a missing row is a perfectly healthy answer. */
    sq->connected = !(rc == ALD_ERR_IO || rc == ALD_ERR_DISCONNECTED);
    pthread_mutex_unlock(&sq->lock);
    return rc;
}

sqlite3_stmt *sq_stmt(sq_store *sq, const char *sql)
{
    size_t i;
    for (i = 0; i < SQ_STMT_CACHE && sq->stmts[i].sql; i++) {
        if (sq->stmts[i].sql == sql) {
            sqlite3_stmt *st = sq->stmts[i].stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    if (i == SQ_STMT_CACHE) {
        sq_error(sq, ALD_ERR_INTERNAL,
                 "statement cache full (%d): raise SQ_STMT_CACHE in "
                 "sqlite_store.h",
                 SQ_STMT_CACHE);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(sq->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        char what[160];
        snprintf(what, sizeof what, "preparing \"%.100s\"", sql);
        sq_fail(sq, rc, what);
        return NULL;
    }
    sq->stmts[i] = (sq_cached_stmt){.sql = sql, .stmt = st};
    return st;
}

void sq_finalize_all(sq_store *sq)
{
    for (size_t i = 0; i < SQ_STMT_CACHE && sq->stmts[i].sql; i++) {
        sqlite3_finalize(sq->stmts[i].stmt);
        sq->stmts[i] = (sq_cached_stmt){0};
    }
}

ald_status sq_run(sq_store *sq, sqlite3_stmt *st, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    ald_status status = rc == SQLITE_DONE ? ALD_OK : sq_fail(sq, rc, what);
    sqlite3_reset(st);
    return status;
}

ald_status sq_exec(sq_store *sq, const char *sql, const char *what)
{
    int rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? ALD_OK : sq_fail(sq, rc, what);
}

ald_status sq_begin(sq_store *sq, const char *what)
{
    /* IMMEDIATE takes the write lock up front, so the busy timeout applies
     * instead of a lock upgrade failing half way through. */
    return sq_exec(sq, "BEGIN IMMEDIATE", what);
}

ald_status sq_commit(sq_store *sq, const char *what)
{
    ald_status rc = sq_exec(sq, "COMMIT", what);
    return rc == ALD_OK ? rc : sq_rollback(sq, rc);
}

ald_status sq_rollback(sq_store *sq, ald_status rc)
{
    if (!sqlite3_get_autocommit(sq->db))
        sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void sq_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

void sq_bind_double(sqlite3_stmt *st, int idx, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_double(st, idx, v);
}

void sq_bind_int_or_null(sqlite3_stmt *st, int idx, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, v);
}

const char *sq_col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/* Strict: SQLite keeps text in a REAL column as text, and its own
 * conversion reads "abc" as 0 and "120abc" as 120. Text must be exactly a
 * number (ald/number.h); anything else is NaN, which no path writes. */
double sq_col_double(sqlite3_stmt *st, int col)
{
    double v = NAN;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        return sqlite3_column_double(st, col);
    case SQLITE_TEXT:
        if (ald_parse_number(sq_col_text(st, col), &v) != 0)
            v = NAN;
        return v;
    default: /* NULL, BLOB */
        return NAN;
    }
}

int64_t sq_col_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

int64_t sq_now_ms(const sq_store *sq)
{
    if (sq->host && sq->host->realtime_ns)
        return sq->host->realtime_ns() / 1000000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *sq_iso_time(int64_t ms, char *buf)
{
    time_t secs = (time_t)(ms / 1000);
    int millis = (int)(ms % 1000);
    if (millis < 0) { /* before 1970: keep the fraction positive */
        millis += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, SQ_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, SQ_ISO_LEN - n, ".%03dZ", millis);
    return buf;
}

int64_t sq_parse_iso(const char *text)
{
    if (!text)
        return -1;
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(text, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    const char *frac = text + consumed;
    if (*frac == '.') {
        int scale = 100;
        for (frac++; *frac >= '0' && *frac <= '9'; frac++, scale /= 10)
            ms += (*frac - '0') * scale; /* digits past the 3rd add 0 */
    }
    return ms;
}

void sq_uuid(char *buf)
{
    unsigned char b[16];
    sqlite3_randomness(sizeof b, b);              /* seeded from the OS by SQLite */
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(buf, SQ_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

ald_status sq_copy_out(sq_store *sq, const char *id, char *out, size_t out_len)
{
    if (!out || out_len <= strlen(id))
        return sq_error(sq, ALD_ERR_INVALID,
                        "id buffer of %zu bytes is too small for \"%s\" "
                        "(need %zu)",
                        out_len, id, strlen(id) + 1);
    memcpy(out, id, strlen(id) + 1);
    return ALD_OK;
}
