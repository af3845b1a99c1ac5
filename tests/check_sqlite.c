/*
 * check_sqlite.c - storage-sqlite: descriptor, settings, schema, demo seed,
 * recipes and the sample data path. Loads the real built plugin.
 * (Commands, machines, processes, leases and the outbox: check_sqlite_ops.c.)
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_sqlite_util.h"
#include "testutil.h"

#define MFC1_FLOW "a0000000-0000-4000-8000-000000000701"
#define NESTED_RECIPE "b0000000-0000-4000-8000-000000000003"
#define DEMO_RECIPE "b0000000-0000-4000-8000-000000000001"

/* ---- descriptor --------------------------------------------------------- */

START_TEST(test_descriptor_is_a_storage_plugin_with_outbox_and_local_caps)
{
    const ald_plugin_descriptor *d = sqt_descriptor();
    ck_assert_uint_eq(d->magic, ALD_PLUGIN_MAGIC);
    ck_assert_int_eq(d->abi_major, ALD_ABI_MAJOR);
    ck_assert_int_eq(d->kind, ALD_PLUGIN_STORAGE);
    ck_assert_str_eq(d->name, "storage-sqlite");
    ck_assert_uint_eq(d->capabilities, ALD_CAP_STORAGE_OUTBOX | ALD_CAP_STORAGE_LOCAL);
}
END_TEST

START_TEST(test_every_vtable_operation_is_implemented)
{
    const ald_storage_vtable *vt = sqt_vt();
    ck_assert_uint_eq(vt->struct_size, sizeof *vt);
    /* Every member after struct_size is a function pointer; none may be NULL. */
    const char *base = (const char *)vt;
    size_t first = offsetof(ald_storage_vtable, create);
    for (size_t off = first; off + sizeof(void (*)(void)) <= sizeof *vt;
         off += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, base + off, sizeof fn);
        ck_assert_msg(fn != NULL, "vtable slot %zu is NULL", (off - first) / sizeof fn);
    }
}
END_TEST

/* ---- settings -------------------------------------------------------------- */

/* Writes libconfig text to a file so settings have a real file:line. */
static const ald_config *config_file(const char *text, char *file, size_t len)
{
    snprintf(file, len, "%s/plugin.conf", test_tmpdir("sqlite-conf"));
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return test_config_file(file);
}

static ald_status create_with(const ald_config *cfg, char *err, size_t errlen)
{
    void *inst = NULL;
    ald_status rc = sqt_vt()->create(test_host(), cfg, &inst, err, errlen);
    if (rc == ALD_OK)
        sqt_vt()->destroy(inst);
    return rc;
}

START_TEST(test_bad_busy_timeout_is_rejected_with_file_and_line)
{
    char file[600], err[512] = "", want[700];
    const ald_config *cfg = config_file("path = \"/tmp/x.db\";\n"
                                        "seed_demo = true;\n"
                                        "busy_timeout_ms = -5;\n",
                                        file, sizeof file);
    ck_assert_int_eq(create_with(cfg, err, sizeof err), ALD_ERR_INVALID);
    snprintf(want, sizeof want, "%s:3: setting busy_timeout_ms: -5 is out of range 0..600000",
             file);
    ck_assert_msg(strstr(err, want), "got \"%s\"", err);
}
END_TEST

START_TEST(test_wrongly_typed_settings_are_rejected)
{
    char file[600], err[512] = "", want[700];
    const ald_config *cfg =
        config_file("path = \"/tmp/x.db\";\nseed_demo = \"yes\";\n", file, sizeof file);
    ck_assert_int_eq(create_with(cfg, err, sizeof err), ALD_ERR_INVALID);
    snprintf(want, sizeof want, "%s:2: setting seed_demo: expected true or false", file);
    ck_assert_msg(strstr(err, want), "got \"%s\"", err);

    cfg = config_file("path = 42;\n", file, sizeof file);
    ck_assert_int_eq(create_with(cfg, err, sizeof err), ALD_ERR_INVALID);
    snprintf(want, sizeof want, "%s:1: setting path: expected a string", file);
    ck_assert_msg(strstr(err, want), "got \"%s\"", err);
}
END_TEST

START_TEST(test_missing_path_and_data_dir_is_rejected)
{
    char err[512] = "";
    ck_assert_int_eq(create_with(test_config("seed_demo = false;"), err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, "setting path: not set"), "got \"%s\"", err);
}
END_TEST

