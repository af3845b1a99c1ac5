/*
 * check_supabase.c - the storage-supabase plugin against a real PostgreSQL 15
 * behind the PostgREST fixture: every vtable operation, checked in the
 * database with psql. Failure behaviour (retries, timeouts, auth, secrets)
 * is in check_supabase_faults.c; both run in this one program so the
 * servers start once.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_supabase_util.h"
#include "ports/host_services.h"
#include "ports/plugin_instance.h"
#include "ports/storage_port.h"
#include "testutil.h"

void add_fault_tests(TCase *tc); /* check_supabase_faults.c */

#define VT sbt_vt()

static void assert_ok(void *inst, ald_status rc, const char *what)
{
    ck_assert_msg(rc == ALD_OK, "%s: %s: %s", what, ald_status_name(rc),
                  VT->last_error(inst));
}

/* ---- migrations ------------------------------------------------------------------- */

START_TEST(migrations_apply_twice_cleanly)
{
    /* pg.sh start applied them once; twice more must change nothing and not fail */
    ck_assert_int_eq(sbt_migrate_again(), 0);
    ck_assert_int_eq(sbt_migrate_again(), 0);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM pg_constraint WHERE conname = "
                                 "'parameter_value_history_parameter_timestamp_key';"),
                     1);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                 "AND tablename IN ('engine_leases', 'machines', "
                                 "'recipe_commands', 'parameter_value_history');"),
                     4);
    char *cols = sbt_sql("SELECT string_agg(column_name, ',' ORDER BY column_name) FROM "
                         "information_schema.columns WHERE table_name = "
                         "'component_parameters_full' AND column_name IN ('parameter_name',"
                         "'unit','component_name','machine_id');");
    ck_assert_str_eq(cols, "component_name,machine_id,parameter_name,unit");
    free(cols);
}
END_TEST

/* ---- parameters and samples ----------------------------------------------------------- */

/* A component with one float parameter on machine m; returns the parameter id. */
static char *add_parameter(const char *machine, const char *component, const char *name,
                           double current)
{
    return sbt_sql("WITH c AS (INSERT INTO machine_components (machine_id, name, type) VALUES "
                   "('%s', '%s', 'mfc') RETURNING id), d AS (INSERT INTO "
                   "component_parameter_definitions (name, unit) VALUES ('%s', 'sccm') "
                   "RETURNING id) INSERT INTO component_parameters (component_id, "
                   "definition_id, data_type, min_value, max_value, current_value, "
                   "is_writable, read_modbus_address, read_modbus_type, write_modbus_address,"
                   " write_modbus_type) SELECT c.id, d.id, 'float', 0, 500, %g, true, 4, "
                   "'input_register', 2, 'holding_register' FROM c, d RETURNING id;",
                   machine, component, name, current);
}

typedef struct param_seen {
    int count;
    char name[64], component[64], read_type[32], unit[16];
    int64_t read_address, write_address;
    double min, max, current, set;
    int writable;
} param_seen;

static void on_parameter(void *ctx, const ald_parameter *p)
{
    param_seen *s = ctx;
    s->count++;
    snprintf(s->name, sizeof s->name, "%s", p->name);
    snprintf(s->component, sizeof s->component, "%s", p->component_name);
    snprintf(s->read_type, sizeof s->read_type, "%s", p->read_type);
    snprintf(s->unit, sizeof s->unit, "%s", p->unit);
    s->read_address = p->read_address;
    s->write_address = p->write_address;
    s->min = p->min_value;
    s->max = p->max_value;
    s->current = p->current_value;
    s->set = p->set_value;
    s->writable = p->is_writable;
}

START_TEST(load_parameters_reads_only_that_machine)
{
    char *a = sbt_new_machine(), *b = sbt_new_machine();
    free(add_parameter(a, "MFC 1", "flow_rate", 42.5));
    free(add_parameter(b, "MFC 9", "flow_rate", 1.0));
    free(add_parameter(b, "MFC 8", "flow_rate", 2.0));
    void *inst = sbt_open("");
    param_seen seen = {0};
    assert_ok(inst, VT->load_parameters(inst, a, on_parameter, &seen), "load_parameters");
    ck_assert_int_eq(seen.count, 1);
    ck_assert_str_eq(seen.name, "flow_rate");
    ck_assert_str_eq(seen.component, "MFC 1");
    ck_assert_str_eq(seen.read_type, "input_register");
    ck_assert_str_eq(seen.unit, "sccm");
    ck_assert_int_eq(seen.read_address, 4);
    ck_assert_int_eq(seen.write_address, 2);
    ck_assert(seen.min == 0 && seen.max == 500 && seen.current == 42.5 && isnan(seen.set));
    ck_assert_int_eq(seen.writable, 1);
    sbt_close(inst);
    free(a);
    free(b);
}
END_TEST

START_TEST(update_parameter_values_is_one_request)
{
    char *m = sbt_new_machine();
    char *p1 = add_parameter(m, "MFC 1", "flow_rate", 1);
    char *p2 = add_parameter(m, "MFC 2", "flow_rate", 2);
    char *p3 = add_parameter(m, "MFC 3", "flow_rate", 3);
    sbt_exec("UPDATE component_parameters SET set_value = 77 WHERE id = '%s';", p2);
    void *inst = sbt_open("");
    ald_parameter_value v[] = {
        {p1, 10.5, 11.5},
        {p2, 20.5, NAN}, /* set_value left alone */
        {p3, NAN, NAN},  /* nothing to do */
    };
    int64_t before = sbt_requests();
    assert_ok(inst, VT->update_parameter_values(inst, v, 3), "update_parameter_values");
    ck_assert_int_eq(sbt_requests() - before, 1);
    char *row1 = sbt_sql("SELECT current_value || '/' || set_value FROM component_parameters "
                         "WHERE id = '%s';", p1);
    char *row2 = sbt_sql("SELECT current_value || '/' || set_value FROM component_parameters "
                         "WHERE id = '%s';", p2);
    char *row3 = sbt_sql("SELECT current_value || '/' || coalesce(set_value::text, 'null') "
                         "FROM component_parameters WHERE id = '%s';", p3);
    ck_assert_str_eq(row1, "10.5/11.5");
    ck_assert_str_eq(row2, "20.5/77");
    ck_assert_str_eq(row3, "3/null");
    sbt_close(inst);
    free(row1), free(row2), free(row3), free(p1), free(p2), free(p3), free(m);
}
END_TEST

