/*
 * sb_http.c - PostgREST requests over libcurl: a small pool of easy handles
 * (connections are reused between calls and threads), one request with the
 * retry policy, and the plugin's metrics.
 *
 * RETRY POLICY (docs/supabase.md): a request is sent at most 1 + `retries`
 * times. Retried: no connection, a timeout, a broken transfer, HTTP 408, 429
 * and 5xx; the wait before attempt n+1 is backoff_initial_ms * 2^(n-1),
 * capped at backoff_max_ms, with jitter (half fixed, half random) so two
 * engines do not retry in lockstep. Never retried: 2xx, 401/403 (one
 * ALD_ERR_AUTH, no retry storm against a gateway that bans), 404, 406, 409
 * and other 4xx (the same request would fail the same way), TLS verification
 * failures. A call is bounded by (1 + retries) * timeout_ms plus the waits.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "build-config.h"
#include "sb_store.h"

#define SB_MAX_BODY (64u << 20) /* a bigger answer is a bug or an attack */

enum sb_outcome { OUT_2XX, OUT_4XX, OUT_5XX, OUT_TIMEOUT, OUT_NETWORK, OUT_COUNT };

static const char *const OUTCOME_LABELS[OUT_COUNT] = {
    "code=\"2xx\"", "code=\"4xx\"", "code=\"5xx\"", "code=\"timeout\"", "code=\"network\"",
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void sb_http_global_init(void)
{
    pthread_once(&global_once, global_init);
}

/* ---- metrics ------------------------------------------------------------------ */

void sb_metrics_register(sb_store *sb)
{
    static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    const ald_host *h = sb->host;
    if (!h->metric_register)
        return;
    for (int i = 0; i < OUT_COUNT; i++) {
        ald_metric_desc d = {
            .struct_size = sizeof d,
            .name = "ald_supabase_requests_total",
            .help = "PostgREST requests sent, by outcome (HTTP class, timeout, network error)",
            .type = ALD_METRIC_COUNTER,
            .labels = OUTCOME_LABELS[i],
        };
        sb->metrics.requests[i] = h->metric_register(h, &d);
    }
    ald_metric_desc seconds = {
        .struct_size = sizeof seconds,
        .name = "ald_supabase_request_seconds",
        .help = "Duration of one PostgREST request attempt",
        .type = ALD_METRIC_HISTOGRAM,
        .buckets = buckets,
        .bucket_count = sizeof buckets / sizeof buckets[0],
    };
    sb->metrics.seconds = h->metric_register(h, &seconds);
    ald_metric_desc retries = {
        .struct_size = sizeof retries,
        .name = "ald_supabase_retries_total",
        .help = "PostgREST requests sent again after a transient failure",
        .type = ALD_METRIC_COUNTER,
    };
    sb->metrics.retries = h->metric_register(h, &retries);
}

static void count(sb_store *sb, ald_metric *m, double delta)
{
    if (m && sb->host->metric_add)
        sb->host->metric_add(m, delta);
}

/* ---- handle pool ---------------------------------------------------------------- */

static CURL *new_handle(sb_store *sb)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)sb->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)sb->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ald-engine/" PACKAGE_VERSION);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* never carry the key elsewhere */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, sb->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, sb->insecure_skip_verify ? 0L : 2L);
    if (sb->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, sb->ca_file);
    return c;
}

static CURL *pool_take(sb_store *sb)
{
    CURL *c = NULL;
    pthread_mutex_lock(&sb->lock);
    if (sb->pool_len > 0)
        c = sb->pool[--sb->pool_len];
    pthread_mutex_unlock(&sb->lock);
    return c ? c : new_handle(sb);
}

static void pool_give(sb_store *sb, CURL *c)
{
    pthread_mutex_lock(&sb->lock);
    if (sb->pool_len < SB_POOL_MAX) {
        sb->pool[sb->pool_len++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&sb->lock);
    if (c)
        curl_easy_cleanup(c);
}

void sb_pool_drain(sb_store *sb)
{
    pthread_mutex_lock(&sb->lock);
    while (sb->pool_len > 0)
        curl_easy_cleanup(sb->pool[--sb->pool_len]);
    pthread_mutex_unlock(&sb->lock);
}

/* ---- one attempt ------------------------------------------------------------------ */

typedef struct sb_attempt {
    CURLcode cc;
    long status;
    sb_buf body;
    char curl_err[CURL_ERROR_SIZE];
} sb_attempt;

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
    sb_buf *b = userdata;
    size_t len = size * n;
    if (b->len + len > SB_MAX_BODY)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    sb_buf_add(b, ptr, len);
    return b->oom ? 0 : len;
}

static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *name,
                                     const char *value)
{
    sb_buf line = {0};
    sb_buf_puts(&line, name);
    sb_buf_puts(&line, value);
    struct curl_slist *next = line.oom ? NULL : curl_slist_append(list, line.data);
    if (line.data)
        memset(line.data, 0, line.len); /* may hold the key */
    sb_buf_free(&line);
    if (!next)
        *ok = 0;
    return next ? next : list;
}

