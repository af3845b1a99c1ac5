/* starter.c - a start's recipe load and checks on their own thread (see starter.h). */
#include "starter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "ports/storage_port.h"
#include "recipe_json.h"
#include "setpoint.h"
#include "thread_role.h"

/* ---- the load and its checks (run on the starter thread) ------------------------------ */

/* How long a start's phases took, for its log line (a huge recipe's start
 * should say where its time went). */
typedef struct load_times {
    size_t rows;
    uint64_t read_ms, build_ms;
} load_times;

static int load_recipe(plugin_instance *loader, const char *recipe_id, recipe *rc, char *err,
                       size_t len, load_times *t)
{
    uint64_t t0 = clock_mono_ms();
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader reader = recipe_rows_reader(&rows);
    port_error why = {""};
    ald_status st = storage_port_load_recipe(loader, recipe_id, &reader, &why);
    uint64_t t1 = clock_mono_ms();
    int rc_build = -1;
    if (st == ALD_ERR_NOT_FOUND || (st == ALD_OK && !rows.have_info))
        snprintf(err, len, "recipe %s does not exist", recipe_id);
    else if (st != ALD_OK) /* the store's words name the row (a valve number 1.5 ...) */
        snprintf(err, len, "cannot read recipe %s: %s: %s", recipe_id, ald_status_name(st),
                 why.text);
    else
        rc_build = recipe_build(rc, &rows, err, len);
    t->rows = rows.count;
    recipe_rows_free(&rows);
    t->read_ms = t1 - t0;
    t->build_ms = clock_mono_ms() - t1;
    return rc_build;
}

/* Every valve, parameter and target the recipe names exists here and is allowed. */
static int check_against_map(const tagmap *tags, const recipe_step *steps, size_t n, char *err,
                             size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const recipe_step *s = &steps[i];
        char why[400];
        if (s->kind == STEP_VALVE && !tagmap_valve(tags, s->valve_number)) {
            snprintf(err, len, "step '%s': valve %d does not exist on this machine", s->name,
                     s->valve_number);
            return -1;
        }
        if (s->kind == STEP_SET_PARAMETER &&
            setpoint_validate(tags, s->parameter_id, s->target_value, why, sizeof why) != 0) {
            snprintf(err, len, "step '%s': %s", s->name, why);
            return -1;
        }
        if (s->kind == STEP_WAIT && !tagmap_find(tags, s->parameter_id)) {
            snprintf(err, len, "step '%s': parameter %s is not on this machine", s->name,
                     s->parameter_id);
            return -1;
        }
        if (s->kind == STEP_LOOP &&
            check_against_map(tags, s->children, s->child_count, err, len) != 0)
            return -1;
    }
    return 0;
}

static void *starter_main(void *arg)
{
    recipe_starter *s = arg;
    thread_role_enter("ald-starter", THREAD_TIMED);
    recipe rc;
    char err[STARTER_ERR_LEN] = "";
    memset(&rc, 0, sizeof rc);
    load_times t = {0, 0, 0};
    int ok = load_recipe(s->loader, s->recipe_id, &rc, err, sizeof err, &t) == 0;
    uint64_t checked_at = clock_mono_ms();
    ok = ok && check_against_map(s->tags, rc.steps, rc.step_count, err, sizeof err) == 0;
    uint64_t snapshot_at = clock_mono_ms();
    char *snapshot = ok ? recipe_snapshot_json(&rc) : NULL;
    if (ok && !snapshot)
        snprintf(err, sizeof err, "out of memory making the recipe's snapshot");
    ok = ok && snapshot;
    if (ok)
        log_info("starter", "recipe %s: %zu steps read in %llu ms, built and validated in %llu "
                 "ms, checked against the machine in %llu ms, snapshot of %zu KiB made in "
                 "%llu ms", s->recipe_id, t.rows, (unsigned long long)t.read_ms,
                 (unsigned long long)t.build_ms,
                 (unsigned long long)(snapshot_at - checked_at), strlen(snapshot) / 1024,
                 (unsigned long long)(clock_mono_ms() - snapshot_at));
    else
        recipe_free(&rc);
    pthread_mutex_lock(&s->lock);
    s->rc = rc;
    s->snapshot = snapshot;
    s->ok = ok;
    snprintf(s->err, sizeof s->err, "%s", err);
    s->phase = STARTER_DONE;
    if (s->cancelled) /* said here, after the stop's own lines: the order shows */
        log_info("starter", "recipe %s of command %s %s after the start was cancelled: "
                 "discarded", s->recipe_id, s->command_id, ok ? "loaded" : "failed");
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    if (s->notify)
        s->notify(s->notify_ctx);
    return NULL;
}

