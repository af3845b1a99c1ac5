/*
 * ald/storage.h - the storage plugin ABI: domain operations, not SQL.
 *
 * A storage plugin keeps the data model of the site's Supabase tables
 * (machines, component_parameters, recipes, recipe_commands, process_*,
 * parameter_value_history, ...). Operations are phrased in that domain; the
 * plugin decides how (SQL, PostgREST, files).
 *
 * CONVENTIONS
 *   - Ids are strings (uuids in practice). Timestamps crossing the ABI are
 *     int64 milliseconds since the Unix epoch (UTC), or ISO-8601 text where a
 *     row is passed through unchanged (created_at).
 *   - A NULL numeric column reads as NaN (doubles) or -1 (ids, counts,
 *     addresses); a NULL text column as a NULL pointer.
 *   - Readers hand rows to a sink callback one at a time; every pointer in a
 *     row is valid only during that callback, so the host copies what it keeps.
 *     This keeps ownership on one side of the boundary.
 *   - Writes that may be replayed after an outage are idempotent (natural keys).
 *
 * LIFECYCLE: create(config) (no I/O) -> start (open/connect, migrate) -> ops
 * -> stop -> destroy. start() failing with a transient status is not fatal:
 * the host retries and routes writes to the fallback store meanwhile.
 *
 * THREADING: unless the plugin declares ALD_CAP_STORAGE_THREAD_SAFE, the host
 * serialises every call on one instance with a mutex. Calls may come from
 * the writer, command, executor and HTTP threads. Every call is bounded by
 * the plugin's configured timeouts; none may block forever.
 *
 * Functions a plugin leaves NULL are "unsupported"; the host says so clearly
 * when a feature needs one (e.g. aldctl import on a read-only store).
 */
#ifndef ALD_STORAGE_H
#define ALD_STORAGE_H

#include <stdint.h>

#include "ald/abi.h"
#include "ald/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Capability bits for ald_plugin_descriptor.capabilities of a storage plugin. */
#define ALD_CAP_STORAGE_THREAD_SAFE (1u << 0) /* calls may run concurrently */
#define ALD_CAP_STORAGE_OUTBOX (1u << 1)      /* durable outbox: can be a fallback */
#define ALD_CAP_STORAGE_LOCAL (1u << 2)       /* local, always reachable (SQLite) */

/* ---- parameter map (component_parameters_full, filtered by machine) ------ */
typedef struct ald_parameter {
    uint32_t struct_size;
    const char *id;             /* component_parameters.id */
    const char *component_id;
    const char *component_name; /* "Valve 1", "MFC 1", "Chamber Heater" */
    const char *name;           /* parameter_name: "valve_state", "flow_rate", ... */
    const char *unit;
    const char *data_type;      /* "float", "int32", "int16", "binary" */
    const char *read_type;      /* "holding_register", "input_register", "coil",
                                   "discrete_input", or NULL */
    int64_t read_address;       /* 0-based PDU address, -1 when none */
    const char *write_type;
    int64_t write_address;
    int is_writable;
    double min_value;     /* NaN = no limit */
    double max_value;     /* NaN = no limit */
    double current_value; /* NaN = NULL */
    double set_value;     /* NaN = NULL */
} ald_parameter;

typedef void (*ald_parameter_sink)(void *ctx, const ald_parameter *p);

/* Live values for component_parameters (one batch per logger cycle). */
typedef struct ald_parameter_value {
    const char *parameter_id;
    double current_value; /* NaN = leave unchanged */
    double set_value;     /* NaN = leave unchanged */
} ald_parameter_value; /* FROZEN: passed in arrays, never extended */

/* ---- samples ------------------------------------------------------------- */
typedef struct ald_sample {
    const char *parameter_id;
    double value;
    double set_point; /* NaN = NULL */
} ald_sample; /* FROZEN: passed in arrays, never extended */

typedef struct ald_sample_batch {
    uint32_t struct_size;
    const char *machine_id;
    const char *process_id; /* non-NULL: also goes to process_data_points */
    int64_t timestamp_ms;   /* one timestamp for the whole cycle */
    const ald_sample *samples;
    size_t count;
    int replay; /* 1 = may have been applied before: ignore duplicates */
} ald_sample_batch;

