/*
 * sqlite_schema.c - the database layout and the migration runner.
 *
 * Table and column names are those of the site's Supabase project
 * (/work/shared/SCHEMA.md), so queries and tools work on both stores. Local
 * choices: uuids are TEXT, JSON is TEXT, timestamps are ISO-8601 UTC TEXT with
 * milliseconds (which sort correctly as text); the two high-volume sample
 * tables are keyed by their natural key alone (no uuid id), so a 1 Hz x
 * 1000-tag logger does not pay for random ids and a second index.
 *
 * Migrations are an append-only list: to change the schema, add an entry with
 * the next version. The runner applies every entry newer than the file's
 * schema_version in ONE transaction (all or nothing), and seeds the demo data
 * when it created the file from nothing.
 */
#include <stdio.h>

#include "sqlite_store.h"

typedef struct sq_migration {
    int version;
    const char *description;
    const char *sql;
} sq_migration;

static const char MIGRATION_1[] =
    "CREATE TABLE machines ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " machine_type TEXT,"
    " status TEXT NOT NULL DEFAULT 'offline'"
    "  CHECK (status IN ('idle','processing','error','offline')),"
    " current_process_id TEXT,"
    " current_operator_id TEXT,"
    " is_active INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"

    "CREATE TABLE machine_state ("
    " machine_id TEXT PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,"
    " current_state TEXT NOT NULL,"
    " state_since TEXT NOT NULL,"
    " process_id TEXT,"
    " is_failure_mode INTEGER NOT NULL DEFAULT 0,"
    " failure_description TEXT,"
    " updated_at TEXT NOT NULL);"

    "CREATE TABLE machine_components ("
    " id TEXT PRIMARY KEY,"
    " machine_id TEXT NOT NULL REFERENCES machines(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " is_activated INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " UNIQUE (machine_id, name));"

    /* Supabase takes name and unit from a definitions table; here they are
     * plain columns and the view renames them as Supabase's view does. */
    "CREATE TABLE component_parameters ("
    " id TEXT PRIMARY KEY,"
    " component_id TEXT NOT NULL REFERENCES machine_components(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " unit TEXT,"
    " data_type TEXT NOT NULL CHECK (data_type IN ('float','int32','int16','binary')),"
    " min_value REAL,"
    " max_value REAL,"
    " current_value REAL,"
    " set_value REAL,"
    " is_writable INTEGER NOT NULL DEFAULT 0,"
    " read_modbus_address INTEGER,"
    " read_modbus_type TEXT,"
    " write_modbus_address INTEGER,"
    " write_modbus_type TEXT,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " UNIQUE (component_id, name));"

    "CREATE VIEW component_parameters_full AS"
    " SELECT cp.id, cp.component_id, cp.name AS parameter_name, cp.unit,"
    "  mc.name AS component_name, mc.machine_id, cp.data_type, cp.min_value, cp.max_value,"
    "  cp.current_value, cp.set_value, cp.is_writable, cp.read_modbus_address,"
    "  cp.read_modbus_type, cp.write_modbus_address, cp.write_modbus_type, cp.updated_at"
    " FROM component_parameters cp JOIN machine_components mc ON mc.id = cp.component_id;"

    "CREATE TABLE recipes ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " description TEXT,"
    " version INTEGER NOT NULL DEFAULT 1,"
    " chamber_temperature_set_point REAL,"
    " pressure_set_point REAL,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"

    "CREATE TABLE recipe_steps ("
    " id TEXT PRIMARY KEY,"
    " recipe_id TEXT NOT NULL REFERENCES recipes(id) ON DELETE CASCADE,"
    " parent_step_id TEXT REFERENCES recipe_steps(id) ON DELETE CASCADE,"
    " sequence_number INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " parameters TEXT,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE INDEX recipe_steps_recipe ON recipe_steps(recipe_id, sequence_number);"

    "CREATE TABLE valve_step_config ("
    " id TEXT PRIMARY KEY,"
    " step_id TEXT NOT NULL UNIQUE REFERENCES recipe_steps(id) ON DELETE CASCADE,"
    " valve_number INTEGER NOT NULL,"
    " duration_ms INTEGER NOT NULL);"

    "CREATE TABLE purge_step_config ("
    " id TEXT PRIMARY KEY,"
    " step_id TEXT NOT NULL UNIQUE REFERENCES recipe_steps(id) ON DELETE CASCADE,"
    " duration_ms INTEGER NOT NULL,"
    " gas_type TEXT NOT NULL DEFAULT 'N2',"
    " flow_rate REAL);"

    "CREATE TABLE loop_step_config ("
    " id TEXT PRIMARY KEY,"
    " step_id TEXT NOT NULL UNIQUE REFERENCES recipe_steps(id) ON DELETE CASCADE,"
    " iteration_count INTEGER NOT NULL);"

    "CREATE TABLE parameter_step_config ("
    " id TEXT PRIMARY KEY,"
    " step_id TEXT NOT NULL UNIQUE REFERENCES recipe_steps(id) ON DELETE CASCADE,"
    " parameter_id TEXT NOT NULL,"
    " target_value REAL NOT NULL,"
    " hold_duration_ms INTEGER);"

    /* parameter_value is untyped on purpose: numbers and words both occur. */
    "CREATE TABLE recipe_parameters ("
    " id TEXT PRIMARY KEY,"
    " recipe_id TEXT NOT NULL REFERENCES recipes(id) ON DELETE CASCADE,"
    " parameter_name TEXT NOT NULL,"
    " parameter_value,"
    " parameter_unit TEXT,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"

    "CREATE TABLE recipe_commands ("
    " id TEXT PRIMARY KEY,"
    " type TEXT NOT NULL,"
    " parameters TEXT,"
    " status TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (status IN ('pending','processing','completed','error')),"
    " machine_id TEXT REFERENCES machines(id),"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " executed_at TEXT,"
    " error_message TEXT);"
    "CREATE INDEX recipe_commands_pending ON recipe_commands(status, created_at);"

    "CREATE TABLE operator_sessions ("
    " id TEXT PRIMARY KEY,"
    " operator_id TEXT NOT NULL,"
    " machine_id TEXT NOT NULL REFERENCES machines(id),"
    " start_time TEXT NOT NULL,"
    " end_time TEXT,"
    " status TEXT NOT NULL DEFAULT 'active',"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    /* At most one active session per operator and machine, even with two
     * engine processes on the file. */
    "CREATE UNIQUE INDEX operator_sessions_active ON operator_sessions(operator_id, "
    "machine_id)"
    " WHERE status = 'active';"

    "CREATE TABLE process_executions ("
    " id TEXT PRIMARY KEY,"
    " session_id TEXT REFERENCES operator_sessions(id),"
    " machine_id TEXT NOT NULL REFERENCES machines(id),"
    " recipe_id TEXT NOT NULL REFERENCES recipes(id),"
    " recipe_version TEXT,"
    " start_time TEXT NOT NULL,"
    " end_time TEXT,"
    " operator_id TEXT,"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('preparing','running','paused','completed','failed','aborted')),"
    " parameters TEXT,"
    " error_message TEXT,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE INDEX process_executions_machine ON process_executions(machine_id, status);"

    "CREATE TABLE process_execution_state ("
    " execution_id TEXT PRIMARY KEY REFERENCES process_executions(id) ON DELETE CASCADE,"
    " current_step_index INTEGER,"
    " current_overall_step INTEGER,"
    " total_overall_steps INTEGER,"
    " current_step_type TEXT,"
    " current_step_name TEXT,"
    " current_valve_number INTEGER,"
    " current_valve_duration_ms INTEGER,"
    " current_purge_duration_ms INTEGER,"
    " current_parameter_id TEXT,"
    " current_parameter_value REAL,"
    " current_loop_count INTEGER,"
    " current_loop_iteration INTEGER,"
    " progress TEXT,"
    " last_updated TEXT NOT NULL);"

    /* The natural key (parameter_id, timestamp) is the PRIMARY KEY of a
     * WITHOUT ROWID table: one b-tree instead of table + unique index, and no
     * surrogate id (Supabase's uuid id has no use locally). The key lists
     * timestamp FIRST so each 1 Hz batch appends at the end of the b-tree; in
     * (parameter_id, timestamp) order every batch of N tags dirties N
     * scattered pages, which measured ~14x slower. */
    "CREATE TABLE parameter_value_history ("
    " parameter_id TEXT NOT NULL,"
    " value REAL,"
    " set_point REAL,"
    " timestamp TEXT NOT NULL,"
    " PRIMARY KEY (timestamp, parameter_id)) WITHOUT ROWID;"

    /* Read per process; within one run timestamps grow, so this order is
     * append-friendly too. */
    "CREATE TABLE process_data_points ("
    " process_id TEXT NOT NULL,"
    " parameter_id TEXT NOT NULL,"
    " value REAL,"
    " set_point REAL,"
    " timestamp TEXT NOT NULL,"
    " PRIMARY KEY (process_id, timestamp, parameter_id)) WITHOUT ROWID;"

    "CREATE TABLE parameter_control_commands ("
    " id TEXT PRIMARY KEY,"
    " parameter_name TEXT,"
    " component_parameter_id TEXT,"
    " target_value REAL NOT NULL,"
    " machine_id TEXT,"
    " write_modbus_address INTEGER,"
    " data_type TEXT,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " executed_at TEXT,"
    " completed_at TEXT,"
    " error_message TEXT);"

    "CREATE TABLE machine_health ("
    " id TEXT PRIMARY KEY,"
    " machine_id TEXT NOT NULL UNIQUE,"
    " plc_connected INTEGER NOT NULL,"
    " plc_last_check TEXT,"
    " plc_last_connected TEXT,"
    " plc_reconnect_attempts INTEGER NOT NULL DEFAULT 0,"
    " plc_error TEXT,"
    " updated_at TEXT NOT NULL);"

    "CREATE TABLE engine_leases ("
    " machine_id TEXT PRIMARY KEY,"
    " holder TEXT NOT NULL,"
    " expires_at TEXT NOT NULL);"

    "CREATE TABLE outbox ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " payload BLOB,"
    " created_ms INTEGER NOT NULL);";

