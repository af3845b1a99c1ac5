/* storage_port.c - the storage port's domain functions: one plugin call
 * each, under the port's calling convention (see storage_port.h). */
#include "ports/storage_port.h"

#include <stdio.h>
#include <string.h>

#include "ports/plugin_instance.h"
#include "ports/row_guard.h"

/* The one calling convention: capability check, the instance lock, the call,
 * the error text captured before the lock is released. */
#define STORAGE_CALL(pi, err, op, ...)                                                       \
    (storage_ops(pi)->op                                                                     \
         ? plugin_call_done((pi), PORT_OP_##op,                                              \
                            (plugin_lock(pi), storage_ops(pi)->op((pi)->inst, __VA_ARGS__)), \
                            (err))                                                           \
         : plugin_call_unsupported((pi), #op, (err)))

/* A call whose plugin hands rows of `type` to a sink: the rows go through the
 * type's sized-copy guard (row_guard.h) before they reach `sink`. */
#define STORAGE_ROWS(type, pi, err, op, sink, ctx, ...)                                      \
    do {                                                                                     \
        type##_guard gd_ = type##_guard_make((sink), (ctx));                                 \
        ald_status st_ = STORAGE_CALL(pi, err, op, __VA_ARGS__, type##_guarded, &gd_);       \
        return row_guard_finish(&gd_.g, (pi), st_, (err));                                   \
    } while (0)

int storage_port_has(const plugin_instance *store, storage_feature feature)
{
    const ald_storage_vtable *ops = storage_ops(store);
    switch (feature) {
    case STORAGE_COMMANDS:
        return ops->fetch_pending_commands && ops->claim_command && ops->finish_command;
    case STORAGE_SETPOINTS:
        return ops->fetch_setpoint_commands && ops->claim_setpoint_command;
    case STORAGE_LEASES:
        return ops->acquire_lease != NULL;
    case STORAGE_OUTBOX:
        return ops->outbox_push && ops->outbox_peek && ops->outbox_ack && ops->outbox_stats;
    case STORAGE_PROGRESS:
        return ops->update_process_state != NULL;
    case STORAGE_HEALTH:
        return ops->write_health != NULL;
    case STORAGE_ORPHANS:
        return ops->find_open_processes && ops->finish_process;
    case STORAGE_LIVE_VALUES:
        return ops->update_parameter_values != NULL;
    case STORAGE_PARAMETER_CACHE:
        return ops->save_parameters != NULL;
    case STORAGE_BATCHED_SAMPLES:
        return ops->append_sample_batches != NULL;
    case STORAGE_LAST_RUN:
        return ops->find_last_finished_process != NULL;
    }
    return 0;
}

/* ---- parameter map and live values ---- */

ald_status storage_port_load_parameters(plugin_instance *store, const char *machine_id,
                                        ald_parameter_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_parameter, store, err, load_parameters, sink, ctx, machine_id);
}

ald_status storage_port_save_parameters(plugin_instance *store, const char *machine_id,
                                        const ald_parameter *const *params, size_t count,
                                        port_error *err)
{
    return STORAGE_CALL(store, err, save_parameters, machine_id, params, count);
}

ald_status storage_port_update_values(plugin_instance *store,
                                      const ald_parameter_value *values, size_t count,
                                      port_error *err)
{
    return STORAGE_CALL(store, err, update_parameter_values, values, count);
}

ald_status storage_port_append_samples(plugin_instance *store, const ald_sample_batch *b,
                                       port_error *err)
{
    return STORAGE_CALL(store, err, append_samples, b);
}

/* ---- recipes ---- */

/* A recipe reader's callbacks share one ctx: the guards of both row types
 * and the caller's reader travel together. */
typedef struct recipe_guard {
    ald_recipe_info_guard info;
    ald_recipe_step_guard step;
    const ald_recipe_reader *reader;
} recipe_guard;

static void guard_recipe(void *ctx, const ald_recipe_info *r)
{
    ald_recipe_info_guarded(&((recipe_guard *)ctx)->info, r);
}

static void guard_step(void *ctx, const ald_recipe_step *s)
{
    ald_recipe_step_guarded(&((recipe_guard *)ctx)->step, s);
}

static void guard_parameter(void *ctx, const char *name, const char *value)
{
    const ald_recipe_reader *reader = ((recipe_guard *)ctx)->reader;
    reader->parameter(reader->ctx, name, value);
}

ald_status storage_port_load_recipe(plugin_instance *store, const char *recipe_id,
                                    const ald_recipe_reader *reader, port_error *err)
{
    recipe_guard rg = {ald_recipe_info_guard_make(reader->recipe, reader->ctx),
                       ald_recipe_step_guard_make(reader->step, reader->ctx), reader};
    ald_recipe_reader guarded = {.struct_size = sizeof guarded, .ctx = &rg,
                                 .recipe = reader->recipe ? guard_recipe : NULL,
                                 .step = reader->step ? guard_step : NULL,
                                 .parameter = reader->parameter ? guard_parameter : NULL};
    ald_status st = STORAGE_CALL(store, err, load_recipe, recipe_id, &guarded);
    st = row_guard_finish(&rg.info.g, store, st, err);
    return row_guard_finish(&rg.step.g, store, st, err);
}

ald_status storage_port_list_recipes(plugin_instance *store, ald_recipe_info_sink sink,
                                     void *ctx, port_error *err)
{
    ald_recipe_info_guard gd = ald_recipe_info_guard_make(sink, ctx);
    ald_status st = STORAGE_CALL(store, err, list_recipes, ald_recipe_info_guarded, &gd);
    return row_guard_finish(&gd.g, store, st, err);
}

ald_status storage_port_save_recipe(plugin_instance *store, const ald_recipe_info *recipe,
                                    const ald_recipe_step *const *steps, size_t step_count,
                                    const char *const *names, const char *const *values,
                                    size_t parameter_count, port_error *err)
{
    return STORAGE_CALL(store, err, save_recipe, recipe, steps, step_count, names, values,
                        parameter_count);
}

/* ---- commands ---- */

ald_status storage_port_fetch_commands(plugin_instance *store, const char *machine_id,
                                       unsigned limit, ald_command_sink sink, void *ctx,
                                       port_error *err)
{
    STORAGE_ROWS(ald_command, store, err, fetch_pending_commands, sink, ctx, machine_id, limit);
}

ald_status storage_port_claim_command(plugin_instance *store, const char *command_id,
                                      port_error *err)
{
    return STORAGE_CALL(store, err, claim_command, command_id);
}

ald_status storage_port_finish_command(plugin_instance *store, const char *command_id,
                                       const char *status, const char *message,
                                       port_error *err)
{
    return STORAGE_CALL(store, err, finish_command, command_id, status, message);
}

ald_status storage_port_insert_command(plugin_instance *store, const char *machine_id,
                                       const char *type, const char *parameters_json,
                                       char *id_out, size_t out_len, port_error *err)
{
    return STORAGE_CALL(store, err, insert_command, machine_id, type, parameters_json, id_out,
                        out_len);
}

ald_status storage_port_get_command(plugin_instance *store, const char *command_id,
                                    ald_command_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_command, store, err, get_command, sink, ctx, command_id);
}

ald_status storage_port_fetch_setpoints(plugin_instance *store, const char *machine_id,
                                        unsigned limit, ald_setpoint_command_sink sink,
                                        void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_setpoint_command, store, err, fetch_setpoint_commands, sink, ctx, machine_id,
                 limit);
}

