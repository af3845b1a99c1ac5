/* log.h - the engine's logger: one line per event on stderr, thread-safe. */
#ifndef ALD_ENGINE_LOG_H
#define ALD_ENGINE_LOG_H

#include <stdarg.h>

#include "ald/host.h"

/* Parse "error|warning|info|debug" (any case; "warn" too). -1 if unknown. */
int log_level_parse(const char *text);
const char *log_level_name(ald_log_level level);

void log_set_level(ald_log_level level);
ald_log_level log_get_level(void);

/* Writes "2026-11-27T03:29:06.123Z LEVEL [component] message", one line per call:
 * control characters in the message are escaped (log_escape). */
void log_msg(ald_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(ald_log_level level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* src into dst (dstlen bytes with the NUL) with control characters escaped
 * (\n \r \t, others \xHH); stops before an escape that would not fit.
 * Returns the length written. Every log line goes through it. */
size_t log_escape(char *dst, size_t dstlen, const char *src);

#define log_error(comp, ...) log_msg(ALD_LOG_ERROR, comp, __VA_ARGS__)
#define log_warning(comp, ...) log_msg(ALD_LOG_WARNING, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(ALD_LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_msg(ALD_LOG_DEBUG, comp, __VA_ARGS__)

#endif
