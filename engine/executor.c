/* executor.c - the recipe executor thread (see executor.h). */
#include "executor.h"
#include "clock.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "pulse_trace.h"
#include "realtime.h"
#include "setpoint.h"
#include "sink.h"
#include "state.h"
#include "thread_role.h"

static ald_metric *m_started, *m_completed, *m_failed, *m_aborted, *m_running, *m_duration,
    *m_expected, *m_pulse_error, *m_steps, *m_progress_dropped;

static void register_metrics(void)
{
    static const double pulse_buckets[] = {-0.001,  -0.0005, -0.0002, -0.0001, 0,     0.0001,
                                           0.0002, 0.0005,  0.001,   0.002,   0.005, 0.01};
    m_started = metrics_counter("ald_processes_started_total", "Recipe runs started", NULL);
    m_completed = metrics_counter("ald_processes_completed_total", "Recipe runs completed", NULL);
    m_failed = metrics_counter("ald_processes_failed_total", "Recipe runs that failed", NULL);
    m_aborted = metrics_counter("ald_processes_aborted_total", "Recipe runs stopped", NULL);
    m_running = metrics_gauge("ald_recipe_running", "1 while a recipe runs", NULL);
    m_duration = metrics_gauge("ald_recipe_run_duration_seconds",
                               "Seconds the current recipe run has taken so far (0 when idle)",
                               NULL);
    m_expected = metrics_gauge("ald_recipe_expected_duration_seconds",
                               "Nominal length of the current recipe run (0 when idle)", NULL);
    m_pulse_error = metrics_histogram(
        "ald_valve_pulse_error_seconds",
        "Commanded valve pulse length minus nominal, as timed by the engine", NULL,
        pulse_buckets, sizeof pulse_buckets / sizeof pulse_buckets[0]);
    m_steps = metrics_counter("ald_recipe_steps_total", "Recipe steps executed", NULL);
    m_progress_dropped = metrics_counter(
        "ald_progress_dropped_total",
        "Step transitions not written because the store lagged a full queue behind", NULL);
}

/* Valve pulses shorter than this publish their step's state after the close
 * write; longer ones right after the open (a store write takes milliseconds,
 * long done before such a pulse ends). */
#define PUBLISH_AFTER_CLOSE_MS 200

/* ---- cancellable waits ------------------------------------------------------ */

/* Sleep until deadline or a stop request. Returns 1 when stopped. */
static int wait_until(executor *x, uint64_t deadline)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    pthread_mutex_lock(&x->lock);
    while (!x->stop_requested) {
        if (pthread_cond_timedwait(&x->wake, &x->lock, &ts) == ETIMEDOUT)
            break;
    }
    int stopped = x->stop_requested;
    pthread_mutex_unlock(&x->lock);
    return stopped;
}

static int stop_requested(executor *x)
{
    pthread_mutex_lock(&x->lock);
    int s = x->stop_requested;
    pthread_mutex_unlock(&x->lock);
    return s;
}

/* ---- progress publisher --------------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Queue the current state for the publisher; never waits for storage. When
 * the ring is full the oldest queued transition is dropped and counted: the
 * run never blocks on the store. wake = 0 queues it without waking the
 * publisher (publisher_wake() later). */
static void queue_state(executor *x, int wake)
{
    pthread_mutex_lock(&x->pub_lock);
    if (x->q_count == PROGRESS_QUEUE_LEN) {
        x->q_head = (x->q_head + 1) % PROGRESS_QUEUE_LEN;
        x->q_count--;
        x->pub_dropped++;
        metrics_add(m_progress_dropped, 1);
    }
    progress_slot *p = &x->queue[(x->q_head + x->q_count) % PROGRESS_QUEUE_LEN];
    x->q_count++;
    p->st = x->st;
    copy_str(p->execution_id, sizeof p->execution_id, x->st.execution_id);
    copy_str(p->step_type, sizeof p->step_type, x->st.current_step_type);
    copy_str(p->step_name, sizeof p->step_name, x->st.current_step_name);
    copy_str(p->parameter_id, sizeof p->parameter_id, x->st.current_parameter_id);
    p->st.last_updated_ms = clock_realtime_ms();
    if (wake)
        pthread_cond_signal(&x->pub_wake);
    pthread_mutex_unlock(&x->pub_lock);
}