/* ---- the command processor's side -------------------------------------------------------- */

void starter_init(recipe_starter *s, plugin_instance *loader, const tagmap *tags)
{
    memset(s, 0, sizeof *s);
    s->loader = loader;
    s->tags = tags;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &attr);
    pthread_condattr_destroy(&attr);
}

/* Reap the thread of a load that ended. Call with the lock NOT held. */
static void join_ended(recipe_starter *s)
{
    if (s->joinable) {
        pthread_join(s->thread, NULL);
        s->joinable = 0;
    }
}

void starter_destroy(recipe_starter *s)
{
    join_ended(s); /* a load cannot be interrupted: it ends first */
    if (s->phase == STARTER_DONE && s->ok) {
        recipe_free(&s->rc);
        free(s->snapshot);
        s->snapshot = NULL;
    }
    s->phase = STARTER_IDLE;
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
}

int starter_begin(recipe_starter *s, const char *command_id, const char *recipe_id, char *err,
                  size_t len)
{
    pthread_mutex_lock(&s->lock);
    int busy = s->phase != STARTER_IDLE;
    if (busy && s->cancelled)
        snprintf(err, len, "the cancelled start (command %s) is still loading its recipe: "
                 "send the start again in a moment", s->command_id);
    else if (busy)
        snprintf(err, len, "a recipe is already starting (command %s): wait until it runs, "
                 "or stop it", s->command_id);
    pthread_mutex_unlock(&s->lock);
    if (busy)
        return -1;
    join_ended(s);
    snprintf(s->command_id, sizeof s->command_id, "%s", command_id);
    snprintf(s->recipe_id, sizeof s->recipe_id, "%s", recipe_id);
    s->cancelled = 0;
    s->ok = 0;
    s->err[0] = '\0';
    s->phase = STARTER_LOADING;
    if (pthread_create(&s->thread, NULL, starter_main, s) != 0) {
        s->phase = STARTER_IDLE;
        snprintf(err, len, "cannot start the recipe loader thread (out of memory?)");
        return -1;
    }
    s->joinable = 1;
    return 0;
}

int starter_in_hand(recipe_starter *s, char *command_id, size_t len)
{
    pthread_mutex_lock(&s->lock);
    int in_hand = s->phase != STARTER_IDLE;
    if (command_id)
        snprintf(command_id, len, "%s", in_hand ? s->command_id : "");
    pthread_mutex_unlock(&s->lock);
    return in_hand;
}

int starter_cancelled(recipe_starter *s)
{
    pthread_mutex_lock(&s->lock);
    int cancelled = s->phase != STARTER_IDLE && s->cancelled;
    pthread_mutex_unlock(&s->lock);
    return cancelled;
}

int starter_cancel(recipe_starter *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->phase != STARTER_IDLE)
        s->cancelled = 1;
    int loading = s->phase == STARTER_LOADING;
    pthread_mutex_unlock(&s->lock);
    return loading;
}

int starter_take(recipe_starter *s, recipe *rc, char **snapshot, char *command_id,
                 size_t id_len, char *err, size_t len)
{
    pthread_mutex_lock(&s->lock);
    int done = s->phase == STARTER_DONE;
    int result = !done ? 0 : s->cancelled ? 0 : s->ok ? 1 : -1;
    if (done && result == 1) {
        *rc = s->rc;
        *snapshot = s->snapshot;
        memset(&s->rc, 0, sizeof s->rc);
    } else if (done && s->ok) {
        recipe_free(&s->rc); /* cancelled: never handed out */
        free(s->snapshot);
    }
    if (done)
        s->snapshot = NULL;
    if (done) {
        snprintf(command_id, id_len, "%s", s->command_id);
        snprintf(err, len, "%s", s->err);
        s->phase = STARTER_IDLE;
    }
    pthread_mutex_unlock(&s->lock);
    if (done)
        join_ended(s);
    return result;
}

int starter_wait(recipe_starter *s, unsigned limit_ms)
{
    struct timespec until = clock_mono_deadline(limit_ms);
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (s->phase == STARTER_LOADING && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->changed, &s->lock, &until);
    int ended = s->phase != STARTER_LOADING;
    pthread_mutex_unlock(&s->lock);
    return ended ? 0 : -1;
}