static ald_sample_batch batch_of(const ald_sample *s, size_t n, int64_t ts, const char *process,
                                 int replay)
{
    ald_sample_batch b = {
        .struct_size = sizeof b,
        .machine_id = NULL,
        .process_id = process,
        .timestamp_ms = ts,
        .samples = s,
        .count = n,
        .replay = replay,
    };
    return b;
}

#define P1 "b1000000-0000-4000-8000-000000000001"
#define P2 "b1000000-0000-4000-8000-000000000002"
#define P3 "b1000000-0000-4000-8000-000000000003"

START_TEST(append_samples_writes_history_and_process_points)
{
    char *m = sbt_new_machine();
    char *rec = sbt_sql("INSERT INTO recipes (name) VALUES ('r') RETURNING id;");
    char *proc = sbt_sql("INSERT INTO process_executions (machine_id, recipe_id, status) "
                         "VALUES ('%s', '%s', 'running') RETURNING id;", m, rec);
    ald_sample s[] = {{P1, 1.25, NAN}, {P2, 2.5, 3.0}};
    void *inst = sbt_open("");
    ald_sample_batch b = batch_of(s, 2, 1790000000123, proc, 0);
    int64_t before = sbt_requests();
    assert_ok(inst, VT->append_samples(inst, &b), "append_samples");
    ck_assert_int_eq(sbt_requests() - before, 2); /* one bulk insert per table */
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                                 "\"timestamp\" = to_timestamp(1790000000.123);"), 2);
    char *sp = sbt_sql("SELECT value || '/' || set_point FROM parameter_value_history WHERE "
                       "parameter_id = '%s' AND \"timestamp\" = to_timestamp(1790000000.123);",
                       P2);
    ck_assert_str_eq(sp, "2.5/3");
    /* a NaN set point is left out of its row: columns= names it, so it is NULL */
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                                 "parameter_id = '%s' AND set_point IS NULL AND value = 1.25 "
                                 "AND \"timestamp\" = to_timestamp(1790000000.123);", P1), 1);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM process_data_points WHERE process_id "
                                 "= '%s';", proc), 2);
    sbt_close(inst);
    free(sp), free(proc), free(rec), free(m);
}
END_TEST

START_TEST(replayed_batch_adds_no_duplicates)
{
    const int64_t ts = 1790000100000;
    ald_sample s[] = {{P1, 1, NAN}, {P2, 2, NAN}};
    void *inst = sbt_open("");
    ald_sample_batch b = batch_of(s, 2, ts, NULL, 0);
    assert_ok(inst, VT->append_samples(inst, &b), "first insert");
    /* the same batch again, not flagged as replay: 409, then applied ignoring duplicates */
    free(sbt_knob("reset"));
    assert_ok(inst, VT->append_samples(inst, &b), "insert of a batch already there");
    char *log = sbt_knob("stats");
    ck_assert_msg(strstr(log, "\"409\": 1") != NULL, "expected one 409, got %s", log);
    free(log);
    /* flagged as replay: on_conflict + ignore-duplicates, no 409 at all */
    b.replay = 1;
    free(sbt_knob("reset"));
    assert_ok(inst, VT->append_samples(inst, &b), "replay");
    log = sbt_knob("requests");
    ck_assert_msg(strstr(log, "on_conflict=parameter_id,timestamp") &&
                      strstr(log, "resolution=ignore-duplicates"),
                  "replay request: %s", log);
    free(log);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                                 "\"timestamp\" = to_timestamp(1790000100);"), 2);
    /* a replay that holds one new row adds exactly that row */
    ald_sample s3[] = {{P1, 1, NAN}, {P2, 2, NAN}, {P3, 3, NAN}};
    ald_sample_batch b3 = batch_of(s3, 3, ts, NULL, 1);
    assert_ok(inst, VT->append_samples(inst, &b3), "partial replay");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                                 "\"timestamp\" = to_timestamp(1790000100);"), 3);
    sbt_close(inst);
}
END_TEST

/* A site whose history holds duplicates has no unique key, only migration
 * 0001's skip-duplicates trigger: PostgreSQL answers 42P10 to on_conflict
 * (the fixture runs the refused raw body again parsed, for the same 400),
 * the plugin sends the rows plainly, and the trigger keeps them single. */
START_TEST(a_site_without_the_unique_key_replays_through_its_trigger)
{
    sbt_exec("ALTER TABLE parameter_value_history DROP CONSTRAINT "
             "parameter_value_history_parameter_timestamp_key; "
             "CREATE TRIGGER ald_skip_duplicate_history BEFORE INSERT ON "
             "parameter_value_history FOR EACH ROW EXECUTE FUNCTION ald_skip_duplicate_history();");
    ald_sample s[] = {{P1, 7, NAN}, {P2, 8, 9}};
    ald_sample_batch b[2] = {batch_of(s, 2, 1790000300000, NULL, 1),
                             batch_of(s, 2, 1790000301000, NULL, 1)};
    const ald_sample_batch *ptrs[2] = {&b[0], &b[1]};
    void *inst = sbt_open("");
    assert_ok(inst, VT->append_samples(inst, &b[0]), "one batch landed before");
    free(sbt_knob("reset"));
    assert_ok(inst, VT->append_sample_batches(inst, ptrs, 2), "replay on a site");
    char *stats = sbt_knob("stats");
    ck_assert_msg(strstr(stats, "\"400\": 1") && strstr(stats, "\"201\""), "%s", stats);
    free(stats);
    int64_t rows = sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                               "\"timestamp\" IN (to_timestamp(1790000300), "
                               "to_timestamp(1790000301));");
    sbt_exec("DROP TRIGGER ald_skip_duplicate_history ON parameter_value_history; "
             "ALTER TABLE parameter_value_history ADD CONSTRAINT "
             "parameter_value_history_parameter_timestamp_key UNIQUE (parameter_id, \"timestamp\");");
    ck_assert_int_eq(rows, 4); /* both batches, each row once */
    sbt_close(inst);
}
END_TEST

