/*
 * realtime.h - the opt-in real-time mode of the recipe executor
 * (ALD_EXECUTOR_RT_PRIORITY 1..99; 0, the default, is off).
 *
 * When requested, each part is applied where the system permits it and
 * refused otherwise; a refusal is logged once with its reason and reported
 * in /health ("realtime"), never fatal and never a readiness condition: the
 * mode is a performance setting, not a safety one.
 *   sched_fifo      recipe run threads on SCHED_FIFO at the priority
 *                   (needs CAP_SYS_NICE or RLIMIT_RTPRIO >= priority);
 *   mlockall        MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT: pages once touched
 *                   are never paged out, untouched ones are not forced in (the
 *                   other threads' 8 MiB stacks stay small). Refused unless
 *                   RLIMIT_MEMLOCK is unlimited or CAP_IPC_LOCK is held: under
 *                   a finite limit MCL_FUTURE would make later allocations fail;
 *   stack_prefault  run threads get a fixed REALTIME_STACK_SIZE stack whose
 *                   first REALTIME_STACK_PREFAULT bytes are touched at thread
 *                   start, so a pulse never takes a page fault on its stack.
 * Threading: realtime_configure() once at start-up before the executor; the
 * rest from any thread.
 */
#ifndef ALD_ENGINE_REALTIME_H
#define ALD_ENGINE_REALTIME_H

#include <jansson.h>
#include <pthread.h>

#define REALTIME_STACK_SIZE (1024u * 1024u)
#define REALTIME_STACK_PREFAULT (512u * 1024u)

/* Request the mode (priority 0 = off): locks memory and probes SCHED_FIFO
 * on a short-lived thread, logging each refusal once. */
void realtime_configure(int priority);
/* Attributes for a run thread: a fixed stack size when the mode is on.
 * Returns 0, or an errno value (then attr is a default one). */
int realtime_run_thread_attr(pthread_attr_t *attr);
/* First call of every run thread: SCHED_FIFO and the stack pre-fault. */
void realtime_enter_run_thread(void);
/* The /health object: {"requested", "priority", "sched_fifo", "mlockall",
 * "stack_prefault"}, each part "applied", "off" or "refused: <why>". */
json_t *realtime_health_json(void);

#endif
