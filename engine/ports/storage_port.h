/*
 * storage_port.h - the engine's one way to call a storage plugin: domain
 * functions (store a sample batch, claim and finish a command, get the
 * machine, record a run's outcome) over the plugin's vtable, and the routing
 * between the primary store, the fallback store and its outbox. Only
 * engine/ports/ sees the vtable; ald-engine and aldctl both call this port.
 *
 * CALLING CONVENTION (stated here once; the callers never lock):
 *   - A missing operation is ALD_ERR_UNSUPPORTED with a text naming the
 *     instance and the operation; storage_port_has() asks before a feature
 *     is switched on.
 *   - Every call takes the instance lock unless the plugin declares itself
 *     thread-safe (the ABI's threading contract), and copies the plugin's
 *     error text into the caller's port_error inside that critical section.
 *   - Sinks run inside the call (with the lock held): they copy what they
 *     keep and must not call the port again on the same instance.
 *
 * ROUTING (storage_route.c): samples and run outcomes go to the primary; when
 * it is down or refuses, durably into the fallback's outbox, and the replay
 * thread (outbox.c) applies them later with storage_port_replay.
 */
#ifndef ALD_ENGINE_STORAGE_PORT_H
#define ALD_ENGINE_STORAGE_PORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ald/storage.h"
#include "ports/port.h"

struct outbox;

/* Features a worker switches on only when the store has them. */
typedef enum storage_feature {
    STORAGE_COMMANDS,       /* fetch, claim and finish recipe_commands */
    STORAGE_SETPOINTS,      /* fetch and claim parameter_control_commands */
    STORAGE_LEASES,         /* engine_leases */
    STORAGE_OUTBOX,         /* the durable outbox (a fallback store) */
    STORAGE_PROGRESS,       /* process_execution_state */
    STORAGE_HEALTH,         /* machine_health */
    STORAGE_ORPHANS,        /* find and finish processes left open by a crash */
    STORAGE_LIVE_VALUES,    /* current_value / set_value */
    STORAGE_PARAMETER_CACHE, /* keep a copy of the parameter map */
    STORAGE_BATCHED_SAMPLES, /* many sample batches in one call (ABI 1.1) */
    STORAGE_LAST_RUN         /* the machine's last finished process (ABI 1.1) */
} storage_feature;

int storage_port_has(const plugin_instance *store, storage_feature feature);

/* ---- parameter map and live values ---- */
ald_status storage_port_load_parameters(plugin_instance *store, const char *machine_id,
                                        ald_parameter_sink sink, void *ctx, port_error *err);
ald_status storage_port_save_parameters(plugin_instance *store, const char *machine_id,
                                        const ald_parameter *const *params, size_t count,
                                        port_error *err);
ald_status storage_port_update_values(plugin_instance *store,
                                      const ald_parameter_value *values, size_t count,
                                      port_error *err);

/* ---- recipes ---- */
ald_status storage_port_load_recipe(plugin_instance *store, const char *recipe_id,
                                    const ald_recipe_reader *reader, port_error *err);
ald_status storage_port_list_recipes(plugin_instance *store, ald_recipe_info_sink sink,
                                     void *ctx, port_error *err);
ald_status storage_port_save_recipe(plugin_instance *store, const ald_recipe_info *recipe,
                                    const ald_recipe_step *const *steps, size_t step_count,
                                    const char *const *names, const char *const *values,
                                    size_t parameter_count, port_error *err);

/* ---- commands ---- */
ald_status storage_port_fetch_commands(plugin_instance *store, const char *machine_id,
                                       unsigned limit, ald_command_sink sink, void *ctx,
                                       port_error *err);
ald_status storage_port_claim_command(plugin_instance *store, const char *command_id,
                                      port_error *err);
ald_status storage_port_finish_command(plugin_instance *store, const char *command_id,
                                       const char *status, const char *message,
                                       port_error *err);
ald_status storage_port_insert_command(plugin_instance *store, const char *machine_id,
                                       const char *type, const char *parameters_json,
                                       char *id_out, size_t out_len, port_error *err);
ald_status storage_port_get_command(plugin_instance *store, const char *command_id,
                                    ald_command_sink sink, void *ctx, port_error *err);
ald_status storage_port_fetch_setpoints(plugin_instance *store, const char *machine_id,
                                        unsigned limit, ald_setpoint_command_sink sink,
                                        void *ctx, port_error *err);
ald_status storage_port_claim_setpoint(plugin_instance *store, const char *command_id,
                                       port_error *err);
ald_status storage_port_finish_setpoint(plugin_instance *store, const char *command_id,
                                        const char *error_message, port_error *err);

/* ---- the machine ---- */
#define STORAGE_ID_LEN 64

/* A machines row, copied out of the sink. */
typedef struct storage_machine {
    char status[32];
    char process_id[STORAGE_ID_LEN];
    char operator_id[STORAGE_ID_LEN];
    char failure[1024];
} storage_machine;

/* ALD_ERR_NOT_FOUND when the store has no such machine. */
ald_status storage_port_get_machine(plugin_instance *store, const char *machine_id,
                                    storage_machine *out, port_error *err);
