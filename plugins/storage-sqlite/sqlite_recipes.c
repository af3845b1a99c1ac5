/*
 * sqlite_recipes.c - reading recipes: the recipe row, its step tree joined with
 * the *_step_config tables, and its recipe_parameters.
 *
 * Every step row of the recipe comes out, top level first, then by
 * sequence_number; readers build the tree from parent_step_id (the engine's
 * validator does, in O(n log n)). Rows that are not reachable from the top
 * level (a parent cycle, a parent in another recipe) are handed over too, so
 * the validator names them: the store never drops a row silently. (Before,
 * a recursive query walked the tree from the top: quadratic without an index
 * on parent_step_id, and blind to unreachable rows.)
 */
#include <stdio.h>


#include "sqlite_store.h"

static const char SQL_RECIPE[] =
    "SELECT id, name, description, version, chamber_temperature_set_point, pressure_set_point"
    " FROM recipes WHERE id = ?1";
static const char SQL_LIST[] =
    "SELECT id, name, description, version, chamber_temperature_set_point, pressure_set_point"
    " FROM recipes ORDER BY name, id";
static const char SQL_STEPS[] =
    "SELECT s.id, s.recipe_id, s.parent_step_id, s.sequence_number, s.name, s.type,"
    "  s.parameters,"
    "  v.step_id IS NOT NULL, v.valve_number, v.duration_ms,"
    "  p.step_id IS NOT NULL, p.duration_ms, p.gas_type, p.flow_rate,"
    "  l.step_id IS NOT NULL, l.iteration_count,"
    "  c.step_id IS NOT NULL, c.parameter_id, c.target_value, c.hold_duration_ms"
    " FROM recipe_steps s"
    " LEFT JOIN valve_step_config v ON v.step_id = s.id"
    " LEFT JOIN purge_step_config p ON p.step_id = s.id"
    " LEFT JOIN loop_step_config l ON l.step_id = s.id"
    " LEFT JOIN parameter_step_config c ON c.step_id = s.id"
    " WHERE s.recipe_id = ?1"
    " ORDER BY s.parent_step_id IS NOT NULL, s.sequence_number, s.id";
static const char SQL_PARAMS[] =
    "SELECT parameter_name, parameter_value FROM recipe_parameters WHERE recipe_id = ?1"
    " ORDER BY parameter_name, id";

static ald_recipe_info recipe_row(sqlite3_stmt *st)
{
    return (ald_recipe_info){
        .struct_size = sizeof(ald_recipe_info),
        .id = sq_col_text(st, 0),
        .name = sq_col_text(st, 1),
        .description = sq_col_text(st, 2),
        .version = sq_col_int(st, 3),
        .chamber_temperature_set_point = sq_col_double(st, 4),
        .pressure_set_point = sq_col_double(st, 5),
    };
}

static ald_recipe_step step_row(sqlite3_stmt *st)
{
    return (ald_recipe_step){
        .struct_size = sizeof(ald_recipe_step),
        .id = sq_col_text(st, 0),
        .recipe_id = sq_col_text(st, 1),
        .parent_step_id = sq_col_text(st, 2),
        .sequence_number = sq_col_int(st, 3),
        .name = sq_col_text(st, 4),
        .type = sq_col_text(st, 5),
        .parameters_json = sq_col_text(st, 6),
        .has_valve_config = sqlite3_column_int(st, 7),
        .valve_number = sq_col_int(st, 8),
        .valve_duration_ms = sq_col_int(st, 9),
        .has_purge_config = sqlite3_column_int(st, 10),
        .purge_duration_ms = sq_col_int(st, 11),
        .gas_type = sq_col_text(st, 12),
        .flow_rate = sq_col_double(st, 13),
        .has_loop_config = sqlite3_column_int(st, 14),
        .iteration_count = sq_col_int(st, 15),
        .has_parameter_config = sqlite3_column_int(st, 16),
        .parameter_id = sq_col_text(st, 17),
        .target_value = sq_col_double(st, 18),
        .hold_duration_ms = sq_col_int(st, 19),
    };
}

