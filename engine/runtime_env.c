/* runtime_env.c - process settings from the environment (see runtime_env.h). */
#include "runtime_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"

static const char *env_text(const char *name)
{
    const char *value = getenv(name);
    return value && value[0] ? value : NULL; /* empty = unset (compose env files) */
}

/* NAME=<whole number in min..max> into *out; absent leaves *out. */
static int env_whole(const char *name, long min, long max, unsigned *out, char *err,
                     size_t errlen)
{
    const char *text = env_text(name);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        snprintf(err, errlen, "environment %s=%s must be a whole number %ld..%ld", name, text,
                 min, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int load_http_bind(engine_runtime *rt, char *err, size_t errlen)
{
    const char *bind = env_text("HTTP_BIND");
    if (!bind)
        bind = RUNTIME_DEFAULT_HTTP_BIND;
    if (strlen(bind) >= sizeof rt->http_bind || strpbrk(bind, " /")) {
        snprintf(err, errlen,
                 "environment HTTP_BIND=%s is not an address: use an IP address such as "
                 "127.0.0.1 (default), 0.0.0.0 or ::",
                 bind);
        return -1;
    }
    snprintf(rt->http_bind, sizeof rt->http_bind, "%s", bind);
    return 0;
}

int runtime_env_load(engine_runtime *rt, char *err, size_t errlen)
{
    memset(rt, 0, sizeof *rt);
    rt->lease_ttl_ms = LEASE_DEFAULT_TTL_MS;
    rt->lease_renew_ms = LEASE_DEFAULT_RENEW_MS;
    unsigned priority = 0, clears = 1;
    if (load_http_bind(rt, err, errlen) ||
        env_whole("ALD_LEASE_TTL_MS", 300, 60000, &rt->lease_ttl_ms, err, errlen) ||
        env_whole("ALD_LEASE_RENEW_MS", 50, 30000, &rt->lease_renew_ms, err, errlen) ||
        env_whole("ALD_EXECUTOR_RT_PRIORITY", 0, 99, &priority, err, errlen) ||
        env_whole("ALD_START_CLEARS_ERROR", 0, 1, &clears, err, errlen))
        return -1;
    if (rt->lease_renew_ms * 2 > rt->lease_ttl_ms) {
        snprintf(err, errlen,
                 "ALD_LEASE_RENEW_MS=%u is more than half of ALD_LEASE_TTL_MS=%u: one late "
                 "renewal would hand the tool to the standby; renew at most every TTL/2 "
                 "(defaults 500 and 1500)",
                 rt->lease_renew_ms, rt->lease_ttl_ms);
        return -1;
    }
    rt->executor_rt_priority = (int)priority;
    rt->start_clears_error = (int)clears;
    return 0;
}