START_TEST(batches_of_many_timestamps_go_in_one_request_per_table)
{
    char *m = sbt_new_machine();
    char *rec = sbt_sql("INSERT INTO recipes (name) VALUES ('r') RETURNING id;");
    char *proc = sbt_sql("INSERT INTO process_executions (machine_id, recipe_id, status) "
                         "VALUES ('%s', '%s', 'running') RETURNING id;", m, rec);
    ald_sample s[] = {{P1, 1, NAN}, {P2, 2, 5}};
    ald_sample_batch b[3] = {batch_of(s, 2, 1790000200000, NULL, 1),
                             batch_of(s, 2, 1790000201000, proc, 1),
                             batch_of(s, 2, 1790000202000, NULL, 1)};
    const ald_sample_batch *ptrs[3] = {&b[0], &b[1], &b[2]};
    void *inst = sbt_open("");
    /* the middle one already landed before (a crash between commit and ack) */
    assert_ok(inst, VT->append_samples(inst, &b[1]), "append_samples");
    int64_t before = sbt_requests();
    assert_ok(inst, VT->append_sample_batches(inst, ptrs, 3), "append_sample_batches");
    ck_assert_int_eq(sbt_requests() - before, 2); /* one bulk upsert per table */
    assert_ok(inst, VT->append_sample_batches(inst, ptrs, 3), "the same batches again");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_value_history WHERE "
                                 "\"timestamp\" BETWEEN to_timestamp(1790000200) AND "
                                 "to_timestamp(1790000202);"), 6);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM process_data_points WHERE process_id "
                                 "= '%s';", proc), 2);
    ald_sample bad[] = {{NULL, 1, NAN}};
    ald_sample_batch nb = batch_of(bad, 1, 1790000203000, NULL, 1);
    const ald_sample_batch *with_bad[2] = {&b[0], &nb};
    ck_assert_int_eq(VT->append_sample_batches(inst, with_bad, 2), ALD_ERR_INVALID);
    ck_assert_msg(strstr(VT->last_error(inst), "parameter_id"), "%s", VT->last_error(inst));
    sbt_close(inst);
    free(proc), free(rec), free(m);
}
END_TEST

/* ---- recipes ---------------------------------------------------------------------------- */

typedef struct recipe_seen {
    char name[64];
    int steps, params, valves, purges, loops, setparams;
    char order[256];
    int64_t loop_count, valve_ms, hold_ms;
    char gas[16], param_value[32], parent_of_valve[40], loop_id[40];
    double flow, target;
} recipe_seen;

static void on_recipe(void *ctx, const ald_recipe_info *r)
{
    recipe_seen *s = ctx;
    snprintf(s->name, sizeof s->name, "%s", r->name);
}

static void on_step(void *ctx, const ald_recipe_step *st)
{
    recipe_seen *s = ctx;
    s->steps++;
    strncat(s->order, st->name, sizeof s->order - strlen(s->order) - 2);
    strcat(s->order, ";");
    if (st->has_valve_config) {
        s->valves++;
        s->valve_ms = st->valve_duration_ms;
        snprintf(s->parent_of_valve, sizeof s->parent_of_valve, "%s",
                 st->parent_step_id ? st->parent_step_id : "");
    }
    if (st->has_purge_config) {
        s->purges++;
        snprintf(s->gas, sizeof s->gas, "%s", st->gas_type);
        s->flow = st->flow_rate;
    }
    if (st->has_loop_config) {
        s->loops++;
        s->loop_count = st->iteration_count;
        snprintf(s->loop_id, sizeof s->loop_id, "%s", st->id);
    }
    if (st->has_parameter_config) {
        s->setparams++;
        s->target = st->target_value;
        s->hold_ms = st->hold_duration_ms;
    }
}

static void on_recipe_param(void *ctx, const char *name, const char *value)
{
    recipe_seen *s = ctx;
    s->params++;
    if (strcmp(name, "chamber_pressure") == 0)
        snprintf(s->param_value, sizeof s->param_value, "%s", value);
}

