/* thread_role.h - each engine thread's name and scheduling role.
 *
 * Every engine thread calls thread_role_enter() first thing, with a short
 * name (shown in /proc/PID/task/TID/comm, top -H, perf sched) and its role:
 *   THREAD_TIMED       the logger, the recipe run thread, the command
 *                      processor, the lease keeper, the valve guard: their
 *                      timing is measured or they stop and close valves;
 *                      also the starter (a start's latency is the operator's).
 *                      They keep the process's nice value.
 *   THREAD_BACKGROUND  the writer, the progress publisher, the outbox replay,
 *                      the sinks, the HTTP thread: work that may wait a few
 *                      milliseconds. They run THREAD_BACKGROUND_NICE above
 *                      the process's nice value, so that when one of them and
 *                      a timed thread are both waiting for a core the
 *                      scheduler picks the timed one more often (perf sched
 *                      showed the publisher on the run thread's core when a
 *                      pulse's close was due: docs/benchmarks.md, "Where the
 *                      pulse tail comes from"). Raising a thread's own nice
 *                      value needs no privilege.
 *
 * A thread inherits its creator's nice value and an unprivileged thread
 * cannot lower it again: a background thread must never create a timed one
 * (the run thread and the starter are created by the command processor, the
 * others by the main thread). tests/integration/realtime.bats checks every
 * thread's name and nice value. */
#ifndef ALD_ENGINE_THREAD_ROLE_H
#define ALD_ENGINE_THREAD_ROLE_H

/* How far above the process's nice value a background thread runs: 5 is a
 * scheduler weight of 335 against a timed thread's 1024 (about a third): the
 * timed thread is picked first more often, and a background thread still
 * gets a share against other processes, never none. */
#define THREAD_BACKGROUND_NICE 5

typedef enum { THREAD_TIMED, THREAD_BACKGROUND } thread_role;

/* Name the calling thread (at most 15 characters are kept) and, for
 * THREAD_BACKGROUND, raise its nice value by THREAD_BACKGROUND_NICE. A
 * refusal is logged, never fatal: the thread runs on as it was. */
void thread_role_enter(const char *name, thread_role role);

/* The same, once per thread: for a thread the engine does not create
 * (libmicrohttpd's), called from its callbacks. */
void thread_role_enter_once(const char *name, thread_role role);

#endif
