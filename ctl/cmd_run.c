/*
 * cmd_run.c - commands that make the engine act: start (and following a run
 * with --wait), stop, set, clear-error. Each inserts a recipe_commands row and
 * reads the outcome the engine writes back; aldctl never drives the PLC.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "local_stop.h"
#include "render.h"

#define PICKUP_DEFAULT_S 30.0

/* ---- following a run --------------------------------------------------------------------
 */

typedef struct run_view {
    char command_id[CTL_ID_LEN];
    char process_id[CTL_ID_LEN];
    ctl_command_row command;
    ctl_progress progress;
    int tty;
    int drawn;          /* a progress line is on screen (TTY) */
    int64_t last_steps; /* what the last printed line showed (non-TTY) */
    char last_step[128];
} run_view;

static void progress_line(const run_view *v, char *buf, size_t len)
{
    char bar[160];
    const ctl_progress *p = &v->progress;
    render_progress_bar(p, render_run_finished(p), 20, bar, sizeof bar);
    snprintf(buf, len, "%s  %s %s", bar, p->step_type, p->step_name);
}

/* TTY: redraw one line in place. Otherwise one line per change of step. */
static void draw_progress(run_view *v)
{
    if (!v->progress.found)
        return;
    char line[400];
    progress_line(v, line, sizeof line);
    if (v->tty) {
        printf("\r\033[K%s", line);
        v->drawn = 1;
    } else if (v->progress.completed_steps != v->last_steps ||
               strcmp(v->progress.step_name, v->last_step) != 0) {
        printf("%s\n", line);
        v->last_steps = v->progress.completed_steps;
        snprintf(v->last_step, sizeof v->last_step, "%s", v->progress.step_name);
    }
    fflush(stdout);
}

/* The process the start command created: the machine's current one. */
static void learn_process(ctl *c, run_view *v)
{
    storage_machine m;
    char err[CTL_ERR_LEN];
    if (v->process_id[0] || ctl_get_machine(c, &m, err, sizeof err) != 0)
        return;
    if (!strcasecmp(m.status, "processing") && m.process_id[0])
        snprintf(v->process_id, sizeof v->process_id, "%s", m.process_id);
}

/* Poll until the start command has its outcome; 0 or an exit code. */
static int poll_run(ctl *c, run_view *v, int64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        if (ctl_get_command(c, v->command_id, &v->command, err, errlen) != 0)
            return CTL_EXIT_STORE;
        learn_process(c, v);
        if (v->process_id[0] &&
            ctl_get_progress(c, v->process_id, &v->progress, err, errlen) != 0)
            return CTL_EXIT_STORE;
        draw_progress(v);
        if (strcmp(v->command.status, "processing") != 0)
            return 0;
        if (ctl_interrupted()) {
            snprintf(err, errlen,
                     "stopped following; the run goes on (aldctl stop aborts it)");
            return CTL_EXIT_FAILED;
        }
        if (ctl_now_ms() >= deadline) {
            snprintf(err, errlen,
                     "the run has not ended within the timeout; it goes on "
                     "(aldctl status --watch follows it, aldctl stop aborts it)");
            return CTL_EXIT_TIMEOUT;
        }
        ctl_sleep_ms(CTL_POLL_MS);
    }
}

static int report_run(ctl *c, run_view *v)
{
    if (v->drawn)
        printf("\n");
    int completed = !strcmp(v->command.status, "completed");
    const char *outcome = completed           ? "completed"
                          : v->progress.found ? render_run_outcome(&v->progress)
                                              : "refused";
    if (!strcmp(outcome, "running")) /* state not final yet: the command says it ended */
        outcome = "failed";
    if (c->json) {
        render_json(json_pack("{s:s, s:s?, s:s, s:I, s:I, s:s?}", "command_id", v->command_id,
                              "process_id", v->process_id[0] ? v->process_id : NULL,
                              "outcome", outcome, "completed_steps",
                              (json_int_t)v->progress.completed_steps, "total_steps",
                              (json_int_t)v->progress.total_steps, "error",
                              v->command.error[0] ? v->command.error : NULL));
    } else {
        char bar[160] = "";
        if (v->progress.found)
            render_progress_bar(&v->progress, 1, 20, bar, sizeof bar);
        printf("%s%s%s%s%s\n", outcome, v->process_id[0] ? ": process " : "", v->process_id,
               bar[0] ? "  " : "", bar);
    }
    if (completed)
        return CTL_EXIT_OK;
    const char *why = v->command.error[0] ? v->command.error : "(no message)";
    if (!strcmp(outcome, "refused"))
        return ctl_fail(CTL_EXIT_FAILED, "the engine refused to start the recipe: %s", why);
    if (!strcmp(outcome, "aborted"))
        return ctl_fail(CTL_EXIT_FAILED, "the run was aborted%s%s%s",
                        strcmp(why, "aborted") ? " (" : "", strcmp(why, "aborted") ? why : "",
                        strcmp(why, "aborted") ? ")" : "");
    return ctl_fail(CTL_EXIT_FAILED, "the run failed: %s", why);
}

