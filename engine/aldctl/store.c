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

const ald_storage_vtable *ctl_ops(ctl *c)
{
    return storage_ops(&c->store);
}

int ctl_unsupported(ctl *c, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "this storage ('%s', plugin %s) cannot %s", c->store.name,
             c->store.lib.desc.name ? c->store.lib.desc.name : "?", what);
    return -1;
}

void ctl_store_error(ctl *c, ald_status st, const char *what, char *err, size_t errlen)
{
    const char *detail = plugin_last_error(&c->store);
    snprintf(err, errlen, "%s: %s%s%s", what, ald_status_name(st), *detail ? ": " : "",
             detail);
}

/* ---- commands ----------------------------------------------------------------------------
 */

int ctl_insert_command(ctl *c, const char *type, const char *params_json, char *id_out,
                       char *err, size_t errlen)
{
    const ald_storage_vtable *ops = ctl_ops(c);
    if (!ops->insert_command)
        return ctl_unsupported(c, "queue commands (no insert_command)", err, errlen);
    plugin_lock(&c->store);
    ald_status st = ops->insert_command(c->store.inst, c->machine_id, type, params_json,
                                        id_out, CTL_ID_LEN);
    if (st != ALD_OK)
        ctl_store_error(c, st, "inserting the command", err, errlen);
    plugin_unlock(&c->store);
    return st == ALD_OK ? 0 : -1;
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
    const ald_storage_vtable *ops = ctl_ops(c);
    memset(row, 0, sizeof *row);
    if (!ops->get_command)
        return ctl_unsupported(c, "read a command's outcome (no get_command)", err, errlen);
    plugin_lock(&c->store);
    ald_status st = ops->get_command(c->store.inst, id, on_command, row);
    if (st != ALD_OK)
        ctl_store_error(c, st, "reading the command", err, errlen);
    plugin_unlock(&c->store);
    return st == ALD_OK && row->found ? 0 : -1;
}

/* ---- machine and process
 * ------------------------------------------------------------------- */

static void on_machine(void *ctx, const ald_machine *m)
{
    ctl_machine_row *row = ctx;
    row->found = 1;
    copy(row->status, sizeof row->status, m->status);
    copy(row->process_id, sizeof row->process_id, m->current_process_id);
    copy(row->operator_id, sizeof row->operator_id, m->current_operator_id);
    copy(row->failure, sizeof row->failure, m->failure_description);
}

int ctl_get_machine(ctl *c, ctl_machine_row *row, char *err, size_t errlen)
{
    const ald_storage_vtable *ops = ctl_ops(c);
    memset(row, 0, sizeof *row);
    if (!ops->get_machine)
        return ctl_unsupported(c, "read machines (no get_machine)", err, errlen);
    plugin_lock(&c->store);
    ald_status st = ops->get_machine(c->store.inst, c->machine_id, on_machine, row);
    if (st != ALD_OK)
        ctl_store_error(c, st, "reading the machine", err, errlen);
    plugin_unlock(&c->store);
    if (st == ALD_OK && !row->found)
        snprintf(err, errlen,
                 "machine %s does not exist in storage '%s' (check --machine / "
                 "MACHINE_ID)",
                 c->machine_id, c->store.name);
    return st == ALD_OK && row->found ? 0 : -1;
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
    const ald_storage_vtable *ops = ctl_ops(c);
    memset(p, 0, sizeof *p);
    if (!ops->get_process_state)
        return ctl_unsupported(c, "read process progress (no get_process_state)", err,
                               errlen);
    plugin_lock(&c->store);
    ald_status st = ops->get_process_state(c->store.inst, process_id, on_state, p);
    if (st != ALD_OK && st != ALD_ERR_NOT_FOUND)
        ctl_store_error(c, st, "reading the process state", err, errlen);
    plugin_unlock(&c->store);
    return st == ALD_OK || st == ALD_ERR_NOT_FOUND ? 0 : -1;
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
    const ald_storage_vtable *ops = ctl_ops(c);
    recipe_id[0] = '\0';
    if (!ops->find_open_processes)
        return -1;
    open_lookup l = {process_id, recipe_id, len};
    plugin_lock(&c->store);
    ald_status st =
        ops->find_open_processes(c->store.inst, c->machine_id, on_open_process, &l);
    plugin_unlock(&c->store);
    return st == ALD_OK ? 0 : -1;
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
    const ald_storage_vtable *ops = ctl_ops(c);
    if (!ops->list_recipes)
        return ctl_unsupported(c, "list recipes (no list_recipes)", err, errlen);
    recipe_match m = {.wanted = text};
    plugin_lock(&c->store);
    ald_status st = ops->list_recipes(c->store.inst, on_recipe_info, &m);
    if (st != ALD_OK)
        ctl_store_error(c, st, "listing recipes", err, errlen);
    plugin_unlock(&c->store);
    if (st != ALD_OK)
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
    const ald_storage_vtable *ops = ctl_ops(c);
    memset(r, 0, sizeof *r);
    if (!ops->load_recipe)
        return ctl_unsupported(c, "read recipes (no load_recipe)", err, errlen);
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader reader = recipe_rows_reader(&rows);
    plugin_lock(&c->store);
    ald_status st = ops->load_recipe(c->store.inst, id, &reader);
    if (st != ALD_OK)
        ctl_store_error(c, st, "reading the recipe", err, errlen);
    plugin_unlock(&c->store);
    int rc = -1;
    if (st == ALD_OK) {
        char why[CTL_ERR_LEN];
        rc = recipe_build(r, &rows, why, sizeof why);
        if (rc != 0)
            snprintf(err, errlen, "recipe %s is not valid: %s", id, why);
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
    const ald_storage_vtable *ops = ctl_ops(c);
    memset(list, 0, sizeof *list);
    if (!ops->load_parameters)
        return ctl_unsupported(c, "read the parameter map (no load_parameters)", err, errlen);
    plugin_lock(&c->store);
    ald_status st = ops->load_parameters(c->store.inst, c->machine_id, on_parameter, list);
    if (st != ALD_OK)
        ctl_store_error(c, st, "reading the parameter map", err, errlen);
    plugin_unlock(&c->store);
    if (st == ALD_OK && list->oom)
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
