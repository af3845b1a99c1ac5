/*
 * setpoint.h - the one way the engine writes a parameter: validated against
 * the parameter map (exists, writable, within min/max) whatever the database
 * says, written, read back and compared, then set_value recorded in storage.
 * Transient PLC errors are retried a bounded number of times with back-off.
 * Used by recipe steps, set_parameter commands and parameter_control_commands.
 */
#ifndef ALD_ENGINE_SETPOINT_H
#define ALD_ENGINE_SETPOINT_H

#include <stddef.h>

#include "ports/plc_port.h"
#include "ports/storage_port.h"
#include "tagmap.h"

#define SETPOINT_RETRIES 3
#define SETPOINT_TOLERANCE 1e-3 /* relative, for the read-back */

typedef struct setpoint_target {
    plugin_instance *plc;
    const tagmap *tags;
    plugin_instance *storage; /* may be NULL: then set_value is not recorded */
} setpoint_target;

/* Validate only (no I/O). 0, or -1 with a reason a person understands. */
int setpoint_validate(const tagmap *tags, const char *parameter_id, double value, char *err,
                      size_t errlen);

/* Validate, write, read back, record. 0, or -1 with the reason. */
int setpoint_apply(const setpoint_target *t, const char *parameter_id, double value, char *err,
                   size_t errlen);

/* Valve writes (open, close, pulse, close all) are the PLC port's:
 * plc_port_valve_set, plc_port_pulse, plc_port_close_all_valves. */

#endif