static void publish(executor *x)
{
    queue_state(x, 1);
}

static void publisher_wake(executor *x)
{
    pthread_mutex_lock(&x->pub_lock);
    pthread_cond_signal(&x->pub_wake);
    pthread_mutex_unlock(&x->pub_lock);
}

/* 1 when written (or the store keeps no progress), 0 when refused. */
static int write_state(executor *x, progress_slot *s)
{
    s->st.execution_id = s->execution_id;
    s->st.current_step_type = s->step_type;
    s->st.current_step_name = s->step_name;
    s->st.current_parameter_id = s->parameter_id[0] ? s->parameter_id : NULL;
    sinks_offer_progress(&s->st); /* sinks that keep progress; never blocks */
    if (!storage_port_has(x->storage, STORAGE_PROGRESS))
        return 1;
    port_error err;
    if (storage_port_update_progress(x->storage, &s->st, &err) == ALD_OK)
        return 1;
    log_debug("executor", "progress not written: %s", err.text);
    return 0;
}

/* Take the oldest queued transition into *out; 0 when none. pub_lock held. */
static int pop_transition(executor *x, progress_slot *out)
{
    if (x->q_count == 0)
        return 0;
    *out = x->queue[x->q_head];
    x->q_head = (x->q_head + 1) % PROGRESS_QUEUE_LEN;
    x->q_count--;
    return 1;
}

/* Writes every queued transition in order; pub_writing is set while one is
 * on its way and pub_failing after a write the store refused. */
static void *publisher_main(void *arg)
{
    executor *x = arg;
    thread_role_enter("ald-publisher", THREAD_BACKGROUND);
    progress_slot local;
    pthread_mutex_lock(&x->pub_lock);
    for (;;) {
        while (x->q_count == 0 && !x->pub_quit)
            pthread_cond_wait(&x->pub_wake, &x->pub_lock);
        if (x->pub_quit && x->pub_failing) { /* shutting down, store refusing: */
            x->pub_dropped += x->q_count;    /* do not hold the stop for each */
            metrics_add(m_progress_dropped, (double)x->q_count);
            x->q_count = 0;
        }
        if (!pop_transition(x, &local))
            break; /* quit, and nothing left */
        x->pub_writing = 1;
        pthread_mutex_unlock(&x->pub_lock);
        int ok = write_state(x, &local);
        pthread_mutex_lock(&x->pub_lock);
        x->pub_writing = 0;
        x->pub_failing = !ok;
        pthread_cond_broadcast(&x->pub_idle);
    }
    pthread_mutex_unlock(&x->pub_lock);
    return NULL;
}

/* End of a run: queue the final state and wait until the store has every
 * step and the end marker, so they land before the process is marked
 * finished. A store that refuses writes is not waited for: the publisher
 * keeps the rest, in order, and the end of the run goes on (valves are
 * already closed; the outcome has the outbox). */
static void publish_now(executor *x)
{
    publish(x);
    pthread_mutex_lock(&x->pub_lock);
    while (x->pub_started && !x->pub_failing && (x->q_count > 0 || x->pub_writing))
        pthread_cond_wait(&x->pub_idle, &x->pub_lock);
    pthread_mutex_unlock(&x->pub_lock);
}

/* ---- steps ------------------------------------------------------------------------- */

static run_outcome failed(executor *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static run_outcome failed(executor *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->failure, sizeof x->failure, fmt, ap);
    va_end(ap);
    return RUN_FAILED;
}

static void enter_step(executor *x, const recipe_step *s)
{
    x->st.current_overall_step++;
    x->st.current_step_type = recipe_step_kind_name(s->kind);
    x->st.current_step_name = s->name;
    x->st.current_valve_number = s->kind == STEP_VALVE ? s->valve_number : -1;
    x->st.current_valve_duration_ms = s->kind == STEP_VALVE ? s->duration_ms : -1;
    x->st.current_purge_duration_ms = s->kind == STEP_PURGE ? s->duration_ms : -1;
    x->st.current_parameter_id = s->parameter_id;
    x->st.current_parameter_value =
        s->kind == STEP_SET_PARAMETER || s->kind == STEP_WAIT ? s->target_value : NAN;
    if (s->kind != STEP_VALVE)
        publish(x); /* a valve step publishes once its open write is out (run_valve) */
}

