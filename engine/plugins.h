/*
 * plugins.h - configured plugin instances: a loaded .so, its per-instance
 * host table and state, and the serialisation the ABI's threading contract
 * promises (one mutex per instance unless the plugin declares itself
 * thread-safe).
 */
#ifndef ALD_ENGINE_PLUGINS_H
#define ALD_ENGINE_PLUGINS_H

#include <pthread.h>

#include "config.h"
#include "loader.h"

typedef struct plugin_instance {
    char name[64];
    plugin_role role;
    loaded_plugin lib;
    ald_host *host;
    void *inst;            /* the plugin's own state */
    int started;
    int serialise;         /* 1 = take `lock` around every call */
    pthread_mutex_t lock;
} plugin_instance;

/* Resolve, open and create one configured instance (no I/O in the plugin).
 * Returns 0, or -1 with a message naming the instance and its file:line. */
int plugin_instance_create(plugin_instance *pi, const plugin_conf *conf,
                           const char *plugin_dir, char *err, size_t errlen);
/* start() the instance; a failure is logged and returned, not fatal. */
ald_status plugin_instance_start(plugin_instance *pi);
void plugin_instance_destroy(plugin_instance *pi);

/* The plugin's last_error text ("" when none). Call with the lock held or on
 * the thread that made the failing call. */
const char *plugin_last_error(plugin_instance *pi);

void plugin_lock(plugin_instance *pi);
void plugin_unlock(plugin_instance *pi);

static inline const ald_plc_vtable *plc_ops(const plugin_instance *pi)
{
    return &pi->lib.vt.plc;
}

static inline const ald_storage_vtable *storage_ops(const plugin_instance *pi)
{
    return &pi->lib.vt.storage;
}

#endif