/* How long to wait for an engine to take a command. */
static int64_t pickup_deadline(const ctl *c, int64_t overall)
{
    if (c->timeout_s >= 0)
        return overall;
    int64_t pickup = ctl_now_ms() + (int64_t)(PICKUP_DEFAULT_S * 1000);
    return pickup < overall ? pickup : overall;
}

static int follow_run(ctl *c, run_view *v, const recipe *r)
{
    char err[CTL_ERR_LEN];
    int64_t deadline = ctl_deadline(c, r->nominal_ms / 1000.0 + 60.0);
    v->tty = render_is_tty() && !c->json;
    v->last_steps = -1;
    int rc = ctl_wait_claimed(c, v->command_id, pickup_deadline(c, deadline), &v->command,
                              err, sizeof err);
    if (rc == 0)
        rc = poll_run(c, v, deadline, err, sizeof err);
    if (rc != 0) {
        if (v->drawn)
            printf("\n");
        return ctl_fail(rc, "%s", err);
    }
    if (v->process_id[0]) /* the final state, written before the command finished */
        ctl_get_progress(c, v->process_id, &v->progress, err, sizeof err);
    return report_run(c, v);
}

/* ---- start -------------------------------------------------------------------------------
 */

int cmd_start(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_LONGOPTS,
                                         {"operator", required_argument, NULL, 'O'},
                                         {"wait", no_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *operator_id = NULL;
    int wait = 0, o, rc;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'O')
            operator_id = optarg;
        else if (o == 'w')
            wait = 1;
        else if ((rc = ctl_common_option(c, "start", o, optarg)) != 0)
            return rc;
    }
    if (argc - optind != 1)
        return ctl_usage_error("start", "expected one RECIPE (an id or exact name)");
    char err[CTL_ERR_LEN], id[CTL_ID_LEN];
    recipe r;
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (ctl_resolve_recipe(c, argv[optind], id, sizeof id, err, sizeof err) != 0 ||
        ctl_load_recipe(c, id, &r, err, sizeof err) != 0) /* refuse before queueing */
        return ctl_fail(CTL_EXIT_FAILED, "%s", err);
    json_t *params = json_pack("{s:s, s:s?}", "recipe_id", id, "operator_id", operator_id);
    char *params_text = params ? json_dumps(params, JSON_COMPACT) : NULL;
    json_decref(params);
    run_view v;
    memset(&v, 0, sizeof v);
    ctl_catch_interrupts();
    rc = ctl_insert_command(c, "start_recipe", params_text, v.command_id, err, sizeof err);
    free(params_text);
    if (rc != 0)
        rc = ctl_fail(CTL_EXIT_STORE, "%s", err);
    else if (wait)
        rc = follow_run(c, &v, &r);
    else if (c->json)
        render_json(json_pack("{s:s, s:s}", "command_id", v.command_id, "recipe_id", id));
    else
        printf("queued start of '%s': command %s\n", r.name, v.command_id);
    recipe_free(&r);
    return rc;
}

/* ---- stop --------------------------------------------------------------------------------
 */

/* After a stop was accepted: wait for the process's final state. */
static int wait_stopped(ctl *c, const char *process_id)
{
    char err[CTL_ERR_LEN], bar[160];
    ctl_progress p;
    int64_t deadline = ctl_deadline(c, PICKUP_DEFAULT_S);
    for (;;) {
        if (ctl_get_progress(c, process_id, &p, err, sizeof err) != 0)
            return ctl_fail(CTL_EXIT_STORE, "%s", err);
        if (render_run_finished(&p))
            break;
        if (ctl_now_ms() >= deadline || ctl_interrupted())
            return ctl_fail(CTL_EXIT_TIMEOUT, "process %s has not ended yet", process_id);
        ctl_sleep_ms(CTL_POLL_MS);
    }
    render_progress_bar(&p, 1, 20, bar, sizeof bar);
    if (c->json)
        render_json(json_pack("{s:s, s:s}", "process_id", process_id, "outcome",
                              render_run_outcome(&p)));
    else
        printf("process %s %s  %s\n", process_id, render_run_outcome(&p), bar);
    return CTL_EXIT_OK;
}

