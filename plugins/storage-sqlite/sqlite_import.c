/*
 * sqlite_import.c - the two operations aldctl needs beyond the engine's:
 * save_recipe (store a whole recipe tree, replacing one with the same id, in
 * ONE transaction) and get_command (one recipe_commands row by id, so aldctl
 * can follow a command to its outcome).
 *
 * A replaced recipe keeps its recipes row (UPDATE, not DELETE): finished
 * process_executions reference it, and their recipe_version snapshot already
 * records what they ran. Its steps, step configs and parameters are deleted
 * and written anew; the cascade on recipe_steps takes the configs and nested
 * steps with it.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_store.h"

static const char SQL_UPSERT_RECIPE[] =
    "INSERT INTO recipes (id, name, description, version, chamber_temperature_set_point,"
    " pressure_set_point) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT(id) DO UPDATE SET name = excluded.name, description = excluded.description,"
    " version = excluded.version,"
    " chamber_temperature_set_point = excluded.chamber_temperature_set_point,"
    " pressure_set_point = excluded.pressure_set_point,"
    " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')";
static const char SQL_DELETE_STEPS[] = "DELETE FROM recipe_steps WHERE recipe_id = ?1";
static const char SQL_DELETE_PARAMS[] = "DELETE FROM recipe_parameters WHERE recipe_id = ?1";
static const char SQL_INSERT_STEP[] =
    "INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type,"
    " parameters) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_INSERT_VALVE[] =
    "INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char SQL_INSERT_PURGE[] =
    "INSERT INTO purge_step_config (id, step_id, duration_ms, gas_type, flow_rate)"
    " VALUES (?1, ?2, ?3, COALESCE(?4, 'N2'), ?5)";
static const char SQL_INSERT_LOOP[] =
    "INSERT INTO loop_step_config (id, step_id, iteration_count) VALUES (?1, ?2, ?3)";
static const char SQL_INSERT_PARAM_CONFIG[] =
    "INSERT INTO parameter_step_config (id, step_id, parameter_id, target_value,"
    " hold_duration_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_INSERT_PARAMETER[] =
    "INSERT INTO recipe_parameters (id, recipe_id, parameter_name, parameter_value)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char SQL_GET_COMMAND[] =
    "SELECT id, type, parameters, machine_id, status, created_at, error_message"
    " FROM recipe_commands WHERE id = ?1";

/* ---- save_recipe ------------------------------------------------------------ */

static ald_status write_recipe_row(sq_store *sq, const ald_recipe_info *r)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_UPSERT_RECIPE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, r->id);
    sq_bind_text(st, 2, r->name);
    sq_bind_text(st, 3, r->description);
    sqlite3_bind_int64(st, 4, r->version > 0 ? r->version : 1);
    sq_bind_double(st, 5, r->chamber_temperature_set_point);
    sq_bind_double(st, 6, r->pressure_set_point);
    return sq_run(sq, st, "writing the recipes row");
}

static ald_status delete_children(sq_store *sq, const char *recipe_id)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_DELETE_STEPS);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, recipe_id);
    ald_status rc = sq_run(sq, st, "deleting the old recipe_steps");
    if (rc != ALD_OK)
        return rc;
    if (!(st = sq_stmt(sq, SQL_DELETE_PARAMS)))
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, recipe_id);
    return sq_run(sq, st, "deleting the old recipe_parameters");
}

/* Binds a fresh config-row id and the step id: the two columns every config
 * table starts with. */
static sqlite3_stmt *config_stmt(sq_store *sq, const char *sql, const ald_recipe_step *s)
{
    char id[SQ_UUID_LEN];
    sqlite3_stmt *st = sq_stmt(sq, sql);
    if (!st)
        return NULL;
    sq_uuid(id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, s->id);
    return st;
}

