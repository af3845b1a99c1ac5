/*
 * plc_port.h - the engine's one way to call a PLC plugin: domain functions
 * (read all tags, open/close/pulse a valve, write a setpoint) over the
 * plugin's vtable. Only engine/ports/ sees the vtable.
 *
 * LOCKING POLICY (stated here once; the callers never lock):
 *   - Reads (plc_port_read_all, plc_port_read_tag), set_tags and error text
 *     for health take the instance lock, which serialises them with the
 *     logger's bulk read as the ABI's threading contract requires.
 *   - The control lane (plc_port_valve_set, plc_port_pulse,
 *     plc_port_close_all_valves, the write of plc_port_write_setpoint) never
 *     takes the instance lock: the ABI lets write_tag() and pulse() run beside
 *     read_all(), and a valve write must not wait behind a bulk read. Control
 *     calls take the instance's control lock instead, which serialises them
 *     with each other only.
 *   - The plugin's error text is captured into the caller's port_error inside
 *     the same critical section as the failing call.
 *
 * Every valve and setpoint write goes through these functions, so policy on
 * PLC writes has one place to live.
 */
#ifndef ALD_ENGINE_PLC_PORT_H
#define ALD_ENGINE_PLC_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "ald/plc.h"
#include "ports/port.h"
#include "tagmap.h"

/* Hand the machine's tag map to the plugin (plans its bulk reads once). */
ald_status plc_port_set_tags(plugin_instance *plc, const tagmap *tags, port_error *err);

/* One bulk read of every tag into out (tag map order). *connected (may be
 * NULL) is the plugin's link state after the read. Counts a failure in
 * ald_plc_errors_total. */
ald_status plc_port_read_all(plugin_instance *plc, ald_tag_value *out, size_t count,
                             int *connected, port_error *err);

/* Whether single tags can be read (read-back, wait steps, readiness). */
int plc_port_can_read_tags(const plugin_instance *plc);
/* Read one tag now; the tag's own quality is folded into the status. */
ald_status plc_port_read_tag(plugin_instance *plc, size_t tag, double *value,
                             port_error *err);

/* Open (1) or close (0) valve N. ALD_ERR_NOT_FOUND: no such valve;
 * ALD_ERR_CONFLICT: opening a valve that is owed closed. A plain write: a
 * close that must be confirmed is plc_port_close_valve. */
ald_status plc_port_valve_set(plugin_instance *plc, const tagmap *tags, int valve_number,
                              int open, port_error *err);
/* Open valve N with the PLC's own timer closing it after duration_ms.
 * ALD_ERR_UNSUPPORTED when the plugin or this valve has no PLC timer: the
 * caller then opens with plc_port_valve_set and closes at its deadline. */
ald_status plc_port_pulse(plugin_instance *plc, const tagmap *tags, int valve_number,
                          uint32_t duration_ms, port_error *err);
/* OWED VALVES (docs/safety.md, "Owed valves"): every close goes through
 * plc_port_close_valve, which writes OFF and reads the valve back. A close
 * whose write fails or whose read-back is not OFF marks the valve *owed*
 * (g_state.valves_owed); a confirmed OFF clears it. An owed valve cannot be
 * opened (plc_port_valve_set/plc_port_pulse refuse with ALD_ERR_CONFLICT);
 * plc_port_retry_owed re-commands owed valves closed until confirmed. */

/* Close valve N and confirm it: ALD_OK only when the PLC reads it OFF (or,
 * for a plugin that cannot read single tags, when the write succeeded). */
ald_status plc_port_close_valve(plugin_instance *plc, const tagmap *tags, int valve_number,
                                port_error *err);
/* Command every valve of the map closed and confirm each (each failure
 * logged; unconfirmed valves are owed). Returns how many are not confirmed. */
int plc_port_close_all_valves(plugin_instance *plc, const tagmap *tags);
/* One more close of every owed valve. Returns how many are still owed. */
int plc_port_retry_owed(plugin_instance *plc, const tagmap *tags);
/* How many valves are owed now (bits of g_state.valves_owed). */
int plc_port_owed_count(void);
/* Whether valve N is owed closed: nothing may open it, by any path. */
int plc_port_valve_is_owed(int valve_number);
/* "valve 1, valve 3" for the owed valves ("" when none). */
void plc_port_owed_names(char *buf, size_t len);

/* Write value to the tag and read it back (one attempt; the caller retries
 * and compares). Without single-tag reads the write is trusted: *readback
 * is the value written. */
ald_status plc_port_write_setpoint(plugin_instance *plc, size_t write_tag, double value,
                                   double *readback, port_error *err);

/* Tell the plugin whether this engine holds the machine's lease (ABI 1.2
 * set_active), so that writes it makes on its own (the plc-modbus heartbeat)
 * happen only while it does: a standby writes nothing to the PLC. Called by
 * the lease keeper on every change of the lease state (lease.c). Takes no
 * lock: the ABI lets set_active() run beside any other operation, and the
 * lease thread must not wait behind a bulk read. Returns 1 when the plugin
 * was told, 0 when it has no such operation (a 1.0/1.1 plugin, or one that
 * makes no writes of its own: there is nothing to tell it). */
int plc_port_set_active(plugin_instance *plc, int active);

/* The PLC's current error text for the health report: the last failed bulk
 * read's, captured by the port (the plugin's own text is per calling thread,
 * and the thread asking here is not the logger), else the plugin's. */
void plc_port_error_text(plugin_instance *plc, char *buf, size_t len);
/* Make the valve path allocation-free from its first pulse: register the
 * call metrics of the operations it uses (those the plugin implements). */
void plc_port_prepare_valve_path(plugin_instance *plc);

#endif
