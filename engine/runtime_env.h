/*
 * runtime_env.h - the engine's process settings that only the environment
 * sets (deployment concerns, not tool configuration):
 *
 *   HTTP_BIND                 address of /health and /metrics; default
 *                             127.0.0.1 (loopback, as Redis and PostgreSQL
 *                             do); a container sets 0.0.0.0
 *   ALD_LEASE_TTL_MS          lease lifetime (default 1500, 300..60000)
 *   ALD_LEASE_RENEW_MS        renewal period (default 500; at most TTL/2)
 *   ALD_EXECUTOR_RT_PRIORITY  the executor's real-time mode (realtime.h):
 *                             SCHED_FIFO priority of recipe run threads,
 *                             memory locked, pre-faulted run stacks
 *                             (1..99; default 0 = off, normal scheduling)
 *   ALD_START_CLEARS_ERROR    1 (default): a start_recipe on a machine in
 *                             error clears it and runs, as the Python
 *                             system's recipe service did, unless the last
 *                             run could not close a valve; 0: only
 *                             clear_error does (executor.h)
 *   ALD_ENGINE_ID             the lease holder name (lease.h)
 *
 * A bad value is an error naming the variable and what a good one looks like.
 */
#ifndef ALD_ENGINE_RUNTIME_ENV_H
#define ALD_ENGINE_RUNTIME_ENV_H

#include <stddef.h>

#define RUNTIME_DEFAULT_HTTP_BIND "127.0.0.1"

typedef struct engine_runtime {
    char http_bind[64];
    unsigned lease_ttl_ms;
    unsigned lease_renew_ms;
    int executor_rt_priority; /* 0 = off */
    int start_clears_error;   /* ALD_START_CLEARS_ERROR, 0 or 1 */
} engine_runtime;

/* Defaults, then the environment. 0, or -1 with a message in err. */
int runtime_env_load(engine_runtime *rt, char *err, size_t errlen);

#endif
