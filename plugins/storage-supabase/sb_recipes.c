/*
 * sb_recipes.c - recipes, their steps (with the *_step_config rows) and
 * recipe_parameters; list; save (aldctl import) through one RPC.
 *
 * A recipe is read with plain filtered GETs (no resource embedding, which
 * depends on foreign keys a site may lack): the recipe row, its steps ordered
 * by sequence_number, each config table with step_id=in.(...), and the
 * parameters. Callbacks run only after every read succeeded, so the host
 * never sees half a recipe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_store.h"

#define IN_CHUNK 100 /* step ids per in.(...) filter: keeps URLs short */

static const char *const CONFIG_TABLES[] = {"valve_step_config", "purge_step_config",
                                            "loop_step_config", "parameter_step_config"};
#define CONFIG_COUNT 4

typedef struct recipe_data {
    json_t *recipe;             /* object */
    json_t *steps;              /* array */
    json_t *config[CONFIG_COUNT]; /* object: step_id -> row */
    json_t *parameters;         /* array */
} recipe_data;

static void recipe_data_free(recipe_data *d)
{
    json_decref(d->recipe);
    json_decref(d->steps);
    for (int i = 0; i < CONFIG_COUNT; i++)
        json_decref(d->config[i]);
    json_decref(d->parameters);
}

/* Sends req and hands its JSON answer over to *out. */
static ald_status fetch_json(sb_store *sb, sb_request *req, json_t **out)
{
    sb_response resp;
    ald_status rc = sb_send(sb, req, &resp);
    if (rc == ALD_OK)
        *out = resp.json ? json_incref(resp.json) : json_array();
    sb_response_free(&resp);
    return rc;
}

static ald_status fetch_recipe_row(sb_store *sb, const char *id, json_t **out)
{
    sb_request req;
    sb_req_init(&req, "GET", "recipes", "load_recipe");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, "id", "eq", id);
    req.want_object = 1;
    ald_status rc = fetch_json(sb, &req, out);
    if (rc == ALD_ERR_NOT_FOUND)
        sb_error(sb, rc, "load_recipe: recipe %s: no such row in recipes", id);
    return rc;
}

static ald_status fetch_children(sb_store *sb, const char *table, const char *key,
                                 const char *id, const char *order, json_t **out)
{
    sb_request req;
    sb_req_init(&req, "GET", table, "load_recipe");
    sb_req_param(&req, "select", "*");
    sb_req_filter(&req, key, "eq", id);
    sb_req_param(&req, "order", order);
    return fetch_json(sb, &req, out);
}

/* Rows of one config table for ids[0..n), merged into map (step_id -> row). */
static ald_status fetch_config_chunk(sb_store *sb, const char *table, const char **ids,
                                     size_t n, json_t *map)
{
    sb_request req;
    json_t *rows = NULL;
    sb_req_init(&req, "GET", table, "load_recipe");
    sb_req_param(&req, "select", "*");
    sb_req_filter_in(&req, "step_id", ids, n);
    ald_status rc = fetch_json(sb, &req, &rows);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *step = sb_str(row, "step_id");
        if (step)
            json_object_set(map, step, row);
    }
    json_decref(rows);
    return rc;
}

static ald_status fetch_configs(sb_store *sb, recipe_data *d)
{
    size_t n = json_array_size(d->steps);
    const char **ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids)
        return sb_error(sb, ALD_ERR_NOMEM, "load_recipe: out of memory");
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (sb_str(json_array_get(d->steps, i), "id"))
            ids[used++] = sb_str(json_array_get(d->steps, i), "id");
    ald_status rc = ALD_OK;
    for (int t = 0; t < CONFIG_COUNT && rc == ALD_OK; t++) {
        d->config[t] = json_object();
        for (size_t at = 0; at < used && rc == ALD_OK; at += IN_CHUNK)
            rc = fetch_config_chunk(sb, CONFIG_TABLES[t], ids + at,
                                    used - at < IN_CHUNK ? used - at : IN_CHUNK, d->config[t]);
    }
    free(ids);
    return rc;
}

static void emit_recipe(const json_t *row, void (*fn)(void *, const ald_recipe_info *),
                        void *ctx)
{
    ald_recipe_info r = {
        .struct_size = sizeof r,
        .id = sb_str(row, "id"),
        .name = sb_str(row, "name"),
        .description = sb_str(row, "description"),
        .version = sb_int(row, "version"),
        .chamber_temperature_set_point = sb_num(row, "chamber_temperature_set_point"),
        .pressure_set_point = sb_num(row, "pressure_set_point"),
    };
    fn(ctx, &r);
}

