/*
 * sb_store.h - internals shared by the files of the storage-supabase plugin.
 *
 * The plugin speaks PostgREST (a Supabase project's /rest/v1) over libcurl and
 * keeps the site's table layout (docs/supabase.md, /work/shared/SCHEMA.md).
 * Layers, one file each:
 *   sb_buf.c      growable strings, URL encoding, request building
 *   sb_json.c     jansson helpers, ISO-8601 times, uuids
 *   sb_errors.c   last_error, PostgREST error bodies, HTTP/curl -> ald_status
 *   sb_http.c     CURL handle pool, one request with the retry policy, metrics
 *   sb_*.c        the domain operations (samples, recipes, commands, machines,
 *                 processes)
 *   sb_plugin.c   settings, lifecycle, descriptor
 *
 * THREADING: the plugin declares ALD_CAP_STORAGE_THREAD_SAFE. Each request
 * borrows a CURL easy handle from the instance's pool (so connections are
 * reused across calls) and returns it afterwards; nothing else is shared but
 * the pool, the settings (read-only after create/start) and last_error (a
 * per-thread copy, see sb_errors.c), all behind `lock`.
 *
 * SECRETS: the key lives only in sb->key and in the header list built per
 * request (sb_http.c). It is never formatted into last_error, logs or URLs.
 */
#ifndef ALD_SB_STORE_H
#define ALD_SB_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ald/plugin.h"

#define SB_ERR_LEN 1024
#define SB_ISO_LEN 64 /* "2026-11-27T03:29:06.123Z" + NUL, with room for any year */
#define SB_UUID_LEN 37 /* 36 characters + NUL */
#define SB_POOL_MAX 8  /* idle CURL handles kept per instance */

/* ---- sb_buf.c: strings and request building ------------------------------- */

typedef struct sb_buf {
    char *data; /* NUL-terminated once anything was appended */
    size_t len, cap;
    int oom; /* an append failed: the content is incomplete */
} sb_buf;