START_TEST(load_recipe_reads_steps_configs_and_parameters)
{
    char *r = sbt_sql("INSERT INTO recipes (name, version) VALUES ('Al2O3', 3) RETURNING id;");
    char *loop = sbt_sql("INSERT INTO recipe_steps (recipe_id, sequence_number, name, type) "
                         "VALUES ('%s', 2, 'cycle', 'loop') RETURNING id;", r);
    free(sbt_sql("INSERT INTO loop_step_config (step_id, iteration_count) VALUES ('%s', 100);"
                 "WITH s AS (INSERT INTO recipe_steps (recipe_id, parent_step_id, "
                 "sequence_number, name, type) VALUES ('%s', '%s', 3, 'TMA pulse', 'valve') "
                 "RETURNING id) INSERT INTO valve_step_config (step_id, valve_number, "
                 "duration_ms) SELECT id, 1, 20 FROM s;"
                 "WITH s AS (INSERT INTO recipe_steps (recipe_id, sequence_number, name, type) "
                 "VALUES ('%s', 1, 'purge first', 'purge') RETURNING id) INSERT INTO "
                 "purge_step_config (step_id, duration_ms, gas_type, flow_rate) SELECT id, "
                 "500, 'Ar', 200 FROM s;"
                 "WITH s AS (INSERT INTO recipe_steps (recipe_id, sequence_number, name, type) "
                 "VALUES ('%s', 4, 'heat', 'set parameter') RETURNING id) INSERT INTO "
                 "parameter_step_config (step_id, parameter_id, target_value, "
                 "hold_duration_ms) SELECT id, '" P1 "', 150, 1000 FROM s;"
                 "INSERT INTO recipe_parameters (recipe_id, parameter_name, parameter_value) "
                 "VALUES ('%s', 'chamber_pressure', '0.5'), ('%s', 'note', 'x');",
                 loop, r, loop, r, r, r, r));
    void *inst = sbt_open("");
    recipe_seen seen = {0};
    ald_recipe_reader reader = {sizeof reader, &seen, on_recipe, on_step, on_recipe_param};
    assert_ok(inst, VT->load_recipe(inst, r, &reader), "load_recipe");
    ck_assert_str_eq(seen.name, "Al2O3");
    ck_assert_int_eq(seen.steps, 4);
    ck_assert_str_eq(seen.order, "purge first;cycle;TMA pulse;heat;");
    ck_assert_int_eq(seen.loops, 1);
    ck_assert_int_eq(seen.loop_count, 100);
    ck_assert_int_eq(seen.valves, 1);
    ck_assert_int_eq(seen.valve_ms, 20);
    ck_assert_str_eq(seen.parent_of_valve, seen.loop_id);
    ck_assert_str_eq(seen.gas, "Ar");
    ck_assert(seen.flow == 200 && seen.target == 150 && seen.hold_ms == 1000);
    ck_assert_int_eq(seen.params, 2);
    ck_assert_str_eq(seen.param_value, "0.5");
    /* an unknown id is NOT_FOUND, and nothing is delivered */
    recipe_seen none = {0};
    ald_recipe_reader r2 = {sizeof r2, &none, on_recipe, on_step, on_recipe_param};
    ck_assert_int_eq(VT->load_recipe(inst, "00000000-0000-4000-8000-00000000dead", &r2),
                     ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(none.steps, 0);
    ck_assert_ptr_nonnull(strstr(VT->last_error(inst), "00000000-0000-4000-8000-00000000dead"));
    sbt_close(inst);
    free(loop), free(r);
}
END_TEST

/* A site whose valve_number column is numeric (the reference schema's is
 * integer, where PostgreSQL itself rounds 1.5 on insert): 1.5 arrives as
 * 1.5 and the load is refused naming the step, instead of being rounded to
 * valve 2 (issue 9, item 5). The column type is restored afterwards. */
START_TEST(a_fractional_valve_number_refuses_the_load_naming_the_step)
{
    sbt_exec("ALTER TABLE valve_step_config ALTER COLUMN valve_number TYPE numeric;");
    char *r = sbt_sql("INSERT INTO recipes (name) VALUES ('half valve') RETURNING id;");
    free(sbt_sql("WITH s AS (INSERT INTO recipe_steps (recipe_id, sequence_number, name, type) "
                 "VALUES ('%s', 1, 'TMA pulse', 'valve') RETURNING id) INSERT INTO "
                 "valve_step_config (step_id, valve_number, duration_ms) SELECT id, 1.5, 20 "
                 "FROM s;", r));
    void *inst = sbt_open("");
    recipe_seen seen = {0};
    ald_recipe_reader reader = {sizeof reader, &seen, on_recipe, on_step, on_recipe_param};
    ald_status st = VT->load_recipe(inst, r, &reader);
    char err[512];
    snprintf(err, sizeof err, "%s", VT->last_error(inst));
    sbt_close(inst);
    sbt_exec("DELETE FROM recipes WHERE id = '%s';"
             "ALTER TABLE valve_step_config ALTER COLUMN valve_number TYPE integer;", r);
    free(r);
    ck_assert_int_eq(st, ALD_ERR_INVALID);
    ck_assert_int_eq(seen.steps, 0);
    ck_assert_msg(strstr(err, "recipe step 'TMA pulse'") &&
                  strstr(err, "valve_step_config.valve_number 1.5 is refused"), "%s", err);
}
END_TEST

static void count_recipe(void *ctx, const ald_recipe_info *r)
{
    if (r->name && strcmp(r->name, "Imported") == 0)
        ++*(int *)ctx;
}

START_TEST(save_recipe_replaces_and_round_trips)
{
    void *inst = sbt_open("");
    const char *rid = "c1000000-0000-4000-8000-000000000001";
    ald_recipe_info info = {sizeof info, rid, "Imported", "via aldctl", 2, 150, NAN};
    ald_recipe_step loop = {.struct_size = sizeof loop, .id = "c1000000-0000-4000-8000-0000000000a1",
                            .sequence_number = 1, .name = "loop", .type = "loop",
                            .has_loop_config = 1, .iteration_count = 5};
    ald_recipe_step valve = {.struct_size = sizeof valve,
                             .id = "c1000000-0000-4000-8000-0000000000a2",
                             .parent_step_id = loop.id, .sequence_number = 2, .name = "pulse",
                             .type = "valve", .has_valve_config = 1, .valve_number = 2,
                             .valve_duration_ms = 30};
    const ald_recipe_step *steps[] = {&loop, &valve};
    const char *names[] = {"chamber_pressure"}, *values[] = {"0.7"};
    assert_ok(inst, VT->save_recipe(inst, &info, steps, 2, names, values, 1), "save_recipe");
    /* saving again replaces: still one recipe, two steps */
    assert_ok(inst, VT->save_recipe(inst, &info, steps, 2, names, values, 1), "save again");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM recipe_steps WHERE recipe_id = '%s';",
                                 rid), 2);
    recipe_seen seen = {0};
    ald_recipe_reader reader = {sizeof reader, &seen, on_recipe, on_step, on_recipe_param};
    assert_ok(inst, VT->load_recipe(inst, rid, &reader), "load_recipe");
    ck_assert_int_eq(seen.steps, 2);
    ck_assert_int_eq(seen.loop_count, 5);
    ck_assert_int_eq(seen.valve_ms, 30);
    ck_assert_str_eq(seen.parent_of_valve, loop.id);
    ck_assert_str_eq(seen.param_value, "0.7");
    int listed = 0;
    assert_ok(inst, VT->list_recipes(inst, count_recipe, &listed), "list_recipes");
    ck_assert_int_eq(listed, 1);
    sbt_close(inst);
}
END_TEST

