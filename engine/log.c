/* log.c - timestamped, levelled log lines on stderr, one write per line. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = ALD_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

int log_level_parse(const char *text)
{
    if (!text)
        return -1;
    if (!strcasecmp(text, "error") || !strcasecmp(text, "critical"))
        return ALD_LOG_ERROR;
    if (!strcasecmp(text, "warning") || !strcasecmp(text, "warn"))
        return ALD_LOG_WARNING;
    if (!strcasecmp(text, "info"))
        return ALD_LOG_INFO;
    if (!strcasecmp(text, "debug"))
        return ALD_LOG_DEBUG;
    return -1;
}

const char *log_level_name(ald_log_level level)
{
    return (unsigned)level <= ALD_LOG_DEBUG ? level_names[level] : "?";
}

void log_set_level(ald_log_level level)
{
    atomic_store(&current_level, level);
}

ald_log_level log_get_level(void)
{
    return (ald_log_level)atomic_load(&current_level);
}

/* Copies src into dst (room for dstlen bytes, NUL included) with every
 * control character written as an escape, so that a name taken from the
 * database (a recipe called "x\n2026-... ERROR ...") cannot forge a line.
 * Returns the length written. */
size_t log_escape(char *dst, size_t dstlen, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (dstlen == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[5] = {(char)*p, 0};
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[*p >> 4];
            esc[3] = hex[*p & 15];
        }
        size_t len = strlen(esc);
        if (n + len >= dstlen)
            break;
        memcpy(dst + n, esc, len);
        n += len;
    }
    dst[n] = '\0';
    return n;
}

void log_vmsg(ald_log_level level, const char *component, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&current_level))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);

    /* Build the whole line first: one write() keeps lines from threads whole.
     * The message is escaped: one event is always exactly one line. */
    char message[2048], comp[64], line[2048];
    vsnprintf(message, sizeof message, fmt, ap);
    log_escape(comp, sizeof comp, component ? component : "engine");
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, log_level_name(level), comp);
    if (n < 0 || (size_t)n >= sizeof line - 1)
        return;
    n += (int)log_escape(line + n, sizeof line - 1 - (size_t)n, message);
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
}

void log_msg(ald_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, component, fmt, ap);
    va_end(ap);
}