/* ---- recipes -------------------------------------------------------------- */
typedef struct ald_recipe_info {
    uint32_t struct_size;
    const char *id;
    const char *name;
    const char *description;
    int64_t version;
    double chamber_temperature_set_point; /* NaN = NULL */
    double pressure_set_point;            /* NaN = NULL */
} ald_recipe_info;

/* One recipe_steps row joined with its *_step_config row (if any). */
typedef struct ald_recipe_step {
    uint32_t struct_size;
    const char *id;
    const char *recipe_id;
    const char *parent_step_id; /* NULL = top level */
    int64_t sequence_number;
    const char *name;
    const char *type;            /* as stored: "valve", "purge", "loop", "set parameter", ... */
    const char *parameters_json; /* legacy inline `parameters`, JSON text, or NULL */
    /* valve_step_config */
    int has_valve_config;
    int64_t valve_number;
    int64_t valve_duration_ms;
    /* purge_step_config */
    int has_purge_config;
    int64_t purge_duration_ms;
    const char *gas_type;
    double flow_rate;
    /* loop_step_config */
    int has_loop_config;
    int64_t iteration_count;
    /* parameter_step_config */
    int has_parameter_config;
    const char *parameter_id;
    double target_value;
    int64_t hold_duration_ms;
} ald_recipe_step;

/* Callbacks a recipe read calls: the recipe row, each step (ordered by
 * sequence_number), and each recipe_parameters row. Any may be NULL. */
typedef struct ald_recipe_reader {
    uint32_t struct_size;
    void *ctx;
    void (*recipe)(void *ctx, const ald_recipe_info *r);
    void (*step)(void *ctx, const ald_recipe_step *s);
    void (*parameter)(void *ctx, const char *name, const char *value);
} ald_recipe_reader;

typedef void (*ald_recipe_info_sink)(void *ctx, const ald_recipe_info *r);

/* ---- command queue (recipe_commands) ---------------------------------------- */
typedef struct ald_command {
    uint32_t struct_size;
    const char *id;
    const char *type;            /* start_recipe, stop_recipe, set_parameter, start, stop, ... */
    const char *parameters_json; /* JSON text or NULL */
    const char *machine_id;      /* NULL = any machine */
    const char *status;
    const char *created_at;      /* ISO-8601 as stored */
    const char *error_message;
} ald_command;

typedef void (*ald_command_sink)(void *ctx, const ald_command *c);

/* ---- machines -------------------------------------------------------------- */
typedef struct ald_machine {
    uint32_t struct_size;
    const char *id;
    const char *status; /* idle, processing, error, offline */
    const char *current_process_id;
    const char *current_operator_id;
    const char *failure_description; /* machine_state.failure_description */
} ald_machine;

typedef void (*ald_machine_sink)(void *ctx, const ald_machine *m);

/* Sets machines.status/current_process_id and mirrors into machine_state
 * (creating the row when missing). */
typedef struct ald_machine_update {
    uint32_t struct_size;
    const char *machine_id;
    const char *status;              /* idle, processing, error, offline */
    const char *process_id;          /* NULL clears current_process_id */
    const char *operator_id;         /* NULL leaves current_operator_id alone */
    const char *failure_description; /* NULL = not in failure mode */
} ald_machine_update;

/* ---- process executions ------------------------------------------------------- */
typedef struct ald_process_start {
    uint32_t struct_size;
    const char *machine_id;
    const char *recipe_id;
    const char *session_id;
    const char *operator_id;
    const char *recipe_version_json; /* snapshot of recipe + steps + parameters */
    const char *parameters_json;
    int64_t start_time_ms;
} ald_process_start;

typedef struct ald_process {
    uint32_t struct_size;
    const char *id;
    const char *machine_id;
    const char *recipe_id;
    const char *status; /* preparing, running, paused, completed, failed, aborted */
    int64_t start_time_ms;
    int64_t end_time_ms; /* -1 = still open */
    const char *error_message;
    const char *parameters_json; /* process_executions.parameters (JSON text) or NULL */
} ald_process;

