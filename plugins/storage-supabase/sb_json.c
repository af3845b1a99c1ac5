/*
 * sb_json.c - reading PostgREST rows, building request bodies, times and ids.
 *
 * PostgREST renders timestamptz as "2026-11-27T04:02:38.334695+00:00" and
 * numeric columns as JSON numbers; the plugin sends times as UTC with
 * millisecond precision, which is what the unique sample keys compare.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sb_store.h"

#include "ald/number.h"

const char *sb_str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

double sb_num(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_boolean(v))
        return json_is_true(v) ? 1.0 : 0.0;
    double d = NAN; /* numeric columns may come as text on some sites: exactly a number */
    if (json_is_string(v) && ald_parse_number(json_string_value(v), &d) != 0)
        d = NAN;
    return d;
}

int64_t sb_int(const json_t *row, const char *key)
{
    double d = sb_num(row, key);
    return isnan(d) ? -1 : (int64_t)llround(d);
}

int sb_bool(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    return json_is_number(v) && json_number_value(v) != 0.0;
}

char *sb_json_text(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    if (!v || json_is_null(v))
        return NULL;
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *sb_jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null(); /* also for text that is not valid UTF-8 */
}

json_t *sb_jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *sb_jint(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

json_t *sb_jtime(int64_t ms)
{
    char buf[SB_ISO_LEN];
    return ms >= 0 ? json_string(sb_iso_time(ms, buf)) : json_null();
}

char *sb_iso_time(int64_t ms, char *buf)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, SB_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return buf;
}

/* Milliseconds of a ".334695" fraction (truncated); advances *p. */
static int64_t parse_fraction(const char **p)
{
    int64_t ms = 0, scale = 100;
    if (**p != '.')
        return 0;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++) {
        ms += (**p - '0') * scale;
        scale /= 10;
    }
    return ms;
}

/* Seconds east of UTC of "Z", "+00:00", "+0530", "-08"; 1 on success. */
static int parse_offset(const char *p, long *offset)
{
    int h = 0, m = 0;
    if (*p == 'Z' || *p == '\0') {
        *offset = 0;
        return p[*p == 'Z'] == '\0';
    }
    if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d", &h) != 1)
        return 0;
    const char *mm = p + 3;
    if (*mm == ':')
        mm++;
    if (*mm && sscanf(mm, "%2d", &m) != 1)
        return 0;
    *offset = (*p == '-' ? -1 : 1) * (h * 3600L + m * 60L);
    return 1;
}

int64_t sb_parse_iso(const char *text)
{
    struct tm tm = {0};
    int consumed = 0;
    if (!text || sscanf(text, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = text + consumed;
    int64_t ms = parse_fraction(&p);
    long offset;
    if (!parse_offset(p, &offset))
        return -1;
    return ((int64_t)timegm(&tm) - offset) * 1000 + ms;
}

void sb_uuid(char *buf)
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(buf, SB_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