static void fill_configs(ald_recipe_step *s, const recipe_data *d)
{
    const json_t *v = json_object_get(d->config[0], s->id);
    const json_t *p = json_object_get(d->config[1], s->id);
    const json_t *l = json_object_get(d->config[2], s->id);
    const json_t *ps = json_object_get(d->config[3], s->id);
    if ((s->has_valve_config = v != NULL)) {
        s->valve_number = sb_int(v, "valve_number");
        s->valve_duration_ms = sb_int(v, "duration_ms");
    }
    if ((s->has_purge_config = p != NULL)) {
        s->purge_duration_ms = sb_int(p, "duration_ms");
        s->gas_type = sb_str(p, "gas_type");
        s->flow_rate = sb_num(p, "flow_rate");
    }
    if ((s->has_loop_config = l != NULL))
        s->iteration_count = sb_int(l, "iteration_count");
    if ((s->has_parameter_config = ps != NULL)) {
        s->parameter_id = sb_str(ps, "parameter_id");
        s->target_value = sb_num(ps, "target_value");
        s->hold_duration_ms = sb_int(ps, "hold_duration_ms");
    }
}

static void emit_step(const json_t *row, const recipe_data *d, const ald_recipe_reader *rd)
{
    char *parameters = sb_json_text(row, "parameters");
    ald_recipe_step s = {
        .struct_size = sizeof s,
        .id = sb_str(row, "id"),
        .recipe_id = sb_str(row, "recipe_id"),
        .parent_step_id = sb_str(row, "parent_step_id"),
        .sequence_number = sb_int(row, "sequence_number"),
        .name = sb_str(row, "name"),
        .type = sb_str(row, "type"),
        .parameters_json = parameters,
        .valve_number = -1, .valve_duration_ms = -1, .purge_duration_ms = -1,
        .iteration_count = -1, .hold_duration_ms = -1,
    };
    if (s.id)
        fill_configs(&s, d);
    rd->step(rd->ctx, &s);
    free(parameters);
}

/* parameter_value is text on our schema, a number on some sites. */
static void emit_parameter(const json_t *row, const ald_recipe_reader *rd)
{
    const json_t *v = json_object_get(row, "parameter_value");
    char num[64];
    const char *value = json_string_value(v);
    if (json_is_number(v)) {
        snprintf(num, sizeof num, "%.17g", json_number_value(v));
        value = num;
    } else if (json_is_boolean(v)) {
        value = json_is_true(v) ? "true" : "false";
    }
    rd->parameter(rd->ctx, sb_str(row, "parameter_name"), value);
}

/* Every valve_step_config.valve_number is a whole number (or null): 1.5 or
 * "2" from PostgREST would be rounded by sb_int and pulse another valve, so
 * the load is refused naming the step before any row is handed over. */
static ald_status check_valve_numbers(sb_store *sb, const recipe_data *d)
{
    size_t i;
    json_t *row;
    json_array_foreach(d->steps, i, row) {
        const char *id = sb_str(row, "id");
        const json_t *v = id ? json_object_get(d->config[0], id) : NULL;
        const json_t *n = v ? json_object_get(v, "valve_number") : NULL;
        double r = json_is_real(n) ? json_real_value(n) : 0.5;
        if (!n || json_is_null(n) || json_is_integer(n) ||
            (r > -1e15 && r < 1e15 && r == (double)(int64_t)r))
            continue;
        char *shown = json_dumps(n, JSON_ENCODE_ANY);
        ald_status rc = sb_error(sb, ALD_ERR_INVALID, "recipe step '%s' (id %s): "
                                 "valve_step_config.valve_number %s is refused: a valve "
                                 "number must be a whole number",
                                 sb_str(row, "name") ? sb_str(row, "name") : "", id,
                                 shown ? shown : "?");
        free(shown);
        return rc;
    }
    return ALD_OK;
}

static void deliver(const recipe_data *d, const ald_recipe_reader *rd)
{
    size_t i;
    json_t *row;
    if (rd->recipe)
        emit_recipe(d->recipe, rd->recipe, rd->ctx);
    if (rd->step)
        json_array_foreach(d->steps, i, row) emit_step(row, d, rd);
    if (rd->parameter)
        json_array_foreach(d->parameters, i, row) emit_parameter(row, rd);
}

ald_status sb_load_recipe(void *instance, const char *recipe_id,
                          const ald_recipe_reader *reader)
{
    sb_store *sb = instance;
    if (!recipe_id || !reader)
        return sb_error(sb, ALD_ERR_INVALID, "load_recipe: recipe_id and reader are required");
    recipe_data d = {0};
    ald_status rc = fetch_recipe_row(sb, recipe_id, &d.recipe);
    if (rc == ALD_OK)
        rc = fetch_children(sb, "recipe_steps", "recipe_id", recipe_id,
                            "sequence_number.asc,id.asc", &d.steps);
    if (rc == ALD_OK)
        rc = fetch_configs(sb, &d);
    if (rc == ALD_OK)
        rc = fetch_children(sb, "recipe_parameters", "recipe_id", recipe_id,
                            "parameter_name.asc", &d.parameters);
    if (rc == ALD_OK)
        rc = check_valve_numbers(sb, &d);
    if (rc == ALD_OK)
        deliver(&d, reader);
    recipe_data_free(&d);
    return rc;
}

ald_status sb_list_recipes(void *instance, ald_recipe_info_sink sink, void *ctx)
{
    sb_store *sb = instance;
    if (!sink)
        return sb_error(sb, ALD_ERR_INVALID, "list_recipes: a sink is required");
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "recipes", "list_recipes");
    sb_req_param(&req, "select", "*");
    sb_req_param(&req, "order", "name.asc,id.asc");
    ald_status rc = sb_send(sb, &req, &resp);
    for (size_t i = 0; rc == ALD_OK && i < sb_rows(&resp); i++)
        emit_recipe(sb_row(&resp, i), sink, ctx);
    sb_response_free(&resp);
    return rc;
}

