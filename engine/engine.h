/*
 * engine.h - wires the configured plugins, the logger and the writer
 * together, and owns the start/stop order:
 *   start: storage (primary, fallback) -> parameter map -> PLC tags -> PLC ->
 *          valve guard (once not a standby: every valve closed and read back,
 *          unconfirmed ones owed) -> lease keeper -> writer -> logger -> executor
 *          -> command processor (which, once it holds the lease, recovers runs
 *          left by gone engines, valves closed, before its first command;
 *          a start's recipe loads on its starter thread through the loader,
 *          a second instance of the storage plugin opened after the first)
 *          -> "started"
 *   stop:  "stopping" -> command processor (a start still loading is
 *          cancelled and its load joined) -> loader -> executor (a running recipe is
 *          aborted: valves closed first) -> valve guard (owed valves retried
 *          up to 2 s, else an ERROR names them) -> logger -> writer (drains) ->
 *          lease released (the standby takes over at once) -> PLC -> storage
 */
#ifndef ALD_ENGINE_ENGINE_H
#define ALD_ENGINE_ENGINE_H

#include <stdint.h>

#include "batchq.h"
#include "commands.h"
#include "config.h"
#include "executor.h"
#include "lease.h"
#include "logger.h"
#include "ports/plugin_instance.h"
#include "tagmap.h"
#include "sink.h"
#include "valve_guard.h"
#include "writer.h"

#define ENGINE_QUEUE_BATCHES 120 /* two minutes of 1 Hz cycles */
#define ENGINE_HEALTH_REPORT_S 10
#define ENGINE_ALIVE_INTERVALS 3 /* logger cycles (or run-step seconds) of slack */
/* A fallback that did not open is retried after 10 s, then ever less often
 * (each retry logs the store's warning), up to every 5 min. */
#define ENGINE_FALLBACK_RETRY_S 10
#define ENGINE_FALLBACK_RETRY_MAX_S 300

typedef struct engine {
    const engine_config *cfg;
    plugin_instance plc;
    plugin_instance storage;
    plugin_instance loader; /* a second instance of storage, for recipe loads (starter.h) */
    int have_loader;
    plugin_instance fallback;
    int have_fallback;
    sink_set sinks; /* role = "sink" instances */
    tagmap tags;
    batchq queue;
    param_logger logger;
    sample_writer writer;
    outbox ob;
    int have_outbox;
    executor exec;
    int exec_ready;
    command_processor commands;
    lease_keeper lease;
    valve_guard guard;
    uint64_t next_status_ns;
    uint64_t next_health_ns;
    uint64_t next_fallback_retry_ns; /* while the fallback store is not open */
    unsigned fallback_retry_s;
    int64_t plc_last_connected_ms;
} engine;

/* Load and create every active plugin instance (no I/O in the plugins);
 * this alone is what --check-config runs. -1 with a message. */
int engine_create_plugins(engine *e, const engine_config *cfg, char *err, size_t errlen);

/* Everything after creation, up to a running logger. -1 with a message. */
int engine_start(engine *e, char *err, size_t errlen);

/* Periodic work on the main thread: the status line and the machine_health row. */
void engine_housekeeping(engine *e, uint64_t mono_now);

/* 1 while the logger cycles (its last cycle within 3 intervals) and a running
 * recipe's thread keeps its deadlines: what the systemd watchdog is fed on. */
int engine_is_alive(const engine *e, uint64_t mono_now);

/* Stop threads and plugins in order; safe after a partial start. */
void engine_stop(engine *e);

#endif
