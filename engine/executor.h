/*
 * executor.h - runs one recipe at a time on its own thread.
 *
 * Timing: every wait is on an absolute CLOCK_MONOTONIC deadline. A valve
 * pulse is anchored on the moment its OPEN write is issued, so the dose is
 * exact even when the step starts late; the next step is scheduled from the
 * pulse's nominal end, so write latencies never accumulate. Waits are
 * condition-variable waits: a stop wakes them at once (well within 10 ms).
 *
 * Safety: a stop, a failure (PLC write refused, PLC lost, bad step) or an
 * engine shutdown commands every valve closed FIRST, then marks the process
 * (aborted / failed), then the machine (idle / error), then the start command.
 *
 * Progress: process_execution_state goes to storage on a separate publisher
 * thread, so a step costs microseconds, not round trips. Every step
 * transition is queued (a bounded ring, in order), so each step reaches the
 * store and its step_execution_history row, as the Python system's
 * synchronous writes did; when the store lags by PROGRESS_QUEUE_LEN
 * transitions the oldest queued one is dropped and counted
 * (ald_progress_dropped_total), never blocking the run.
 */
#ifndef ALD_ENGINE_EXECUTOR_H
#define ALD_ENGINE_EXECUTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "outbox.h"
#include "ports/plc_port.h"
#include "ports/storage_port.h"
#include "recipe.h"
#include "tagmap.h"
#include "writer.h"

typedef enum run_outcome { RUN_COMPLETED, RUN_ABORTED, RUN_FAILED } run_outcome;

/* The state the publisher writes; strings are copies (the recipe may be gone). */
typedef struct progress_slot {
    ald_process_state st;
    char execution_id[64];
    char step_type[32];
    char step_name[128];
    char parameter_id[64];
} progress_slot;

/* Step transitions waiting for the store; a ring buffer. */
#define PROGRESS_QUEUE_LEN 128

typedef struct executor {
    plugin_instance *plc;
    plugin_instance *storage;
    const tagmap *tags;
    sample_writer *writer; /* may be NULL (tests) */
    outbox *ob;            /* end-of-run records go here when the primary is down */
    const char *machine_id;

    pthread_mutex_t lock; /* guards stop_requested, stop_reason and waits */
    pthread_cond_t wake;
    int stop_requested;
    char stop_reason[160];
    atomic_int busy;
    pthread_t run_thread;
    int run_joinable;

    /* the current run (owned by the run thread while busy) */
    recipe rc;
    char process_id[64];
    char command_id[64];
    uint64_t sched_ns;   /* nominal start of the next step */
    char failure[512];   /* why the run failed */
    ald_process_state st;
    int64_t run_started_ms;
    uint64_t run_started_mono;

    /* progress publisher */
    pthread_mutex_t pub_lock;
    pthread_cond_t pub_wake; /* a transition was queued, or quit */
    pthread_cond_t pub_idle; /* a write ended */
    int pub_writing;         /* a transition is on its way to the store */
    int pub_failing;         /* the last write was refused */
    progress_slot queue[PROGRESS_QUEUE_LEN];
    size_t q_head, q_count; /* oldest queued transition, how many */
    uint64_t pub_dropped;   /* transitions dropped because the ring was full */
    int pub_quit;
    pthread_t pub_thread;
    int pub_started;

    atomic_int valves_owed;   /* closes the last run's close-all could not land; -1: no run
                               * of this engine has ended yet */
    run_outcome last_outcome; /* for tests */
} executor;

/* Whether a start_recipe may clear a machine's error (default 1): the Python
 * system's recipe service (simple_recipe_service.py) started a recipe on a
 * machine in error, and the operator app cannot send clear_error. 0 = only
 * clear_error / reset does. Set once at start-up (ALD_START_CLEARS_ERROR). */
void executor_set_start_clears_error(int on);

/* Called by a start on a machine in `error`: 0 when the start may clear it,
 * else -1 with why in err: the setting is off; or no run of this engine has
 * ended (an error left by a crash or another engine: the valves are not
 * vouched for); or the last run could not close every valve. */
int executor_start_over_error(executor *x, char *err, size_t len);

/* 1 unless a run is in progress and its thread is more than grace_ns past its
 * next deadline (stuck in a call). For the systemd watchdog. Any thread. */
int executor_is_alive(const executor *x, uint64_t now_ns, uint64_t grace_ns);

int executor_init(executor *x, plugin_instance *plc, plugin_instance *storage,
                  const tagmap *tags, sample_writer *writer, const char *machine_id,
                  outbox *ob);

/* Start a run; takes ownership of *rc (zeroes it). -1 if a run is active. */
int executor_run(executor *x, recipe *rc, const char *process_id, const char *command_id);

/* Ask the running recipe to stop (async); no-op when idle. */
void executor_stop(executor *x, const char *reason);
int executor_busy(executor *x);
/* The running process id into buf ("" when idle). */
void executor_process_id(executor *x, char *buf, size_t len);
/* Wait for the current run (if any) to end. */
void executor_join(executor *x);
/* Stop any run ("engine shutting down"), wait for it, stop the publisher. */
void executor_shutdown(executor *x);

#endif
