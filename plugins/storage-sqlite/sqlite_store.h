/*
 * sqlite_store.h - internals shared by the files of the storage-sqlite plugin.
 *
 * One instance = one sqlite3 connection to one database file, plus a cache of
 * prepared statements keyed by their (static) SQL text. Every vtable operation
 * runs between sq_enter() and sq_leave(), which hold the instance mutex: the
 * host already serialises calls, the mutex makes the cached statements safe
 * even if it ever did not.
 *
 * ERRORS: helpers that fail record the reason in sq->last_error (what was being
 * done + sqlite3_errmsg + the file) and return the mapped ald_status:
 * BUSY/LOCKED -> TRANSIENT, FULL/IOERR/CANTOPEN/CORRUPT/NOTADB -> IO,
 * CONSTRAINT -> CONFLICT (a FOREIGN KEY failure -> NOT_FOUND: an unknown id),
 * NOMEM -> NOMEM, anything else -> INTERNAL.
 */
#ifndef ALD_SQLITE_STORE_H
#define ALD_SQLITE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "ald/plugin.h"

#define SQ_STMT_CACHE 128 /* distinct statements the plugin prepares (now ~60) */
#define SQ_ISO_LEN 32     /* "2026-11-27T03:29:06.123Z" + NUL, with room */
#define SQ_UUID_LEN 37    /* 36 characters + NUL */

typedef struct sq_cached_stmt {
    const char *sql; /* identity: the address of a static string */
    sqlite3_stmt *stmt;
} sq_cached_stmt;

typedef struct sq_store {
    const ald_host *host;
    /* settings, validated in create() */
    char *path;
    int seed_demo;
    int durable_samples; /* 0: sample batches commit with synchronous=NORMAL */
    int64_t busy_timeout_ms;
    /* runtime */
    pthread_mutex_t lock;
    sqlite3 *db;
    int connected; /* last operation reached the file */
    sq_cached_stmt stmts[SQ_STMT_CACHE];
    char last_error[1024];
} sq_store;

/* ---- sqlite_db.c: errors, statements, conversions ------------------------ */

