/* command_age.c - command expiry and stop types (see command_age.h). */
#include "command_age.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int command_is_stop(const char *type)
{
    return type && (!strcmp(type, "stop") || !strcmp(type, "stop_recipe") ||
                    !strcmp(type, "abort"));
}

/* Exactly `n` digits at *p (advanced past them). -1 when not. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* The zone suffix in seconds east of UTC; -1 on a malformed one. The
 * PostgreSQL and SQLite forms: Z, +HH, +HH:MM, +HHMM (or none = UTC). */
static int zone_offset_s(const char *p, long *offset)
{
    *offset = 0;
    if (!*p || ((*p == 'Z' || *p == 'z') && !p[1]))
        return 0;
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1;
    int hh = digits(&p, 2), mm = 0;
    if (*p == ':')
        p++;
    if (*p)
        mm = digits(&p, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || *p)
        return -1;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 0;
}

/* `sep` then exactly two digits; -1 when not. */
static int after(const char **p, char sep)
{
    if (**p != sep)
        return -1;
    (*p)++;
    return digits(p, 2);
}

int64_t command_parse_time_ms(const char *text)
{
    if (!text)
        return -1;
    const char *p = text;
    int y = digits(&p, 4), mo = after(&p, '-'), d = after(&p, '-');
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || (*p != 'T' && *p != ' '))
        return -1;
    p++;
    int h = digits(&p, 2), mi = after(&p, ':'), s = after(&p, ':');
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
        return -1;
    int ms = 0, scale = 100;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    long offset;
    if (zone_offset_s(p, &offset) != 0)
        return -1;
    struct tm tm = {.tm_year = y - 1900};
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t secs = timegm(&tm);
    return ((int64_t)secs - offset) * 1000 + ms;
}

int command_too_old(const char *type, const char *created_at, int64_t now_ms,
                    unsigned max_age_s, char *msg, size_t len)
{
    if (command_is_stop(type))
        return 0;
    int64_t created = command_parse_time_ms(created_at);
    if (created < 0) {
        snprintf(msg, len, "refused: created_at '%s' is not an ISO-8601 time, so the "
                 "command's age (limit %u s, engine.command_max_age) is unknown",
                 created_at ? created_at : "(null)", max_age_s);
        return 1;
    }
    int64_t age_ms = now_ms - created;
    if (age_ms <= (int64_t)max_age_s * 1000)
        return 0;
    snprintf(msg, len, "expired: created %lld s ago (commands older than %u s are not run, "
             "engine.command_max_age)", (long long)(age_ms / 1000), max_age_s);
    return 1;
}
