/*
 * port_metrics.h - how often each plugin operation is called, how it ends
 * and how long it takes, per plugin instance: the series
 *   ald_plugin_calls_total{instance,op,outcome}   outcome = ok|transient|refused
 *   ald_plugin_call_seconds{instance,op}          histogram, 10 us .. 10 s
 * recorded in one place, where a port completes a call (plugin_call_done,
 * plugin_control_done in plugin_instance.c). Only calls that reached the
 * plugin count: an operation the plugin lacks is not a call.
 *
 * COST: an operation's series are registered on its first call (the registry
 * lock, once); every later call is two relaxed atomic loads, one counter add
 * and one histogram observation (atomics, no lock, no allocation).
 * THREADING: record from any thread. The cached series die with
 * metrics_reset(): reset only while no instance exists (tests, shutdown).
 */
#ifndef ALD_ENGINE_PORT_METRICS_H
#define ALD_ENGINE_PORT_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "ald/abi.h"
#include "metrics.h"

/* Every vtable operation a port calls (the PLC's, then the storage's). */
// clang-format off
#define PORT_OPS(X)                                                                        \
    X(set_tags) X(read_all) X(read_tags) X(write_tag) X(pulse) X(load_parameters)          \
    X(save_parameters) X(update_parameter_values) X(append_samples) X(load_recipe)         \
    X(list_recipes) X(save_recipe) X(fetch_pending_commands) X(claim_command)              \
    X(finish_command) X(get_command) X(insert_command) X(get_machine) X(set_machine_state) \
    X(get_or_create_session) X(create_process) X(update_process_state) X(finish_process)   \
    X(find_open_processes) X(get_process_state) X(fetch_setpoint_commands)                 \
    X(claim_setpoint_command) X(finish_setpoint_command) X(write_health) X(acquire_lease)  \
    X(release_lease) X(outbox_push) X(outbox_peek) X(outbox_ack) X(outbox_stats)           \
    X(append_sample_batches) X(find_last_finished_process)
// clang-format on

#define PORT_OP_ENUM(op) PORT_OP_##op,
typedef enum port_op { PORT_OPS(PORT_OP_ENUM) PORT_OP_COUNT } port_op;
#undef PORT_OP_ENUM

#define PORT_OUTCOMES 3 /* ok, transient, refused */

typedef struct port_op_metrics {
    _Atomic(ald_metric *) calls[PORT_OUTCOMES];
    _Atomic(ald_metric *) seconds; /* set last: non-NULL = all registered */
} port_op_metrics;

/* One per plugin instance, zeroed with it. */
typedef struct port_call_metrics {
    port_op_metrics op[PORT_OP_COUNT];
} port_call_metrics;

/* Count one completed call of `op` on `instance` that answered st after
 * elapsed_ns. */
/* Register an operation's series now (idempotent): a first registration
 * allocates and takes the metric registry's lock, which a /metrics render
 * holds, so a latency-critical caller registers before it needs the call. */
void port_metrics_prepare(port_call_metrics *m, const char *instance, port_op op);
void port_metrics_record(port_call_metrics *m, const char *instance, port_op op,
                         ald_status st, uint64_t elapsed_ns);

/* The operation's name as it appears in the op label. */
const char *port_op_name(port_op op);

#endif