static struct curl_slist *build_headers(const sb_store *sb, const sb_request *req, int *ok)
{
    struct curl_slist *h = NULL;
    *ok = 1;
    h = add_header(h, ok, "apikey: ", sb->key);
    if (sb->send_bearer)
        h = add_header(h, ok, "Authorization: Bearer ", sb->key);
    h = add_header(h, ok, "Accept: ",
                   req->want_object ? "application/vnd.pgrst.object+json" : "application/json");
    if (req->body || req->raw_body)
        h = add_header(h, ok, "Content-Type: ", "application/json");
    if (req->prefer)
        h = add_header(h, ok, "Prefer: ", req->prefer);
    h = add_header(h, ok, "Expect:", ""); /* no 100-continue round trip */
    return h;
}

static void set_method(CURL *c, const char *method, const char *body)
{
    int has_body = strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0;
    if (has_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    int custom = strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, custom ? method : NULL);
}

static void perform(sb_store *sb, CURL *c, const char *url, struct curl_slist *headers,
                    const char *method, const char *body, sb_attempt *a)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->curl_err);
    set_method(c, method, body);
    uint64_t t0 = sb->host->monotonic_ns();
    a->cc = curl_easy_perform(c);
    if (sb->metrics.seconds && sb->host->metric_observe)
        sb->host->metric_observe(sb->metrics.seconds,
                                 (double)(sb->host->monotonic_ns() - t0) / 1e9);
    a->status = 0;
    if (a->cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL); /* a->curl_err dies with a */
}

/* ---- classification ---------------------------------------------------------------- */

static ald_status map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return ALD_ERR_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return ALD_ERR_DISCONNECTED;
    case CURLE_OUT_OF_MEMORY:
        return ALD_ERR_NOMEM;
    default:
        return ALD_ERR_PROTOCOL; /* TLS verification, oversized answer, ... */
    }
}

static enum sb_outcome outcome_of(const sb_attempt *a)
{
    if (a->cc == CURLE_OPERATION_TIMEDOUT)
        return OUT_TIMEOUT;
    if (a->cc != CURLE_OK)
        return OUT_NETWORK;
    return a->status < 400 ? OUT_2XX : a->status < 500 ? OUT_4XX : OUT_5XX;
}

static int is_retryable(const sb_attempt *a)
{
    if (a->cc != CURLE_OK) {
        ald_status s = map_curl(a->cc);
        return s == ALD_ERR_TIMEOUT || s == ALD_ERR_DISCONNECTED;
    }
    return a->status == 408 || a->status == 429 || a->status >= 500;
}

/* What to do about an HTTP failure, by status: a hint for the operator. */
static const char *hint_for(long status)
{
    switch (status) {
    case 401:
    case 403:
        return " - check SUPABASE_KEY / key_file (the engine needs the service_role key)";
    case 404:
        return " - apply deploy/supabase/migrations to the project";
    case 429:
    case 502:
    case 503:
    case 504:
        return " - the gateway is overloaded or down; the engine retries later";
    default:
        return "";
    }
}

static ald_status fail_transport(sb_store *sb, const sb_request *req, const sb_attempt *a,
                                 int attempts)
{
    ald_status rc = map_curl(a->cc);
    const char *detail = a->curl_err[0] ? a->curl_err : curl_easy_strerror(a->cc);
    if (a->cc == CURLE_WRITE_ERROR)
        detail = "the answer was larger than 64 MiB or memory ran out";
    return sb_error(sb, rc, "supabase %s: %s %s/%s: %s after %d attempt%s (timeout_ms=%lld, "
                    "connect_timeout_ms=%lld): %s", req->what, req->method, sb->base_url,
                    req->path.data, ald_status_name(rc), attempts, attempts == 1 ? "" : "s",
                    (long long)sb->timeout_ms, (long long)sb->connect_timeout_ms, detail);
}

static ald_status fail_http(sb_store *sb, const sb_request *req, const sb_attempt *a,
                            int attempts)
{
    char reason[600];
    sb_describe_body(a->body.data, a->body.len, reason, sizeof reason);
    json_t *err = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, NULL);
    ald_status rc = sb_map_http(a->status, json_string_value(json_object_get(err, "code")));
    json_decref(err);
    return sb_error(sb, rc, "supabase %s: %s %s/%s: HTTP %ld after %d attempt%s: %s%s",
                    req->what, req->method, sb->base_url, req->path.data, a->status, attempts,
                    attempts == 1 ? "" : "s", reason, hint_for(a->status));
}

static ald_status parse_success(sb_store *sb, const sb_request *req, const sb_attempt *a,
                                sb_response *resp)
{
    if (a->body.len == 0)
        return ALD_OK;
    json_error_t jerr;
    resp->json = json_loadb(a->body.data, a->body.len, JSON_DECODE_ANY, &jerr); /* rpc: scalars */
    if (resp->json)
        return ALD_OK;
    return sb_error(sb, ALD_ERR_PROTOCOL, "supabase %s: %s %s/%s: HTTP %ld with malformed "
                    "JSON (%s at byte %d): is url a PostgREST endpoint?", req->what,
                    req->method, sb->base_url, req->path.data, a->status, jerr.text,
                    jerr.position);
}