START_TEST(test_default_path_is_under_data_dir_and_created_by_start_not_create)
{
    char dir[700], text[900], err[512] = "", db[800];
    snprintf(dir, sizeof dir, "%s/deeper/data", test_tmpdir("sqlite-datadir"));
    snprintf(text, sizeof text, "data_dir = \"%s\"; machine_id = \"m\";", dir);
    snprintf(db, sizeof db, "%s/ald.db", dir);
    void *inst = NULL;
    ck_assert_int_eq(sqt_vt()->create(test_host(), test_config(text), &inst, err, sizeof err),
                     ALD_OK);
    struct stat sb;
    ck_assert_int_ne(stat(dir, &sb), 0); /* create() does no I/O */
    ck_assert_int_eq(sqt_vt()->start(inst), ALD_OK);
    ck_assert_int_eq(stat(db, &sb), 0);
    ck_assert_int_eq(sqt_vt()->is_connected(inst), 1);
    sqt_close(inst);
}
END_TEST

/* The name of the one "<base>.corrupt-*" file next to db (static), or NULL. */
static const char *set_aside_name(const char *db)
{
    static char found[700];
    char dir[600];
    snprintf(dir, sizeof dir, "%s", db);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s.corrupt-", slash + 1);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 4 &&
            strcmp(e->d_name + n - 4, "-wal") != 0 && strcmp(e->d_name + n - 4, "-shm") != 0) {
            snprintf(found, sizeof found, "%s/%s", dir, e->d_name);
            count++;
        }
    }
    closedir(d);
    ck_assert_int_le(count, 1);
    return count ? found : NULL;
}

START_TEST(test_corrupt_file_is_moved_aside_and_a_fresh_store_created)
{
    const char *db = sqt_new_db_path("sqlite-corrupt");
    FILE *f = fopen(db, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 512; i++)
        fputs("this is not a database ", f);
    fclose(f);
    void *inst = sqt_open(db, "");
    ck_assert_int_eq(sqt_vt()->is_connected(inst), 1);
    /* the fresh store is seeded like any new file */
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machines"), 1);
    const char *aside = set_aside_name(db);
    ck_assert_msg(aside != NULL, "no %s.corrupt-* file", db);
    struct stat sb;
    ck_assert_int_eq(stat(aside, &sb), 0);
    ck_assert_int_eq(sb.st_size, 512 * (off_t)strlen("this is not a database "));
    sqt_close(inst);
    /* a healthy file is left where it is on the next start */
    inst = sqt_open(db, "");
    ck_assert_str_eq(set_aside_name(db), aside);
    sqt_close(inst);
}
END_TEST

START_TEST(test_unopenable_path_gives_a_clear_error_not_a_crash)
{
    const char *db = sqt_new_db_path("sqlite-unopenable");
    FILE *f = fopen(db, "w"); /* a FILE where the database's directory should be */
    ck_assert_ptr_nonnull(f);
    fclose(f);
    char text[900], err[512] = "";
    snprintf(text, sizeof text, "path = \"%s/ald.db\";", db);
    void *inst = NULL;
    ck_assert_int_eq(sqt_vt()->create(test_host(), test_config(text), &inst, err, sizeof err),
                     ALD_OK);
    ck_assert_int_eq(sqt_vt()->start(inst), ALD_ERR_IO);
    const char *msg = sqt_vt()->last_error(inst);
    ck_assert_msg(strstr(msg, db) != NULL, "got \"%s\"", msg);
    ck_assert_int_eq(sqt_vt()->is_connected(inst), 0);
    ck_assert_int_eq(stat(db, &(struct stat){0}), 0); /* nothing was moved aside */
    ck_assert_ptr_null(set_aside_name(db));
    /* Operations after a failed start fail cleanly too. */
    char id[64];
    ck_assert_int_eq(sqt_vt()->insert_command(inst, NULL, "stop", NULL, id, sizeof id),
                     ALD_ERR_DISCONNECTED);
    sqt_vt()->destroy(inst);
}
END_TEST

/* ---- schema ------------------------------------------------------------------ */

typedef struct table_spec {
    const char *table;
    const char *columns; /* space separated */
} table_spec;