/* ---- save (aldctl import): one RPC, one transaction ---------------------------- */

static json_t *step_json(const ald_recipe_step *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", sb_jstr(s->id));
    json_object_set_new(o, "parent_step_id", sb_jstr(s->parent_step_id));
    json_object_set_new(o, "sequence_number", json_integer(s->sequence_number));
    json_object_set_new(o, "name", sb_jstr(s->name));
    json_object_set_new(o, "type", sb_jstr(s->type));
    json_t *params = s->parameters_json ? json_loads(s->parameters_json, 0, NULL) : NULL;
    json_object_set_new(o, "parameters", params ? params : json_null());
    if (s->has_valve_config)
        json_object_set_new(o, "valve", json_pack("{s:o,s:o}", "valve_number",
                                                  sb_jint(s->valve_number), "duration_ms",
                                                  sb_jint(s->valve_duration_ms)));
    if (s->has_purge_config)
        json_object_set_new(o, "purge", json_pack("{s:o,s:o,s:o}", "duration_ms",
                                                  sb_jint(s->purge_duration_ms), "gas_type",
                                                  s->gas_type ? sb_jstr(s->gas_type)
                                                              : json_string("N2"),
                                                  "flow_rate", sb_jnum(s->flow_rate)));
    if (s->has_loop_config)
        json_object_set_new(o, "loop", json_pack("{s:o}", "iteration_count",
                                                 sb_jint(s->iteration_count)));
    if (s->has_parameter_config)
        json_object_set_new(o, "parameter",
                            json_pack("{s:o,s:o,s:o}", "parameter_id", sb_jstr(s->parameter_id),
                                      "target_value", sb_jnum(s->target_value),
                                      "hold_duration_ms", sb_jint(s->hold_duration_ms)));
    return o;
}

/* machine_id: sites keep recipes.created_by and machine_type NOT NULL;
 * ald_save_recipe takes them from this machine's row when nothing else
 * gives them (0002). */
static json_t *recipe_json(const sb_store *sb, const ald_recipe_info *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "machine_id", sb_jstr(sb->machine_id));
    json_object_set_new(o, "id", sb_jstr(r->id));
    json_object_set_new(o, "name", sb_jstr(r->name));
    json_object_set_new(o, "description", sb_jstr(r->description));
    json_object_set_new(o, "version", sb_jint(r->version));
    json_object_set_new(o, "chamber_temperature_set_point",
                        sb_jnum(r->chamber_temperature_set_point));
    json_object_set_new(o, "pressure_set_point", sb_jnum(r->pressure_set_point));
    return o;
}

static ald_status check_save(sb_store *sb, const ald_recipe_info *recipe,
                             const ald_recipe_step *const *steps, size_t step_count,
                             const char *const *names, size_t parameter_count)
{
    if (!recipe || !recipe->id || !recipe->name || (step_count && !steps) ||
        (parameter_count && !names))
        return sb_error(sb, ALD_ERR_INVALID, "save_recipe: a recipe with id and name is "
                        "required (and arrays for the counts given)");
    for (size_t i = 0; i < step_count; i++)
        if (!steps[i] || !steps[i]->id || !steps[i]->name || !steps[i]->type)
            return sb_error(sb, ALD_ERR_INVALID, "save_recipe: step %zu needs an id, a name "
                            "and a type", i);
    for (size_t i = 0; i < parameter_count; i++)
        if (!names[i])
            return sb_error(sb, ALD_ERR_INVALID, "save_recipe: parameter %zu has no name", i);
    return ALD_OK;
}

ald_status sb_save_recipe(void *instance, const ald_recipe_info *recipe,
                          const ald_recipe_step *const *steps, size_t step_count,
                          const char *const *parameter_names,
                          const char *const *parameter_values, size_t parameter_count)
{
    sb_store *sb = instance;
    ald_status rc = check_save(sb, recipe, steps, step_count, parameter_names, parameter_count);
    if (rc != ALD_OK)
        return rc;
    json_t *jsteps = json_array(), *jparams = json_array();
    for (size_t i = 0; i < step_count; i++)
        json_array_append_new(jsteps, step_json(steps[i]));
    for (size_t i = 0; i < parameter_count; i++)
        json_array_append_new(jparams, json_pack("{s:o,s:o}", "name",
                                                 sb_jstr(parameter_names[i]), "value",
                                                 sb_jstr(parameter_values
                                                             ? parameter_values[i]
                                                             : NULL)));
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "POST", "rpc/ald_save_recipe", "save_recipe");
    req.body = json_pack("{s:o,s:o,s:o}", "p_recipe", recipe_json(sb, recipe), "p_steps", jsteps,
                         "p_parameters", jparams);
    rc = sb_call(sb, &req, &resp);
    sb_req_free(&req);
    sb_response_free(&resp);
    return rc;
}