/* Append only. Version N+1 is one more line here. */
static const sq_migration MIGRATIONS[] = {
    {1, "initial schema", MIGRATION_1},
};

#define MIGRATION_COUNT ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int sq_schema_latest_version(void)
{
    return MIGRATIONS[MIGRATION_COUNT - 1].version;
}

static const char SQL_VERSION_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_version ("
                                        " version INTEGER PRIMARY KEY,"
                                        " description TEXT NOT NULL,"
                                        " applied_at TEXT NOT NULL)";
static const char SQL_CURRENT_VERSION[] =
    "SELECT coalesce(max(version), 0) FROM schema_version";
static const char SQL_RECORD_VERSION[] =
    "INSERT INTO schema_version (version, description, applied_at) VALUES (?1, ?2, ?3)";

static ald_status current_version(sq_store *sq, int *version)
{
    sqlite3_stmt *st = sq_stmt(sq, SQL_CURRENT_VERSION);
    if (!st)
        return ALD_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return sq_fail(sq, rc, "reading schema_version");
    *version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return ALD_OK;
}

static ald_status apply_migration(sq_store *sq, const sq_migration *m)
{
    char what[128];
    snprintf(what, sizeof what, "applying schema migration %d (%s)", m->version,
             m->description);
    ald_status rc = sq_exec(sq, m->sql, what);
    if (rc != ALD_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(sq, SQL_RECORD_VERSION);
    if (!st)
        return ALD_ERR_INTERNAL;
    char now[SQ_ISO_LEN];
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sq_iso_time(sq_now_ms(sq), now), -1, SQLITE_TRANSIENT);
    return sq_run(sq, st, what);
}

static ald_status migrate_locked(sq_store *sq)
{
    int from = 0;
    ald_status rc = sq_exec(sq, SQL_VERSION_TABLE, "creating schema_version");
    if (rc == ALD_OK)
        rc = current_version(sq, &from);
    if (rc != ALD_OK)
        return rc;
    if (from > sq_schema_latest_version())
        return sq_error(sq, ALD_ERR_INVALID,
                        "database %s has schema version %d, newer than "
                        "this plugin knows (%d): upgrade the engine or use another file",
                        sq->path, from, sq_schema_latest_version());
    for (int i = 0; i < MIGRATION_COUNT && rc == ALD_OK; i++)
        if (MIGRATIONS[i].version > from)
            rc = apply_migration(sq, &MIGRATIONS[i]);
    if (rc == ALD_OK && from == 0 && sq->seed_demo)
        rc = sq_seed_demo(sq);
    return rc;
}

ald_status sq_migrate(sq_store *sq)
{
    ald_status rc = sq_begin(sq, "starting the schema migration");
    if (rc != ALD_OK)
        return rc;
    rc = migrate_locked(sq);
    if (rc != ALD_OK)
        return sq_rollback(sq, rc);
    return sq_commit(sq, "committing the schema migration");
}
