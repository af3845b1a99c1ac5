/*
 * sb_errors.c - last_error, PostgREST error bodies and status mapping.
 *
 * last_error is kept twice: in the instance (under its lock) and in a
 * per-thread buffer tagged with the instance. Calls may run concurrently
 * (ALD_CAP_STORAGE_THREAD_SAFE), and the host reads last_error right after a
 * failed call on the same thread, so that thread sees ITS error even if
 * another thread failed in between.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sb_store.h"

static _Thread_local struct {
    const void *owner;
    char text[SB_ERR_LEN];
} tl_error;

/* Belt and braces: should a peer ever echo the key back (a misconfigured
 * gateway quoting request headers), it still never reaches last_error. */
static void scrub_key(char *text, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen < 4)
        return;
    for (char *hit = strstr(text, key); hit; hit = strstr(hit, key)) {
        memmove(hit + 3, hit + klen, strlen(hit + klen) + 1);
        memcpy(hit, "***", 3);
    }
}

ald_status sb_error(sb_store *sb, ald_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_error.text, sizeof tl_error.text, fmt, ap);
    va_end(ap);
    scrub_key(tl_error.text, sb->key);
    tl_error.owner = sb;
    pthread_mutex_lock(&sb->lock);
    memcpy(sb->last_error, tl_error.text, sizeof sb->last_error);
    pthread_mutex_unlock(&sb->lock);
    return status;
}

const char *sb_last_error(void *instance)
{
    sb_store *sb = instance;
    if (tl_error.owner != sb) {
        pthread_mutex_lock(&sb->lock);
        memcpy(tl_error.text, sb->last_error, sizeof tl_error.text);
        pthread_mutex_unlock(&sb->lock);
        tl_error.owner = sb;
    }
    return tl_error.text;
}

ald_status sb_map_http(long http_status, const char *pgrst_code)
{
    if (http_status == 401 || http_status == 403)
        return ALD_ERR_AUTH;
    if (http_status == 406 && pgrst_code && strcmp(pgrst_code, "PGRST116") == 0)
        return ALD_ERR_NOT_FOUND; /* single object requested, zero rows */
    if (http_status == 404)
        return ALD_ERR_NOT_FOUND; /* a table or function missing: migrations */
    if (http_status == 409)
        return ALD_ERR_CONFLICT;
    if (http_status == 408)
        return ALD_ERR_TIMEOUT;
    if (http_status == 429 || http_status >= 500)
        return ALD_ERR_TRANSIENT;
    if (http_status >= 400)
        return ALD_ERR_INVALID; /* 400: bad value, unknown column, check violation */
    return ALD_ERR_PROTOCOL;    /* 1xx/3xx: not what PostgREST answers */
}

/* Appends "<label><value>" when the member is a non-empty string. */
static void add_member(char *out, size_t outlen, const json_t *err, const char *key,
                       const char *label)
{
    const char *v = json_string_value(json_object_get(err, key));
    size_t used = strlen(out);
    if (v && v[0] && used < outlen)
        snprintf(out + used, outlen - used, "%s%s", label, v);
}

/* A gateway's HTML or plain text: the first ~160 printable characters,
 * tags dropped, whitespace folded. */
static void excerpt(const char *body, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    int in_tag = 0, space = 1;
    for (size_t i = 0; i < len && o + 4 < outlen && o < 160; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '<')
            in_tag = 1;
        else if (c == '>')
            in_tag = 0;
        else if (!in_tag && (isspace(c) || !isprint(c))) {
            if (!space)
                out[o++] = ' ';
            space = 1;
        } else if (!in_tag) {
            out[o++] = (char)c;
            space = 0;
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (o + 4 < outlen && o >= 160)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

void sb_describe_body(const char *body, size_t len, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!body || len == 0) {
        snprintf(out, outlen, "(empty body)");
        return;
    }
    json_t *err = json_loadb(body, len, 0, NULL);
    if (json_is_object(err) && (json_object_get(err, "message") ||
                                json_object_get(err, "code"))) {
        add_member(out, outlen, err, "code", "");
        add_member(out, outlen, err, "message", out[0] ? ": " : "");
        add_member(out, outlen, err, "details", "; details: ");
        add_member(out, outlen, err, "hint", "; hint: ");
        if (!out[0])
            snprintf(out, outlen, "(error body without message)");
    } else {
        excerpt(body, len, out, outlen);
    }
    json_decref(err);
}
