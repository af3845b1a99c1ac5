/*
 * command_age.h - which commands are too old to run, and which are stops.
 *
 * A start or set command that nobody took in time (aldctl gave up on it, no
 * engine was running) must not act minutes later: once older than the
 * engine's command_max_age (engine.conf, default 60 s) it is finished with
 * status error and "expired: created N s ago" and does nothing. Stops and
 * aborts never expire: stopping late is still right. Pure functions, one
 * rule for every store (the age comes from the row's created_at text).
 */
#ifndef ALD_ENGINE_COMMAND_AGE_H
#define ALD_ENGINE_COMMAND_AGE_H

#include <stddef.h>
#include <stdint.h>

#define COMMAND_MAX_AGE_DEFAULT_S 60
#define COMMAND_MAX_AGE_MIN_S 1
#define COMMAND_MAX_AGE_MAX_S 86400

/* stop, stop_recipe or abort: taken before anything else, never expire. */
int command_is_stop(const char *type);

/* ISO-8601 "YYYY-MM-DD[T ]HH:MM:SS[.fff...][Z|+HH[:MM]|-HH[:MM]]" (what
 * SQLite's strftime and PostgreSQL's timestamptz print) to ms since the
 * epoch; -1 when the text is not such a time. */
int64_t command_parse_time_ms(const char *text);

/* 0 = may run. 1 = expired or of unknown age (created_at unreadable): msg
 * says which, with the age and the limit. Stops always return 0. */
int command_too_old(const char *type, const char *created_at, int64_t now_ms,
                    unsigned max_age_s, char *msg, size_t len);

#endif
