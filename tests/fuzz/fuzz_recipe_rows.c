/*
 * fuzz_recipe_rows.c - recipe rows as a store returns them (recipe_steps
 * joined with their *_step_config rows, legacy inline `parameters` JSON,
 * recipe_parameters) -> recipe_build(), the one validator the engine runs
 * before a recipe starts.
 *
 * The input is JSON that mirrors the rows, field names as in ald_recipe_step
 * (sdk/include/ald/storage.h), so seeds read like the database:
 *   {"recipe": {"id": "r1", "name": "x", "version": 1},
 *    "steps": [{"id": "s1", "sequence_number": 1, "type": "valve",
 *               "valve_number": 1, "valve_duration_ms": 20}, ...],
 *    "parameters": {"name": "value"}}
 * A *_config group counts as present when any of its fields is. Jansson only
 * unpacks the rows here; the code under test is recipe.c.
 *
 * Invariant: a tree built from rows exports to a document that imports again
 * with the same number of executed steps - for recipes with a name. The
 * document format requires a name (docs/aldctl.md) while the engine runs
 * nameless rows of existing databases; the fuzzer found that difference
 * (regressions/recipe_rows/nameless-recipe) and it is kept on purpose.
 */
#include "fuzz.h"

#include <jansson.h>
#include <math.h>

#include "log.h"
#include "recipe.h"
#include "recipe_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    return 0;
}

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key)); /* NULL unless a string */
}

static int64_t int_of(json_t *o, const char *key, int *present)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return -1;
    *present = 1;
    double d = json_number_value(v);
    return d >= -9.2e18 && d <= 9.2e18 ? (int64_t)d : -1; /* as a store's int8 would be */
}

static double num_of(json_t *o, const char *key, int *present)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return NAN;
    *present = 1;
    return json_number_value(v);
}

static void feed_recipe(const ald_recipe_reader *rd, json_t *o)
{
    if (!json_is_object(o))
        return;
    int unused = 0;
    ald_recipe_info info = {
        .struct_size = sizeof info,
        .id = str_of(o, "id"),
        .name = str_of(o, "name"),
        .description = str_of(o, "description"),
        .version = int_of(o, "version", &unused),
        .chamber_temperature_set_point = num_of(o, "chamber_temperature_set_point", &unused),
        .pressure_set_point = num_of(o, "pressure_set_point", &unused),
    };
    rd->recipe(rd->ctx, &info);
}

static void feed_step(const ald_recipe_reader *rd, json_t *o)
{
    int unused = 0;
    ald_recipe_step s = {.struct_size = sizeof s};
    s.id = str_of(o, "id");
    s.recipe_id = str_of(o, "recipe_id");
    s.parent_step_id = str_of(o, "parent_step_id");
    s.sequence_number = int_of(o, "sequence_number", &unused);
    s.name = str_of(o, "name");
    s.type = str_of(o, "type");
    s.parameters_json = str_of(o, "parameters_json");
    s.valve_number = int_of(o, "valve_number", &s.has_valve_config);
    s.valve_duration_ms = int_of(o, "valve_duration_ms", &s.has_valve_config);
    s.purge_duration_ms = int_of(o, "purge_duration_ms", &s.has_purge_config);
    s.gas_type = str_of(o, "gas_type");
    s.has_purge_config |= s.gas_type != NULL;
    s.flow_rate = num_of(o, "flow_rate", &s.has_purge_config);
    s.iteration_count = int_of(o, "iteration_count", &s.has_loop_config);
    s.parameter_id = str_of(o, "parameter_id");
    s.has_parameter_config = s.parameter_id != NULL;
    s.target_value = num_of(o, "target_value", &s.has_parameter_config);
    s.hold_duration_ms = int_of(o, "hold_duration_ms", &s.has_parameter_config);
    rd->step(rd->ctx, &s);
}

static void feed(const ald_recipe_reader *rd, json_t *doc)
{
    feed_recipe(rd, json_object_get(doc, "recipe"));
    json_t *steps = json_object_get(doc, "steps");
    size_t i;
    json_t *row;
    json_array_foreach(steps, i, row)
    {
        if (json_is_object(row))
            feed_step(rd, row);
    }
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(doc, "parameters"), name, value)
    {
        rd->parameter(rd->ctx, name, json_string_value(value));
    }
}

/* An accepted tree must survive the document round trip. */
static void check_round_trip(const recipe *r)
{
    if (!r->name || !r->name[0])
        return; /* not expressible as a document: see the top of the file */
    char *doc = recipe_json_export(r);
    FUZZ_EXPECT(doc != NULL, "export ran out of memory");
    char err[600] = "";
    recipe_rows rows;
    recipe_rows_init(&rows);
    FUZZ_EXPECT(recipe_json_parse(doc, &rows, err, sizeof err) == 0,
                "the export of rows recipe_build accepted is refused: %s\n%s", err, doc);
    recipe again;
    FUZZ_EXPECT(recipe_build(&again, &rows, err, sizeof err) == 0, "rebuild: %s", err);
    FUZZ_EXPECT(again.total_steps == r->total_steps, "total steps %lld != %lld",
                (long long)again.total_steps, (long long)r->total_steps);
    recipe_free(&again);
    recipe_rows_free(&rows);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    recipe_rows rows;
    recipe_rows_init(&rows);
    ald_recipe_reader rd = recipe_rows_reader(&rows);
    feed(&rd, doc);
    recipe r;
    char err[600] = "";
    if (recipe_build(&r, &rows, err, sizeof err) == 0) {
        check_round_trip(&r);
        recipe_free(&r);
    } else {
        FUZZ_EXPECT(err[0] != '\0', "refused without a message");
    }
    recipe_rows_free(&rows);
    json_decref(doc);
    return 0;
}
