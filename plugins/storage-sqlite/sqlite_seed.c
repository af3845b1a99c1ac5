/*
 * sqlite_seed.c - the demo tool of docs/demo-tool.md and three demo recipes,
 * written into a freshly created database (inside the migration transaction).
 *
 * The tables below ARE the register map of docs/demo-tool.md: change one,
 * change the other (and plc-sim). Ids are fixed so logs, tests and the
 * Supabase migrations agree: component NN is c0000000-0000-4000-8000-0000000000NN,
 * its parameter MM is a0000000-0000-4000-8000-00000000NNMM.
 */
#include <math.h>
#include <stdio.h>

#include "sqlite_store.h"

#define DEMO_MACHINE_ID "e3e6e280-0000-4000-8000-000000000001"
#define MFC1_FLOW_ID "a0000000-0000-4000-8000-000000000701"

typedef struct seed_component {
    int number; /* NN */
    const char *name;
    const char *type;
} seed_component;

static const seed_component COMPONENTS[] = {
    {1, "Valve 1", "valve"},
    {2, "Valve 2", "valve"},
    {3, "Valve 3", "valve"},
    {4, "Valve 4", "valve"},
    {5, "Valve 5", "valve"},
    {6, "Valve 6", "valve"},
    {7, "MFC 1", "mfc"},
    {8, "MFC 2", "mfc"},
    {9, "Pressure Gauge 1", "pressure_gauge"},
    {10, "Pressure Gauge 2", "pressure_gauge"},
    {11, "Chamber Heater", "heater"},
    {12, "Line Heater", "heater"},
    {13, "Pump", "pump"},
    {14, "N2 Generator", "gas_generator"},
};

typedef struct seed_parameter {
    int component; /* NN */
    int index;     /* MM */
    const char *name;
    const char *data_type;
    const char *read_type;
    int read_address;
    const char *write_type; /* NULL = read-only */
    int write_address;
    double min, max;
    const char *unit; /* NULL = none */
    double initial;   /* set_value of writable parameters, reading of others; NaN = NULL */
} seed_parameter;

/* clang-format off: one row per line reads as the doc's table */
static const seed_parameter PARAMETERS[] = {
    {1, 1, "valve_state", "binary", "coil", 0, "coil", 0, 0, 1, NULL, 0},
    {2, 1, "valve_state", "binary", "coil", 1, "coil", 1, 0, 1, NULL, 0},
    {3, 1, "valve_state", "binary", "coil", 2, "coil", 2, 0, 1, NULL, 0},
    {4, 1, "valve_state", "binary", "coil", 3, "coil", 3, 0, 1, NULL, 0},
    {5, 1, "valve_state", "binary", "coil", 4, "coil", 4, 0, 1, NULL, 0},
    {6, 1, "valve_state", "binary", "coil", 5, "coil", 5, 0, 1, NULL, 0},
    {7, 1, "flow_rate", "float", "input_register", 0, "holding_register", 0, 0, 500, "sccm",
     100},
    {8, 1, "flow_rate", "float", "input_register", 2, "holding_register", 2, 0, 500, "sccm",
     0},
    {9, 1, "pressure", "float", "input_register", 4, NULL, -1, 0, 1000, "Torr", NAN},
    {10, 1, "pressure", "float", "input_register", 6, NULL, -1, 0, 1000, "Torr", NAN},
    {11, 1, "temperature", "float", "input_register", 8, "holding_register", 4, 20, 400, "°C",
     150},
    {12, 1, "temperature", "float", "input_register", 10, "holding_register", 6, 20, 200,
     "°C", 80},
    {13, 1, "power", "binary", "coil", 10, "coil", 10, 0, 1, NULL, 1},
    {13, 2, "running", "binary", "discrete_input", 0, NULL, -1, 0, 1, NULL, 1},
    {14, 1, "power", "binary", "coil", 11, "coil", 11, 0, 1, NULL, 1},
    {14, 2, "ready", "binary", "discrete_input", 1, NULL, -1, 0, 1, NULL, 1},
};

/* One recipe step in seed order; parent is the 1-based index of an earlier
 * step of the same recipe (0 = top level). */
typedef struct seed_step {
    int parent;
    int seq;
    const char *name;
    const char *type;
    int valve;         /* valve steps */
    int duration_ms;   /* valve and purge steps */
    int iterations;    /* loop steps */
    const char *param; /* set parameter steps */
    double target;
} seed_step;

#define VALVE(parent, seq, name, n, ms)                                                      \
    {                                                                                        \
        parent, seq, name, "valve", n, ms, 0, NULL, 0                                        \
    }
#define PURGE(parent, seq, ms)                                                               \
    {                                                                                        \
        parent, seq, "N2 purge", "purge", 0, ms, 0, NULL, 0                                  \
    }
#define LOOP(parent, seq, name, n)                                                           \
    {                                                                                        \
        parent, seq, name, "loop", 0, 0, n, NULL, 0                                          \
    }
#define SETPARAM(parent, seq, name, id, v)                                                   \
    {                                                                                        \
        parent, seq, name, "set parameter", 0, 0, 0, id, v                                   \
    }