ald_status storage_port_set_machine_state(plugin_instance *store,
                                          const ald_machine_update *update, port_error *err);
ald_status storage_port_get_session(plugin_instance *store, const char *operator_id,
                                    const char *machine_id, char *session_out, size_t len,
                                    port_error *err);

/* ---- processes ---- */
ald_status storage_port_create_process(plugin_instance *store, const ald_process_start *ps,
                                       char *process_out, size_t len, port_error *err);
ald_status storage_port_update_progress(plugin_instance *store, const ald_process_state *s,
                                        port_error *err);
ald_status storage_port_finish_process(plugin_instance *store, const char *process_id,
                                       const char *status, const char *message,
                                       int64_t end_ms, port_error *err);
ald_status storage_port_find_open_processes(plugin_instance *store, const char *machine_id,
                                            ald_process_sink sink, void *ctx,
                                            port_error *err);
ald_status storage_port_get_progress(plugin_instance *store, const char *process_id,
                                     ald_process_state_sink sink, void *ctx, port_error *err);
/* The machine's most recently ended process, once to sink (not at all when
 * it has none); ALD_ERR_UNSUPPORTED from a 1.0 store. */
ald_status storage_port_find_last_finished(plugin_instance *store, const char *machine_id,
                                           ald_process_sink sink, void *ctx, port_error *err);

/* ---- health and leases ---- */
ald_status storage_port_write_health(plugin_instance *store, const ald_health_report *r,
                                     port_error *err);
ald_status storage_port_acquire_lease(plugin_instance *store, const char *machine_id,
                                      const char *holder, int64_t ttl_ms, port_error *err);
ald_status storage_port_release_lease(plugin_instance *store, const char *machine_id,
                                      const char *holder, port_error *err);

/* ---- the fallback's durable outbox ---- */
ald_status storage_port_outbox_push(plugin_instance *fallback, const char *kind,
                                    const char *payload, port_error *err);
/* Hand out up to limit records (oldest first) to sink, under the fallback's
 * lock: the sink must only copy them (the replay sends them to the primary
 * after the lock is released, so the writer keeps storing meanwhile). */
ald_status storage_port_outbox_peek(plugin_instance *fallback, unsigned limit,
                                    ald_outbox_sink sink, void *ctx, port_error *err);
/* Delete every record up to and including seq upto (later pushes survive). */
ald_status storage_port_outbox_ack(plugin_instance *fallback, int64_t upto, port_error *err);
ald_status storage_port_outbox_stats(plugin_instance *fallback, int64_t *depth,
                                     int64_t *oldest_ms, port_error *err);

/* ---- routing (storage_route.c) ---- */

/* Store one sample batch and its live values: into the primary, or into the
 * outbox while the primary is down or when it refuses (then it is marked
 * down). Without an outbox a failure is returned for the caller to retry.
 * ob may be NULL. Updates the database-connected state. */
/* append_samples on one instance, nothing else (the sinks' call). */
ald_status storage_port_append_samples(plugin_instance *store, const ald_sample_batch *b,
                                       port_error *err);

ald_status storage_port_store_samples(plugin_instance *primary, struct outbox *ob,
                                      const ald_sample_batch *batch,
                                      const ald_parameter_value *live, size_t live_count,
                                      port_error *err);

/* Apply one run-outcome record to a store: kind "finish_process" {id, status,
 * error, end_ms}, "machine_state" {machine_id, status, process_id,
 * operator_id, failure} or "finish_command" {id, status, error}. The one
 * mapping from these records to storage operations, live and on replay. */
ald_status storage_port_apply_outcome(plugin_instance *store, const char *kind, json_t *js,
                                      port_error *err);

typedef enum outcome_route { OUTCOME_STORED, OUTCOME_KEPT, OUTCOME_LOST } outcome_route;
/* Record a run outcome: to the primary, or when it is down or refuses
 * (logged), durably into the outbox (replayed in order with the samples).
 * *why is the primary's status (ALD_ERR_DISCONNECTED while it is down). */
outcome_route storage_port_record_outcome(plugin_instance *primary, struct outbox *ob,
                                          const char *kind, json_t *js, ald_status *why);

/* Replay one outbox record of any kind into a store (the apply function the
 * replay thread is given). Idempotent: samples ignore duplicates, the
 * outcome records are updates that may be applied twice. */
ald_status storage_port_replay(plugin_instance *store, const ald_outbox_record *r,
                               port_error *err);

/* Replay many consecutive "samples" records in ONE call of the store's
 * append_sample_batches (STORAGE_BATCHED_SAMPLES): all or nothing. A record
 * that does not decode makes it ALD_ERR_INVALID before anything is sent
 * (the caller then replays the records one by one, so the bad one is named
 * and skipped alone); a store without the operation is ALD_ERR_UNSUPPORTED.
 * Every record must be of kind "samples". */
ald_status storage_port_replay_samples(plugin_instance *store,
                                       const ald_outbox_record *records, size_t count,
                                       port_error *err);

#endif
