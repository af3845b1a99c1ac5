/*
 * sqlite_cache.c - save_parameters: keep a copy of another store's parameter
 * map, so that as a fallback this store can give the engine the last map it
 * saw when the primary is down at start. Rows are upserted by id (never
 * REPLACEd: a REPLACE would cascade-delete the samples that reference them).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

static const char SQL_MACHINE[] =
    "INSERT INTO machines (id, name, status) VALUES (?1, 'cached machine ' || ?1, 'offline')"
    " ON CONFLICT(id) DO NOTHING";
static const char SQL_COMPONENT[] =
    "INSERT INTO machine_components (id, machine_id, name, type) VALUES (?1, ?2, ?3, 'cached')"
    " ON CONFLICT(id) DO UPDATE SET machine_id = excluded.machine_id, name = excluded.name";
static const char SQL_PARAMETER[] =
    "INSERT INTO component_parameters (id, component_id, name, unit, data_type, min_value,"
    " max_value, current_value, set_value, is_writable, read_modbus_address, read_modbus_type,"
    " write_modbus_address, write_modbus_type)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT(id) DO UPDATE SET component_id = excluded.component_id,"
    " name = excluded.name, unit = excluded.unit, data_type = excluded.data_type,"
    " min_value = excluded.min_value, max_value = excluded.max_value,"
    " is_writable = excluded.is_writable, read_modbus_address = excluded.read_modbus_address,"
    " read_modbus_type = excluded.read_modbus_type,"
    " write_modbus_address = excluded.write_modbus_address,"
    " write_modbus_type = excluded.write_modbus_type";

static const char *known_data_type(const char *t)
{
    static const char *const ok[] = {"float", "int32", "int16", "binary"};
    for (size_t i = 0; t && i < 4; i++)
        if (!strcmp(t, ok[i]))
            return t;
    return "float";
}

static ald_status save_one(sq_store *sq, const char *machine_id, const ald_parameter *p)
{
    if (!p->id || !p->component_id)
        return sq_error(sq, ALD_ERR_INVALID, "save_parameters: a row lacks id or component_id");
    sqlite3_stmt *c = sq_stmt(sq, SQL_COMPONENT);
    if (!c)
        return ALD_ERR_INTERNAL;
    sq_bind_text(c, 1, p->component_id);
    sq_bind_text(c, 2, machine_id);
    sq_bind_text(c, 3, p->component_name ? p->component_name : p->component_id);
    ald_status rc = sq_run(sq, c, "caching machine_components");
    sqlite3_stmt *st = rc == ALD_OK ? sq_stmt(sq, SQL_PARAMETER) : NULL;
    if (!st)
        return rc == ALD_OK ? ALD_ERR_INTERNAL : rc;
    sq_bind_text(st, 1, p->id);
    sq_bind_text(st, 2, p->component_id);
    sq_bind_text(st, 3, p->name ? p->name : p->id);
    sq_bind_text(st, 4, p->unit);
    sq_bind_text(st, 5, known_data_type(p->data_type));
    sq_bind_double(st, 6, p->min_value);
    sq_bind_double(st, 7, p->max_value);
    sq_bind_double(st, 8, p->current_value);
    sq_bind_double(st, 9, p->set_value);
    sqlite3_bind_int(st, 10, p->is_writable ? 1 : 0);
    sq_bind_int_or_null(st, 11, p->read_address);
    sq_bind_text(st, 12, p->read_type);
    sq_bind_int_or_null(st, 13, p->write_address);
    sq_bind_text(st, 14, p->write_type);
    return sq_run(sq, st, "caching component_parameters");
}

ald_status sq_save_parameters(void *instance, const char *machine_id,
                              const ald_parameter *const *params, size_t count)
{
    sq_store *sq = instance;
    if (!machine_id || (count && !params))
        return sq_error(sq, ALD_ERR_INVALID, "save_parameters: machine_id and rows required");
    ald_status rc = sq_enter(sq, "save_parameters");
    if (rc != ALD_OK)
        return rc;
    rc = sq_begin(sq, "save_parameters");
    sqlite3_stmt *m = rc == ALD_OK ? sq_stmt(sq, SQL_MACHINE) : NULL;
    if (m) {
        sq_bind_text(m, 1, machine_id);
        rc = sq_run(sq, m, "caching the machine row");
    } else if (rc == ALD_OK) {
        rc = ALD_ERR_INTERNAL;
    }
    for (size_t i = 0; rc == ALD_OK && i < count; i++)
        rc = save_one(sq, machine_id, params[i]);
    rc = rc == ALD_OK ? sq_commit(sq, "save_parameters") : sq_rollback(sq, rc);
    return sq_leave(sq, rc);
}
