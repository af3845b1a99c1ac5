/* thread_role.h - each engine thread's name and scheduling role.
 *
 * Every engine thread calls thread_role_enter() first thing, with a short
 * name (shown in /proc/PID/task/TID/comm, top -H, perf sched) and its role:
 *   THREAD_DEADLINE    the recipe run thread: it wakes to a pulse's deadline
 *                      and must get a core at once. Timed (below), and on
 *                      SCHED_OTHER with a THREAD_DEADLINE_SLICE_NS slice: a
 *                      waking thread of a shorter slice preempts the running
 *                      one (Linux >= 6.12, EEVDF) instead of waiting out that
 *                      one's protected slice (1.4 ms here). perf sched showed
 *                      the progress publisher's SQLite write on the run
 *                      thread's core when a pulse's close was due; with the
 *                      short slice the run thread takes the core from it
 *                      (docs/benchmarks.md, "Where the pulse tail comes
 *                      from", has the numbers). The real-time mode
 *                      (realtime.h) puts the thread on SCHED_FIFO after this.
 *   THREAD_TIMED       the logger, the command processor, the lease keeper,
 *                      the valve guard: their timing is measured or they stop
 *                      and close valves; also the starter (a start's latency
 *                      is the operator's). They keep the process's nice value
 *                      and the default slice.
 *   THREAD_BACKGROUND  the writer, the progress publisher, the outbox replay,
 *                      the sinks, the HTTP thread: work that may wait a few
 *                      milliseconds. They run THREAD_BACKGROUND_NICE above
 *                      the process's nice value, so that when one of them and
 *                      a timed thread are both waiting for a core the
 *                      scheduler picks the timed one more often.
 * Neither setting needs a privilege; a refusal is logged, never fatal.
 *
 * A thread inherits its creator's nice value and an unprivileged thread
 * cannot lower it again: a background thread must never create a timed one
 * (the run thread and the starter are created by the command processor, the
 * others by the main thread). tests/integration/realtime.bats checks every
 * thread's name, nice value and slice. */
#ifndef ALD_ENGINE_THREAD_ROLE_H
#define ALD_ENGINE_THREAD_ROLE_H

/* How far above the process's nice value a background thread runs: 5 is a
 * scheduler weight of 335 against a timed thread's 1024 (about a third): the
 * timed thread is picked first more often, and a background thread still
 * gets a share against other processes, never none. */
#define THREAD_BACKGROUND_NICE 5

/* The scheduler slice of THREAD_DEADLINE threads: the smallest Linux takes
 * (0.1 ms); the default here is 1.4 ms (0.7 ms times 1 + log2 of the CPUs). */
#define THREAD_DEADLINE_SLICE_NS 100000u

typedef enum { THREAD_TIMED, THREAD_BACKGROUND, THREAD_DEADLINE } thread_role;

/* Name the calling thread (at most 15 characters are kept) and apply its
 * role: THREAD_BACKGROUND raises its nice value by THREAD_BACKGROUND_NICE,
 * THREAD_DEADLINE shortens its slice. A refusal is logged, never fatal: the
 * thread runs on as it was. */
void thread_role_enter(const char *name, thread_role role);

/* The same, once per thread: for a thread the engine does not create
 * (libmicrohttpd's), called from its callbacks. */
void thread_role_enter_once(const char *name, thread_role role);

#endif
