/*
 * plugin_instance.h - configured plugin instances: a loaded .so, its
 * per-instance host table and state, and the two locks the ports take.
 *
 * Only the ports (plc_port.c, storage_port.c, storage_route.c) and the
 * composition root (engine.c, aldctl) include this header; workers hold a
 * plugin_instance pointer as an opaque handle (ports/port.h).
 *
 * LOCKS (the policy itself is stated in plc_port.h and storage_port.h):
 *   lock          serialises calls on one instance, as the ABI's threading
 *                 contract promises, unless the plugin declares itself
 *                 thread-safe (then it is not taken).
 *   control_lock  serialises the PLC control lane (write_tag, pulse) among
 *                 its callers without waiting behind a bulk read.
 */
#ifndef ALD_ENGINE_PLUGIN_INSTANCE_H
#define ALD_ENGINE_PLUGIN_INSTANCE_H

#include <pthread.h>

#include "config.h"
#include "ports/loader.h"
#include "ports/port.h"
#include "ports/port_metrics.h"

struct plugin_instance {
    char name[64];
    plugin_role role;
    loaded_plugin lib;
    ald_host *host;
    void *inst; /* the plugin's own state */
    int started;
    int serialise; /* 1 = take `lock` around every call */
    pthread_mutex_t lock;
    pthread_mutex_t control_lock;
    char read_error[PORT_ERROR_LEN]; /* the last failed bulk read's text (under lock) */
    port_call_metrics calls;         /* per-operation counts and durations */
};

/* Resolve, open and create one configured instance (no I/O in the plugin).
 * Returns 0, or -1 with a message naming the instance and its file:line. */
int plugin_instance_create(plugin_instance *pi, const plugin_conf *conf,
                           const char *plugin_dir, char *err, size_t errlen);
/* A second instance of a configured one, named "<name>:<suffix>" (its own
 * lock, metrics series and log name), for one job of the engine's (the
 * recipe loader). What the plugin logs while it is created and started is
 * logged at DEBUG (the first instance said it) until
 * plugin_instance_set_quiet(pi, 0); errors stay errors. */
int plugin_instance_create_second(plugin_instance *pi, const plugin_conf *conf,
                                  const char *suffix, const char *plugin_dir, char *err,
                                  size_t errlen);
void plugin_instance_set_quiet(plugin_instance *pi, int quiet);
/* start() the instance; a failure is logged and returned, not fatal. */
ald_status plugin_instance_start(plugin_instance *pi);
void plugin_instance_destroy(plugin_instance *pi);

/* The plugin's last_error text ("" when none). Call with the lock held or on
 * the thread that made the failing call. */
const char *plugin_last_error(plugin_instance *pi);

/* Take `lock` (when the instance is serialised) and start the call's clock. */
void plugin_lock(plugin_instance *pi);
void plugin_unlock(plugin_instance *pi);

/* End of a call of `op` made under `lock`: count it and its duration
 * (port_metrics.h), on failure copy the plugin's error text into err (if
 * any) while the lock is still held, then unlock. Returns st. */
ald_status plugin_call_done(plugin_instance *pi, port_op op, ald_status st, port_error *err);
/* The PLC control lane's pair: take `control_lock` and start the clock;
 * end the call as plugin_call_done does, then release `control_lock`. */
void plugin_control_lock(plugin_instance *pi);
ald_status plugin_control_done(plugin_instance *pi, port_op op, ald_status st,
                               port_error *err);
/* A missing operation: says so in err and returns ALD_ERR_UNSUPPORTED. */
ald_status plugin_call_unsupported(const plugin_instance *pi, const char *op,
                                   port_error *err);

static inline const ald_plc_vtable *plc_ops(const plugin_instance *pi)
{
    return &pi->lib.vt.plc;
}

static inline const ald_storage_vtable *storage_ops(const plugin_instance *pi)
{
    return &pi->lib.vt.storage;
}

#endif