typedef void (*ald_process_sink)(void *ctx, const ald_process *p);

/* process_execution_state, as the old system's apps read it. */
typedef struct ald_process_state {
    uint32_t struct_size;
    const char *execution_id;
    int64_t current_step_index;
    int64_t current_overall_step;
    int64_t total_overall_steps;
    const char *current_step_type;
    const char *current_step_name;
    int64_t current_valve_number;      /* -1 = NULL */
    int64_t current_valve_duration_ms; /* -1 = NULL */
    int64_t current_purge_duration_ms; /* -1 = NULL */
    const char *current_parameter_id;
    double current_parameter_value; /* NaN = NULL */
    int64_t current_loop_count;     /* -1 = NULL */
    int64_t current_loop_iteration; /* 1-based; -1 = NULL */
    int64_t progress_total_steps;
    int64_t progress_completed_steps;
    int64_t progress_total_cycles;
    int64_t progress_completed_cycles;
    int64_t last_updated_ms;
} ald_process_state;

typedef void (*ald_process_state_sink)(void *ctx, const ald_process_state *s);

/* ---- setpoint commands (parameter_control_commands) ---------------------------- */
typedef struct ald_setpoint_command {
    uint32_t struct_size;
    const char *id;
    const char *parameter_name;
    const char *component_parameter_id;
    double target_value;
    const char *machine_id;
    int64_t write_modbus_address; /* -1 = no override */
    const char *data_type;
    const char *created_at;
} ald_setpoint_command;

typedef void (*ald_setpoint_command_sink)(void *ctx, const ald_setpoint_command *c);

/* ---- health ---------------------------------------------------------------------- */
typedef struct ald_health_report {
    uint32_t struct_size;
    const char *machine_id;
    int plc_connected;
    int64_t plc_last_check_ms;
    int64_t plc_last_connected_ms; /* -1 = never */
    int64_t plc_reconnect_attempts;
    const char *plc_error; /* NULL = none */
} ald_health_report;

/* ---- durable outbox (fallback stores) ----------------------------------------- */
typedef struct ald_outbox_record {
    uint32_t struct_size;
    int64_t seq;        /* increasing; ack by seq */
    const char *kind;   /* what the payload is, e.g. "samples" */
    const void *payload;
    size_t payload_len;
    int64_t created_ms;
} ald_outbox_record;

typedef void (*ald_outbox_sink)(void *ctx, const ald_outbox_record *r);

