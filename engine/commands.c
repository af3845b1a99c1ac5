/* commands.c - the command processor thread (see commands.h). */
#include "commands.h"
#include "clock.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ald/number.h"
#include "command_age.h"
#include "engine_id.h"
#include "log.h"
#include "metrics.h"
#include "recipe.h"
#include "setpoint.h"
#include "state.h"
#include "thread_role.h"

static ald_metric *m_received, *m_claimed, *m_failed, *m_queue, *m_busy, *m_active;

typedef struct pending_command {
    char id[64];
    char type[48];
    char created_at[48];
    char *parameters_json;
} pending_command;

typedef struct pending_list {
    pending_command items[COMMANDS_BATCH];
    size_t count;
} pending_list;

/* ---- storage helpers ---------------------------------------------------------------- */

static ald_status finish(command_processor *cp, const char *id, const char *status,
                         const char *message)
{
    port_error why;
    ald_status st = storage_port_finish_command(cp->storage, id, status, message, &why);
    if (st != ALD_OK)
        log_error("commands", "finishing command %s failed: %s", id, why.text);
    if (!strcmp(status, "error")) {
        metrics_add(m_failed, 1);
        log_warning("commands", "command %s: %s", id, message ? message : "error");
    }
    return st;
}

static void on_command(void *ctx, const ald_command *c)
{
    pending_list *l = ctx;
    if (l->count >= COMMANDS_BATCH || !c->id)
        return;
    pending_command *p = &l->items[l->count++];
    snprintf(p->id, sizeof p->id, "%s", c->id);
    snprintf(p->type, sizeof p->type, "%s", c->type ? c->type : "");
    snprintf(p->created_at, sizeof p->created_at, "%s", c->created_at ? c->created_at : "");
    p->parameters_json = c->parameters_json ? strdup(c->parameters_json) : NULL;
}

/* Up to COMMANDS_BATCH pending commands, stops first (the stores' order). */
static ald_status fetch_pending(command_processor *cp, pending_list *l)
{
    l->count = 0;
    return storage_port_fetch_commands(cp->storage, cp->machine_id, COMMANDS_BATCH, on_command,
                                       l, NULL);
}

static void free_pending(pending_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].parameters_json);
    l->count = 0;
}

static int is_start(const char *type)
{
    return !strcmp(type, "start_recipe") || !strcmp(type, "start");
}

static int read_machine(command_processor *cp, storage_machine *m, char *err, size_t len)
{
    port_error why;
    ald_status st = storage_port_get_machine(cp->storage, cp->machine_id, m, &why);
    if (st == ALD_ERR_UNSUPPORTED)
        snprintf(err, len, "the storage cannot read machines");
    else if (st != ALD_OK)
        snprintf(err, len, "cannot read machine %s: %s", cp->machine_id,
                 st == ALD_ERR_NOT_FOUND ? "not found" : why.text);
    return st == ALD_OK ? 0 : -1;
}

/* ---- JSON parameters --------------------------------------------------------------- */

json_t *commands_parse_params(const char *parameters_json, char *err, size_t len)
{
    if (!parameters_json || !*parameters_json)
        return json_object();
    json_error_t jerr;
    json_t *js = json_loads(parameters_json, 0, &jerr);
    if (!js || !json_is_object(js)) {
        snprintf(err, len, "parameters are not a JSON object (%s)", js ? "wrong type" : jerr.text);
        json_decref(js);
        return NULL;
    }
    return js;
}

