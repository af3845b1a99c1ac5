/*
 * safety_rig.h - the engine as the safety tests drive it: the real SQLite
 * store (with its seeded demo machine: valves 1-6 at coil:0-5, MFC 1 ...),
 * the fault-injecting PLC (tests/fixtures/plugins/plc_fault.c) loaded through
 * the real loader, the tag map, an executor and a command processor whose
 * polls the test makes itself.
 */
#ifndef ALD_TEST_SAFETY_RIG_H
#define ALD_TEST_SAFETY_RIG_H

#include <sqlite3.h>

#include "commands.h"
#include "executor.h"
#include "fixtures/plugins/plc_fault.h"
#include "ports/plugin_instance.h"
#include "tagmap.h"

#define RIG_MACHINE "e3e6e280-0000-4000-8000-000000000001"
#define RIG_MFC1 "a0000000-0000-4000-8000-000000000701"     /* flow setpoint, [0, 500] */
#define RIG_VALVES 6

typedef struct safety_rig {
    char dir[512];
    char db_path[600];
    plugin_instance plc, store;
    tagmap tags;
    executor exec;
    command_processor cp;
    sqlite3 *db;
    const plc_fault_control *fault;
} safety_rig;

extern safety_rig R;

/* Build everything above in a fresh directory. */
void rig_up(void);
/* Load a plugin instance through the real loader and start it. */
void rig_instance(plugin_instance *pi, const char *name, const char *plugin_so,
                  plugin_role role, const char *settings);

/* SQL on the store's file through a connection of the test's own. */
void rig_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first column of the first row as text ("" when none). Static buffer. */
const char *rig_query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A pending recipe_commands row for the rig's machine. */
void rig_command(const char *id, const char *type, const char *params_json);
/* A recipe `id` of one valve step (valve, duration_ms). */
void rig_valve_recipe(const char *id, int valve, int duration_ms);

/* Wait (polling a state, bounded at 60 s) until the executor is idle. */
void rig_wait_idle(void);
/* Wait until the fault PLC has logged at least `n` write attempts. */
void rig_wait_writes(size_t n);

/* The tag a valve / a parameter is written at. */
size_t rig_valve_tag(int valve);
size_t rig_param_tag(const char *parameter_id);
/* Write attempts to `tag` in the fault PLC's log (any value). */
size_t rig_writes_to(size_t tag);

#endif