/* ---- commands ------------------------------------------------------------------------------ */

typedef struct cmd_seen {
    int count;
    char ids[8][40], types[8][32], params[8][128];
} cmd_seen;

static void on_command(void *ctx, const ald_command *c)
{
    cmd_seen *s = ctx;
    if (s->count < 8) {
        snprintf(s->ids[s->count], 40, "%s", c->id);
        snprintf(s->types[s->count], 32, "%s", c->type);
        snprintf(s->params[s->count], 128, "%s", c->parameters_json ? c->parameters_json : "");
    }
    s->count++;
}

START_TEST(commands_fetch_claim_finish_insert)
{
    char *m = sbt_new_machine(), *other = sbt_new_machine();
    free(sbt_sql("INSERT INTO recipe_commands (type, parameters, machine_id, created_at) VALUES"
                 " ('start_recipe', '{\"recipe_id\": \"r\"}', '%s', now() - interval '2 s'),"
                 " ('stop', NULL, NULL, now() - interval '1 s'),"
                 " ('start_recipe', NULL, '%s', now());", m, other));
    void *inst = sbt_open("");
    cmd_seen seen = {0};
    assert_ok(inst, VT->fetch_pending_commands(inst, m, 10, on_command, &seen), "fetch");
    ck_assert_int_ge(seen.count, 2); /* ours + the machine-less one (others may be left over) */
    /* stops come first (issue 9, item 7), even the newer machine-less one */
    ck_assert_str_eq(seen.types[0], "stop");
    int start = -1;
    for (int i = 0; i < seen.count && i < 8 && start < 0; i++)
        if (!strcmp(seen.types[i], "start_recipe"))
            start = i;
    ck_assert_int_ge(start, 1);
    ck_assert_str_eq(seen.params[start], "{\"recipe_id\":\"r\"}");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM recipe_commands WHERE status = 'pending'"
                                 " AND machine_id = '%s';", other), 1);
    for (int i = 0; i < seen.count && i < 8; i++)
        ck_assert_msg(sbt_sql_int("SELECT count(*) FROM recipe_commands WHERE id = '%s' AND "
                                  "machine_id = '%s';", seen.ids[i], other) == 0,
                      "fetched another machine's command");
    assert_ok(inst, VT->claim_command(inst, seen.ids[0]), "claim");
    ck_assert_int_eq(VT->claim_command(inst, seen.ids[0]), ALD_ERR_CONFLICT);
    assert_ok(inst, VT->finish_command(inst, seen.ids[0], "error", "Unknown command type: x"),
              "finish");
    char *row = sbt_sql("SELECT status || '|' || error_message FROM recipe_commands WHERE id = "
                        "'%s';", seen.ids[0]);
    ck_assert_str_eq(row, "error|Unknown command type: x");
    free(row);
    ck_assert_int_eq(VT->finish_command(inst, "00000000-0000-4000-8000-000000000bad",
                                        "completed", NULL),
                     ALD_ERR_NOT_FOUND);
    char id[64];
    assert_ok(inst, VT->insert_command(inst, m, "set_parameter",
                                       "{\"parameter_id\": \"p\", \"value\": 5}", id, sizeof id),
              "insert_command");
    cmd_seen one = {0};
    assert_ok(inst, VT->get_command(inst, id, on_command, &one), "get_command");
    ck_assert_int_eq(one.count, 1);
    ck_assert_str_eq(one.types[0], "set_parameter");
    json_t *got = json_loads(one.params[0], 0, NULL), *want = json_pack("{s:s,s:i}",
                                                                       "parameter_id", "p",
                                                                       "value", 5);
    ck_assert_msg(json_equal(got, want), "parameters came back as %s", one.params[0]);
    json_decref(got);
    json_decref(want);
    ck_assert_int_eq(VT->insert_command(inst, m, "x", "{not json", id, sizeof id),
                     ALD_ERR_INVALID);
    sbt_close(inst);
    free(m), free(other);
}
END_TEST

#define RACE_COMMANDS 20

typedef struct racer {
    void *inst;
    char (*ids)[40];
    int claimed, conflicts;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < RACE_COMMANDS; i++) {
        ald_status rc = VT->claim_command(r->inst, r->ids[i]);
        r->claimed += rc == ALD_OK;
        r->conflicts += rc == ALD_ERR_CONFLICT;
    }
    return NULL;
}

START_TEST(claim_is_exactly_once_between_two_engines)
{
    char *m = sbt_new_machine();
    static char ids[RACE_COMMANDS][40];
    for (int i = 0; i < RACE_COMMANDS; i++) {
        char *id = sbt_sql("INSERT INTO recipe_commands (type, machine_id) VALUES ('stop', "
                           "'%s') RETURNING id;", m);
        snprintf(ids[i], sizeof ids[i], "%s", id);
        free(id);
    }
    racer a = {sbt_open(""), ids, 0, 0}, b = {sbt_open(""), ids, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.claimed + b.claimed, RACE_COMMANDS);
    ck_assert_int_eq(a.conflicts + b.conflicts, RACE_COMMANDS);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM recipe_commands WHERE machine_id = '%s' "
                                 "AND status = 'processing';", m), RACE_COMMANDS);
    sbt_close(a.inst);
    sbt_close(b.inst);
    free(m);
}
END_TEST

