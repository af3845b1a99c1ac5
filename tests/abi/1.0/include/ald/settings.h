/*
 * ald/settings.h - typed setting helpers for plugins: read an optional
 * setting through the host's typed getters, check it, and on a bad value
 * write ONE message format into create()'s error buffer:
 *
 *     "<file>:<line>: setting <name>: <problem>"
 *     (or "environment PLC_PORT: setting port: ..." for an override)
 *
 * Header-only (static inline): nothing to link, nothing added to the ABI's
 * tables, so any plugin built against ABI 1.x may use it. A setting that is
 * absent keeps the value the caller preset (its default); every helper
 * returns ALD_OK or ALD_ERR_INVALID.
 *
 *     ald_settings s = {host, cfg, err, errlen};
 *     int64_t port = 502;
 *     if (ald_setting_int(&s, "port", 1, 65535, &port) != ALD_OK)
 *         return ALD_ERR_INVALID;
 */
#ifndef ALD_SETTINGS_H
#define ALD_SETTINGS_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "ald/abi.h"
#include "ald/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where settings are read from, and where a problem is written. */
typedef struct ald_settings {
    const ald_host *host;
    const ald_config *cfg;
    char *err; /* create()'s error buffer */
    size_t errlen;
} ald_settings;

/* Write "<where>: setting <name>: <problem>" and return ALD_ERR_INVALID. */
static inline ald_status ald_setting_fail(const ald_settings *s, const char *name,
                                          const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline ald_status ald_setting_fail(const ald_settings *s, const char *name,
                                          const char *fmt, ...)
{
    char where[256] = "";
    if (s->host->config_where)
        s->host->config_where(s->cfg, name, where, sizeof where);
    int n =
        snprintf(s->err, s->errlen, "%s%ssetting %s: ", where, where[0] ? ": " : "", name);
    if (n >= 0 && (size_t)n < s->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return ALD_ERR_INVALID;
}

/* An integer in lo..hi. */
static inline ald_status ald_setting_int(const ald_settings *s, const char *name, int64_t lo,
                                         int64_t hi, int64_t *value)
{
    int64_t v = *value;
    ald_status st = s->host->config_int(s->cfg, name, &v);
    if (st == ALD_ERR_NOT_FOUND)
        return ALD_OK;
    if (st != ALD_OK)
        return ald_setting_fail(s, name, "expected an integer");
    if (v < lo || v > hi)
        return ald_setting_fail(s, name, "%lld is out of range %lld..%lld", (long long)v,
                                (long long)lo, (long long)hi);
    *value = v;
    return ALD_OK;
}

/* true or false. */
static inline ald_status ald_setting_bool(const ald_settings *s, const char *name, int *value)
{
    int v = *value;
    ald_status st = s->host->config_bool(s->cfg, name, &v);
    if (st == ALD_ERR_NOT_FOUND)
        return ALD_OK;
    if (st != ALD_OK)
        return ald_setting_fail(s, name, "expected true or false");
    *value = v;
    return ALD_OK;
}

/* A finite number (integers are accepted). */
static inline ald_status ald_setting_double(const ald_settings *s, const char *name,
                                            double *value)
{
    double v = *value;
    ald_status st = s->host->config_double(s->cfg, name, &v);
    if (st == ALD_ERR_NOT_FOUND)
        return ALD_OK;
    if (st != ALD_OK || !isfinite(v))
        return ald_setting_fail(s, name, "expected a number");
    *value = v;
    return ALD_OK;
}

/* A string (possibly empty: the caller decides whether "" means absent);
 * the pointer stays valid while the configuration lives. */
static inline ald_status ald_setting_string(const ald_settings *s, const char *name,
                                            const char **value)
{
    const char *v = NULL;
    ald_status st = s->host->config_string(s->cfg, name, &v);
    if (st == ALD_ERR_NOT_FOUND)
        return ALD_OK;
    if (st != ALD_OK)
        return ald_setting_fail(s, name, "expected a string");
    *value = v;
    return ALD_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* ALD_SETTINGS_H */