ald_status storage_port_claim_setpoint(plugin_instance *store, const char *command_id,
                                       port_error *err)
{
    return STORAGE_CALL(store, err, claim_setpoint_command, command_id);
}

ald_status storage_port_finish_setpoint(plugin_instance *store, const char *command_id,
                                        const char *error_message, port_error *err)
{
    return STORAGE_CALL(store, err, finish_setpoint_command, command_id, error_message);
}

/* ---- the machine ---- */

static void copy_text(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

typedef struct machine_copy {
    storage_machine *out;
    int found;
} machine_copy;

static void on_machine(void *ctx, const ald_machine *m)
{
    machine_copy *mc = ctx;
    mc->found = 1;
    copy_text(mc->out->status, sizeof mc->out->status, m->status);
    copy_text(mc->out->process_id, sizeof mc->out->process_id, m->current_process_id);
    copy_text(mc->out->operator_id, sizeof mc->out->operator_id, m->current_operator_id);
    copy_text(mc->out->failure, sizeof mc->out->failure, m->failure_description);
}

ald_status storage_port_get_machine(plugin_instance *store, const char *machine_id,
                                    storage_machine *out, port_error *err)
{
    memset(out, 0, sizeof *out);
    machine_copy mc = {out, 0};
    ald_machine_guard gd = ald_machine_guard_make(on_machine, &mc);
    ald_status st = STORAGE_CALL(store, err, get_machine, machine_id, ald_machine_guarded, &gd);
    st = row_guard_finish(&gd.g, store, st, err);
    return st == ALD_OK && !mc.found ? ALD_ERR_NOT_FOUND : st;
}

ald_status storage_port_set_machine_state(plugin_instance *store,
                                          const ald_machine_update *update, port_error *err)
{
    return STORAGE_CALL(store, err, set_machine_state, update);
}

ald_status storage_port_get_session(plugin_instance *store, const char *operator_id,
                                    const char *machine_id, char *session_out, size_t len,
                                    port_error *err)
{
    return STORAGE_CALL(store, err, get_or_create_session, operator_id, machine_id,
                        session_out, len);
}

/* ---- processes ---- */

ald_status storage_port_create_process(plugin_instance *store, const ald_process_start *ps,
                                       char *process_out, size_t len, port_error *err)
{
    return STORAGE_CALL(store, err, create_process, ps, process_out, len);
}

ald_status storage_port_update_progress(plugin_instance *store, const ald_process_state *s,
                                        port_error *err)
{
    return STORAGE_CALL(store, err, update_process_state, s);
}

ald_status storage_port_finish_process(plugin_instance *store, const char *process_id,
                                       const char *status, const char *message,
                                       int64_t end_ms, port_error *err)
{
    return STORAGE_CALL(store, err, finish_process, process_id, status, message, end_ms);
}

ald_status storage_port_find_open_processes(plugin_instance *store, const char *machine_id,
                                            ald_process_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_process, store, err, find_open_processes, sink, ctx, machine_id);
}