static const char *param_string(json_t *js, const char *key)
{
    json_t *v = json_object_get(js, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- start_recipe ------------------------------------------------------------------- */

static int machine_can_start(executor *exec, const storage_machine *m, char *err,
                             size_t len)
{
    int idle = !strcasecmp(m->status, "idle") || !strcasecmp(m->status, "offline");
    if (idle && !m->process_id[0])
        return 0;
    if (!strcasecmp(m->status, "error") && !m->process_id[0])
        return executor_start_over_error(exec, err, len);
    if (!strcasecmp(m->status, "error"))
        snprintf(err, len, "machine is in error; clear it first (command clear_error)");
    else
        snprintf(err, len, "machine is %s%s%s, not idle", m->status,
                 m->process_id[0] ? " with process " : "", m->process_id);
    return -1;
}

/* One readiness condition against the PLC's reading now. 0 = holds. */
static int check_condition(command_processor *cp, const ald_config *c, char *err, size_t len)
{
    const char *param = NULL, *op_text = NULL;
    double want = 0;
    wait_op op;
    config_get_string(c, "parameter", &param);
    config_get_string(c, "op", &op_text);
    config_get_double(c, "value", &want);
    const tag_param *p = tagmap_find(cp->tags, param);
    if (!p || p->value_tag == SIZE_MAX || recipe_parse_wait_op(op_text, &op) != 0 ||
        !plc_port_can_read_tags(cp->plc)) {
        snprintf(err, len, "not ready: readiness parameter %s cannot be read on this machine",
                 param ? param : "?");
        return -1;
    }
    double value;
    ald_status st = plc_port_read_tag(cp->plc, p->value_tag, &value, NULL);
    if (st != ALD_OK) {
        snprintf(err, len, "not ready: %s %s could not be read (%s)",
                 p->component_name ? p->component_name : p->id, p->name ? p->name : "",
                 ald_status_name(st));
        return -1;
    }
    if (!recipe_condition_holds(op, value, want)) {
        snprintf(err, len, "not ready: %s %s is %g, needs %s %g",
                 p->component_name ? p->component_name : p->id, p->name ? p->name : "", value,
                 op_text, want);
        return -1;
    }
    return 0;
}

/* The engine's readiness conditions (engine.readiness), all of them. */
static int check_readiness(command_processor *cp, char *err, size_t len)
{
    unsigned n = config_get_count(cp->readiness, NULL);
    for (unsigned i = 0; i < n; i++) {
        const ald_config *c = config_get_child(cp->readiness, NULL, i);
        if (c && check_condition(cp, c, err, len) != 0)
            return -1;
    }
    return 0;
}

/* Process row, machine state, then the run; the command stays processing. */
/* The run's own parameters: its command and who drives it (the lease holder
 * name and this process's life), so orphan recovery tells a live owner from a
 * gone one. Malloc'd JSON (names are escaped), NULL out of memory. */
static char *process_params_json(const command_processor *cp, const char *command_id)
{
    char owner[96];
    if (lease_keeper_running())
        lease_holder_name(owner, sizeof owner);
    else
        snprintf(owner, sizeof owner, "%s", cp->holder);
    json_t *o = json_pack("{s:s, s:s, s:s}", "command_id", command_id, "engine", owner,
                          "engine_instance", engine_id_instance());
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* Record the process (snapshot: the recipe's JSON, made by the starter) and
 * hand the run to the executor. */
static int begin_process(command_processor *cp, const char *command_id, recipe *rc,
                         const char *snapshot, const char *operator_id, char *err, size_t len)
{
    char session[64] = "", process[64] = "";
    char *params = process_params_json(cp, command_id);
    if (!params) {
        snprintf(err, len, "out of memory recording the process");
        return -1;
    }
    if (operator_id)
        storage_port_get_session(cp->storage, operator_id, cp->machine_id, session,
                                 sizeof session, NULL);
    ald_process_start ps = {.struct_size = sizeof ps, .machine_id = cp->machine_id,
                            .recipe_id = rc->id, .session_id = session[0] ? session : NULL,
                            .operator_id = operator_id, .recipe_version_json = snapshot,
                            .parameters_json = params, .start_time_ms = clock_realtime_ms()};
    port_error why = {""};
    ald_status st =
        storage_port_create_process(cp->storage, &ps, process, sizeof process, &why);
    if (st == ALD_OK) {
        ald_machine_update mu = {.struct_size = sizeof mu, .machine_id = cp->machine_id,
                                 .status = "processing", .process_id = process,
                                 .operator_id = operator_id};
        st = storage_port_set_machine_state(cp->storage, &mu, &why);
        if (st == ALD_ERR_UNSUPPORTED)
            st = ALD_OK; /* a store without machine states still runs recipes */
    }
    if (st != ALD_OK)
        snprintf(err, len, "cannot record the process: %s: %s", ald_status_name(st),
                 why.text);
    free(params);
    if (st != ALD_OK)
        return -1;
    if (executor_run(cp->exec, rc, process, command_id) != 0) {
        snprintf(err, len, "a recipe is already running");
        return -1;
    }
    return 0;
}

/* Right before the process is created: a stop pending now is taken, and
 * it cancels the start (a stop that came in while the recipe loaded was
 * taken by the polls meanwhile, see cancel_start). 1 = stopped (err says by
 * which). */
static int stopped_while_starting(command_processor *cp, char *err, size_t len)
{
    pending_list l;
    int stopped = 0;
    if (fetch_pending(cp, &l) == ALD_OK)
        for (size_t i = 0; i < l.count && !stopped; i++) {
            if (!command_is_stop(l.items[i].type) ||
                storage_port_claim_command(cp->storage, l.items[i].id, NULL) != ALD_OK)
                continue;
            metrics_add(m_received, 1);
            metrics_add(m_claimed, 1);
            log_info("commands", "command %s: %s, while a recipe was starting", l.items[i].id,
                     l.items[i].type);
            finish(cp, l.items[i].id, "completed", NULL);
            snprintf(err, len, "stopped by command %s before the recipe started",
                     l.items[i].id);
            stopped = 1;
        }
    free_pending(&l);
    return stopped;
}

/* A valve owed closed may be open at the PLC: no start is taken until the
 * PLC confirms it closed (the executor refuses too, as a second line). 1 =
 * refused, err names the valves and what to do. */
static int refuse_while_owed(char *err, size_t len)
{
    char owed[256];
    plc_port_owed_names(owed, sizeof owed);
    if (!owed[0])
        return 0;
    snprintf(err, len, "not started: %s owed closed (commanded closed, not confirmed OFF by "
             "the PLC); the engine keeps closing it: restore the PLC link (see /health), "
             "then send the start again", owed);
    return 1;
}

/* What may have changed while the recipe loaded, checked on the command
 * thread right before the run: shutdown, the lease, owed valves, readiness,
 * a stop pending now. 0 = the run may begin. */
static int start_still_allowed(command_processor *cp, char *err, size_t len)
{
    if (atomic_load(&g_state.stopping)) {
        snprintf(err, len, "the engine is shutting down: the recipe was not started");
        return -1;
    }
    if (atomic_load(&g_state.lease_state) != 1) {
        snprintf(err, len, "this engine no longer holds the machine's lease: the recipe was "
                 "not started");
        return -1;
    }
    if (refuse_while_owed(err, len) || check_readiness(cp, err, len) != 0 ||
        stopped_while_starting(cp, err, len))
        return -1;
    return 0;
}

/* A load that ended: begin the run, or finish the start with why not.
 * Returns 1 when a start was settled. */
static int complete_start(command_processor *cp)
{
    recipe rc;
    char *snapshot = NULL;
    char id[64], err[STARTER_ERR_LEN];
    memset(&rc, 0, sizeof rc);
    int got = starter_take(&cp->starter, &rc, &snapshot, id, sizeof id, err, sizeof err);
    if (got == 0)
        return 0;
    int begun = got == 1 && start_still_allowed(cp, err, sizeof err) == 0 &&
                begin_process(cp, id, &rc, snapshot,
                              cp->start_operator[0] ? cp->start_operator : NULL, err,
                              sizeof err) == 0;
    free(snapshot);
    if (begun)
        return 1; /* the executor finishes the command when the run ends */
    recipe_free(&rc);
    finish(cp, id, "error", err);
    return 1;
}

/* The start in hand (loading) is cancelled: its command ends error with
 * `why` now, and its recipe is discarded when the load ends. 1 = there was
 * one to cancel. */
static int cancel_start(command_processor *cp, const char *why)
{
    char id[64];
    if (!cp->starter_ready || !starter_in_hand(&cp->starter, id, sizeof id) ||
        starter_cancelled(&cp->starter))
        return 0;
    int loading = starter_cancel(&cp->starter);
    log_info("commands", "command %s: start cancelled %s: %s", id,
             loading ? "while its recipe was loading" : "after its recipe loaded, before it ran",
             why);
    finish(cp, id, "error", why);
    return 1;
}

/* The quick checks of a start, on the command thread. 0 = may load. */
static int start_refused(command_processor *cp, storage_machine *m, char *err, size_t len)
{
    if (executor_busy(cp->exec)) {
        char pid[64];
        executor_process_id(cp->exec, pid, sizeof pid);
        snprintf(err, len, "a recipe is already running (process %s)", pid);
        return -1;
    }
    if (refuse_while_owed(err, len)) /* before any row is read or written */
        return -1;
    if (read_machine(cp, m, err, len) != 0 || machine_can_start(cp->exec, m, err, len) != 0)
        return -1;
    return 0;
}

/* Quick checks here; the load, build and map check on the starter thread
 * (starter.h), so commands keep being taken meanwhile; the run begins in a
 * later poll (complete_start). */
static void do_start(command_processor *cp, const pending_command *c, json_t *params)
{
    char err[600];
    const char *recipe_id = param_string(params, "recipe_id");
    storage_machine m;
    if (!recipe_id) {
        finish(cp, c->id, "error", "start_recipe needs parameters.recipe_id (text)");
        return;
    }
    if (start_refused(cp, &m, err, sizeof err) != 0 ||
        starter_begin(&cp->starter, c->id, recipe_id, err, sizeof err) != 0) {
        finish(cp, c->id, "error", err);
        return;
    }
    const char *op = param_string(params, "operator_id");
    snprintf(cp->start_operator, sizeof cp->start_operator, "%s", op ? op : m.operator_id);
    if (cp->start_waits) { /* tests that drive polls themselves: settle it in this one */
        starter_wait(&cp->starter, COMMANDS_START_WAIT_MS);
        complete_start(cp);
    }
}

/* ---- the other command types -------------------------------------------------------- */

/* Stops are taken before other commands, so a stop queued right behind a
 * start (both pending in one poll) finds nothing running: the pending starts
 * created before it are cancelled instead, as the operator meant. Returns
 * how many. */
static int cancel_older_starts(command_processor *cp, const pending_command *stop,
                               const char *why)
{
    int64_t stop_ms = command_parse_time_ms(stop->created_at);
    pending_list l = {.count = 0};
    int cancelled = 0;
    if (stop_ms >= 0 && fetch_pending(cp, &l) == ALD_OK)
        for (size_t i = 0; i < l.count; i++) {
            int64_t ms = command_parse_time_ms(l.items[i].created_at);
            if (!is_start(l.items[i].type) || ms < 0 || ms > stop_ms ||
                storage_port_claim_command(cp->storage, l.items[i].id, NULL) != ALD_OK)
                continue;
            metrics_add(m_received, 1);
            metrics_add(m_claimed, 1);
            finish(cp, l.items[i].id, "error", why);
            cancelled++;
        }
    free_pending(&l);
    return cancelled;
}

static void do_stop(command_processor *cp, const pending_command *c, json_t *params)
{
    char running[64];
    executor_process_id(cp->exec, running, sizeof running);
    const char *wanted = param_string(params, "process_id");
    char why[160];
    snprintf(why, sizeof why, "stopped by command %s before the recipe started", c->id);
    int cancelled = cancel_start(cp, why);
    if (!running[0]) {
        if (cancel_older_starts(cp, c, why) + cancelled > 0)
            finish(cp, c->id, "completed", NULL);
        else
            finish(cp, c->id, "error", "no recipe is running");
        return;
    }
    if (wanted && strcmp(wanted, running) != 0) {
        char err[200];
        snprintf(err, sizeof err, "process %s is not the running one (%s)", wanted, running);
        finish(cp, c->id, "error", err);
        return;
    }
    char reason[120];
    snprintf(reason, sizeof reason, "stopped by command %s", c->id);
    executor_stop(cp->exec, reason);
    finish(cp, c->id, "completed", NULL);
}

/* parameters.value (or target_value) as a number: a JSON number, or a string
 * that is exactly a number ("120"; not "120abc", "", "0x40", "nan"), read by
 * the same strict grammar as the stores' numeric text (ald/number.h). */
static int set_value_of(json_t *params, double *value, char *err, size_t len)
{
    const char *key = "value";
    json_t *v = json_object_get(params, key);
    if (!v)
        v = json_object_get(params, key = "target_value");
    if (json_is_number(v)) {
        *value = json_number_value(v);
        return 0;
    }
    if (json_is_string(v) && ald_parse_number(json_string_value(v), value) == 0)
        return 0;
    char *shown = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    if (shown)
        snprintf(err, len, "set_parameter: parameters.%s %.80s is refused: it must be a "
                 "number, or a string holding exactly a number (\"120\")", key, shown);
    else
        snprintf(err, len, "set_parameter needs parameters.value (a number)");
    free(shown);
    return -1;
}

static void do_set_parameter(command_processor *cp, const pending_command *c, json_t *params)
{
    const char *pid = param_string(params, "parameter_id");
    char err[600];
    double value;
    if (!pid) {
        finish(cp, c->id, "error", "set_parameter needs parameters.parameter_id (text) and "
                                   "value (number)");
        return;
    }
    if (set_value_of(params, &value, err, sizeof err) != 0) {
        finish(cp, c->id, "error", err);
        return;
    }
    setpoint_target t = {cp->plc, cp->tags, cp->storage};
    if (setpoint_apply(&t, pid, value, err, sizeof err) != 0)
        finish(cp, c->id, "error", err);
    else
        finish(cp, c->id, "completed", NULL);
}

static void do_clear_error(command_processor *cp, const pending_command *c)
{
    storage_machine m;
    char err[300];
    if (read_machine(cp, &m, err, sizeof err) != 0) {
        finish(cp, c->id, "error", err);
        return;
    }
    if (strcasecmp(m.status, "error") != 0 || executor_busy(cp->exec)) {
        snprintf(err, sizeof err, "machine is %s, not in error: nothing to clear", m.status);
        finish(cp, c->id, "error", err);
        return;
    }
    char owed[160];
    plc_port_owed_names(owed, sizeof owed);
    if (owed[0]) { /* a valve may be open: the error stays until the PLC confirms */
        snprintf(err, sizeof err, "cannot clear the error: %s owed closed (commanded closed, "
                 "not confirmed OFF by the PLC); the engine keeps closing it", owed);
        finish(cp, c->id, "error", err);
        return;
    }
    ald_machine_update mu = {.struct_size = sizeof mu, .machine_id = cp->machine_id,
                             .status = "idle", .process_id = NULL};
    ald_status st = storage_port_set_machine_state(cp->storage, &mu, NULL);
    finish(cp, c->id, st == ALD_OK ? "completed" : "error",
           st == ALD_OK ? NULL : "could not update the machine state");
    if (st == ALD_OK)
        log_info("commands", "machine error cleared by command %s", c->id);
}

static void dispatch(command_processor *cp, const pending_command *c)
{
    char err[300];
    if (command_too_old(c->type, c->created_at[0] ? c->created_at : NULL, clock_realtime_ms(),
                        cp->max_age_s, err, sizeof err)) {
        finish(cp, c->id, "error", err); /* a stale start or set does nothing */
        return;
    }
    json_t *params = commands_parse_params(c->parameters_json, err, sizeof err);
    if (!params) {
        finish(cp, c->id, "error", err);
        return;
    }
    const char *t = c->type;
    log_info("commands", "command %s: %s", c->id, t);
    if (is_start(t))
        do_start(cp, c, params);
    else if (!strcmp(t, "stop_recipe") || !strcmp(t, "stop"))
        do_stop(cp, c, params);
    else if (!strcmp(t, "set_parameter"))
        do_set_parameter(cp, c, params);
    else if (!strcmp(t, "clear_error") || !strcmp(t, "reset"))
        do_clear_error(cp, c);
    else {
        snprintf(err, sizeof err, "Unknown command type: %s", t);
        finish(cp, c->id, "error", err);
    }
    json_decref(params);
}

/* ---- setpoint commands (parameter_control_commands) ------------------------------------ */

typedef struct setpoint_item {
    char id[64];
    char parameter_id[64];
    char parameter_name[64];
    char created_at[48];
    double value;
} setpoint_item;

typedef struct setpoint_list {
    setpoint_item items[COMMANDS_BATCH];
    size_t count;
    const tagmap *tags;
    int64_t override_address[COMMANDS_BATCH];
} setpoint_list;

static void on_setpoint(void *ctx, const ald_setpoint_command *c)
{
    setpoint_list *l = ctx;
    if (l->count >= COMMANDS_BATCH || !c->id)
        return;
    setpoint_item *it = &l->items[l->count];
    snprintf(it->id, sizeof it->id, "%s", c->id);
    snprintf(it->parameter_id, sizeof it->parameter_id, "%s",
             c->component_parameter_id ? c->component_parameter_id : "");
    snprintf(it->parameter_name, sizeof it->parameter_name, "%s",
             c->parameter_name ? c->parameter_name : "");
    snprintf(it->created_at, sizeof it->created_at, "%s", c->created_at ? c->created_at : "");
    it->value = c->target_value;
    l->override_address[l->count] = c->write_modbus_address;
    l->count++;
}

/* component_parameter_id, then a write-address override, then the name. */
static const tag_param *resolve_setpoint(const tagmap *tags, const setpoint_item *it,
                                         int64_t address)
{
    if (it->parameter_id[0])
        return tagmap_find(tags, it->parameter_id);
    if (address >= 0) {
        char want[48]; /* the map's own words (tagmap.h): this column is a holding register */
        snprintf(want, sizeof want, "holding_register:%lld", (long long)address);
        for (size_t i = 0; i < tags->param_count; i++) {
            size_t w = tags->params[i].write_tag;
            if (w != SIZE_MAX && tags->tags[w].write_address &&
                !strcasecmp(tags->tags[w].write_address, want))
                return &tags->params[i];
        }
    }
    const tag_param *match = NULL;
    for (size_t i = 0; it->parameter_name[0] && i < tags->param_count; i++) {
        if (tags->params[i].name && !strcmp(tags->params[i].name, it->parameter_name) &&
            tags->params[i].writable) {
            if (match)
                return NULL; /* ambiguous: refuse rather than guess */
            match = &tags->params[i];
        }
    }
    return match;
}

static int poll_setpoints(command_processor *cp)
{
    if (!storage_port_has(cp->storage, STORAGE_SETPOINTS))
        return 0;
    setpoint_list l = {.count = 0, .tags = cp->tags};
    storage_port_fetch_setpoints(cp->storage, cp->machine_id, COMMANDS_BATCH, on_setpoint, &l,
                                 NULL);
    int handled = 0;
    for (size_t i = 0; i < l.count; i++) {
        setpoint_item *it = &l.items[i];
        if (storage_port_claim_setpoint(cp->storage, it->id, NULL) != ALD_OK)
            continue;
        handled++;
        const tag_param *p = resolve_setpoint(cp->tags, it, l.override_address[i]);
        char err[600] = "";
        setpoint_target t = {cp->plc, cp->tags, cp->storage};
        if (command_too_old("parameter_control", it->created_at[0] ? it->created_at : NULL,
                            clock_realtime_ms(), cp->max_age_s, err, sizeof err)) {
            /* a stale setpoint is not written: err says why */
        } else if (!p) {
            snprintf(err, sizeof err, "no unique writable parameter matches id '%s', address "
                     "%lld or name '%s'", it->parameter_id, (long long)l.override_address[i],
                     it->parameter_name);
        } else if (isnan(it->value)) { /* the store read NULL or malformed text as NaN */
            snprintf(err, sizeof err, "parameter_control_commands.target_value for %s is not "
                     "a number (NULL, or text that is not exactly a number such as 'abc' or "
                     "'120abc'): nothing written", p->id);
        } else {
            setpoint_apply(&t, p->id, it->value, err, sizeof err);
        }
        storage_port_finish_setpoint(cp->storage, it->id, err[0] ? err : NULL, NULL);
        if (err[0])
            log_warning("commands", "setpoint command %s: %s", it->id, err);
    }
    return handled;
}

/* ---- lease and loop ------------------------------------------------------------------------ */

static void lease_log(command_processor *cp, int held, ald_status st, const port_error *err)
{
    if (held)
        log_info("commands", "holding the lease of machine %s: taking commands", cp->machine_id);
    else if (st == ALD_ERR_CONFLICT)
        log_info("commands", "another engine holds the lease of machine %s: standing by",
                 cp->machine_id);
    else
        log_error("commands", "cannot take the lease of machine %s, not taking commands: %s",
                  cp->machine_id, err->text);
}

static int hold_lease(command_processor *cp)
{
    if (!storage_port_has(cp->storage, STORAGE_LEASES)) {
        atomic_store(&g_state.lease_state, 1);
        metrics_set(m_active, 1);
        return 1; /* a store without leases: single engine assumed */
    }
    port_error err;
    ald_status st = storage_port_acquire_lease(cp->storage, cp->machine_id, cp->holder,
                                               LEASE_DEFAULT_TTL_MS, &err);
    int held = st == ALD_OK;
    if (st == ALD_OK || st == ALD_ERR_CONFLICT) { /* an outage decides nothing */
        atomic_store(&g_state.lease_state, held);
        metrics_set(m_active, held);
    }
    /* Only a CONFLICT means another engine; any other failure (a missing
     * function, an outage) is the store's own error, said as such. */
    if (held != cp->lease_held || (!held && st != cp->lease_status))
        lease_log(cp, held, st, &err);
    cp->lease_held = held;
    cp->lease_status = st;
    return held;
}

/* The lease keeper's word when it runs (engine); else ask the store here
 * (tests drive a processor without a keeper). */
static int may_take_commands(command_processor *cp)
{
    if (lease_keeper_running())
        return lease_is_held();
    return hold_lease(cp);
}

/* Claim and run one fetched command; 1 when it was ours to run. */
static int take(command_processor *cp, const pending_command *c)
{
    metrics_add(m_received, 1);
    if (storage_port_claim_command(cp->storage, c->id, NULL) != ALD_OK)
        return 0;
    metrics_add(m_claimed, 1);
    cp->busy_since_ms = clock_mono_ms();
    dispatch(cp, c);
    cp->busy_since_ms = 0;
    return 1;
}

/* Not the holder: a standby touches no run. Another engine took the lease
 * (not an outage: that decides nothing) while this one runs a recipe: stop
 * driving the tool at once (the run aborts, valves closed); the new holder
 * recovers the run. */
static void lease_not_held(command_processor *cp)
{
    if (atomic_load(&g_state.lease_state) != 0)
        return;
    cp->orphans_checked = 0; /* the next term starts with a recovery */
    cancel_start(cp, "another engine took the machine's lease before the recipe started");
    if (cp->exec && executor_busy(cp->exec)) {
        log_error("commands", "another engine took the lease of machine %s: stopping the "
                  "running recipe (valves closed); the lease holder recovers the run",
                  cp->machine_id);
        executor_stop(cp->exec, "another engine took the machine's lease");
    }
}

int commands_poll_once(command_processor *cp)
{
    if (!may_take_commands(cp)) {
        lease_not_held(cp);
        return 0;
    }
    if (!cp->orphans_checked) {
        commands_recover_orphans(cp->storage, cp->plc, cp->tags, cp->machine_id);
        cp->orphans_checked = 1;
    }
    pending_list l;
    ald_status st = fetch_pending(cp, &l);
    metrics_set(m_queue, (double)l.count);
    int handled = 0;
    /* Stops first, even from a store that hands rows in creation order only. */
    for (int stops = 1; stops >= 0; stops--)
        for (size_t i = 0; st == ALD_OK && i < l.count; i++)
            if (command_is_stop(l.items[i].type) == stops)
                handled += take(cp, &l.items[i]);
    free_pending(&l);
    handled += complete_start(cp); /* after the stops: one taken now cancelled it */
    return handled + poll_setpoints(cp);
}

static int wait_poll(command_processor *cp)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(cp->poll_ms % 1000) * 1000000L;
    ts.tv_sec += cp->poll_ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&cp->lock);
    if (!cp->stop_requested)
        pthread_cond_timedwait(&cp->wake, &cp->lock, &ts);
    int stop = cp->stop_requested;
    pthread_mutex_unlock(&cp->lock);
    return stop;
}

/* Collector: how long the command in hand has been running, at scrape time. */
static void collect_busy(void *ctx)
{
    command_processor *cp = ctx;
    uint64_t since = cp->busy_since_ms;
    metrics_set(m_busy, since ? (double)(clock_mono_ms() - since) / 1000.0 : 0);
    metrics_set(m_active, atomic_load(&g_state.lease_state) == 1);
}

static void *commands_main(void *arg)
{
    command_processor *cp = arg;
    thread_role_enter("ald-commands", THREAD_TIMED);
    do {
        commands_poll_once(cp);
    } while (!wait_poll(cp));
    return NULL;
}

void commands_init(command_processor *cp, plugin_instance *storage, plugin_instance *plc,
                   const tagmap *tags, executor *exec, const char *machine_id,
                   unsigned poll_ms)
{
    static atomic_uint instances;
    memset(cp, 0, sizeof *cp);
    cp->storage = storage;
    cp->plc = plc;
    cp->tags = tags;
    cp->exec = exec;
    cp->machine_id = machine_id;
    cp->poll_ms = poll_ms ? poll_ms : COMMANDS_POLL_MS;
    cp->max_age_s = COMMAND_MAX_AGE_DEFAULT_S;
    cp->lease_held = -1; /* unknown: the first poll always says which it is */
    starter_init(&cp->starter, storage, tags);
    cp->starter_ready = 1;
    cp->start_waits = 1;
    char host[64] = "engine";
    gethostname(host, sizeof host);
    snprintf(cp->holder, sizeof cp->holder, "%s:%d:%u", host, (int)getpid(),
             atomic_fetch_add(&instances, 1));
    m_received = metrics_counter("ald_commands_received_total", "Commands seen pending", NULL);
    m_claimed = metrics_counter("ald_commands_claimed_total", "Commands claimed by this engine",
                                NULL);
    m_failed = metrics_counter("ald_commands_failed_total", "Commands that ended in error", NULL);
    m_queue = metrics_gauge("ald_command_queue_length", "Pending commands at the last poll",
                            NULL);
    m_busy = metrics_gauge("ald_command_processing_seconds",
                           "Seconds the command being handled has taken so far (0 when none); "
                           "a recipe's run and its recipe load (starter thread) are not "
                           "counted, only the start's quick checks and its begin",
                           NULL);
    m_active = metrics_gauge("ald_engine_active",
                             "1 while this engine holds the machine's lease and drives it; 0 "
                             "on a standby (blue/green) that stores nothing",
                             NULL);
}


void commands_use_loader(command_processor *cp, plugin_instance *loader)
{
    cp->starter.loader = loader;
}

/* The starter's word that a load ended: poll now, not after poll_ms. */
static void wake_processor(void *ctx)
{
    command_processor *cp = ctx;
    pthread_mutex_lock(&cp->lock);
    pthread_cond_signal(&cp->wake);
    pthread_mutex_unlock(&cp->lock);
}

int commands_start(command_processor *cp, plugin_instance *storage, plugin_instance *loader,
                   plugin_instance *plc, const tagmap *tags, executor *exec,
                   const char *machine_id, unsigned poll_ms, const ald_config *readiness,
                   unsigned max_age_s)
{
    commands_init(cp, storage, plc, tags, exec, machine_id, poll_ms);
    commands_use_loader(cp, loader ? loader : storage);
    cp->start_waits = 0;
    cp->readiness = readiness;
    cp->max_age_s = max_age_s ? max_age_s : COMMAND_MAX_AGE_DEFAULT_S;
    if (!storage_port_has(storage, STORAGE_COMMANDS)) {
        log_warning("commands", "storage '%s' has no command queue: commands are off",
                    port_instance_name(storage));
        return 0;
    }
    pthread_mutex_init(&cp->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cp->wake, &attr);
    pthread_condattr_destroy(&attr);
    cp->starter.notify = wake_processor;
    cp->starter.notify_ctx = cp;
    if (pthread_create(&cp->thread, NULL, commands_main, cp) != 0)
        return -1;
    metrics_add_collector(collect_busy, cp);
    cp->running = 1;
    return 0;
}

/* After the command thread ended: nothing can begin a run any more. */
static void stop_starter(command_processor *cp)
{
    if (!cp->starter_ready)
        return;
    cancel_start(cp, "the engine stopped before the recipe started");
    starter_destroy(&cp->starter); /* joins a load still running: it ends first */
    cp->starter_ready = 0;
}

void commands_stop(command_processor *cp)
{
    if (!cp->running) {
        stop_starter(cp);
        return;
    }
    pthread_mutex_lock(&cp->lock);
    cp->stop_requested = 1;
    pthread_cond_signal(&cp->wake);
    pthread_mutex_unlock(&cp->lock);
    pthread_join(cp->thread, NULL);
    cp->running = 0;
    stop_starter(cp);
    if (cp->lease_held == 1 && !lease_keeper_running() &&
        storage_port_has(cp->storage, STORAGE_LEASES))
        storage_port_release_lease(cp->storage, cp->machine_id, cp->holder, NULL);
}

/* ---- crash recovery ----------------------------------------------------------------------- */

typedef struct orphan_list {
    char ids[8][64];
    char commands[8][64];
    char owners[8][96];
    size_t count;
} orphan_list;

static void on_orphan(void *ctx, const ald_process *p)
{
    orphan_list *l = ctx;
    if (l->count >= 8 || !p->id)
        return;
    json_t *js = p->parameters_json ? json_loads(p->parameters_json, 0, NULL) : NULL;
    const char *life = js ? param_string(js, "engine_instance") : NULL;
    if (life && !strcmp(life, engine_id_instance())) {
        json_decref(js); /* the run this process drives: not an orphan */
        return;
    }
    const char *cmd = js ? param_string(js, "command_id") : NULL;
    const char *owner = js ? param_string(js, "engine") : NULL;
    snprintf(l->ids[l->count], 64, "%s", p->id);
    snprintf(l->commands[l->count], 64, "%s", cmd ? cmd : "");
    snprintf(l->owners[l->count], 96, "%s", owner ? owner : "an unrecorded engine");
    json_decref(js);
    l->count++;
}

void commands_recover_orphans(plugin_instance *storage, plugin_instance *plc,
                              const tagmap *tags, const char *machine_id)
{
    if (!storage_port_has(storage, STORAGE_ORPHANS))
        return;
    orphan_list l = {.count = 0};
    storage_port_find_open_processes(storage, machine_id, on_orphan, &l, NULL);
    if (l.count == 0)
        return;
    int failed_closes = plc_port_close_all_valves(plc, tags);
    static const char reason[] = "engine restarted while the recipe was running";
    for (size_t i = 0; i < l.count; i++) {
        log_warning("commands", "process %s was left running by %s, which is gone (this "
                    "engine holds the lease): valves closed%s, marking it failed", l.ids[i],
                    l.owners[i], failed_closes ? " (some close writes failed)" : "");
        storage_port_finish_process(storage, l.ids[i], "failed", reason, clock_realtime_ms(),
                                    NULL);
        if (l.commands[i][0])
            storage_port_finish_command(storage, l.commands[i], "error", reason, NULL);
    }
    ald_machine_update mu = {.struct_size = sizeof mu, .machine_id = machine_id,
                             .status = "error", .process_id = NULL,
                             .failure_description = "Recipe execution error: engine restarted "
                                                    "while the recipe was running"};
    storage_port_set_machine_state(storage, &mu, NULL);
}