static const seed_step DEMO_STEPS[] = {
    LOOP(0, 1, "ALD cycle", 100),
    VALVE(1, 1, "TMA pulse", 1, 20),
    PURGE(1, 2, 2000),
    VALVE(1, 3, "H2O pulse", 2, 20),
    PURGE(1, 4, 2000),
};

static const seed_step QUICK_STEPS[] = {
    LOOP(0, 1, "ALD cycle", 5), VALVE(1, 1, "TMA pulse", 1, 20),
    PURGE(1, 2, 200),           VALVE(1, 3, "H2O pulse", 2, 20),
    PURGE(1, 4, 200),
};

static const seed_step NESTED_STEPS[] = {
    SETPARAM(0, 1, "MFC 1 flow 150 sccm", MFC1_FLOW_ID, 150),
    LOOP(0, 2, "Outer cycle", 3),
    LOOP(2, 1, "Inner pulses", 2),
    VALVE(3, 1, "TMA pulse", 1, 20),
    PURGE(3, 2, 100),
    VALVE(2, 2, "H2O pulse", 2, 30),
    PURGE(2, 3, 100),
};

typedef struct seed_recipe {
    int number; /* recipe id b0000000-0000-4000-8000-00000000000N */
    const char *name;
    const char *description;
    const seed_step *steps;
    size_t step_count;
} seed_recipe;

#define STEPS(a) a, sizeof a / sizeof a[0]
/* clang-format on */

static const seed_recipe RECIPES[] = {
    {1, "Al2O3 demo", "100 cycles of TMA / N2 purge / H2O / N2 purge", STEPS(DEMO_STEPS)},
    {2, "Al2O3 quick", "5 short cycles, for trying the tool out", STEPS(QUICK_STEPS)},
    {3, "Nested demo", "Sets MFC 1 to 150 sccm, then nested loops", STEPS(NESTED_STEPS)},
};

static const char SQL_MACHINE[] =
    "INSERT INTO machines (id, name, machine_type, status) VALUES (?1, ?2, 'ald', 'idle')";
static const char SQL_MACHINE_STATE[] =
    "INSERT INTO machine_state (machine_id, current_state, state_since, is_failure_mode,"
    " updated_at) VALUES (?1, 'idle', ?2, 0, ?2)";
static const char SQL_COMPONENT[] =
    "INSERT INTO machine_components (id, machine_id, name, type) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_PARAMETER[] =
    "INSERT INTO component_parameters (id, component_id, name, unit, data_type, min_value,"
    " max_value, current_value, set_value, is_writable, read_modbus_address, "
    "read_modbus_type,"
    " write_modbus_address, write_modbus_type)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
static const char SQL_RECIPE[] =
    "INSERT INTO recipes (id, name, description, version, chamber_temperature_set_point)"
    " VALUES (?1, ?2, ?3, 1, 150)";
static const char SQL_STEP[] =
    "INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_VALVE_CONFIG[] =
    "INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char SQL_PURGE_CONFIG[] = "INSERT INTO purge_step_config (id, step_id, "
                                       "duration_ms, gas_type) VALUES (?1, ?2, ?3, 'N2')";
static const char SQL_LOOP_CONFIG[] =
    "INSERT INTO loop_step_config (id, step_id, iteration_count) VALUES (?1, ?2, ?3)";
static const char SQL_PARAM_CONFIG[] =
    "INSERT INTO parameter_step_config (id, step_id, parameter_id, target_value,"
    " hold_duration_ms) VALUES (?1, ?2, ?3, ?4, 0)";

static void component_id(int nn, char *buf)
{
    snprintf(buf, SQ_UUID_LEN, "c0000000-0000-4000-8000-0000000000%02d", nn);
}

static ald_status seed_machine(sq_store *sq)
{
    char now[SQ_ISO_LEN];
    sq_iso_time(sq_now_ms(sq), now);
    sqlite3_stmt *st = sq_stmt(sq, SQL_MACHINE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, DEMO_MACHINE_ID);
    sq_bind_text(st, 2, "ALD Demo Tool");
    ald_status rc = sq_run(sq, st, "seeding the demo machine");
    if (rc != ALD_OK || !(st = sq_stmt(sq, SQL_MACHINE_STATE)))
        return rc != ALD_OK ? rc : ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, DEMO_MACHINE_ID);
    sq_bind_text(st, 2, now);
    return sq_run(sq, st, "seeding the demo machine_state");
}

static ald_status seed_component_row(sq_store *sq, const seed_component *c)
{
    char id[SQ_UUID_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_COMPONENT);
    if (!st)
        return ALD_ERR_INTERNAL;
    component_id(c->number, id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, DEMO_MACHINE_ID);
    sq_bind_text(st, 3, c->name);
    sq_bind_text(st, 4, c->type);
    return sq_run(sq, st, "seeding a demo component");
}