static const table_spec TABLES[] = {
    {"machines", "id status current_process_id current_operator_id updated_at"},
    {"machine_state", "machine_id current_state state_since process_id is_failure_mode "
                      "failure_description updated_at"},
    {"machine_components", "id machine_id name type is_activated"},
    {"component_parameters", "id component_id name unit min_value max_value current_value "
                             "set_value is_writable data_type read_modbus_address "
                             "read_modbus_type write_modbus_address write_modbus_type"},
    {"component_parameters_full",
     "id component_id parameter_name unit component_name "
     "machine_id min_value max_value current_value set_value "
     "is_writable data_type read_modbus_address read_modbus_type "
     "write_modbus_address write_modbus_type"},
    {"recipes", "id name description version chamber_temperature_set_point "
                "pressure_set_point"},
    {"recipe_steps", "id recipe_id sequence_number name type parent_step_id parameters"},
    {"valve_step_config", "step_id valve_number duration_ms"},
    {"purge_step_config", "step_id duration_ms gas_type flow_rate"},
    {"loop_step_config", "step_id iteration_count"},
    {"parameter_step_config", "step_id parameter_id target_value hold_duration_ms"},
    {"recipe_parameters", "recipe_id parameter_name parameter_value"},
    {"recipe_commands", "id type parameters status machine_id created_at updated_at "
                        "executed_at error_message"},
    {"operator_sessions", "id operator_id machine_id start_time status"},
    {"process_executions", "id session_id machine_id recipe_id recipe_version start_time "
                           "end_time operator_id status parameters error_message"},
    {"process_execution_state", "execution_id current_step_index current_overall_step "
                                "total_overall_steps current_step_type current_step_name "
                                "current_valve_number current_valve_duration_ms "
                                "current_purge_duration_ms current_parameter_id "
                                "current_parameter_value current_loop_count "
                                "current_loop_iteration progress last_updated"},
    {"parameter_value_history", "parameter_id value set_point timestamp"},
    {"process_data_points", "process_id parameter_id value set_point timestamp"},
    {"parameter_control_commands", "id parameter_name component_parameter_id target_value "
                                   "machine_id write_modbus_address data_type created_at "
                                   "executed_at completed_at error_message"},
    {"machine_health", "machine_id plc_connected plc_last_check plc_last_connected "
                       "plc_reconnect_attempts plc_error updated_at"},
    {"engine_leases", "machine_id holder expires_at"},
    {"schema_version", "version"},
    {"outbox", "seq kind payload created_ms"},
};

START_TEST(test_schema_has_the_supabase_tables_and_columns)
{
    const char *db = sqt_new_db_path("sqlite-schema");
    sqt_close(sqt_open(db, ""));
    for (size_t t = 0; t < sizeof TABLES / sizeof TABLES[0]; t++) {
        char cols[600], sql[800];
        snprintf(cols, sizeof cols, "%s", TABLES[t].columns);
        for (char *save, *c = strtok_r(cols, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
                     TABLES[t].table, c);
            ck_assert_msg(sqt_int(db, sql) == 1, "%s.%s is missing", TABLES[t].table, c);
        }
    }
}
END_TEST

START_TEST(test_schema_version_wal_and_unique_sample_key)
{
    const char *db = sqt_new_db_path("sqlite-schema2");
    sqt_close(sqt_open(db, ""));
    ck_assert_int_eq(sqt_int(db, "SELECT max(version) FROM schema_version"), 1);
    char *mode = sqt_text(db, "PRAGMA journal_mode");
    ck_assert_str_eq(mode, "wal");
    free(mode);
    /* The (parameter_id, timestamp) key is in the file, not only in the plugin. */
    ck_assert_int_eq(sqt_int(db, "SELECT group_concat(name, ',') = 'parameter_id,timestamp'"
                                 " FROM (SELECT name FROM pragma_index_info((SELECT name FROM"
                                 " pragma_index_list('parameter_value_history') WHERE"
                                 " \"unique\" = 1)) ORDER BY name)"),
                     1);
    sqt_exec(db,
             "INSERT OR IGNORE INTO parameter_value_history (parameter_id, value, timestamp)"
             " VALUES ('p', 1, 't'), ('p', 2, 't'), ('q', 3, 't')");
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM parameter_value_history"), 2);
}
END_TEST

/* ---- demo seed ------------------------------------------------------------------ */

typedef struct param_rows {
    int count;
    ald_parameter want; /* the row to find, by id */
    int found;
} param_rows;

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void match_parameter(void *ctx, const ald_parameter *p)
{
    param_rows *r = ctx;
    r->count++;
    const ald_parameter *w = &r->want;
    if (strcmp(p->id, w->id) != 0)
        return;
    ck_assert_str_eq(p->component_name, w->component_name);
    ck_assert_str_eq(p->name, w->name);
    ck_assert_msg(same_text(p->unit, w->unit), "unit %s", p->unit ? p->unit : "NULL");
    ck_assert_str_eq(p->data_type, w->data_type);
    ck_assert_str_eq(p->read_type, w->read_type);
    ck_assert_int_eq(p->read_address, w->read_address);
    ck_assert_msg(same_text(p->write_type, w->write_type), "write type");
    ck_assert_int_eq(p->write_address, w->write_address);
    ck_assert_int_eq(p->is_writable, w->is_writable);
    ck_assert(same_double(p->min_value, w->min_value));
    ck_assert(same_double(p->max_value, w->max_value));
    ck_assert_msg(same_double(p->set_value, w->set_value), "set_value %g", p->set_value);
    r->found = 1;
}