static void on_setpoint(void *ctx, const ald_setpoint_command *c)
{
    cmd_seen *s = ctx;
    if (s->count < 8)
        snprintf(s->ids[s->count], 40, "%s", c->id);
    snprintf(s->params[0], 128, "%g@%lld", c->target_value, (long long)c->write_modbus_address);
    s->count++;
}

START_TEST(setpoint_commands_claim_once_and_finish)
{
    char *m = sbt_new_machine();
    free(sbt_sql("INSERT INTO parameter_control_commands (parameter_name, target_value, "
                 "machine_id, write_modbus_address, created_at) VALUES "
                 "('flow_rate', 120, '%s', 2, now() - interval '2 s'), "
                 "('flow_rate', 130, '%s', NULL, now() - interval '1 s'), "
                 "('flow_rate', 1, NULL, NULL, now());", m, m));
    void *inst = sbt_open("");
    cmd_seen seen = {0};
    assert_ok(inst, VT->fetch_setpoint_commands(inst, m, 10, on_setpoint, &seen), "fetch");
    /* this machine's two and the NULL-machine one (the Python system's HEAD
     * took those too), oldest first; a NULL address reads -1 */
    ck_assert_int_eq(seen.count, 3);
    ck_assert_str_eq(seen.params[0], "1@-1");
    assert_ok(inst, VT->claim_setpoint_command(inst, seen.ids[0]), "claim");
    ck_assert_int_eq(VT->claim_setpoint_command(inst, seen.ids[0]), ALD_ERR_CONFLICT);
    assert_ok(inst, VT->finish_setpoint_command(inst, seen.ids[0], NULL), "finish");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM parameter_control_commands WHERE id = "
                                 "'%s' AND completed_at IS NOT NULL AND error_message IS NULL;",
                                 seen.ids[0]), 1);
    ck_assert_int_eq(VT->finish_setpoint_command(inst, seen.ids[0], NULL), ALD_ERR_CONFLICT);
    assert_ok(inst, VT->claim_setpoint_command(inst, seen.ids[1]), "claim 2");
    assert_ok(inst, VT->finish_setpoint_command(inst, seen.ids[1], "out of range"), "fail 2");
    char *err = sbt_sql("SELECT error_message || '|' || (completed_at IS NULL) FROM "
                        "parameter_control_commands WHERE id = '%s';", seen.ids[1]);
    ck_assert_str_eq(err, "out of range|false"); /* completed_at set on failure too */
    free(err);
    sbt_close(inst);
    free(m);
}
END_TEST

/* ---- machines, sessions, health, leases ------------------------------------------------------ */

typedef struct machine_seen {
    char status[16], process[40], failure[64];
} machine_seen;

static void on_machine(void *ctx, const ald_machine *m)
{
    machine_seen *s = ctx;
    snprintf(s->status, sizeof s->status, "%s", m->status);
    snprintf(s->process, sizeof s->process, "%s", m->current_process_id ? m->current_process_id : "");
    snprintf(s->failure, sizeof s->failure, "%s",
             m->failure_description ? m->failure_description : "");
}

START_TEST(machine_state_mirrors_and_sessions_are_reused)
{
    char *m = sbt_new_machine();
    const char *op = "d1000000-0000-4000-8000-000000000001";
    void *inst = sbt_open("");
    machine_seen seen = {0};
    assert_ok(inst, VT->get_machine(inst, m, on_machine, &seen), "get_machine");
    ck_assert_str_eq(seen.status, "idle");
    ck_assert_str_eq(seen.failure, "");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM machine_state WHERE machine_id = '%s';",
                                 m), 0);
    ald_machine_update u = {sizeof u, m, "error", NULL, op, "Recipe execution error: valve"};
    assert_ok(inst, VT->set_machine_state(inst, &u), "set_machine_state");
    char *row = sbt_sql("SELECT current_state || '|' || is_failure_mode FROM machine_state "
                        "WHERE machine_id = '%s';", m);
    ck_assert_str_eq(row, "error|true");
    free(row);
    assert_ok(inst, VT->get_machine(inst, m, on_machine, &seen), "get_machine 2");
    ck_assert_str_eq(seen.status, "error");
    ck_assert_str_eq(seen.failure, "Recipe execution error: valve");
    ald_machine_update unknown = {sizeof u, "00000000-0000-4000-8000-00000000beef", "idle",
                                  NULL, NULL, NULL};
    ck_assert_int_eq(VT->set_machine_state(inst, &unknown), ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(VT->get_machine(inst, unknown.machine_id, on_machine, &seen),
                     ALD_ERR_NOT_FOUND);
    char s1[64], s2[64];
    assert_ok(inst, VT->get_or_create_session(inst, op, m, s1, sizeof s1), "session");
    assert_ok(inst, VT->get_or_create_session(inst, op, m, s2, sizeof s2), "session again");
    ck_assert_str_eq(s1, s2);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM operator_sessions WHERE machine_id = "
                                 "'%s';", m), 1);
    sbt_close(inst);
    free(m);
}
END_TEST