typedef struct ald_storage_vtable {
    uint32_t struct_size; /* sizeof(ald_storage_vtable) as the plugin saw it */

    ald_status (*create)(const ald_host *host, const ald_config *cfg, void **instance,
                         char *err, size_t errlen);
    void (*destroy)(void *instance);
    ald_status (*start)(void *instance);
    void (*stop)(void *instance);
    const char *(*last_error)(void *instance);
    /* Whether the last operation reached the store (cheap flag, no I/O). */
    int (*is_connected)(void *instance);

    /* Parameter map of one machine (component_parameters_full). */
    ald_status (*load_parameters)(void *instance, const char *machine_id,
                                  ald_parameter_sink sink, void *ctx);
    /* current_value / set_value of many parameters in one request. */
    ald_status (*update_parameter_values)(void *instance, const ald_parameter_value *values,
                                          size_t count);
    /* parameter_value_history (+ process_data_points when process_id is set). */
    ald_status (*append_samples)(void *instance, const ald_sample_batch *batch);

    /* Recipes. load_recipe returns ALD_ERR_NOT_FOUND for an unknown id. */
    ald_status (*load_recipe)(void *instance, const char *recipe_id,
                              const ald_recipe_reader *reader);
    ald_status (*list_recipes)(void *instance, ald_recipe_info_sink sink, void *ctx);

    /* Command queue. claim_command is ONE compare-and-set pending -> processing:
     * ALD_OK = claimed by us, ALD_ERR_CONFLICT = someone else had it. */
    ald_status (*fetch_pending_commands)(void *instance, const char *machine_id,
                                         unsigned limit, ald_command_sink sink, void *ctx);
    ald_status (*claim_command)(void *instance, const char *command_id);
    /* status "completed" or "error" (with error_message). */
    ald_status (*finish_command)(void *instance, const char *command_id, const char *status,
                                 const char *error_message);

    /* Machines and operator sessions. */
    ald_status (*get_machine)(void *instance, const char *machine_id, ald_machine_sink sink,
                              void *ctx);
    ald_status (*set_machine_state)(void *instance, const ald_machine_update *update);
    ald_status (*get_or_create_session)(void *instance, const char *operator_id,
                                        const char *machine_id, char *session_id_out,
                                        size_t out_len);

    /* Process executions. */
    ald_status (*create_process)(void *instance, const ald_process_start *start,
                                 char *process_id_out, size_t out_len);
    /* Upsert process_execution_state (latest state wins). */
    ald_status (*update_process_state)(void *instance, const ald_process_state *state);
    ald_status (*finish_process)(void *instance, const char *process_id, const char *status,
                                 const char *error_message, int64_t end_time_ms);
    /* Processes of a machine still preparing/running/paused (orphans after a crash). */
    ald_status (*find_open_processes)(void *instance, const char *machine_id,
                                      ald_process_sink sink, void *ctx);
    ald_status (*get_process_state)(void *instance, const char *process_id,
                                    ald_process_state_sink sink, void *ctx);

    /* Setpoint commands: pending = executed_at IS NULL; claim = CAS on executed_at. */
    ald_status (*fetch_setpoint_commands)(void *instance, const char *machine_id,
                                          unsigned limit, ald_setpoint_command_sink sink,
                                          void *ctx);
    ald_status (*claim_setpoint_command)(void *instance, const char *command_id);
    /* error_message NULL = success (completed_at set). */
    ald_status (*finish_setpoint_command)(void *instance, const char *command_id,
                                          const char *error_message);

    /* machine_health upsert. */
    ald_status (*write_health)(void *instance, const ald_health_report *report);

    /* engine_leases: ALD_OK = we hold it until now + ttl, ALD_ERR_CONFLICT = another
     * live holder. */
    ald_status (*acquire_lease)(void *instance, const char *machine_id, const char *holder,
                                int64_t ttl_ms);
    ald_status (*release_lease)(void *instance, const char *machine_id, const char *holder);

    /* Insert a recipe_commands row (aldctl); id_out receives the new id. */
    ald_status (*insert_command)(void *instance, const char *machine_id, const char *type,
                                 const char *parameters_json, char *id_out, size_t out_len);

    /* Durable outbox (ALD_CAP_STORAGE_OUTBOX). push is durable when it returns
     * ALD_OK (fsync'd); peek hands out the oldest `limit` records; ack deletes
     * every record with seq <= upto_seq. */
    ald_status (*outbox_push)(void *instance, const char *kind, const void *payload,
                              size_t payload_len);
    ald_status (*outbox_peek)(void *instance, unsigned limit, ald_outbox_sink sink, void *ctx);
    ald_status (*outbox_ack)(void *instance, int64_t upto_seq);
    ald_status (*outbox_stats)(void *instance, int64_t *depth, int64_t *oldest_created_ms);

    /* Store a whole recipe (aldctl import): the recipes row, its steps (ids and
     * parent links chosen by the host, uuids) with their *_step_config rows,
     * and its recipe_parameters. A recipe with the same id is replaced, in one
     * transaction where the store has them. */
    ald_status (*save_recipe)(void *instance, const ald_recipe_info *recipe,
                              const ald_recipe_step *const *steps, size_t step_count,
                              const char *const *parameter_names,
                              const char *const *parameter_values, size_t parameter_count);
    /* One recipe_commands row by id (aldctl waits for a command's outcome). */
    ald_status (*get_command)(void *instance, const char *command_id, ald_command_sink sink,
                              void *ctx);

    /* Keep a copy of a machine's parameter map (machine_components and
     * component_parameters rows, upserted by id), so a fallback store can give
     * the engine the last map it had when the primary is down at start. */
    ald_status (*save_parameters)(void *instance, const char *machine_id,
                                  const ald_parameter *const *params, size_t count);
} ald_storage_vtable;

#ifdef __cplusplus
}
#endif
#endif /* ALD_STORAGE_H */