static void expect_parameter(void *inst, ald_parameter want)
{
    param_rows rows = {.want = want};
    ck_assert_int_eq(sqt_vt()->load_parameters(inst, DEMO_MACHINE, match_parameter, &rows),
                     ALD_OK);
    ck_assert_int_eq(rows.count, 16);
    ck_assert_msg(rows.found, "parameter %s not loaded", want.id);
}

START_TEST(test_demo_seed_matches_the_demo_tool_doc)
{
    const char *db = sqt_new_db_path("sqlite-seed");
    void *inst = sqt_open(db, "");
    expect_parameter(inst, (ald_parameter){.id = MFC1_FLOW,
                                           .component_name = "MFC 1",
                                           .name = "flow_rate",
                                           .unit = "sccm",
                                           .data_type = "float",
                                           .read_type = "input_register",
                                           .read_address = 0,
                                           .write_type = "holding_register",
                                           .write_address = 0,
                                           .is_writable = 1,
                                           .min_value = 0,
                                           .max_value = 500,
                                           .set_value = 100});
    expect_parameter(inst, (ald_parameter){.id = "a0000000-0000-4000-8000-000000001101",
                                           .component_name = "Chamber Heater",
                                           .name = "temperature",
                                           .unit = "°C",
                                           .data_type = "float",
                                           .read_type = "input_register",
                                           .read_address = 8,
                                           .write_type = "holding_register",
                                           .write_address = 4,
                                           .is_writable = 1,
                                           .min_value = 20,
                                           .max_value = 400,
                                           .set_value = 150});
    expect_parameter(inst, (ald_parameter){.id = "a0000000-0000-4000-8000-000000001302",
                                           .component_name = "Pump",
                                           .name = "running",
                                           .unit = NULL,
                                           .data_type = "binary",
                                           .read_type = "discrete_input",
                                           .read_address = 0,
                                           .write_type = NULL,
                                           .write_address = -1,
                                           .is_writable = 0,
                                           .min_value = 0,
                                           .max_value = 1,
                                           .set_value = NAN});
    expect_parameter(inst, (ald_parameter){.id = "a0000000-0000-4000-8000-000000000601",
                                           .component_name = "Valve 6",
                                           .name = "valve_state",
                                           .unit = NULL,
                                           .data_type = "binary",
                                           .read_type = "coil",
                                           .read_address = 5,
                                           .write_type = "coil",
                                           .write_address = 5,
                                           .is_writable = 1,
                                           .min_value = 0,
                                           .max_value = 1,
                                           .set_value = 0});
    sqt_close(inst);
    ck_assert_int_eq(
        sqt_int(db,
                "SELECT count(*) FROM machine_components WHERE machine_id = '" DEMO_MACHINE
                "'"),
        14);
    char *s = sqt_text(db, "SELECT status || '/' || name FROM machines");
    ck_assert_str_eq(s, "idle/ALD Demo Tool");
    free(s);
    s = sqt_text(
        db, "SELECT current_state FROM machine_state WHERE machine_id = '" DEMO_MACHINE "'");
    ck_assert_str_eq(s, "idle");
    free(s);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM recipes"), 3);
}
END_TEST

START_TEST(test_seeding_happens_once)
{
    const char *db = sqt_new_db_path("sqlite-seed-once");
    sqt_close(sqt_open(db, ""));
    sqt_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM recipes WHERE name = 'Al2O3 quick'");
    sqt_close(sqt_open(db, ""));
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM recipes"), 2);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machines"), 1);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM schema_version"), 1);
}
END_TEST

START_TEST(test_seed_demo_false_creates_an_empty_schema)
{
    const char *db = sqt_new_db_path("sqlite-noseed");
    sqt_close(sqt_open(db, "seed_demo = false;"));
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machines"), 0);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM recipes"), 0);
    ck_assert_int_eq(sqt_int(db, "SELECT max(version) FROM schema_version"), 1);
}
END_TEST

/* ---- recipes ---------------------------------------------------------------------- */

#define MAX_STEPS 16