/* A loop's own state at the start of each iteration, as the Python system
 * wrote it (src/step_flow/loop_step.py): type "loop", the loop's name, count
 * and iteration; the step counters are those of the last leaf step. */
static void enter_loop_iteration(executor *x, const recipe_step *s, int64_t iteration)
{
    x->st.current_step_type = recipe_step_kind_name(s->kind);
    x->st.current_step_name = s->name;
    x->st.current_valve_number = -1;
    x->st.current_valve_duration_ms = -1;
    x->st.current_purge_duration_ms = -1;
    x->st.current_parameter_id = NULL;
    x->st.current_parameter_value = NAN;
    x->st.current_loop_count = s->iterations;
    x->st.current_loop_iteration = iteration;
    publish(x);
}

static run_outcome close_valve(executor *x, int valve)
{
    ald_status st = ALD_OK;
    port_error err;
    for (int attempt = 0; attempt < 3; attempt++) { /* closing matters most */
        st = plc_port_close_valve(x->plc, x->tags, valve, &err); /* owed if unconfirmed */
        if (st == ALD_OK)
            return RUN_COMPLETED;
    }
    return failed(x, "valve %d not confirmed closed (owed: the engine keeps closing it): "
                     "%s: %s", valve, ald_status_name(st), err.text);
}

/* Open a valve: a PLC-timed pulse where the plugin has one for this valve,
 * else a plain write. */
static ald_status open_valve(executor *x, const recipe_step *s, port_error *err)
{
    ald_status st =
        plc_port_pulse(x->plc, x->tags, s->valve_number, (uint32_t)s->duration_ms, err);
    if (st != ALD_ERR_UNSUPPORTED && st != ALD_ERR_NOT_FOUND)
        return st;
    return plc_port_valve_set(x->plc, x->tags, s->valve_number, 1, err);
}

static run_outcome run_valve(executor *x, const recipe_step *s)
{
    pulse_trace_begin();
    port_error err;
    ald_status st = open_valve(x, s, &err);
    /* The pulse is timed from the PLC's answer to the open, as a bare client
     * does: timed from before the write, an open that waited for the PLC
     * (a busy scan, a resend) would be cut short by that wait. */
    uint64_t opened = clock_mono_ns();
    pulse_trace_set(PT_OPEN_DONE, opened);
    /* Queued after the open, so waking the publisher never delays an opening.
     * A short pulse's state is written after its close: woken now, the
     * publisher's store write (an fsync with SQLite) would take the run
     * thread's core while the pulse runs (docs/benchmarks.md, pulse tail). */
    int hold = s->duration_ms < PUBLISH_AFTER_CLOSE_MS;
    queue_state(x, !hold);
    pulse_trace_mark(PT_PUBLISHED);
    if (st != ALD_OK)
        return failed(x, "step '%s': opening valve %d failed: %s: %s", s->name,
                      s->valve_number, ald_status_name(st),
                      st == ALD_ERR_NOT_FOUND ? "no such valve" : err.text);
    uint64_t deadline = opened + (uint64_t)s->duration_ms * 1000000u;
    pulse_trace_set(PT_DEADLINE, deadline);
    int stopped = wait_until(x, deadline);
    uint64_t closing = clock_mono_ns();
    pulse_trace_set(PT_WOKE, closing);
    run_outcome closed = close_valve(x, s->valve_number); /* also after a PLC-timed pulse */
    pulse_trace_mark(PT_CLOSE_DONE);
    pulse_trace_end();
    if (hold)
        publisher_wake(x);
    if (!stopped)
        metrics_observe(m_pulse_error,
                        ((double)(closing - opened) - (double)s->duration_ms * 1e6) / 1e9);
    x->sched_ns = deadline;
    if (closed != RUN_COMPLETED)
        return closed;
    return stopped ? RUN_ABORTED : RUN_COMPLETED;
}