START_TEST(health_upserts_one_row_per_machine)
{
    char *m = sbt_new_machine();
    void *inst = sbt_open("");
    ald_health_report r = {sizeof r, m, 1, 1790000000000, 1790000000000, 0, NULL};
    assert_ok(inst, VT->write_health(inst, &r), "write_health");
    ald_health_report down = {sizeof r, m, 0, 1790000005000, -1, 3, "connection refused"};
    assert_ok(inst, VT->write_health(inst, &down), "write_health 2");
    char *row = sbt_sql("SELECT plc_connected || '|' || plc_reconnect_attempts || '|' || "
                        "plc_error || '|' || extract(epoch FROM plc_last_connected)::bigint "
                        "FROM machine_health WHERE machine_id = '%s';", m);
    ck_assert_str_eq(row, "false|3|connection refused|1790000000"); /* last_connected kept */
    free(row);
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM machine_health WHERE machine_id = '%s';",
                                 m), 1);
    sbt_close(inst);
    free(m);
}
END_TEST

START_TEST(lease_has_one_holder_at_a_time)
{
    char *m = sbt_new_machine();
    void *inst = sbt_open("");
    assert_ok(inst, VT->acquire_lease(inst, m, "blue", 60000), "blue acquires");
    ck_assert_int_eq(VT->acquire_lease(inst, m, "green", 60000), ALD_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(VT->last_error(inst), "\"blue\""));
    assert_ok(inst, VT->acquire_lease(inst, m, "blue", 60000), "blue renews");
    assert_ok(inst, VT->release_lease(inst, m, "green"), "green releases nothing");
    ck_assert_int_eq(VT->acquire_lease(inst, m, "green", 60000), ALD_ERR_CONFLICT);
    assert_ok(inst, VT->release_lease(inst, m, "blue"), "blue releases");
    assert_ok(inst, VT->acquire_lease(inst, m, "green", 60000), "green acquires");
    /* an expired lease is free to take */
    sbt_exec("UPDATE engine_leases SET expires_at = now() - interval '1 s' WHERE machine_id = "
             "'%s';", m);
    assert_ok(inst, VT->acquire_lease(inst, m, "blue", 60000), "blue takes the expired lease");
    sbt_close(inst);
    free(m);
}
END_TEST

/* ---- processes --------------------------------------------------------------------------------- */

static void count_process(void *ctx, const ald_process *p)
{
    ++*(int *)ctx;
    ck_assert_ptr_nonnull(p->id);
    ck_assert_int_gt(p->start_time_ms, 0);
    ck_assert_int_eq(p->end_time_ms, -1);
    ck_assert_str_eq(p->parameters_json, "{\"a\":1}"); /* from recipe_version.ald_engine */
}

typedef struct last_seen {
    int calls;
    char id[64], status[32];
} last_seen;

static void on_last_run(void *ctx, const ald_process *p)
{
    last_seen *l = ctx;
    l->calls++;
    snprintf(l->id, sizeof l->id, "%s", p->id);
    snprintf(l->status, sizeof l->status, "%s", p->status);
    ck_assert_int_gt(p->end_time_ms, 0);
}

static void on_state(void *ctx, const ald_process_state *s)
{
    *(ald_process_state *)ctx = *s;
    ((ald_process_state *)ctx)->execution_id = NULL; /* not valid after the callback */
    ((ald_process_state *)ctx)->current_step_type = NULL;
    ((ald_process_state *)ctx)->current_step_name = NULL;
    ((ald_process_state *)ctx)->current_parameter_id = NULL;
}

START_TEST(process_lifecycle_and_state)
{
    char *m = sbt_new_machine();
    char *r = sbt_sql("INSERT INTO recipes (name) VALUES ('p') RETURNING id;");
    void *inst = sbt_open("");
    ald_process_start ps = {sizeof ps, m, r, NULL, NULL, "{\"recipe\": {\"name\": \"p\"}}",
                            "{\"a\": 1}", 1790000000000};
    char id[64];
    assert_ok(inst, VT->create_process(inst, &ps, id, sizeof id), "create_process");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM process_executions WHERE id = '%s' AND "
                                 "status = 'running' AND recipe_version->'recipe'->>'name' = "
                                 "'p';", id), 1);
    /* the Python system's shapes: parameters = the recipe's {name: value}
     * (none here), the engine's own {"a": 1} kept in recipe_version */
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM process_executions WHERE id = '%s' AND "
                                 "parameters = '{}' AND recipe_version->'ald_engine' = "
                                 "'{\"a\": 1}' AND recipe_version->'steps' = '[]' AND "
                                 "recipe_version->>'id' = '%s';", id, r), 1);
    int open = 0;
    assert_ok(inst, VT->find_open_processes(inst, m, count_process, &open), "find_open");
    ck_assert_int_eq(open, 1);
    last_seen last = {0};
    assert_ok(inst, VT->find_last_finished_process(inst, m, on_last_run, &last), "last run");
    ck_assert_int_eq(last.calls, 0); /* the only run is still open */
    ald_process_state st = {.struct_size = sizeof st, .execution_id = id,
                            .current_step_index = 1, .current_overall_step = 3,
                            .total_overall_steps = 10, .current_step_type = "valve",
                            .current_step_name = "pulse", .current_valve_number = 2,
                            .current_valve_duration_ms = 20, .current_purge_duration_ms = -1,
                            .current_parameter_value = NAN, .current_loop_count = 5,
                            .current_loop_iteration = 2, .progress_total_steps = 10,
                            .progress_completed_steps = 2, .progress_total_cycles = 5,
                            .progress_completed_cycles = 1, .last_updated_ms = 1790000001000};
    assert_ok(inst, VT->update_process_state(inst, &st), "update_process_state");
    st.current_overall_step = 4;
    st.progress_completed_steps = 3;
    assert_ok(inst, VT->update_process_state(inst, &st), "update_process_state 2");
    ck_assert_int_eq(sbt_sql_int("SELECT count(*) FROM process_execution_state WHERE "
                                 "execution_id = '%s';", id), 1);
    ald_process_state got = {0};
    assert_ok(inst, VT->get_process_state(inst, id, on_state, &got), "get_process_state");
    ck_assert_int_eq(got.current_overall_step, 4);
    ck_assert_int_eq(got.progress_completed_steps, 3);
    ck_assert_int_eq(got.current_valve_number, 2);
    ck_assert_int_eq(got.current_purge_duration_ms, -1);
    ck_assert(isnan(got.current_parameter_value));
    ck_assert_int_eq(got.last_updated_ms, 1790000001000);
    assert_ok(inst, VT->finish_process(inst, id, "aborted", "stopped by operator", -1),
              "finish_process");
    open = 0;
    assert_ok(inst, VT->find_open_processes(inst, m, count_process, &open), "find_open 2");
    ck_assert_int_eq(open, 0);
    assert_ok(inst, VT->find_last_finished_process(inst, m, on_last_run, &last), "last run 2");
    ck_assert_int_eq(last.calls, 1);
    ck_assert_str_eq(last.id, id);
    ck_assert_str_eq(last.status, "aborted");
    ck_assert_int_eq(VT->finish_process(inst, "00000000-0000-4000-8000-00000000f00d",
                                        "completed", NULL, -1),
                     ALD_ERR_NOT_FOUND);
    ck_assert_int_eq(VT->get_process_state(inst, "00000000-0000-4000-8000-00000000f00d",
                                           on_state, &got),
                     ALD_ERR_NOT_FOUND);
    sbt_close(inst);
    free(m), free(r);
}
END_TEST

