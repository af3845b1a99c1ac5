/*
 * store.c - aldctl's configuration and storage access (see ctl.h): conf.d
 * loaded exactly like ald-engine loads it, the active storage instance, and
 * the calls aldctl makes, each copying its rows out of the sink callback.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"


/* ---- configuration: the same defaults as ald-engine (engine/main.c) ------------------ */

int ctl_load_config(ctl *c, char *err, size_t errlen)
{
    if (c->cfg_loaded)
        return 0;
    const char *dir = c->config_dir ? c->config_dir : config_default_dir();
    char why[CTL_ERR_LEN];
    c->cfg_loaded = 1; /* config_free is safe on a partly loaded config */
    if (config_load_effective(&c->cfg, dir, why, sizeof why) != 0) {
        snprintf(err, errlen, "configuration error: %s (use --config DIR)", why);
        return -1;
    }
    c->machine_id = c->machine_opt ? c->machine_opt : c->cfg.machine_id;
    if (!c->machine_id || !*c->machine_id) {
        snprintf(err, errlen,
                 "no machine id: set engine.machine_id in %s, MACHINE_ID or "
                 "--machine",
                 dir);
        return -1;
    }
    return 0;
}

int ctl_open_store(ctl *c, char *err, size_t errlen)
{
    if (c->store_open)
        return 0;
    if (ctl_load_config(c, err, errlen) != 0)
        return -1;
    const plugin_conf *pc = config_active(&c->cfg, ROLE_STORAGE);
    if (!pc) {
        snprintf(err, errlen, "no active storage instance in %s", c->cfg.config_dir);
        return -1;
    }
    char why[CTL_ERR_LEN];
    if (plugin_instance_create(&c->store, pc, c->cfg.plugin_dir, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    c->store_open = 1;
    ald_status st = plugin_instance_start(&c->store);
    if (st != ALD_OK) {
        snprintf(err, errlen, "cannot open storage '%s' (%s, %s): %s: %s", pc->name,
                 pc->plugin, pc->where, ald_status_name(st), plugin_last_error(&c->store));
        return -1;
    }
    return 0;
}

void ctl_close(ctl *c)
{
    if (c->store_open)
        plugin_instance_destroy(&c->store);
    c->store_open = 0;
    if (c->cfg_loaded)
        config_free(&c->cfg);
    c->cfg_loaded = 0;
}

int ctl_store_result(ctl *c, ald_status st, const port_error *why, const char *can_what,
                     const char *doing, char *err, size_t errlen)
{
    if (st == ALD_OK)
        return 0;
    if (st == ALD_ERR_UNSUPPORTED)
        snprintf(err, errlen, "this storage ('%s', plugin %s) cannot %s", c->store.name,
                 c->store.lib.desc.name ? c->store.lib.desc.name : "?", can_what);
    else
        snprintf(err, errlen, "%s: %s%s%s", doing, ald_status_name(st),
                 why->text[0] ? ": " : "", why->text);
    return -1;
}

/* ---- commands ----------------------------------------------------------------------------
 */

int ctl_insert_command(ctl *c, const char *type, const char *params_json, char *id_out,
                       char *err, size_t errlen)
{
    port_error why;
    ald_status st = storage_port_insert_command(&c->store, c->machine_id, type, params_json,
                                                id_out, CTL_ID_LEN, &why);
    return ctl_store_result(c, st, &why, "queue commands (no insert_command)",
                            "inserting the command", err, errlen);
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static void on_command(void *ctx, const ald_command *cmd)
{
    ctl_command_row *row = ctx;
    row->found = 1;
    copy(row->status, sizeof row->status, cmd->status);
    copy(row->type, sizeof row->type, cmd->type);
    copy(row->error, sizeof row->error, cmd->error_message);
}

int ctl_get_command(ctl *c, const char *id, ctl_command_row *row, char *err, size_t errlen)
{
    memset(row, 0, sizeof *row);
    port_error why;
    ald_status st = storage_port_get_command(&c->store, id, on_command, row, &why);
    if (ctl_store_result(c, st, &why, "read a command's outcome (no get_command)",
                         "reading the command", err, errlen) != 0)
        return -1;
    return row->found ? 0 : -1;
}

/* ---- machine and process
 * ------------------------------------------------------------------- */

int ctl_get_machine(ctl *c, storage_machine *row, char *err, size_t errlen)
{
    port_error why;
    ald_status st = storage_port_get_machine(&c->store, c->machine_id, row, &why);
    if (st == ALD_ERR_NOT_FOUND) {
        snprintf(err, errlen,
                 "machine %s does not exist in storage '%s' (check --machine / "
                 "MACHINE_ID)",
                 c->machine_id, c->store.name);
        return -1;
    }
    return ctl_store_result(c, st, &why, "read machines (no get_machine)",
                            "reading the machine", err, errlen);
}

static void on_state(void *ctx, const ald_process_state *s)
{
    ctl_progress *p = ctx;
    p->found = 1;
    copy(p->step_type, sizeof p->step_type, s->current_step_type);
    copy(p->step_name, sizeof p->step_name, s->current_step_name);
    p->overall_step = s->current_overall_step;
    p->total_steps =
        s->progress_total_steps > 0 ? s->progress_total_steps : s->total_overall_steps;
    p->completed_steps = s->progress_completed_steps;
    p->completed_cycles = s->progress_completed_cycles;
    p->total_cycles = s->progress_total_cycles;
    p->loop_iteration = s->current_loop_iteration;
    p->loop_count = s->current_loop_count;
    p->last_updated_ms = s->last_updated_ms;
}

int ctl_get_progress(ctl *c, const char *process_id, ctl_progress *p, char *err,
                     size_t errlen)
{
    memset(p, 0, sizeof *p);
    port_error why;
    ald_status st = storage_port_get_progress(&c->store, process_id, on_state, p, &why);
    return ctl_store_result(c, st == ALD_ERR_NOT_FOUND ? ALD_OK : st, &why,
                            "read process progress (no get_process_state)",
                            "reading the process state", err, errlen);
}

typedef struct open_lookup {
    const char *process_id;
    char *recipe_id;
    size_t len;
} open_lookup;

static void on_open_process(void *ctx, const ald_process *p)
{
    open_lookup *l = ctx;
    if (p->id && !strcmp(p->id, l->process_id))
        copy(l->recipe_id, l->len, p->recipe_id);
}

int ctl_open_process_recipe(ctl *c, const char *process_id, char *recipe_id, size_t len)
{
    recipe_id[0] = '\0';
    open_lookup l = {process_id, recipe_id, len};
    ald_status st =
        storage_port_find_open_processes(&c->store, c->machine_id, on_open_process, &l, NULL);
    return st == ALD_OK ? 0 : -1;
}

static void on_last_run(void *ctx, const ald_process *p)
{
    ctl_last_run *out = ctx;
    copy(out->process_id, sizeof out->process_id, p->id);
    copy(out->recipe_id, sizeof out->recipe_id, p->recipe_id);
    copy(out->status, sizeof out->status, p->status);
}

int ctl_get_last_run(ctl *c, ctl_last_run *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!storage_port_has(&c->store, STORAGE_LAST_RUN))
        return 0; /* a 1.0 store: --process ID still shows a finished run */
    port_error why;
    ald_status st =
        storage_port_find_last_finished(&c->store, c->machine_id, on_last_run, out, &why);
    return ctl_store_result(c, st, &why, "read the last run (no find_last_finished_process)",
                            "reading the last finished run", err, errlen);
}

/* ---- recipes
 * ------------------------------------------------------------------------------- */

typedef struct recipe_match {
    const char *wanted;
    char id[CTL_ID_LEN];
    int by_id, by_name;
    char names[512]; /* ids of every recipe with the wanted name */
} recipe_match;

static void on_recipe_info(void *ctx, const ald_recipe_info *r)
{
    recipe_match *m = ctx;
    if (!r->id)
        return;
    if (!strcmp(r->id, m->wanted)) {
        m->by_id = 1;
        copy(m->id, sizeof m->id, r->id);
    } else if (r->name && !strcmp(r->name, m->wanted) && !m->by_id) {
        if (m->by_name++ == 0)
            copy(m->id, sizeof m->id, r->id);
        size_t used = strlen(m->names);
        snprintf(m->names + used, sizeof m->names - used, "%s%s", used ? ", " : "", r->id);
    }
}

int ctl_resolve_recipe(ctl *c, const char *text, char *id_out, size_t len, char *err,
                       size_t errlen)
{
    recipe_match m = {.wanted = text};
    port_error why;
    ald_status st = storage_port_list_recipes(&c->store, on_recipe_info, &m, &why);
    if (ctl_store_result(c, st, &why, "list recipes (no list_recipes)", "listing recipes",
                         err, errlen) != 0)
        return -1;
    if (!m.by_id && m.by_name > 1) {
        snprintf(err, errlen, "%d recipes are named '%s': give an id instead (%s)", m.by_name,
                 text, m.names);
        return -1;
    }
    if (!m.by_id && !m.by_name) {
        snprintf(err, errlen,
                 "no recipe has the id or name '%s' ('aldctl recipes' lists "
                 "them)",
                 text);
        return -1;
    }
    copy(id_out, len, m.id);
    return 0;
}

int ctl_load_recipe(ctl *c, const char *id, recipe *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader reader = recipe_rows_reader(&rows);
    port_error why;
    ald_status st = storage_port_load_recipe(&c->store, id, &reader, &why);
    int rc = ctl_store_result(c, st, &why, "read recipes (no load_recipe)",
                              "reading the recipe", err, errlen);
    if (rc == 0) {
        char invalid[CTL_ERR_LEN];
        rc = recipe_build(r, &rows, invalid, sizeof invalid);
        if (rc != 0)
            snprintf(err, errlen, "recipe %s is not valid: %s", id, invalid);
    }
    recipe_rows_free(&rows);
    return rc;
}

/* ---- parameters
 * ------------------------------------------------------------------------------ */

static char *dup_text(const char *s)
{
    return strdup(s ? s : "");
}

static void on_parameter(void *ctx, const ald_parameter *p)
{
    ctl_param_list *l = ctx;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        ctl_param *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->oom = 1;
            return;
        }
        l->items = items;
        l->cap = cap;
    }
    ctl_param *d = &l->items[l->count++];
    d->id = dup_text(p->id);
    d->component = dup_text(p->component_name);
    d->name = dup_text(p->name);
    d->unit = dup_text(p->unit);
    d->writable = p->is_writable;
    d->min = p->min_value;
    d->max = p->max_value;
}

int ctl_load_parameters(ctl *c, ctl_param_list *list, char *err, size_t errlen)
{
    memset(list, 0, sizeof *list);
    port_error why;
    ald_status st =
        storage_port_load_parameters(&c->store, c->machine_id, on_parameter, list, &why);
    if (ctl_store_result(c, st, &why, "read the parameter map (no load_parameters)",
                         "reading the parameter map", err, errlen) != 0)
        return -1;
    if (list->oom)
        snprintf(err, errlen, "out of memory reading the parameter map");
    return st == ALD_OK && !list->oom ? 0 : -1;
}

void ctl_param_list_free(ctl_param_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].id);
        free(list->items[i].component);
        free(list->items[i].name);
        free(list->items[i].unit);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}