typedef struct step_copy {
    char id[64], parent[64], type[32], gas[16], param[64];
    int64_t seq, valve, valve_ms, purge_ms, iterations;
    int has_valve, has_purge, has_loop, has_param;
    double target;
} step_copy;

typedef struct recipe_copy {
    char name[64];
    int64_t version;
    int steps;
    step_copy step[MAX_STEPS];
    int params;
    char param_name[32], param_value[32];
} recipe_copy;

static void copy_recipe(void *ctx, const ald_recipe_info *r)
{
    recipe_copy *c = ctx;
    snprintf(c->name, sizeof c->name, "%s", r->name);
    c->version = r->version;
}

static void copy_step(void *ctx, const ald_recipe_step *s)
{
    recipe_copy *c = ctx;
    ck_assert_int_lt(c->steps, MAX_STEPS);
    step_copy *d = &c->step[c->steps++];
    snprintf(d->id, sizeof d->id, "%s", s->id);
    snprintf(d->parent, sizeof d->parent, "%s", s->parent_step_id ? s->parent_step_id : "");
    snprintf(d->type, sizeof d->type, "%s", s->type);
    snprintf(d->gas, sizeof d->gas, "%s", s->gas_type ? s->gas_type : "");
    snprintf(d->param, sizeof d->param, "%s", s->parameter_id ? s->parameter_id : "");
    d->seq = s->sequence_number;
    d->has_valve = s->has_valve_config;
    d->valve = s->valve_number;
    d->valve_ms = s->valve_duration_ms;
    d->has_purge = s->has_purge_config;
    d->purge_ms = s->purge_duration_ms;
    d->has_loop = s->has_loop_config;
    d->iterations = s->iteration_count;
    d->has_param = s->has_parameter_config;
    d->target = s->target_value;
}

static void copy_param(void *ctx, const char *name, const char *value)
{
    recipe_copy *c = ctx;
    c->params++;
    snprintf(c->param_name, sizeof c->param_name, "%s", name);
    snprintf(c->param_value, sizeof c->param_value, "%s", value ? value : "NULL");
}

static recipe_copy *load(void *inst, const char *id, ald_status expect)
{
    recipe_copy *c = calloc(1, sizeof *c);
    ald_recipe_reader reader = {sizeof reader, c, copy_recipe, copy_step, copy_param};
    ck_assert_int_eq(sqt_vt()->load_recipe(inst, id, &reader), expect);
    return c;
}

static void expect_valve(const step_copy *s, const char *parent, int valve, int ms)
{
    ck_assert_str_eq(s->type, "valve");
    ck_assert_str_eq(s->parent, parent);
    ck_assert(s->has_valve && !s->has_purge && !s->has_loop && !s->has_param);
    ck_assert_int_eq(s->valve, valve);
    ck_assert_int_eq(s->valve_ms, ms);
}

static void expect_purge(const step_copy *s, const char *parent, int ms)
{
    ck_assert_str_eq(s->type, "purge");
    ck_assert_str_eq(s->parent, parent);
    ck_assert(s->has_purge && !s->has_valve);
    ck_assert_int_eq(s->purge_ms, ms);
    ck_assert_str_eq(s->gas, "N2");
}

static void expect_loop(const step_copy *s, const char *parent, int iterations)
{
    ck_assert_str_eq(s->type, "loop");
    ck_assert_str_eq(s->parent, parent);
    ck_assert(s->has_loop && !s->has_valve && !s->has_purge);
    ck_assert_int_eq(s->iterations, iterations);
}

START_TEST(test_nested_recipe_loads_as_a_tree_with_configs)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-recipe"), "");
    recipe_copy *r = load(inst, NESTED_RECIPE, ALD_OK);
    ck_assert_str_eq(r->name, "Nested demo");
    ck_assert_int_eq(r->version, 1);
    ck_assert_int_eq(r->steps, 7);
    const step_copy *s = r->step;
    /* top level first, then by sequence_number (this recipe numbers its steps
     * across levels, so that is also parents before children) */
    ck_assert_str_eq(s[0].type, "set parameter");
    ck_assert(s[0].has_param);
    ck_assert_str_eq(s[0].param, MFC1_FLOW);
    ck_assert(s[0].target == 150);
    ck_assert_str_eq(s[0].parent, "");
    expect_loop(&s[1], "", 3);
    ck_assert_int_eq(s[1].seq, 2);
    expect_loop(&s[2], s[1].id, 2);
    expect_valve(&s[3], s[2].id, 1, 20);
    expect_purge(&s[4], s[2].id, 100);
    expect_valve(&s[5], s[1].id, 2, 30);
    expect_purge(&s[6], s[1].id, 100);
    ck_assert_int_lt(s[3].seq, s[4].seq);
    ck_assert_int_lt(s[5].seq, s[6].seq);
    free(r);
    sqt_close(inst);
}
END_TEST

