/*
 * cmd_status.c - `aldctl status [--watch] [--process ID]`: the machine, its
 * current (or a named) process, the recipe, the step and a progress bar from
 * process_execution_state. With no run open and no --process, the machine's
 * last finished run (find_last_finished_process, ABI 1.1) is shown.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "render.h"

#define WATCH_PERIOD_MS 500

typedef struct status_snap {
    storage_machine machine;
    char process_id[CTL_ID_LEN];
    char recipe_id[CTL_ID_LEN];
    char recipe_name[128];
    ctl_progress progress;
    ctl_last_run last; /* set when no run is open: the last finished one */
} status_snap;

/* The recipe of an open process, by name (looked up once per recipe id). */
static void name_recipe(ctl *c, status_snap *s, const status_snap *prev)
{
    if (prev && !strcmp(prev->recipe_id, s->recipe_id)) {
        snprintf(s->recipe_name, sizeof s->recipe_name, "%s", prev->recipe_name);
        return;
    }
    recipe r;
    char err[CTL_ERR_LEN];
    s->recipe_name[0] = '\0';
    if (ctl_load_recipe(c, s->recipe_id, &r, err, sizeof err) == 0) {
        snprintf(s->recipe_name, sizeof s->recipe_name, "%s", r.name);
        recipe_free(&r);
    }
}

static int take_snapshot(ctl *c, const char *wanted, status_snap *s, const status_snap *prev,
                         char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (ctl_get_machine(c, &s->machine, err, errlen) != 0)
        return -1;
    const char *pid = wanted ? wanted : s->machine.process_id;
    if (!pid[0] && ctl_get_last_run(c, &s->last, err, errlen) != 0)
        return -1;
    snprintf(s->process_id, sizeof s->process_id, "%s", pid[0] ? pid : s->last.process_id);
    if (!s->process_id[0])
        return 0;
    if (ctl_get_progress(c, s->process_id, &s->progress, err, errlen) != 0)
        return -1;
    if (s->last.process_id[0])
        snprintf(s->recipe_id, sizeof s->recipe_id, "%s", s->last.recipe_id);
    else if (ctl_open_process_recipe(c, s->process_id, s->recipe_id, sizeof s->recipe_id) != 0)
        s->recipe_id[0] = '\0';
    if (s->recipe_id[0])
        name_recipe(c, s, prev);
    return 0;
}

/* The run's outcome: the process row's status for a finished run found by
 * find_last_finished_process, else from process_execution_state. */
static const char *snapshot_outcome(const status_snap *s)
{
    return s->last.status[0] ? s->last.status : render_run_outcome(&s->progress);
}

static json_t *snapshot_json(const ctl *c, const status_snap *s)
{
    const ctl_progress *p = &s->progress;
    json_t *process = json_null();
    if (s->process_id[0])
        process = json_pack(
            "{s:s, s:b, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:I}", "id",
            s->process_id, "last_finished", s->last.process_id[0] != 0, "outcome",
            snapshot_outcome(s), "recipe_id",
            s->recipe_id[0] ? s->recipe_id : NULL, "recipe_name",
            s->recipe_name[0] ? s->recipe_name : NULL, "step_type",
            p->found ? p->step_type : NULL, "step_name", p->found ? p->step_name : NULL,
            "completed_steps", (json_int_t)p->completed_steps, "total_steps",
            (json_int_t)p->total_steps, "completed_cycles", (json_int_t)p->completed_cycles,
            "total_cycles", (json_int_t)p->total_cycles, "loop_iteration",
            (json_int_t)p->loop_iteration, "loop_count", (json_int_t)p->loop_count);
    const storage_machine *m = &s->machine;
    return json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "machine_id", c->machine_id, "status",
                     m->status, "operator_id", m->operator_id[0] ? m->operator_id : NULL,
                     "failure", m->failure[0] ? m->failure : NULL, "process", process);
}