static run_outcome run_timed_wait(executor *x, int64_t ms)
{
    uint64_t deadline = x->sched_ns + (uint64_t)ms * 1000000u;
    x->sched_ns = deadline;
    return wait_until(x, deadline) ? RUN_ABORTED : RUN_COMPLETED;
}

static run_outcome run_set_parameter(executor *x, const recipe_step *s)
{
    setpoint_target t = {x->plc, x->tags, x->storage};
    char err[512];
    if (setpoint_apply(&t, s->parameter_id, s->target_value, err, sizeof err) != 0)
        return failed(x, "step '%s': %s", s->name, err);
    x->sched_ns = clock_mono_ns();
    return run_timed_wait(x, s->duration_ms);
}

/* Poll the parameter every 100 ms until the condition holds or time runs out. */
static run_outcome run_wait(executor *x, const recipe_step *s)
{
    const tag_param *p = tagmap_find(x->tags, s->parameter_id);
    if (!p || p->value_tag == SIZE_MAX || !plc_port_can_read_tags(x->plc))
        return failed(x, "step '%s': parameter %s cannot be read", s->name, s->parameter_id);
    uint64_t start = clock_mono_ns(), end = start + (uint64_t)s->duration_ms * 1000000u;
    double last = NAN;
    for (uint64_t next = start; next < end; next += 100000000u) {
        double value;
        if (plc_port_read_tag(x->plc, p->value_tag, &value, NULL) == ALD_OK) {
            last = value;
            if (recipe_condition_holds(s->op, value, s->target_value)) {
                x->sched_ns = clock_mono_ns();
                return RUN_COMPLETED;
            }
        }
        if (wait_until(x, next + 100000000u < end ? next + 100000000u : end))
            return RUN_ABORTED;
    }
    return failed(x, "step '%s': %s did not reach %g within %lld ms (last value %g)", s->name,
                  s->parameter_id, s->target_value, (long long)s->duration_ms, last);
}

static run_outcome run_leaf(executor *x, const recipe_step *s)
{
    enter_step(x, s);
    run_outcome r;
    switch (s->kind) {
    case STEP_VALVE:
        r = run_valve(x, s);
        break;
    case STEP_PURGE:
        r = run_timed_wait(x, s->duration_ms);
        break;
    case STEP_SET_PARAMETER:
        r = run_set_parameter(x, s);
        break;
    default:
        r = run_wait(x, s);
        break;
    }
    if (r == RUN_COMPLETED) {
        x->st.progress_completed_steps++;
        metrics_add(m_steps, 1);
    }
    return r;
}

static run_outcome run_steps(executor *x, const recipe_step *steps, size_t n, int top_level);

static run_outcome run_loop(executor *x, const recipe_step *s, int top_level)
{
    int64_t outer_count = x->st.current_loop_count, outer_iter = x->st.current_loop_iteration;
    run_outcome r = RUN_COMPLETED;
    for (int64_t i = 1; i <= s->iterations && r == RUN_COMPLETED; i++) {
        enter_loop_iteration(x, s, i);
        r = run_steps(x, s->children, s->child_count, 0);
        if (r == RUN_COMPLETED && top_level)
            x->st.progress_completed_cycles++;
    }
    x->st.current_loop_count = outer_count;
    x->st.current_loop_iteration = outer_iter;
    return r;
}

static run_outcome run_steps(executor *x, const recipe_step *steps, size_t n, int top_level)
{
    for (size_t i = 0; i < n; i++) {
        if (top_level)
            x->st.current_step_index = (int64_t)i;
        if (stop_requested(x))
            return RUN_ABORTED;
        run_outcome r = steps[i].kind == STEP_LOOP ? run_loop(x, &steps[i], top_level)
                                                   : run_leaf(x, &steps[i]);
        if (r != RUN_COMPLETED)
            return r;
    }
    return RUN_COMPLETED;
}

/* ---- end of a run ----------------------------------------------------------------- */

/* One outcome write: to the primary, or, when it is down or refuses, durably
 * to the outbox (replayed in order with the samples). */
