/*
 * doctor.h - `ald-engine --doctor`: a live check of the store and the PLC.
 *
 * --check-config does no I/O (systemd runs it before every start, and a
 * store that is down must not stop the unit from starting); --doctor
 * connects. It starts the configured storage instance(s) and reports, one
 * line each: the connection; what the plugin itself found wrong at start
 * (storage-supabase names the objects of deploy/supabase/migrations the
 * project lacks and the command that applies them); and, in the primary,
 * the machine row of MACHINE_ID and its status and the parameter map's size
 * (the fallback is filled from the primary when the engine starts). Then it
 * hands that map to the PLC instance, reads every tag once (retrying while the
 * plugin connects, DOCTOR_PLC_WAIT_MS) and judges the values: implausible
 * readings are named, and a byte-order swap that makes the floats plausible
 * is named with the setting to change (plausibility.h). The check itself
 * writes nothing (a plugin's start does what it always does: storage-sqlite
 * creates its database file when there is none; the doctor never holds the
 * machine's lease, so a PLC heartbeat is not written).
 */
#ifndef ALD_ENGINE_DOCTOR_H
#define ALD_ENGINE_DOCTOR_H

#include "config.h"

/* Prints the report to stdout; the number of problems found (0 = healthy),
 * or -1 when the plugins cannot even be created (the message on stderr). */
int doctor_run(const engine_config *cfg);

#endif