static ald_status write_configs(sq_store *sq, const ald_recipe_step *s)
{
    sqlite3_stmt *st;
    ald_status rc = ALD_OK;
    if (rc == ALD_OK && s->has_valve_config) {
        if (!(st = config_stmt(sq, SQL_INSERT_VALVE, s)))
            return ALD_ERR_INTERNAL;
        sqlite3_bind_int64(st, 3, s->valve_number);
        sqlite3_bind_int64(st, 4, s->valve_duration_ms);
        rc = sq_run(sq, st, "writing a valve_step_config row");
    }
    if (rc == ALD_OK && s->has_purge_config) {
        if (!(st = config_stmt(sq, SQL_INSERT_PURGE, s)))
            return ALD_ERR_INTERNAL;
        sqlite3_bind_int64(st, 3, s->purge_duration_ms);
        sq_bind_text(st, 4, s->gas_type);
        sq_bind_double(st, 5, s->flow_rate);
        rc = sq_run(sq, st, "writing a purge_step_config row");
    }
    if (rc == ALD_OK && s->has_loop_config) {
        if (!(st = config_stmt(sq, SQL_INSERT_LOOP, s)))
            return ALD_ERR_INTERNAL;
        sqlite3_bind_int64(st, 3, s->iteration_count);
        rc = sq_run(sq, st, "writing a loop_step_config row");
    }
    if (rc == ALD_OK && s->has_parameter_config) {
        if (!(st = config_stmt(sq, SQL_INSERT_PARAM_CONFIG, s)))
            return ALD_ERR_INTERNAL;
        sq_bind_text(st, 3, s->parameter_id);
        sq_bind_double(st, 4, s->target_value);
        sq_bind_int_or_null(st, 5, s->hold_duration_ms);
        rc = sq_run(sq, st, "writing a parameter_step_config row");
    }
    return rc;
}

static ald_status write_step(sq_store *sq, const char *recipe_id, const ald_recipe_step *s)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_INSERT_STEP);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, s->id);
    sq_bind_text(st, 2, recipe_id); /* the recipe's id wins over the row's */
    sq_bind_text(st, 3, s->parent_step_id);
    sqlite3_bind_int64(st, 4, s->sequence_number);
    sq_bind_text(st, 5, s->name ? s->name : s->type);
    sq_bind_text(st, 6, s->type);
    sq_bind_text(st, 7, s->parameters_json);
    ald_status rc = sq_run(sq, st, "writing a recipe_steps row");
    return rc == ALD_OK ? write_configs(sq, s) : rc;
}

static int is_written(const ald_recipe_step *const *steps, const unsigned char *done,
                      size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (done[i] && steps[i]->id && !strcmp(steps[i]->id, id))
            return 1;
    return 0;
}

/* Parents before children (parent_step_id is a checked foreign key), whatever
 * order the caller passed; a step whose parent never appears is refused. */
static ald_status write_steps(sq_store *sq, const char *recipe_id,
                              const ald_recipe_step *const *steps, size_t count)
{
    unsigned char *done = calloc(count ? count : 1, 1);
    if (!done)
        return sq_error(sq, ALD_ERR_NOMEM, "save_recipe: out of memory");
    size_t written = 0;
    ald_status rc = ALD_OK;
    while (rc == ALD_OK && written < count) {
        size_t before = written;
        for (size_t i = 0; rc == ALD_OK && i < count; i++) {
            const ald_recipe_step *s = steps[i];
            if (done[i] ||
                (s->parent_step_id && !is_written(steps, done, count, s->parent_step_id)))
                continue;
            rc = write_step(sq, recipe_id, s);
            done[i] = 1;
            written++;
        }
        if (rc == ALD_OK && written == before)
            for (size_t i = 0; i < count && rc == ALD_OK; i++)
                if (!done[i])
                    rc = sq_error(sq, ALD_ERR_INVALID,
                                  "save_recipe: step %s names parent "
                                  "%s, which is not a step of recipe %s (or forms a cycle)",
                                  steps[i]->id, steps[i]->parent_step_id, recipe_id);
    }
    free(done);
    return rc;
}