static void store_outcome(executor *x, const char *kind, json_t *js)
{
    ald_status why;
    outcome_route route = storage_port_record_outcome(x->storage, x->ob, kind, js, &why);
    if (route == OUTCOME_KEPT)
        log_info("executor", "%s kept in the outbox until the primary store answers", kind);
    else if (route == OUTCOME_LOST)
        state_record_error("%s of process %s was lost: %s", kind, x->process_id,
                           ald_status_name(why));
}

/* The machine's state after a run: error when the run failed or when a valve
 * is still owed closed (a valve may be open: nothing may start until the PLC
 * confirms it and an operator clears the error). */
static int machine_in_error(run_outcome r, const char *reason, char *failure, size_t len)
{
    char owed[256];
    plc_port_owed_names(owed, sizeof owed);
    if (owed[0])
        snprintf(failure, len, "Valve not confirmed closed: %s owed closed (%.200s)", owed,
                 reason[0] ? reason : "run completed");
    else
        snprintf(failure, len, "Recipe execution error: %s", reason);
    return r == RUN_FAILED || owed[0];
}

static void record_outcome(executor *x, run_outcome r, const char *reason)
{
    static const char *const process_status[] = {"completed", "aborted", "failed"};
    char failure[600];
    int in_error = machine_in_error(r, reason, failure, sizeof failure);
    json_t *fp = json_pack("{s:s, s:s, s:s?, s:I}", "id", x->process_id, "status",
                           process_status[r], "error", r == RUN_COMPLETED ? NULL : reason,
                           "end_ms", (json_int_t)clock_realtime_ms());
    json_t *ms = json_pack("{s:s, s:s, s:s?}", "machine_id", x->machine_id, "status",
                           in_error ? "error" : "idle", "failure", in_error ? failure : NULL);
    store_outcome(x, "finish_process", fp);
    store_outcome(x, "machine_state", ms);
    if (x->command_id[0]) {
        json_t *fc = json_pack("{s:s, s:s, s:s?}", "id", x->command_id, "status",
                               r == RUN_COMPLETED ? "completed" : "error", "error",
                               r == RUN_ABORTED   ? "aborted"
                               : r == RUN_FAILED ? reason
                                                 : NULL);
        store_outcome(x, "finish_command", fc);
        json_decref(fc);
    }
    json_decref(fp);
    json_decref(ms);
}

static void finish_run(executor *x, run_outcome r)
{
    const char *reason = r == RUN_FAILED ? x->failure : r == RUN_ABORTED ? x->stop_reason : "";
    atomic_store(&x->valves_owed, 0);
    if (r != RUN_COMPLETED) {
        int failed_closes = plc_port_close_all_valves(x->plc, x->tags); /* safety first */
        log_warning("executor", "process %s %s: %s; all valves commanded closed%s",
                    x->process_id, r == RUN_FAILED ? "failed" : "aborted", reason,
                    failed_closes ? " (SOME NOT CONFIRMED: owed, retried until closed)" : "");
        atomic_store(&x->valves_owed, failed_closes); /* a start must not clear this error */
    }
    /* End markers as the Python system wrote them (executor.py complete_recipe,
     * handle_recipe_error: "Error: " and the first 100 characters of the
     * message); a stop, which Python never marked, is "Recipe Aborted". */
    char marker[128];
    snprintf(marker, sizeof marker, "Error: %.100s", reason);
    x->st.current_step_type = r == RUN_COMPLETED ? "completed" : "error";
    x->st.current_step_name = r == RUN_COMPLETED ? "Recipe Completed"
                              : r == RUN_ABORTED ? "Recipe Aborted"
                                                 : marker;
    x->st.current_parameter_id = NULL;
    publish_now(x);
    record_outcome(x, r, reason);
    if (x->writer)
        writer_set_process(x->writer, NULL);
    metrics_add(r == RUN_COMPLETED ? m_completed : r == RUN_ABORTED ? m_aborted : m_failed, 1);
    metrics_set(m_running, 0);
    metrics_set(m_duration, 0);
    metrics_set(m_expected, 0);
    log_info("executor", "process %s %s after %.1f s (%lld of %lld steps)", x->process_id,
             r == RUN_COMPLETED ? "completed" : r == RUN_ABORTED ? "aborted" : "failed",
             (double)(clock_mono_ns() - x->run_started_mono) / 1e9,
             (long long)x->st.progress_completed_steps, (long long)x->st.total_overall_steps);
    x->last_outcome = r;
}

