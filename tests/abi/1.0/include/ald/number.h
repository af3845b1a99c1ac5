/*
 * ald/number.h - strict number parsing, for plugins and the host alike.
 *
 * A value that may move the tool (a setpoint, a valve number, a duration)
 * must be exactly a number: "120abc" is not 120 and "abc" is not 0. These
 * helpers accept a plain decimal number and nothing else, so every store
 * and every path reads text the same way.
 *
 * Header-only (static inline): nothing to link, usable from C99 and C++.
 * Part of the public SDK: append-only, like every header in ald/.
 * THREADING: pure functions. Locale: decimal point '.' whatever LC_NUMERIC says.
 */
#ifndef ALD_NUMBER_H
#define ALD_NUMBER_H

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Accepts [+-] digits [. digits] [(e|E) [+-] digits], at least one digit
 * before the exponent, and nothing around it (no spaces, no hex, no "nan",
 * no "inf"); the result must be finite. 0 with *out set, or -1 (*out untouched). */
static inline int ald_parse_number(const char *text, double *out)
{
    char buf[64];
    size_t i = 0, digits = 0, n;
    if (text == NULL || (n = strlen(text)) == 0 || n >= sizeof buf)
        return -1;
    if (text[i] == '+' || text[i] == '-')
        i++;
    for (; text[i] >= '0' && text[i] <= '9'; i++)
        digits++;
    if (text[i] == '.')
        for (i++; text[i] >= '0' && text[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return -1;
    if (text[i] == 'e' || text[i] == 'E') {
        size_t exp_digits = 0;
        i++;
        if (text[i] == '+' || text[i] == '-')
            i++;
        for (; text[i] >= '0' && text[i] <= '9'; i++)
            exp_digits++;
        if (exp_digits == 0)
            return -1;
    }
    if (text[i] != '\0')
        return -1;
    /* strtod honours LC_NUMERIC: hand it the locale's decimal point. */
    memcpy(buf, text, n + 1);
    char *dot = strchr(buf, '.');
    if (dot != NULL)
        *dot = localeconv()->decimal_point[0];
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end == NULL || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* v is finite and a whole number that fits an int64_t exactly. */
static inline int ald_number_is_whole(double v)
{
    return isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0; /* 2^53 */
}

#endif