/* The lines of a snapshot; returns how many were printed. */
static int print_block(const ctl *c, const status_snap *s)
{
    const storage_machine *m = &s->machine;
    const ctl_progress *p = &s->progress;
    int lines = 1;
    printf("machine %s: %s%s%s%s\n", c->machine_id, m->status,
           m->operator_id[0] ? " (operator " : "", m->operator_id,
           m->operator_id[0] ? ")" : "");
    if (m->failure[0] && !strcasecmp(m->status, "error")) {
        printf("failure: %s\n  'aldctl clear-error' returns the machine to idle\n",
               m->failure);
        lines += 2;
    }
    if (!s->process_id[0] || s->last.process_id[0]) {
        printf("no process running%s\n", s->process_id[0] ? "; the last run:" : "");
        lines++;
        if (!s->process_id[0])
            return lines;
    }
    printf("process %s: %s%s%s%s\n", s->process_id, snapshot_outcome(s),
           s->recipe_name[0] ? ", recipe \"" : "", s->recipe_name,
           s->recipe_name[0] ? "\"" : "");
    lines++;
    if (!p->found)
        return lines;
    char bar[160];
    if (!render_run_finished(p)) {
        printf("step %lld/%lld: %s \"%s\"", (long long)p->overall_step,
               (long long)p->total_steps, p->step_type, p->step_name);
        if (p->loop_count > 0)
            printf(", loop iteration %lld/%lld", (long long)p->loop_iteration,
                   (long long)p->loop_count);
        printf("\n");
        lines++;
    }
    printf("%s\n", render_progress_bar(p, render_run_finished(p), 20, bar, sizeof bar));
    return lines + 1;
}

/* One line per change when the output is not a terminal. */
static void summary_line(const status_snap *s, char *buf, size_t len)
{
    char bar[160] = "";
    const ctl_progress *p = &s->progress;
    if (p->found)
        render_progress_bar(p, render_run_finished(p), 20, bar, sizeof bar);
    snprintf(buf, len, "%s | %s | %s %s | %s", s->machine.status,
             s->process_id[0] ? snapshot_outcome(s) : "no process",
             p->found ? p->step_type : "", p->found ? p->step_name : "", bar);
}

static int run_over(const status_snap *s)
{
    return !s->process_id[0] || render_run_finished(&s->progress);
}

static int watch(ctl *c, const char *wanted)
{
    char err[CTL_ERR_LEN], line[512], last[512] = "";
    status_snap snaps[2];
    int cur = 0, drawn = 0, tty = render_is_tty() && !c->json;
    ctl_catch_interrupts();
    for (int first = 1;; first = 0) {
        status_snap *s = &snaps[cur];
        if (take_snapshot(c, wanted, s, first ? NULL : &snaps[!cur], err, sizeof err) != 0)
            return ctl_fail(CTL_EXIT_STORE, "%s", err);
        if (tty) {
            if (drawn)
                printf("\033[%dA\033[J", drawn); /* back over the last block */
            drawn = print_block(c, s);
        } else {
            json_t *js = c->json ? snapshot_json(c, s) : NULL;
            char *text = js ? json_dumps(js, JSON_COMPACT) : NULL;
            json_decref(js);
            if (!c->json)
                summary_line(s, line, sizeof line);
            else
                snprintf(line, sizeof line, "%s", text ? text : "null");
            free(text);
            if (strcmp(line, last) != 0)
                printf("%s\n", line);
            snprintf(last, sizeof last, "%s", line);
        }
        fflush(stdout);
        if (run_over(s) || ctl_interrupted())
            return CTL_EXIT_OK;
        ctl_sleep_ms(WATCH_PERIOD_MS);
        cur = !cur;
    }
}

int cmd_status(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_LONGOPTS,
                                         {"watch", no_argument, NULL, 'w'},
                                         {"process", required_argument, NULL, 'P'},
                                         {NULL, 0, NULL, 0}};
    const char *process_id = NULL;
    int watching = 0, o, rc;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'w')
            watching = 1;
        else if (o == 'P')
            process_id = optarg;
        else if ((rc = ctl_common_option(c, "status", o, optarg)) != 0)
            return rc;
    }
    if (argc != optind)
        return ctl_usage_error("status", "unexpected argument '%s'", argv[optind]);
    char err[CTL_ERR_LEN];
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (watching)
        return watch(c, process_id);
    status_snap s;
    if (take_snapshot(c, process_id, &s, NULL, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (c->json)
        render_json(snapshot_json(c, &s));
    else
        print_block(c, &s);
    return CTL_EXIT_OK;
}