ald_status storage_port_get_progress(plugin_instance *store, const char *process_id,
                                     ald_process_state_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_process_state, store, err, get_process_state, sink, ctx, process_id);
}

ald_status storage_port_find_last_finished(plugin_instance *store, const char *machine_id,
                                           ald_process_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_process, store, err, find_last_finished_process, sink, ctx, machine_id);
}

/* ---- health and leases ---- */

ald_status storage_port_write_health(plugin_instance *store, const ald_health_report *r,
                                     port_error *err)
{
    return STORAGE_CALL(store, err, write_health, r);
}

ald_status storage_port_acquire_lease(plugin_instance *store, const char *machine_id,
                                      const char *holder, int64_t ttl_ms, port_error *err)
{
    return STORAGE_CALL(store, err, acquire_lease, machine_id, holder, ttl_ms);
}

ald_status storage_port_release_lease(plugin_instance *store, const char *machine_id,
                                      const char *holder, port_error *err)
{
    return STORAGE_CALL(store, err, release_lease, machine_id, holder);
}

/* ---- the fallback's durable outbox ---- */

ald_status storage_port_outbox_push(plugin_instance *fallback, const char *kind,
                                    const char *payload, port_error *err)
{
    return STORAGE_CALL(fallback, err, outbox_push, kind, payload, strlen(payload));
}

ald_status storage_port_outbox_peek(plugin_instance *fallback, unsigned limit,
                                    ald_outbox_sink sink, void *ctx, port_error *err)
{
    STORAGE_ROWS(ald_outbox_record, fallback, err, outbox_peek, sink, ctx, limit);
}

ald_status storage_port_outbox_ack(plugin_instance *fallback, int64_t upto, port_error *err)
{
    return STORAGE_CALL(fallback, err, outbox_ack, upto);
}

ald_status storage_port_outbox_stats(plugin_instance *fallback, int64_t *depth,
                                     int64_t *oldest_ms, port_error *err)
{
    return STORAGE_CALL(fallback, err, outbox_stats, depth, oldest_ms);
}
