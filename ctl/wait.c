/*
 * wait.c - following a queued command to its outcome by polling the store
 * (get_command every CTL_POLL_MS), and the interrupt flag of --watch/--wait.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command_age.h"
#include "ctl.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void ctl_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ctl_interrupted(void)
{
    return interrupted;
}

int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short; callers check the flag */
}

int64_t ctl_deadline(const ctl *c, double default_s)
{
    double s = c->timeout_s >= 0 ? c->timeout_s : default_s;
    return ctl_now_ms() + (int64_t)(s * 1000);
}

static double seconds_left_from(int64_t start, int64_t deadline)
{
    return (double)(deadline - start) / 1000.0;
}

/* What becomes of a command left pending: the engine refuses a start or set
 * older than its command_max_age ("expired"); a stop never expires. */
static void pending_fate(const ctl *c, const char *type, char *out, size_t len)
{
    if (command_is_stop(type))
        snprintf(out, len, "a stop never expires: an engine that starts will still run it");
    else
        snprintf(out, len, "an engine will not run it once it is older than %u s: it "
                 "ends 'expired' (engine.command_max_age)",
                 c->cfg_loaded ? c->cfg.command_max_age_s : COMMAND_MAX_AGE_DEFAULT_S);
}

int ctl_wait_claimed(ctl *c, const char *id, int64_t deadline, ctl_command_row *row,
                     char *err, size_t errlen)
{
    int64_t start = ctl_now_ms();
    for (;;) {
        if (ctl_get_command(c, id, row, err, errlen) != 0)
            return CTL_EXIT_STORE;
        if (strcmp(row->status, "pending") != 0)
            return 0;
        if (ctl_interrupted()) {
            snprintf(err, errlen, "interrupted; command %s is still pending", id);
            return CTL_EXIT_FAILED;
        }
        if (ctl_now_ms() >= deadline) {
            char fate[200];
            pending_fate(c, row->type, fate, sizeof fate);
            snprintf(err, errlen,
                     "no engine took the command within %.0f s - is ald-engine "
                     "running for machine %s? (command %s stays pending; %s)",
                     seconds_left_from(start, deadline), c->machine_id, id, fate);
            return CTL_EXIT_TIMEOUT;
        }
        ctl_sleep_ms(CTL_POLL_MS);
    }
}

int ctl_wait_finished(ctl *c, const char *id, int64_t deadline, ctl_command_row *row,
                      char *err, size_t errlen)
{
    int rc = ctl_wait_claimed(c, id, deadline, row, err, errlen);
    while (rc == 0 && !strcmp(row->status, "processing")) {
        if (ctl_interrupted()) {
            snprintf(err, errlen, "interrupted; command %s is still being processed", id);
            return CTL_EXIT_FAILED;
        }
        if (ctl_now_ms() >= deadline) {
            snprintf(err, errlen,
                     "command %s was taken but has no outcome yet; gave up "
                     "waiting (--timeout)",
                     id);
            return CTL_EXIT_TIMEOUT;
        }
        ctl_sleep_ms(CTL_POLL_MS);
        if (ctl_get_command(c, id, row, err, errlen) != 0)
            return CTL_EXIT_STORE;
    }
    return rc;
}

int ctl_run_command(ctl *c, const char *type, const char *params_json, const char *done)
{
    char err[CTL_ERR_LEN], id[CTL_ID_LEN];
    ctl_command_row row;
    ctl_catch_interrupts();
    if (ctl_insert_command(c, type, params_json, id, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    int rc = ctl_wait_finished(c, id, ctl_deadline(c, 30), &row, err, sizeof err);
    if (rc != 0)
        return ctl_fail(rc, "%s", err);
    if (!strcmp(row.status, "completed")) {
        if (c->json)
            printf("{\"command_id\":\"%s\",\"status\":\"completed\"}\n", id);
        else
            printf("%s\n", done);
        return CTL_EXIT_OK;
    }
    if (c->json)
        printf("{\"command_id\":\"%s\",\"status\":\"%s\"}\n", id, row.status);
    return ctl_fail(CTL_EXIT_FAILED, "the engine refused %s: %s", type,
                    row.error[0] ? row.error : "(no message)");
}
