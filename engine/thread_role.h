/* thread_role.h - each engine thread's name and scheduling role.
 *
 * Every engine thread calls thread_role_enter() first thing, with a short
 * name (shown in /proc/PID/task/TID/comm, top -H, perf sched) and its role:
 *   THREAD_TIMED       the logger, the recipe run thread, the command
 *                      processor, the lease keeper, the valve guard: their
 *                      timing is measured or they stop and close valves;
 *                      also the starter (a start's latency is the operator's);
 *   THREAD_BACKGROUND  the writer, the progress publisher, the outbox replay,
 *                      the sinks, the HTTP thread: work that may wait a few
 *                      milliseconds. */
#ifndef ALD_ENGINE_THREAD_ROLE_H
#define ALD_ENGINE_THREAD_ROLE_H

typedef enum { THREAD_TIMED, THREAD_BACKGROUND } thread_role;

/* Name the calling thread (at most 15 characters are kept). A refusal is
 * logged, never fatal. */
void thread_role_enter(const char *name, thread_role role);

/* The same, once per thread: for a thread the engine does not create
 * (libmicrohttpd's), called from its callbacks. */
void thread_role_enter_once(const char *name, thread_role role);

#endif