void sb_buf_free(sb_buf *b);
void sb_buf_add(sb_buf *b, const char *s, size_t n);
void sb_buf_puts(sb_buf *b, const char *s);
void sb_buf_printf(sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Percent-encodes everything but RFC 3986 unreserved characters. */
void sb_buf_urlencode(sb_buf *b, const char *s);

/* JSON text without a jansson tree (bulk sample rows, thousands a request):
 * a string in double quotes with ", \ and control characters escaped (other
 * bytes as they are: ids came through jansson, which checked their UTF-8);
 * a number with 17 significant digits (exact, as jansson writes it, '.'
 * whatever the locale), or null when it is not finite. */
void sb_buf_json_str(sb_buf *b, const char *s);
void sb_buf_json_num(sb_buf *b, double v);

/* A value inside a PostgREST list or logic tree (in.(...), or=(...)):
 * double-quoted when it holds , ( ) " \ or a space. Not URL-encoded. */
void sb_buf_pgrst_item(sb_buf *raw, const char *v);

/* One PostgREST request. path is "<resource>?<query>" (already encoded). */
typedef struct sb_request {
    const char *method; /* GET, POST, PATCH, DELETE */
    const char *what;   /* the operation, for error text: "claim_command" */
    sb_buf path;
    int has_query;
    json_t *body;       /* owned; NULL = no body */
    const char *raw_body; /* JSON text sent instead of body (not owned), or NULL */
    const char *prefer; /* Prefer header value or NULL */
    int want_object;    /* Accept: application/vnd.pgrst.object+json */
} sb_request;

void sb_req_init(sb_request *r, const char *method, const char *resource, const char *what);
void sb_req_free(sb_request *r);
/* name=<value> with the value URL-encoded (select, order, limit, columns...). */
void sb_req_param(sb_request *r, const char *name, const char *value);
/* column=<op>.<value> (eq, neq, gt, lt, is ...), the value URL-encoded. */
void sb_req_filter(sb_request *r, const char *column, const char *op, const char *value);
/* column=in.(v1,v2,...): items quoted when they hold PostgREST punctuation. */
void sb_req_filter_in(sb_request *r, const char *column, const char *const *values,
                      size_t count);

/* Whether a key looks like a JWT (three non-empty base64url parts). Only
 * then is it also sent as "Authorization: Bearer": Supabase's newer
 * sb_secret_/sb_publishable_ keys are not JWTs and must not be. */
int sb_key_is_jwt(const char *key);

/* ---- sb_json.c -------------------------------------------------------------- */

/* Field readers for a row object; JSON null or a missing key reads as
 * NULL / NaN / -1 (the ABI conventions). */
const char *sb_str(const json_t *row, const char *key);
double sb_num(const json_t *row, const char *key);
int64_t sb_int(const json_t *row, const char *key);
int sb_bool(const json_t *row, const char *key);
/* A jsonb column as compact JSON text (malloc'ed; NULL for null/missing). */
char *sb_json_text(const json_t *row, const char *key);

/* Value builders that map the ABI's "absent" markers to JSON null. */
json_t *sb_jstr(const char *s);
json_t *sb_jnum(double v);        /* NaN -> null */
json_t *sb_jint(int64_t v);       /* negative -> null */
json_t *sb_jtime(int64_t ms);     /* negative -> null, else ISO-8601 text */

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into buf[SB_ISO_LEN]; returns buf. */
char *sb_iso_time(int64_t ms, char *buf);
/* Parses ISO-8601 as PostgreSQL writes it ("...T04:02:38.334695+00:00",
 * "Z", no fraction); -1 for NULL or unparsable text. */
int64_t sb_parse_iso(const char *text);
/* A random version-4 uuid into buf[SB_UUID_LEN]. */
void sb_uuid(char *buf);

/* ---- the instance ------------------------------------------------------------ */

typedef struct sb_metrics {
    ald_metric *requests[5]; /* by outcome: see sb_http.c */
    ald_metric *seconds;
    ald_metric *retries;
} sb_metrics;

typedef struct sb_store {
    const ald_host *host;
    /* settings, validated in create() */
    char *base_url; /* "<url>/rest/v1" */
    char *key;      /* from `key`, or read from key_file in start() */
    char *key_file;
    char *ca_file;
    char *machine_id;
    int64_t timeout_ms, connect_timeout_ms, retries, backoff_initial_ms, backoff_max_ms;
    int insecure_skip_verify;
    int send_bearer; /* key is JWT-shaped */
    /* runtime */
    pthread_mutex_t lock;
    void *pool[SB_POOL_MAX]; /* idle CURL * handles */
    int pool_len;
    int connected; /* last request got an HTTP answer */
    /* learned in start() (sb_schema.c); read-only afterwards but for bits
     * of missing_mask set when a function turns out missing on first use */
    unsigned missing_mask; /* objects of the migrations the project lacks */
    char missing[512];     /* their names, for messages */
    int session_head;      /* operator_sessions has session_status/session_start_time */
    char last_error[SB_ERR_LEN];
    sb_metrics metrics;
} sb_store;

/* ---- sb_errors.c --------------------------------------------------------------- */

/* Records a message as this instance's last_error (and the calling thread's)
 * and returns status. Never pass the key. */
ald_status sb_error(sb_store *sb, ald_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sb_last_error(void *instance);
/* Status for a final HTTP answer (2xx excluded). */
ald_status sb_map_http(long http_status, const char *pgrst_code);
/* "code: message (details; hint)" from a PostgREST error body, or a short
 * excerpt of whatever else the gateway sent, into out. */
void sb_describe_body(const char *body, size_t len, char *out, size_t outlen);

/* ---- sb_http.c -------------------------------------------------------------------- */

typedef struct sb_response {
    long status;   /* HTTP status of the final attempt, 0 = none */
    json_t *json;  /* parsed 2xx body; NULL when empty (204, return=minimal) */
    int attempts;  /* how many were sent (1 + retries used) */
} sb_response;

/* Sends req with the retry policy (network errors, 408, 429 and 5xx retried
 * with capped exponential back-off; other answers final). ALD_OK for a 2xx
 * whose body (if any) is valid JSON; otherwise last_error names the
 * operation, the resource (never the key) and PostgREST's reason, and the
 * status is mapped by sb_map_http (curl errors: TIMEOUT / DISCONNECTED).
 * resp->status is set either way so callers can treat 406 / 409 specially.
 * The caller frees resp with sb_response_free. */
ald_status sb_call(sb_store *sb, sb_request *req, sb_response *resp);
/* sb_call, then frees req and checks the answer's shape: an object when
 * req->want_object, else an array (or nothing, for return=minimal). */
ald_status sb_send(sb_store *sb, sb_request *req, sb_response *resp);
void sb_response_free(sb_response *resp);
void sb_pool_drain(sb_store *sb);
void sb_metrics_register(sb_store *sb);
void sb_http_global_init(void);

/* Rows of a 2xx array answer (an empty array when the body was not one). */
size_t sb_rows(const sb_response *resp);
const json_t *sb_row(const sb_response *resp, size_t i);

/* Copies an id into a caller's buffer; INVALID when it does not fit. */
ald_status sb_copy_out(sb_store *sb, const char *id, char *out, size_t out_len);
int64_t sb_now_ms(const sb_store *sb);

/* ---- sb_schema.c: what the project's schema offers ------------------------------- */

/* Reads the OpenAPI root once (start()): warns naming missing objects of
 * deploy/supabase/migrations and the command that applies them; learns the
 * operator_sessions column names. Never fails start(). */
void sb_schema_check(sb_store *sb);
/* Whether an object ("/rpc/acquire_engine_lease") is known to exist (1 when
 * unknown). */
int sb_schema_has(const sb_store *sb, const char *path);
/* "apply them: for f in ...; do psql ...; done (docs...)" */
const char *sb_schema_hint(void);

/* ---- vtable operations (one file per domain) ---------------------------------------- */

/* sb_samples.c */
ald_status sb_load_parameters(void *instance, const char *machine_id, ald_parameter_sink sink,
                              void *ctx);
ald_status sb_update_parameter_values(void *instance, const ald_parameter_value *values,
                                      size_t count);
ald_status sb_append_samples(void *instance, const ald_sample_batch *batch);
ald_status sb_append_sample_batches(void *instance, const ald_sample_batch *const *batches,
                                    size_t count);

/* sb_recipes.c */
ald_status sb_load_recipe(void *instance, const char *recipe_id,
                          const ald_recipe_reader *reader);
ald_status sb_list_recipes(void *instance, ald_recipe_info_sink sink, void *ctx);
ald_status sb_save_recipe(void *instance, const ald_recipe_info *recipe,
                          const ald_recipe_step *const *steps, size_t step_count,
                          const char *const *parameter_names,
                          const char *const *parameter_values, size_t parameter_count);

/* sb_commands.c */
ald_status sb_fetch_pending_commands(void *instance, const char *machine_id, unsigned limit,
                                     ald_command_sink sink, void *ctx);
ald_status sb_claim_command(void *instance, const char *command_id);
ald_status sb_finish_command(void *instance, const char *command_id, const char *status,
                             const char *error_message);
ald_status sb_insert_command(void *instance, const char *machine_id, const char *type,
                             const char *parameters_json, char *id_out, size_t out_len);
ald_status sb_get_command(void *instance, const char *command_id, ald_command_sink sink,
                          void *ctx);
ald_status sb_fetch_setpoint_commands(void *instance, const char *machine_id, unsigned limit,
                                      ald_setpoint_command_sink sink, void *ctx);
ald_status sb_claim_setpoint_command(void *instance, const char *command_id);
ald_status sb_finish_setpoint_command(void *instance, const char *command_id,
                                      const char *error_message);

/* sb_machines.c */
ald_status sb_get_machine(void *instance, const char *machine_id, ald_machine_sink sink,
                          void *ctx);
ald_status sb_set_machine_state(void *instance, const ald_machine_update *update);
ald_status sb_get_or_create_session(void *instance, const char *operator_id,
                                    const char *machine_id, char *session_id_out,
                                    size_t out_len);
ald_status sb_write_health(void *instance, const ald_health_report *report);
ald_status sb_acquire_lease(void *instance, const char *machine_id, const char *holder,
                            int64_t ttl_ms);
ald_status sb_release_lease(void *instance, const char *machine_id, const char *holder);

/* sb_process.c */
ald_status sb_create_process(void *instance, const ald_process_start *start,
                             char *process_id_out, size_t out_len);
ald_status sb_update_process_state(void *instance, const ald_process_state *state);
ald_status sb_finish_process(void *instance, const char *process_id, const char *status,
                             const char *error_message, int64_t end_time_ms);
ald_status sb_find_open_processes(void *instance, const char *machine_id,
                                  ald_process_sink sink, void *ctx);
ald_status sb_find_last_finished_process(void *instance, const char *machine_id,
                                         ald_process_sink sink, void *ctx);
ald_status sb_get_process_state(void *instance, const char *process_id,
                                ald_process_state_sink sink, void *ctx);

#endif