static ald_status finish_attempt(sb_store *sb, const sb_request *req, const sb_attempt *a,
                                 int attempts, sb_response *resp)
{
    resp->status = a->status;
    resp->attempts = attempts;
    if (a->cc != CURLE_OK)
        return fail_transport(sb, req, a, attempts);
    if (a->status < 200 || a->status >= 300)
        return fail_http(sb, req, a, attempts);
    return parse_success(sb, req, a, resp);
}

/* ---- back-off ------------------------------------------------------------------------- */

static void backoff_sleep(const sb_store *sb, int attempt)
{
    int64_t ms = sb->backoff_initial_ms;
    for (int i = 1; i < attempt && ms < sb->backoff_max_ms; i++)
        ms *= 2;
    if (ms > sb->backoff_max_ms)
        ms = sb->backoff_max_ms;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)attempt * 2654435761u;
    ms = ms / 2 + (ms > 1 ? (int64_t)(r % (uint32_t)(ms / 2 + 1)) : 0);
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---- the call ----------------------------------------------------------------------------- */

static void set_connected(sb_store *sb, int connected)
{
    pthread_mutex_lock(&sb->lock);
    sb->connected = connected;
    pthread_mutex_unlock(&sb->lock);
}

static ald_status run_attempts(sb_store *sb, const sb_request *req, CURL *c, const char *url,
                               struct curl_slist *headers, const char *body, sb_response *resp)
{
    int max_attempts = 1 + (int)sb->retries;
    for (int attempt = 1;; attempt++) {
        sb_attempt a = {.cc = CURLE_OK};
        perform(sb, c, url, headers, req->method, body, &a);
        count(sb, sb->metrics.requests[outcome_of(&a)], 1);
        set_connected(sb, a.cc == CURLE_OK);
        if (!is_retryable(&a) || attempt >= max_attempts) {
            ald_status rc = finish_attempt(sb, req, &a, attempt, resp);
            sb_buf_free(&a.body);
            return rc;
        }
        sb_buf_free(&a.body);
        count(sb, sb->metrics.retries, 1);
        backoff_sleep(sb, attempt);
    }
}

ald_status sb_call(sb_store *sb, sb_request *req, sb_response *resp)
{
    memset(resp, 0, sizeof *resp);
    if (!sb->key)
        return sb_error(sb, ALD_ERR_INVALID, "supabase %s: the instance is not started (no "
                        "key loaded): call start() first", req->what);
    sb_buf url = {0};
    sb_buf_printf(&url, "%s/%s", sb->base_url, req->path.data ? req->path.data : "");
    char *body = req->body && !req->raw_body ? json_dumps(req->body, JSON_COMPACT) : NULL;
    int headers_ok;
    struct curl_slist *headers = build_headers(sb, req, &headers_ok);
    CURL *c = pool_take(sb);
    ald_status rc;
    if (url.oom || req->path.oom || (req->body && !req->raw_body && !body) || !headers_ok ||
        !c)
        rc = sb_error(sb, ALD_ERR_NOMEM, "supabase %s: out of memory building the request",
                      req->what);
    else
        rc = run_attempts(sb, req, c, url.data, headers, req->raw_body ? req->raw_body : body,
                          resp);
    if (c)
        pool_give(sb, c);
    curl_slist_free_all(headers);
    free(body);
    sb_buf_free(&url);
    return rc;
}

ald_status sb_send(sb_store *sb, sb_request *req, sb_response *resp)
{
    ald_status rc = sb_call(sb, req, resp);
    if (rc == ALD_OK && resp->json) {
        int ok = req->want_object ? json_is_object(resp->json) : json_is_array(resp->json);
        if (!ok)
            rc = sb_error(sb, ALD_ERR_PROTOCOL, "supabase %s: %s %s/%s: expected a JSON %s, "
                          "got another shape: is url a PostgREST endpoint?", req->what,
                          req->method, sb->base_url, req->path.data,
                          req->want_object ? "object" : "array");
    }
    sb_req_free(req);
    return rc;
}

void sb_response_free(sb_response *resp)
{
    json_decref(resp->json);
    resp->json = NULL;
}

size_t sb_rows(const sb_response *resp)
{
    return json_is_array(resp->json) ? json_array_size(resp->json) : 0;
}

const json_t *sb_row(const sb_response *resp, size_t i)
{
    return json_array_get(resp->json, i);
}

ald_status sb_copy_out(sb_store *sb, const char *id, char *out, size_t out_len)
{
    if (!id)
        return sb_error(sb, ALD_ERR_PROTOCOL, "supabase: the answer carried no id");
    if (strlen(id) + 1 > out_len)
        return sb_error(sb, ALD_ERR_INVALID, "id %s does not fit the caller's %zu-byte buffer",
                        id, out_len);
    memcpy(out, id, strlen(id) + 1);
    return ALD_OK;
}

int64_t sb_now_ms(const sb_store *sb)
{
    return sb->host->realtime_ns() / 1000000;
}