/* Reads the recipe row; NOT_FOUND when the id is unknown. */
static ald_status read_recipe(sq_store *sq, const char *id, const ald_recipe_reader *r)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_RECIPE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && r->recipe) {
        ald_recipe_info info = recipe_row(st);
        r->recipe(r->ctx, &info);
    }
    sqlite3_reset(st);
    if (src == SQLITE_DONE)
        return sq_error(sq, ALD_ERR_NOT_FOUND, "recipe %s: no such row in recipes", id);
    return src == SQLITE_ROW ? ALD_OK : sq_fail(sq, src, "reading recipes");
}

/* valve_step_config.valve_number is a whole number or NULL: a REAL 1.5 or a
 * text would be truncated by sqlite3_column_int64 and pulse another valve,
 * so the load is refused naming the step (the ABI carries an int64). */
static ald_status check_valve_number(sq_store *sq, sqlite3_stmt *st)
{
    int type = sqlite3_column_type(st, 8);
    double v = type == SQLITE_FLOAT ? sqlite3_column_double(st, 8) : 0;
    if (type == SQLITE_NULL || type == SQLITE_INTEGER || (type == SQLITE_FLOAT && v > -1e15 && v < 1e15 && v == (double)(int64_t)v))
        return ALD_OK;
    const char *text = (const char *)sqlite3_column_text(st, 8);
    return sq_error(sq, ALD_ERR_INVALID, "recipe step '%s' (id %s): valve_step_config."
                    "valve_number %s is refused: a valve number must be a whole number",
                    sq_col_text(st, 4) ? sq_col_text(st, 4) : "", sq_col_text(st, 0),
                    text ? text : "?");
}

static ald_status read_steps(sq_store *sq, const char *id, const ald_recipe_reader *r)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_STEPS);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        ald_status bad = check_valve_number(sq, st);
        if (bad != ALD_OK) {
            sqlite3_reset(st);
            return bad;
        }
        ald_recipe_step step = step_row(st);
        if (r->step)
            r->step(r->ctx, &step);
    }
    sqlite3_reset(st);
    return src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading recipe_steps");
}

static ald_status read_params(sq_store *sq, const char *id, const ald_recipe_reader *r)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_PARAMS);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, id);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        if (r->parameter)
            r->parameter(r->ctx, sq_col_text(st, 0), sq_col_text(st, 1));
    sqlite3_reset(st);
    return src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading recipe_parameters");
}

/* All three reads see one snapshot, so a recipe edited meanwhile never comes
 * out half old, half new. */
static ald_status load_recipe_locked(sq_store *sq, const char *id, const ald_recipe_reader *r)
{
    ald_status rc = sq_exec(sq, "BEGIN", "load_recipe");
    if (rc == ALD_OK)
        rc = read_recipe(sq, id, r);
    if (rc == ALD_OK)
        rc = read_steps(sq, id, r);
    if (rc == ALD_OK)
        rc = read_params(sq, id, r);
    return sq_rollback(sq, rc); /* read-only: ending it is enough */
}

ald_status sq_load_recipe(void *instance, const char *recipe_id,
                          const ald_recipe_reader *reader)
{
    sq_store *sq = instance;
    if (!recipe_id || !reader)
        return sq_error(sq, ALD_ERR_INVALID,
                        "load_recipe: recipe_id and reader are required");
    ald_status rc = sq_enter(sq, "load_recipe");
    return rc == ALD_OK ? sq_leave(sq, load_recipe_locked(sq, recipe_id, reader)) : rc;
}

ald_status sq_list_recipes(void *instance, ald_recipe_info_sink sink, void *ctx)
{
    sq_store *sq = instance;
    if (!sink)
        return sq_error(sq, ALD_ERR_INVALID, "list_recipes: sink is required");
    ald_status rc = sq_enter(sq, "list_recipes");
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_LIST);
    if (!st)
        return sq_leave(sq, ALD_ERR_INTERNAL);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        ald_recipe_info info = recipe_row(st);
        sink(ctx, &info);
    }
    sqlite3_reset(st);
    rc = src == SQLITE_DONE ? ALD_OK : sq_fail(sq, src, "reading recipes");
    return sq_leave(sq, rc);
}