/* stop --local: signal the engine on this host; no database involved. */
static int stop_local(ctl *c)
{
    char err[CTL_ERR_LEN];
    if (ctl_load_config(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    const char *data_dir = c->cfg.data_dir ? c->cfg.data_dir : config_default_data_dir();
    long pid = local_stop_signal(data_dir, err, sizeof err);
    if (pid < 0)
        return ctl_fail(CTL_EXIT_FAILED, "stop --local: %s", err);
    if (c->json)
        printf("{\"signalled_pid\": %ld}\n", pid);
    else
        printf("stop signalled to ald-engine (pid %ld): a running recipe is aborted, valves "
               "closed; its outcome is recorded when storage answers (see the engine log)\n",
               pid);
    return CTL_EXIT_OK;
}

int cmd_stop(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_LONGOPTS,
                                         {"process", required_argument, NULL, 'P'},
                                         {"wait", no_argument, NULL, 'w'},
                                         {"local", no_argument, NULL, 'L'},
                                         {NULL, 0, NULL, 0}};
    const char *process_id = NULL;
    int wait = 0, local = 0, o, rc;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'P')
            process_id = optarg;
        else if (o == 'w')
            wait = 1;
        else if (o == 'L')
            local = 1;
        else if ((rc = ctl_common_option(c, "stop", o, optarg)) != 0)
            return rc;
    }
    if (argc != optind)
        return ctl_usage_error("stop", "unexpected argument '%s'", argv[optind]);
    if (local && (wait || process_id))
        return ctl_usage_error("stop", "--local stops whatever runs and cannot wait: it "
                               "takes neither --process nor --wait");
    if (local)
        return stop_local(c);
    char err[CTL_ERR_LEN], running[CTL_ID_LEN] = "";
    storage_machine m;
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (!process_id && ctl_get_machine(c, &m, err, sizeof err) == 0)
        snprintf(running, sizeof running, "%s", m.process_id);
    json_t *params = json_pack("{s:s?}", "process_id", process_id);
    char *params_text = params ? json_dumps(params, JSON_COMPACT) : NULL;
    json_decref(params);
    if (!wait) {
        char id[CTL_ID_LEN];
        rc = ctl_insert_command(c, "stop_recipe", params_text, id, err, sizeof err);
        free(params_text);
        if (rc != 0)
            return ctl_fail(CTL_EXIT_STORE, "%s", err);
        printf(c->json ? "{\"command_id\": \"%s\"}\n" : "queued stop: command %s\n", id);
        return CTL_EXIT_OK;
    }
    int saved_json = c->json;
    c->json = 0; /* one JSON document: the final one */
    rc = ctl_run_command(c, "stop_recipe", params_text, "stop accepted");
    c->json = saved_json;
    free(params_text);
    const char *target = process_id ? process_id : running;
    return rc == CTL_EXIT_OK && target[0] ? wait_stopped(c, target) : rc;
}

/* ---- set ----------------------------------------------------------------------------------
 */

/* An id, or "Component Name/parameter_name" (case-insensitive). */
static const ctl_param *find_parameter(const ctl_param_list *l, const char *text)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->items[i].id, text))
            return &l->items[i];
    const char *slash = strrchr(text, '/');
    if (!slash)
        return NULL;
    size_t comp_len = (size_t)(slash - text);
    for (size_t i = 0; i < l->count; i++) {
        const ctl_param *p = &l->items[i];
        if (strlen(p->component) == comp_len && !strncasecmp(p->component, text, comp_len) &&
            !strcasecmp(p->name, slash + 1))
            return p;
    }
    return NULL;
}

static int unknown_parameter(ctl *c, const ctl_param_list *l, const char *text)
{
    char names[1024] = "";
    for (size_t i = 0; i < l->count; i++) {
        size_t used = strlen(names);
        if (l->items[i].writable && used + 80 < sizeof names)
            snprintf(names + used, sizeof names - used, "%s\"%s/%s\"", used ? ", " : "",
                     l->items[i].component, l->items[i].name);
    }
    return ctl_fail(CTL_EXIT_FAILED,
                    "machine %s has no parameter '%s' (an id or \"Component/"
                    "parameter\"); writable: %s",
                    c->machine_id, text, names);
}

int cmd_set(ctl *c, int argc, char **argv)
{
    const char *args[2];
    int rc = ctl_parse_simple(c, "set", argc, argv, 2, args);
    if (rc != 0)
        return rc;
    char *end, err[CTL_ERR_LEN];
    errno = 0;
    double value = strtod(args[1], &end);
    if (errno || end == args[1] || *end || !isfinite(value))
        return ctl_usage_error("set", "VALUE '%s' is not a number", args[1]);
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    ctl_param_list params;
    if (ctl_load_parameters(c, &params, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    const ctl_param *p = find_parameter(&params, args[0]);
    if (!p) {
        rc = unknown_parameter(c, &params, args[0]);
        ctl_param_list_free(&params);
        return rc;
    }
    json_t *js = json_pack("{s:s, s:f}", "parameter_id", p->id, "value", value);
    char *text = js ? json_dumps(js, JSON_COMPACT) : NULL;
    json_decref(js);
    char done[400];
    snprintf(done, sizeof done, "%s/%s (%s) set to %g%s%s", p->component, p->name, p->id,
             value, *p->unit ? " " : "", p->unit);
    rc = ctl_run_command(c, "set_parameter", text, done);
    free(text);
    ctl_param_list_free(&params);
    return rc;
}

/* ---- clear-error
 * ---------------------------------------------------------------------------- */

int cmd_clear_error(ctl *c, int argc, char **argv)
{
    char err[CTL_ERR_LEN];
    int rc = ctl_parse_simple(c, "clear-error", argc, argv, 0, NULL);
    if (rc != 0)
        return rc;
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    return ctl_run_command(c, "clear_error", "{}",
                           "machine error cleared: the machine is idle");
}