/* A self-parented loop and a step whose parent belongs to another recipe are
 * not reachable from the top level: the store hands them over anyway, so the
 * validator can name them (a recursive walk from the top used to drop them). */
START_TEST(test_unreachable_steps_are_handed_over_not_dropped)
{
    const char *db = sqt_new_db_path("sqlite-unreachable");
    void *inst = sqt_open(db, "");
    sqt_exec(db, "INSERT INTO recipes (id, name) VALUES ('rx', 'broken');"
                 "INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number,"
                 " name, type) VALUES ('top', 'rx', NULL, 1, 'top', 'purge'),"
                 " ('self', 'rx', 'self', 2, 'self loop', 'loop'),"
                 " ('stray', 'rx', 'v1-of-another-recipe', 3, 'stray', 'purge');");
    recipe_copy *r = load(inst, "rx", ALD_OK);
    ck_assert_int_eq(r->steps, 3);
    ck_assert_str_eq(r->step[0].id, "top");
    ck_assert_str_eq(r->step[1].id, "self");
    ck_assert_str_eq(r->step[1].parent, "self");
    ck_assert_str_eq(r->step[2].id, "stray");
    free(r);
    sqt_close(inst);
}
END_TEST

START_TEST(test_al2o3_demo_recipe_is_100_cycles_of_four_steps)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-recipe2"), "");
    recipe_copy *r = load(inst, DEMO_RECIPE, ALD_OK);
    ck_assert_str_eq(r->name, "Al2O3 demo");
    ck_assert_int_eq(r->steps, 5);
    expect_loop(&r->step[0], "", 100);
    expect_valve(&r->step[1], r->step[0].id, 1, 20);
    expect_purge(&r->step[2], r->step[0].id, 2000);
    expect_valve(&r->step[3], r->step[0].id, 2, 20);
    expect_purge(&r->step[4], r->step[0].id, 2000);
    free(r);
    sqt_close(inst);
}
END_TEST

START_TEST(test_recipe_parameters_are_read)
{
    const char *db = sqt_new_db_path("sqlite-recipe3");
    sqt_close(sqt_open(db, ""));
    sqt_exec(db, "INSERT INTO recipe_parameters (id, recipe_id, parameter_name,"
                 " parameter_value) VALUES ('rp1', '" DEMO_RECIPE "', 'base_pressure', 0.5)");
    void *inst = sqt_open(db, "");
    recipe_copy *r = load(inst, DEMO_RECIPE, ALD_OK);
    ck_assert_int_eq(r->params, 1);
    ck_assert_str_eq(r->param_name, "base_pressure");
    ck_assert_str_eq(r->param_value, "0.5");
    free(r);
    sqt_close(inst);
}
END_TEST

static void collect_name(void *ctx, const ald_recipe_info *r)
{
    char *names = ctx;
    strcat(names, r->name);
    strcat(names, ";");
}

START_TEST(test_unknown_recipe_is_not_found_and_list_is_sorted)
{
    void *inst = sqt_open(sqt_new_db_path("sqlite-recipe4"), "");
    free(load(inst, "no-such-recipe", ALD_ERR_NOT_FOUND));
    ck_assert_ptr_nonnull(strstr(sqt_vt()->last_error(inst), "no-such-recipe"));
    char names[256] = "";
    ck_assert_int_eq(sqt_vt()->list_recipes(inst, collect_name, names), ALD_OK);
    ck_assert_str_eq(names, "Al2O3 demo;Al2O3 quick;Nested demo;");
    sqt_close(inst);
}
END_TEST

/* The engine's recipe loader: a second instance on the file the first has
 * open. Its start finds the schema current, so it seeds nothing again (a
 * demo recipe deleted stays deleted), migrates nothing and moves nothing
 * aside; it reads recipes while the first stays open. */
START_TEST(test_a_second_instance_on_an_open_store_seeds_and_moves_nothing)
{
    const char *db = sqt_new_db_path("sqlite-second");
    void *first = sqt_open(db, "");
    sqt_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM recipes WHERE name = 'Al2O3 quick'");
    int64_t versions = sqt_int(db, "SELECT count(*) FROM schema_version");
    void *second = sqt_open(db, "");
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM recipes"), 2);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM machines"), 1);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM schema_version"), versions);
    ck_assert_ptr_null(set_aside_name(db));
    char names[256] = "";
    ck_assert_int_eq(sqt_vt()->list_recipes(second, collect_name, names), ALD_OK);
    ck_assert_str_eq(names, "Al2O3 demo;Nested demo;");
    free(load(second, DEMO_RECIPE, ALD_OK));
    sqt_close(second);
    sqt_close(first);
}
END_TEST