static ald_status write_parameters(sq_store *sq, const char *recipe_id,
                                   const char *const *names, const char *const *values,
                                   size_t count)
{
    ald_status rc = ALD_OK;
    for (size_t i = 0; rc == ALD_OK && i < count; i++) {
        char id[SQ_UUID_LEN];
        sqlite3_stmt *st = sq_stmt(sq, SQL_INSERT_PARAMETER);
        if (!st)
            return ALD_ERR_INTERNAL;
        sq_uuid(id);
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, recipe_id);
        sq_bind_text(st, 3, names[i]);
        sq_bind_text(st, 4, values ? values[i] : NULL);
        rc = sq_run(sq, st, "writing a recipe_parameters row");
    }
    return rc;
}

static ald_status check_save_args(sq_store *sq, const ald_recipe_info *r,
                                  const ald_recipe_step *const *steps, size_t step_count,
                                  const char *const *names, size_t parameter_count)
{
    if (!r || !r->id || !r->name)
        return sq_error(sq, ALD_ERR_INVALID,
                        "save_recipe: the recipe needs an id and a name");
    if (step_count && !steps)
        return sq_error(sq, ALD_ERR_INVALID, "save_recipe: %zu steps but no step array",
                        step_count);
    for (size_t i = 0; i < step_count; i++)
        if (!steps[i] || !steps[i]->id || !steps[i]->type)
            return sq_error(sq, ALD_ERR_INVALID,
                            "save_recipe: step %zu of recipe %s has no "
                            "id or type",
                            i + 1, r->id);
    for (size_t i = 0; i < parameter_count; i++)
        if (!names || !names[i])
            return sq_error(sq, ALD_ERR_INVALID,
                            "save_recipe: parameter %zu of recipe %s "
                            "has no name",
                            i + 1, r->id);
    return ALD_OK;
}

ald_status sq_save_recipe(void *instance, const ald_recipe_info *recipe,
                          const ald_recipe_step *const *steps, size_t step_count,
                          const char *const *parameter_names,
                          const char *const *parameter_values, size_t parameter_count)
{
    sq_store *sq = instance;
    ald_status rc =
        check_save_args(sq, recipe, steps, step_count, parameter_names, parameter_count);
    if (rc != ALD_OK)
        return rc;
    if ((rc = sq_enter(sq, "save_recipe")) != ALD_OK)
        return rc;
    rc = sq_begin(sq, "save_recipe");
    if (rc == ALD_OK)
        rc = write_recipe_row(sq, recipe);
    if (rc == ALD_OK)
        rc = delete_children(sq, recipe->id);
    if (rc == ALD_OK)
        rc = write_steps(sq, recipe->id, steps, step_count);
    if (rc == ALD_OK)
        rc = write_parameters(sq, recipe->id, parameter_names, parameter_values,
                              parameter_count);
    rc = rc == ALD_OK ? sq_commit(sq, "save_recipe") : sq_rollback(sq, rc);
    return sq_leave(sq, rc);
}

/* ---- get_command -------------------------------------------------------------- */

static ald_status get_command_locked(sq_store *sq, const char *id, ald_command_sink sink,
                                     void *ctx)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_GET_COMMAND);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        ald_command c = {
            .struct_size = sizeof c,
            .id = sq_col_text(st, 0),
            .type = sq_col_text(st, 1),
            .parameters_json = sq_col_text(st, 2),
            .machine_id = sq_col_text(st, 3),
            .status = sq_col_text(st, 4),
            .created_at = sq_col_text(st, 5),
            .error_message = sq_col_text(st, 6),
        };
        sink(ctx, &c);
    }
    sqlite3_reset(st);
    if (src == SQLITE_DONE)
        return sq_error(sq, ALD_ERR_NOT_FOUND, "recipe_commands %s: no such row", id);
    return src == SQLITE_ROW ? ALD_OK : sq_fail(sq, src, "reading recipe_commands");
}

ald_status sq_get_command(void *instance, const char *command_id, ald_command_sink sink,
                          void *ctx)
{
    sq_store *sq = instance;
    if (!command_id || !sink)
        return sq_error(sq, ALD_ERR_INVALID, "get_command: command_id and sink are required");
    ald_status rc = sq_enter(sq, "get_command");
    return rc == ALD_OK ? sq_leave(sq, get_command_locked(sq, command_id, sink, ctx)) : rc;
}