static void begin_state(executor *x)
{
    x->st = (ald_process_state){.struct_size = sizeof x->st,
                                .execution_id = x->process_id,
                                .current_step_index = 0,
                                .current_overall_step = 0,
                                .total_overall_steps = x->rc.total_steps,
                                .current_step_type = "starting",
                                .current_step_name = x->rc.name,
                                .current_valve_number = -1,
                                .current_valve_duration_ms = -1,
                                .current_purge_duration_ms = -1,
                                .current_parameter_value = NAN,
                                .current_loop_count = -1,
                                .current_loop_iteration = -1,
                                .progress_total_steps = x->rc.total_steps,
                                .progress_total_cycles = x->rc.total_cycles};
}

static atomic_int start_clears_error = 1;

void executor_set_start_clears_error(int on)
{
    atomic_store(&start_clears_error, on != 0);
}

int executor_start_over_error(executor *x, char *err, size_t len)
{
    if (!atomic_load(&start_clears_error)) {
        snprintf(err, len, "machine is in error; clear it first (command clear_error)");
        return -1;
    }
    int owed = atomic_load(&x->valves_owed);
    if (owed < 0) { /* this engine did not end the run in error: it cannot vouch */
        snprintf(err, len, "machine is in error from before this engine ran a recipe; "
                 "clear it first (command clear_error)");
        return -1;
    }
    if (owed > 0) { /* safety: never start over a valve that may still be open */
        snprintf(err, len, "machine is in error and the last run could not close %d valve "
                 "output(s): check the valves, then send clear_error", owed);
        return -1;
    }
    log_warning("executor", "the machine is in error; this start clears it, as the Python "
                "recipe service did (ALD_START_CLEARS_ERROR=0 requires clear_error)");
    return 0;
}

int executor_is_alive(const executor *x, uint64_t now_ns, uint64_t grace_ns)
{
    if (!atomic_load(&x->busy))
        return 1;
    /* A run thread always has a next deadline; far past it, it is stuck. */
    uint64_t sched = __atomic_load_n(&x->sched_ns, __ATOMIC_RELAXED);
    return now_ns < sched + grace_ns;
}

/* No recipe runs while a valve is owed closed (it may be open at the PLC),
 * nor before the valve guard's start-up close of every valve. */
static run_outcome refuse_while_owed(executor *x)
{
    /* the guard's first pass is due within one period of the lease: wait for it */
    for (int i = 0; i < 150 && atomic_load(&g_state.valves_unchecked); i++)
        wait_until(x, clock_mono_ns() + 20000000u);
    if (atomic_load(&g_state.valves_unchecked))
        return failed(x, "the engine has not yet closed and confirmed every valve since it "
                      "started (is it a standby?): nothing was opened");
    char owed[256];
    plc_port_owed_names(owed, sizeof owed);
    if (!owed[0])
        return RUN_COMPLETED;
    return failed(x, "%s owed closed (not confirmed OFF by the PLC): no recipe may run until "
                  "the PLC confirms it closed", owed);
}

static void *run_main(void *arg)
{
    executor *x = arg;
    thread_role_enter("ald-run", THREAD_TIMED);
    realtime_enter_run_thread(); /* SCHED_FIFO and a pre-faulted stack, when requested */
    x->run_started_mono = clock_mono_ns();
    x->sched_ns = x->run_started_mono;
    begin_state(x); /* not written: create_process stored the start row */
    if (x->writer)
        writer_set_process(x->writer, x->process_id);
    metrics_add(m_started, 1);
    metrics_set(m_running, 1);
    metrics_set(m_expected, x->rc.nominal_ms / 1000.0);
    log_info("executor", "process %s: running recipe '%s' (%lld steps, %lld cycles, nominal "
             "%.1f s)",
             x->process_id, x->rc.name, (long long)x->rc.total_steps,
             (long long)x->rc.total_cycles, x->rc.nominal_ms / 1000.0);
    run_outcome r = refuse_while_owed(x);
    if (r == RUN_COMPLETED)
        r = run_steps(x, x->rc.steps, x->rc.step_count, 1);
    finish_run(x, r);
    recipe_free(&x->rc);
    atomic_store(&x->busy, 0);
    return NULL;
}