static ald_recipe_step saved_step(const char *id, const char *parent, int64_t seq,
                                  const char *type)
{
    return (ald_recipe_step){.struct_size = sizeof(ald_recipe_step),
                             .id = id,
                             .parent_step_id = parent,
                             .sequence_number = seq,
                             .name = type,
                             .type = type,
                             .flow_rate = NAN,
                             .target_value = NAN};
}

START_TEST(test_saved_recipe_loads_back_and_replaces_the_old_tree)
{
    const char *db = sqt_new_db_path("sqlite-save");
    void *inst = sqt_open(db, "");
    ald_recipe_info info = {sizeof info, DEMO_RECIPE, "Al2O3 imported", "from aldctl", 2,
                            NAN,         NAN};
    /* children first on purpose: the store orders the inserts itself */
    ald_recipe_step valve = saved_step("s-valve", "s-loop", 1, "valve");
    valve.has_valve_config = 1, valve.valve_number = 3, valve.valve_duration_ms = 15;
    ald_recipe_step loop = saved_step("s-loop", NULL, 1, "loop");
    loop.has_loop_config = 1, loop.iteration_count = 7;
    const ald_recipe_step *steps[] = {&valve, &loop};
    const char *names[] = {"base_pressure"}, *values[] = {"0.3"};
    ck_assert_int_eq(sqt_vt()->save_recipe(inst, &info, steps, 2, names, values, 1), ALD_OK);
    recipe_copy *r = load(inst, DEMO_RECIPE, ALD_OK);
    ck_assert_str_eq(r->name, "Al2O3 imported");
    ck_assert_int_eq(r->version, 2);
    ck_assert_int_eq(r->steps, 2); /* the seeded 5 steps are gone */
    expect_loop(&r->step[0], "", 7);
    expect_valve(&r->step[1], "s-loop", 3, 15);
    ck_assert_int_eq(r->params, 1);
    ck_assert_str_eq(r->param_value, "0.3");
    free(r);
    valve.parent_step_id = "no-such-step";
    ck_assert_int_eq(sqt_vt()->save_recipe(inst, &info, steps, 2, NULL, NULL, 0),
                     ALD_ERR_INVALID);
    sqt_close(inst);
    ck_assert_int_eq(
        sqt_int(db, "SELECT count(*) FROM recipe_steps WHERE recipe_id = '" DEMO_RECIPE "'"),
        2); /* the failed save rolled back */
}
END_TEST

/* ---- samples ------------------------------------------------------------------------- */

#define SAMPLE_TS_MS INT64_C(1795750146123) /* 2026-11-27T03:29:06.123Z */

static ald_sample_batch batch_of(ald_sample *s, size_t n, int64_t ts, const char *process)
{
    static char ids[16][40];
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "a0000000-0000-4000-8000-0000000%03zu01", i + 1);
        s[i] = (ald_sample){ids[i], (double)i + 0.5, i % 2 ? NAN : (double)i};
    }
    return (ald_sample_batch){sizeof(ald_sample_batch), DEMO_MACHINE, process, ts, s, n, 0};
}

START_TEST(test_samples_append_and_a_replayed_batch_adds_nothing)
{
    const char *db = sqt_new_db_path("sqlite-samples");
    void *inst = sqt_open(db, "");
    ald_sample s[16];
    ald_sample_batch b = batch_of(s, 16, SAMPLE_TS_MS, NULL);
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_OK);
    b.replay = 1;
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_OK);
    b = batch_of(s, 16, SAMPLE_TS_MS + 1000, NULL);
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_OK);
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM parameter_value_history"), 32);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM process_data_points"), 0);
    char *t = sqt_text(db, "SELECT timestamp || ' ' || value || ' ' || set_point FROM "
                           "parameter_value_history ORDER BY value, timestamp LIMIT 1");
    ck_assert_str_eq(t, "2026-11-27T03:29:06.123Z 0.5 0.0");
    free(t);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM parameter_value_history WHERE "
                                 "set_point IS NULL"),
                     16); /* NaN -> NULL */
}
END_TEST