static ald_status seed_parameter_row(sq_store *sq, const seed_parameter *p)
{
    char id[SQ_UUID_LEN], comp[SQ_UUID_LEN];
    sqlite3_stmt *st = sq_stmt(sq, SQL_PARAMETER);
    if (!st)
        return ALD_ERR_INTERNAL;
    snprintf(id, sizeof id, "a0000000-0000-4000-8000-00000000%02d%02d", p->component,
             p->index);
    component_id(p->component, comp);
    int writable = p->write_type != NULL;
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, comp);
    sq_bind_text(st, 3, p->name);
    sq_bind_text(st, 4, p->unit);
    sq_bind_text(st, 5, p->data_type);
    sqlite3_bind_double(st, 6, p->min);
    sqlite3_bind_double(st, 7, p->max);
    sq_bind_double(st, 8, p->initial); /* readings start at their setpoints */
    sq_bind_double(st, 9, writable ? p->initial : NAN);
    sqlite3_bind_int(st, 10, writable);
    sqlite3_bind_int(st, 11, p->read_address);
    sq_bind_text(st, 12, p->read_type);
    sq_bind_int_or_null(st, 13, p->write_address);
    sq_bind_text(st, 14, p->write_type);
    return sq_run(sq, st, "seeding a demo parameter");
}

static void step_id(int recipe, size_t index, char *buf)
{
    snprintf(buf, SQ_UUID_LEN, "b0000000-0000-4000-8%03u-%012u", (unsigned)recipe % 1000u,
             (unsigned)(index + 1) % 1000u);
}

/* The *_step_config row of one seed step (set parameter, valve, purge or loop). */
static ald_status seed_step_config(sq_store *sq, const seed_step *s, const char *sid)
{
    char id[SQ_UUID_LEN];
    const char *sql = s->valve        ? SQL_VALVE_CONFIG
                      : s->param      ? SQL_PARAM_CONFIG
                      : s->iterations ? SQL_LOOP_CONFIG
                                      : SQL_PURGE_CONFIG;
    sqlite3_stmt *st = sq_stmt(sq, sql);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_uuid(id);
    sq_bind_text(st, 1, id);
    sq_bind_text(st, 2, sid);
    if (s->valve) {
        sqlite3_bind_int(st, 3, s->valve);
        sqlite3_bind_int(st, 4, s->duration_ms);
    } else if (s->param) {
        sq_bind_text(st, 3, s->param);
        sqlite3_bind_double(st, 4, s->target);
    } else {
        sqlite3_bind_int(st, 3, s->iterations ? s->iterations : s->duration_ms);
    }
    return sq_run(sq, st, "seeding a demo step config");
}

static ald_status seed_step_row(sq_store *sq, const seed_recipe *r, size_t i, const char *rid)
{
    const seed_step *s = &r->steps[i];
    char sid[SQ_UUID_LEN], parent[SQ_UUID_LEN];
    step_id(r->number, i, sid);
    if (s->parent)
        step_id(r->number, (size_t)s->parent - 1, parent);
    sqlite3_stmt *st = sq_stmt(sq, SQL_STEP);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, sid);
    sq_bind_text(st, 2, rid);
    sq_bind_text(st, 3, s->parent ? parent : NULL);
    sqlite3_bind_int(st, 4, s->seq);
    sq_bind_text(st, 5, s->name);
    sq_bind_text(st, 6, s->type);
    ald_status rc = sq_run(sq, st, "seeding a demo recipe step");
    return rc == ALD_OK ? seed_step_config(sq, s, sid) : rc;
}

static ald_status seed_recipe_rows(sq_store *sq, const seed_recipe *r)
{
    char rid[SQ_UUID_LEN];
    snprintf(rid, sizeof rid, "b0000000-0000-4000-8000-%012d", r->number);
    sqlite3_stmt *st = sq_stmt(sq, SQL_RECIPE);
    if (!st)
        return ALD_ERR_INTERNAL;
    sq_bind_text(st, 1, rid);
    sq_bind_text(st, 2, r->name);
    sq_bind_text(st, 3, r->description);
    ald_status rc = sq_run(sq, st, "seeding a demo recipe");
    for (size_t i = 0; i < r->step_count && rc == ALD_OK; i++)
        rc = seed_step_row(sq, r, i, rid);
    return rc;
}

#define COUNT(a) (sizeof a / sizeof a[0])

ald_status sq_seed_demo(sq_store *sq)
{
    ald_status rc = seed_machine(sq);
    for (size_t i = 0; i < COUNT(COMPONENTS) && rc == ALD_OK; i++)
        rc = seed_component_row(sq, &COMPONENTS[i]);
    for (size_t i = 0; i < COUNT(PARAMETERS) && rc == ALD_OK; i++)
        rc = seed_parameter_row(sq, &PARAMETERS[i]);
    for (size_t i = 0; i < COUNT(RECIPES) && rc == ALD_OK; i++)
        rc = seed_recipe_rows(sq, &RECIPES[i]);
    if (rc == ALD_OK && sq->host && sq->host->log)
        sq->host->log(sq->host, ALD_LOG_INFO,
                      "seeded the demo tool (%zu parameters) and %zu "
                      "demo recipes into %s",
                      COUNT(PARAMETERS), COUNT(RECIPES), sq->path);
    return rc;
}
