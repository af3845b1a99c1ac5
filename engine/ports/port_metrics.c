/* port_metrics.c - per-instance, per-operation plugin call counts, outcomes
 * and durations (see port_metrics.h). */
#include "ports/port_metrics.h"

#include <stdio.h>

/* 10 us .. 10 s: a register write on a LAN is ~100 us, a PostgREST round
 * trip ~10 ms, a Modbus timeout or a slow database seconds. */
static const double call_buckets[] = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01,
                                      0.03, 0.1,  0.3,  1,    3,    10};

static const char *const outcome_names[PORT_OUTCOMES] = {"ok", "transient", "refused"};

#define PORT_OP_NAME(op) #op,
static const char *const op_names[PORT_OP_COUNT] = {PORT_OPS(PORT_OP_NAME)};
#undef PORT_OP_NAME

const char *port_op_name(port_op op)
{
    return (unsigned)op < PORT_OP_COUNT ? op_names[op] : "?";
}

/* ok; a failure worth retrying (timeout, disconnected, busy, I/O); or a
 * definite no (conflict, not found, invalid, auth, ...). */
static int outcome_of(ald_status st)
{
    if (st == ALD_OK)
        return 0;
    return ald_status_is_transient(st) ? 1 : 2;
}

/* First call of this operation: register its series (idempotent, so two
 * threads racing here store the same pointers). */
static ald_metric *register_op(port_op_metrics *o, const char *instance, port_op op)
{
    char name[160], labels[256];
    metrics_escape_label_value(name, sizeof name, instance);
    for (int i = 0; i < PORT_OUTCOMES; i++) {
        snprintf(labels, sizeof labels, "instance=\"%s\",op=\"%s\",outcome=\"%s\"", name,
                 op_names[op], outcome_names[i]);
        atomic_store_explicit(&o->calls[i],
                              metrics_counter("ald_plugin_calls_total",
                                              "Plugin calls made through the ports, by "
                                              "instance, operation and outcome",
                                              labels),
                              memory_order_relaxed);
    }
    snprintf(labels, sizeof labels, "instance=\"%s\",op=\"%s\"", name, op_names[op]);
    ald_metric *seconds =
        metrics_histogram("ald_plugin_call_seconds",
                          "Time a plugin took to answer a call made through the ports",
                          labels, call_buckets, sizeof call_buckets / sizeof call_buckets[0]);
    atomic_store_explicit(&o->seconds, seconds, memory_order_release);
    return seconds;
}

void port_metrics_prepare(port_call_metrics *m, const char *instance, port_op op)
{
    if ((unsigned)op < PORT_OP_COUNT &&
        !atomic_load_explicit(&m->op[op].seconds, memory_order_acquire))
        register_op(&m->op[op], instance, op);
}

void port_metrics_record(port_call_metrics *m, const char *instance, port_op op,
                         ald_status st, uint64_t elapsed_ns)
{
    if ((unsigned)op >= PORT_OP_COUNT)
        return;
    port_op_metrics *o = &m->op[op];
    ald_metric *seconds = atomic_load_explicit(&o->seconds, memory_order_acquire);
    if (!seconds)
        seconds = register_op(o, instance, op);
    metrics_add(atomic_load_explicit(&o->calls[outcome_of(st)], memory_order_relaxed), 1);
    metrics_observe(seconds, (double)elapsed_ns / 1e9);
}