/* Records "<what>: <sqlite message> (<path>)" and returns the mapped status. */
ald_status sq_fail(sq_store *sq, int sqlite_rc, const char *what);
/* Records a free-form message and returns status. */
ald_status sq_error(sq_store *sq, ald_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ald_status sq_map_rc(int sqlite_rc);

/* Locks the instance; fails (unlocked) when start() has not opened the file. */
ald_status sq_enter(sq_store *sq, const char *what);
/* Unlocks and returns rc, remembering whether the store was reachable. */
ald_status sq_leave(sq_store *sq, ald_status rc);

/* The cached, reset statement for `sql` (prepared on first use), or NULL
 * with last_error set. `sql` must be a string with static storage. */
sqlite3_stmt *sq_stmt(sq_store *sq, const char *sql);
void sq_finalize_all(sq_store *sq);

/* Runs a statement to completion; SQLITE_DONE/ROW map to ALD_OK. */
ald_status sq_run(sq_store *sq, sqlite3_stmt *st, const char *what);
/* Executes literal SQL (no parameters), e.g. "BEGIN IMMEDIATE". */
ald_status sq_exec(sq_store *sq, const char *sql, const char *what);
ald_status sq_begin(sq_store *sq, const char *what);
ald_status sq_commit(sq_store *sq, const char *what);
/* Rolls back if a transaction is open and passes rc through. */
ald_status sq_rollback(sq_store *sq, ald_status rc);

/* Binding helpers: NULL text, NaN doubles and negative ids bind SQL NULL. */
void sq_bind_text(sqlite3_stmt *st, int idx, const char *s);
void sq_bind_double(sqlite3_stmt *st, int idx, double v);
void sq_bind_int_or_null(sqlite3_stmt *st, int idx, int64_t v);
/* Column helpers: SQL NULL reads as NULL / NaN / -1 (the ABI conventions). */
const char *sq_col_text(sqlite3_stmt *st, int col);
double sq_col_double(sqlite3_stmt *st, int col);
int64_t sq_col_int(sqlite3_stmt *st, int col);

/* Wall clock in ms since the epoch (from the host). */
int64_t sq_now_ms(const sq_store *sq);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into buf[SQ_ISO_LEN]; returns buf. */
char *sq_iso_time(int64_t ms, char *buf);
/* Parses what sq_iso_time writes (also without ms / with "+00:00");
 * returns -1 for NULL or unparsable text. */
int64_t sq_parse_iso(const char *text);
/* A random version-4 uuid into buf[SQ_UUID_LEN]. */
void sq_uuid(char *buf);
/* Copies an id into a caller's buffer; INVALID when it does not fit. */
ald_status sq_copy_out(sq_store *sq, const char *id, char *out, size_t out_len);

/* ---- sqlite_schema.c ------------------------------------------------------ */

/* Applies pending migrations in one transaction; seeds the demo data when
 * the file was new and seed_demo is set. */
ald_status sq_migrate(sq_store *sq);
int sq_schema_latest_version(void);

/* ---- sqlite_seed.c --------------------------------------------------------- */

/* Inserts the demo machine, components, parameters and recipes (inside the
 * caller's transaction). */
ald_status sq_seed_demo(sq_store *sq);

/* ---- vtable operations (one file per domain) -------------------------------- */

/* sqlite_samples.c */
ald_status sq_load_parameters(void *instance, const char *machine_id, ald_parameter_sink sink,
                              void *ctx);
ald_status sq_update_parameter_values(void *instance, const ald_parameter_value *values,
                                      size_t count);
ald_status sq_append_samples(void *instance, const ald_sample_batch *batch);
ald_status sq_append_sample_batches(void *instance, const ald_sample_batch *const *batches,
                                    size_t count);

/* sqlite_recipes.c */
ald_status sq_load_recipe(void *instance, const char *recipe_id,
                          const ald_recipe_reader *reader);
ald_status sq_list_recipes(void *instance, ald_recipe_info_sink sink, void *ctx);

/* sqlite_commands.c */
ald_status sq_fetch_pending_commands(void *instance, const char *machine_id, unsigned limit,
                                     ald_command_sink sink, void *ctx);
ald_status sq_claim_command(void *instance, const char *command_id);
ald_status sq_finish_command(void *instance, const char *command_id, const char *status,
                             const char *error_message);
ald_status sq_insert_command(void *instance, const char *machine_id, const char *type,
                             const char *parameters_json, char *id_out, size_t out_len);
ald_status sq_fetch_setpoint_commands(void *instance, const char *machine_id, unsigned limit,
                                      ald_setpoint_command_sink sink, void *ctx);
ald_status sq_claim_setpoint_command(void *instance, const char *command_id);
ald_status sq_finish_setpoint_command(void *instance, const char *command_id,
                                      const char *error_message);

/* sqlite_machines.c */
ald_status sq_get_machine(void *instance, const char *machine_id, ald_machine_sink sink,
                          void *ctx);
ald_status sq_set_machine_state(void *instance, const ald_machine_update *update);
ald_status sq_get_or_create_session(void *instance, const char *operator_id,
                                    const char *machine_id, char *session_id_out,
                                    size_t out_len);
ald_status sq_write_health(void *instance, const ald_health_report *report);
ald_status sq_acquire_lease(void *instance, const char *machine_id, const char *holder,
                            int64_t ttl_ms);
ald_status sq_release_lease(void *instance, const char *machine_id, const char *holder);

/* sqlite_process.c */
ald_status sq_create_process(void *instance, const ald_process_start *start,
                             char *process_id_out, size_t out_len);
ald_status sq_update_process_state(void *instance, const ald_process_state *state);
ald_status sq_finish_process(void *instance, const char *process_id, const char *status,
                             const char *error_message, int64_t end_time_ms);
ald_status sq_find_open_processes(void *instance, const char *machine_id,
                                  ald_process_sink sink, void *ctx);
ald_status sq_find_last_finished_process(void *instance, const char *machine_id,
                                         ald_process_sink sink, void *ctx);
ald_status sq_get_process_state(void *instance, const char *process_id,
                                ald_process_state_sink sink, void *ctx);

/* sqlite_outbox.c */
ald_status sq_outbox_push(void *instance, const char *kind, const void *payload,
                          size_t payload_len);
ald_status sq_outbox_peek(void *instance, unsigned limit, ald_outbox_sink sink, void *ctx);
ald_status sq_outbox_ack(void *instance, int64_t upto_seq);
ald_status sq_outbox_stats(void *instance, int64_t *depth, int64_t *oldest_created_ms);

/* sqlite_import.c */
ald_status sq_save_recipe(void *instance, const ald_recipe_info *recipe,
                          const ald_recipe_step *const *steps, size_t step_count,
                          const char *const *parameter_names,
                          const char *const *parameter_values, size_t parameter_count);
ald_status sq_get_command(void *instance, const char *command_id, ald_command_sink sink,
                          void *ctx);
/* sqlite_cache.c */
ald_status sq_save_parameters(void *instance, const char *machine_id,
                              const ald_parameter *const *params, size_t count);

#endif