/* ---- public ------------------------------------------------------------------------- */

/* Collector: the current run's duration, at scrape time (a long step must
 * not freeze it). */
static void collect_duration(void *ctx)
{
    executor *x = ctx;
    metrics_set(m_duration, atomic_load(&x->busy) && x->run_started_mono
                                ? (double)(clock_mono_ns() - x->run_started_mono) / 1e9
                                : 0);
}

int executor_init(executor *x, plugin_instance *plc, plugin_instance *storage,
                  const tagmap *tags, sample_writer *writer, const char *machine_id,
                  outbox *ob)
{
    memset(x, 0, sizeof *x);
    x->ob = ob;
    x->plc = plc;
    x->storage = storage;
    x->tags = tags;
    x->writer = writer;
    x->machine_id = machine_id;
    atomic_store(&x->valves_owed, -1); /* unknown until a run of ours ends */
    pthread_mutex_init(&x->lock, NULL);
    pthread_mutex_init(&x->pub_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&x->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&x->pub_wake, NULL);
    pthread_cond_init(&x->pub_idle, NULL);
    register_metrics();
    metrics_add_collector(collect_duration, x);
    plc_port_prepare_valve_path(plc); /* no allocation on a run's first pulse */
    if (pthread_create(&x->pub_thread, NULL, publisher_main, x) != 0)
        return -1;
    x->pub_started = 1;
    return 0;
}

int executor_run(executor *x, recipe *rc, const char *process_id, const char *command_id)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&x->busy, &expected, 1))
        return -1;
    executor_join(x); /* reap the previous run's thread */
    x->rc = *rc;
    memset(rc, 0, sizeof *rc);
    copy_str(x->process_id, sizeof x->process_id, process_id);
    copy_str(x->command_id, sizeof x->command_id, command_id);
    x->failure[0] = '\0';
    pthread_mutex_lock(&x->lock);
    x->stop_requested = 0;
    x->stop_reason[0] = '\0';
    pthread_mutex_unlock(&x->lock);
    x->run_started_ms = clock_realtime_ms();
    pthread_attr_t attr;
    realtime_run_thread_attr(&attr); /* a fixed stack in the real-time mode */
    int failed_to_start = pthread_create(&x->run_thread, &attr, run_main, x);
    pthread_attr_destroy(&attr);
    if (failed_to_start) {
        recipe_free(&x->rc);
        atomic_store(&x->busy, 0);
        return -1;
    }
    x->run_joinable = 1;
    return 0;
}

void executor_stop(executor *x, const char *reason)
{
    pthread_mutex_lock(&x->lock);
    if (atomic_load(&x->busy) && !x->stop_requested) {
        x->stop_requested = 1;
        copy_str(x->stop_reason, sizeof x->stop_reason, reason);
        pthread_cond_broadcast(&x->wake);
    }
    pthread_mutex_unlock(&x->lock);
}

int executor_busy(executor *x)
{
    return atomic_load(&x->busy);
}

void executor_process_id(executor *x, char *buf, size_t len)
{
    copy_str(buf, len, atomic_load(&x->busy) ? x->process_id : "");
}

void executor_join(executor *x)
{
    if (x->run_joinable) {
        pthread_join(x->run_thread, NULL);
        x->run_joinable = 0;
    }
}

void executor_shutdown(executor *x)
{
    executor_stop(x, "engine shutting down");
    executor_join(x);
    pulse_trace_dump();
    if (x->pub_started) {
        pthread_mutex_lock(&x->pub_lock);
        x->pub_quit = 1;
        pthread_cond_signal(&x->pub_wake);
        pthread_mutex_unlock(&x->pub_lock);
        pthread_join(x->pub_thread, NULL);
        x->pub_started = 0;
    }
}