START_TEST(test_samples_with_a_process_also_go_to_process_data_points)
{
    const char *db = sqt_new_db_path("sqlite-samples2");
    void *inst = sqt_open(db, "");
    ald_sample s[4];
    ald_sample_batch b = batch_of(s, 4, SAMPLE_TS_MS, "proc-1");
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_OK);
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_OK); /* replay */
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM process_data_points WHERE "
                                 "process_id = 'proc-1'"),
                     4);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM parameter_value_history"), 4);
}
END_TEST

START_TEST(test_sample_without_parameter_id_is_invalid_and_writes_nothing)
{
    const char *db = sqt_new_db_path("sqlite-samples3");
    void *inst = sqt_open(db, "");
    ald_sample s[4];
    ald_sample_batch b = batch_of(s, 4, SAMPLE_TS_MS, NULL);
    s[2].parameter_id = NULL;
    ck_assert_int_eq(sqt_vt()->append_samples(inst, &b), ALD_ERR_INVALID);
    sqt_close(inst);
    ck_assert_int_eq(sqt_int(db, "SELECT count(*) FROM parameter_value_history"), 0);
}
END_TEST

START_TEST(test_update_parameter_values_leaves_nan_fields_alone)
{
    const char *db = sqt_new_db_path("sqlite-values");
    void *inst = sqt_open(db, "");
    ald_parameter_value v[] = {
        {MFC1_FLOW, 99.5, NAN},
        {"a0000000-0000-4000-8000-000000000801", NAN, 42},
        {"no-such-parameter", 1, 1},
    };
    ck_assert_int_eq(sqt_vt()->update_parameter_values(inst, v, 2), ALD_OK);
    ck_assert_int_eq(sqt_vt()->update_parameter_values(inst, v, 3), ALD_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(sqt_vt()->last_error(inst), "no-such-parameter"));
    sqt_close(inst);
    char *t =
        sqt_text(db, "SELECT current_value || '/' || set_value FROM component_parameters"
                     " WHERE id = '" MFC1_FLOW "'");
    ck_assert_str_eq(t, "99.5/100.0");
    free(t);
    t = sqt_text(db,
                 "SELECT coalesce(current_value, 'NULL') || '/' || set_value FROM "
                 "component_parameters WHERE id = 'a0000000-0000-4000-8000-000000000801'");
    ck_assert_str_eq(t, "0.0/42.0");
    free(t);
}
END_TEST

static Suite *sqlite_suite(void)
{
    Suite *s = suite_create("storage-sqlite");
    TCase *tc = tcase_create("plugin");
    tcase_add_test(tc, test_descriptor_is_a_storage_plugin_with_outbox_and_local_caps);
    tcase_add_test(tc, test_every_vtable_operation_is_implemented);
    tcase_add_test(tc, test_bad_busy_timeout_is_rejected_with_file_and_line);
    tcase_add_test(tc, test_wrongly_typed_settings_are_rejected);
    tcase_add_test(tc, test_missing_path_and_data_dir_is_rejected);
    tcase_add_test(tc, test_default_path_is_under_data_dir_and_created_by_start_not_create);
    tcase_add_test(tc, test_corrupt_file_is_moved_aside_and_a_fresh_store_created);
    tcase_add_test(tc, test_unopenable_path_gives_a_clear_error_not_a_crash);
    tcase_add_test(tc, test_schema_has_the_supabase_tables_and_columns);
    tcase_add_test(tc, test_schema_version_wal_and_unique_sample_key);
    tcase_add_test(tc, test_demo_seed_matches_the_demo_tool_doc);
    tcase_add_test(tc, test_seeding_happens_once);
    tcase_add_test(tc, test_a_second_instance_on_an_open_store_seeds_and_moves_nothing);
    tcase_add_test(tc, test_seed_demo_false_creates_an_empty_schema);
    tcase_add_test(tc, test_nested_recipe_loads_as_a_tree_with_configs);
    tcase_add_test(tc, test_al2o3_demo_recipe_is_100_cycles_of_four_steps);
    tcase_add_test(tc, test_unreachable_steps_are_handed_over_not_dropped);
    tcase_add_test(tc, test_recipe_parameters_are_read);
    tcase_add_test(tc, test_unknown_recipe_is_not_found_and_list_is_sorted);
    tcase_add_test(tc, test_saved_recipe_loads_back_and_replaces_the_old_tree);
    tcase_add_test(tc, test_samples_append_and_a_replayed_batch_adds_nothing);
    tcase_add_test(tc, test_samples_with_a_process_also_go_to_process_data_points);
    tcase_add_test(tc, test_sample_without_parameter_id_is_invalid_and_writes_nothing);
    tcase_add_test(tc, test_update_parameter_values_leaves_nan_fields_alone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(sqlite_suite());
}
