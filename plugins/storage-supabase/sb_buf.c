/*
 * sb_buf.c - growable strings, URL encoding and PostgREST request building.
 *
 * Filter values always go through sb_buf_urlencode: ids, statuses and free
 * text can never change the shape of a query string.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_store.h"

void sb_buf_free(sb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(sb_buf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void sb_buf_add(sb_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sb_buf_puts(sb_buf *b, const char *s)
{
    sb_buf_add(b, s, strlen(s));
}

void sb_buf_json_str(sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_buf_add(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_buf_add(b, run, (size_t)(s - run)); /* the plain bytes before c */
        if (c == '\0')
            break;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\')
            sb_buf_add(b, (char[]){'\\', (char)c}, 2);
        else
            sb_buf_add(b, esc, sizeof esc);
        run = s + 1;
    }
    sb_buf_add(b, "\"", 1);
}

void sb_buf_json_num(sb_buf *b, double v)
{
    if (!isfinite(v)) {
        sb_buf_add(b, "null", 4);
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%.17g", v);
    for (int i = 0; i < n; i++)
        if (text[i] == ',') /* a locale's decimal comma */
            text[i] = '.';
    sb_buf_add(b, text, (size_t)n);
}

void sb_buf_printf(sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void sb_buf_urlencode(sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p)) {
            sb_buf_add(b, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_buf_add(b, esc, 3);
        }
    }
}

void sb_req_init(sb_request *r, const char *method, const char *resource, const char *what)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->what = what;
    sb_buf_puts(&r->path, resource);
}

void sb_req_free(sb_request *r)
{
    sb_buf_free(&r->path);
    json_decref(r->body);
    r->body = NULL;
}

static void start_param(sb_request *r, const char *name)
{
    sb_buf_puts(&r->path, r->has_query ? "&" : "?");
    r->has_query = 1;
    sb_buf_puts(&r->path, name);
    sb_buf_puts(&r->path, "=");
}

void sb_req_param(sb_request *r, const char *name, const char *value)
{
    start_param(r, name);
    sb_buf_urlencode(&r->path, value);
}

void sb_req_filter(sb_request *r, const char *column, const char *op, const char *value)
{
    start_param(r, column);
    sb_buf_puts(&r->path, op);
    sb_buf_puts(&r->path, ".");
    sb_buf_urlencode(&r->path, value);
}

/* PostgREST splits in.(...) lists on commas and treats parentheses and
 * double quotes specially; such items go in double quotes, inner quotes and
 * backslashes escaped with a backslash. */
void sb_buf_pgrst_item(sb_buf *raw, const char *v)
{
    if (!strpbrk(v, ",()\"\\ ")) {
        sb_buf_puts(raw, v);
        return;
    }
    sb_buf_puts(raw, "\"");
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_buf_puts(raw, "\\");
        sb_buf_add(raw, p, 1);
    }
    sb_buf_puts(raw, "\"");
}

void sb_req_filter_in(sb_request *r, const char *column, const char *const *values,
                      size_t count)
{
    sb_buf raw = {0};
    sb_buf_puts(&raw, "(");
    for (size_t i = 0; i < count; i++) {
        if (i)
            sb_buf_puts(&raw, ",");
        sb_buf_pgrst_item(&raw, values[i]);
    }
    sb_buf_puts(&raw, ")");
    if (raw.oom)
        r->path.oom = 1;
    else
        sb_req_filter(r, column, "in", raw.data);
    sb_buf_free(&raw);
}

static int is_base64url_part(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(is_unreserved(c) && c != '.' && c != '~') && c != '=')
            return 0;
    }
    return 1;
}

int sb_key_is_jwt(const char *key)
{
    const char *dot1 = key ? strchr(key, '.') : NULL;
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.'))
        return 0;
    return is_base64url_part(key, (size_t)(dot1 - key)) &&
           is_base64url_part(dot1 + 1, (size_t)(dot2 - dot1 - 1)) &&
           is_base64url_part(dot2 + 1, strlen(dot2 + 1));
}