START_TEST(requests_carry_user_agent_and_bearer)
{
    void *inst = sbt_open("");
    free(sbt_knob("reset"));
    int n = 0;
    assert_ok(inst, VT->list_recipes(inst, count_recipe, &n), "list_recipes");
    char *log = sbt_knob("requests");
    ck_assert_msg(strstr(log, "\"user_agent\": \"ald-engine/") != NULL, "%s", log);
    ck_assert_msg(strstr(log, "\"authorization\": true") != NULL, "%s", log);
    free(log);
    ck_assert_ptr_null(VT->outbox_push); /* SQLite is the outbox */
    sbt_close(inst);
}
END_TEST

/* The engine's recipe loader is a second instance of the store (engine.c):
 * what the plugin says while it is created and started (here the
 * insecure_skip_verify warning) is said once, by the first instance; the
 * second logs it at DEBUG only, then reads recipes like the first. */
START_TEST(a_second_instance_says_its_start_up_words_once)
{
    char settings[800], err[1024] = "";
    snprintf(settings, sizeof settings, "url = \"%s\"; key = \"%s\"; insecure_skip_verify = true;",
             sbt_url(), SBT_KEY);
    plugin_conf conf = {.name = "cloud", .plugin = (char *)test_buildpath("plugins/storage-supabase/.libs/storage-supabase.so"),
                        .role = ROLE_STORAGE, .active = 1, .settings = test_config(settings)};
    snprintf(conf.where, sizeof conf.where, "test");
    plugin_instance first, second;
    ck_assert_msg(plugin_instance_create(&first, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(&first), ALD_OK);
    ck_assert_msg(plugin_instance_create_second(&second, &conf, "loader", NULL, err,
                                                sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(&second), ALD_OK);
    plugin_instance_set_quiet(&second, 0);
    ck_assert_str_eq(second.name, "cloud:loader");
    char said[256];
    ck_assert_uint_ge(host_warnings(first.host, said, sizeof said), 1);
    ck_assert_msg(strstr(said, "insecure_skip_verify"), "%s", said);
    ck_assert_uint_eq(host_warnings(second.host, NULL, 0), 0);
    int mine = 0, theirs = 0; /* recipes named "Imported", through each instance */
    ck_assert_int_eq(storage_port_list_recipes(&second, count_recipe, &mine, NULL), ALD_OK);
    ck_assert_int_eq(storage_port_list_recipes(&first, count_recipe, &theirs, NULL), ALD_OK);
    ck_assert_int_eq(mine, theirs);
    plugin_instance_destroy(&second);
    plugin_instance_destroy(&first);
}
END_TEST

static void servers_up(void)
{
    sbt_servers_start();
}

static void servers_down(void)
{
    sbt_servers_stop();
}

static Suite *supabase_suite(void)
{
    Suite *s = suite_create("storage-supabase");
    TCase *tc = tcase_create("against PostgreSQL behind the PostgREST fixture");
    tcase_add_unchecked_fixture(tc, servers_up, servers_down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, migrations_apply_twice_cleanly);
    tcase_add_test(tc, load_parameters_reads_only_that_machine);
    tcase_add_test(tc, update_parameter_values_is_one_request);
    tcase_add_test(tc, append_samples_writes_history_and_process_points);
    tcase_add_test(tc, batches_of_many_timestamps_go_in_one_request_per_table);
    tcase_add_test(tc, replayed_batch_adds_no_duplicates);
    tcase_add_test(tc, a_site_without_the_unique_key_replays_through_its_trigger);
    tcase_add_test(tc, load_recipe_reads_steps_configs_and_parameters);
    tcase_add_test(tc, a_fractional_valve_number_refuses_the_load_naming_the_step);
    tcase_add_test(tc, save_recipe_replaces_and_round_trips);
    tcase_add_test(tc, commands_fetch_claim_finish_insert);
    tcase_add_test(tc, claim_is_exactly_once_between_two_engines);
    tcase_add_test(tc, setpoint_commands_claim_once_and_finish);
    tcase_add_test(tc, machine_state_mirrors_and_sessions_are_reused);
    tcase_add_test(tc, health_upserts_one_row_per_machine);
    tcase_add_test(tc, lease_has_one_holder_at_a_time);
    tcase_add_test(tc, process_lifecycle_and_state);
    tcase_add_test(tc, requests_carry_user_agent_and_bearer);
    tcase_add_test(tc, a_second_instance_says_its_start_up_words_once);
    add_fault_tests(tc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    atexit(sbt_servers_stop); /* also when the runner itself dies early */
    return run_suite(supabase_suite());
}
