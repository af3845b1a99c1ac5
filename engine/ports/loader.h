/*
 * loader.h - finds, opens and checks plugin shared objects.
 *
 * A plugin is accepted only when its descriptor has our magic, our ABI major,
 * the same layout knobs, the expected kind and the mandatory operations. A
 * plugin of an older minor version loads: the vtable is copied into a
 * zero-filled host-sized struct, so the operations it does not know read as
 * NULL ("unsupported"). Every refusal names the path and says what to do.
 */
#ifndef ALD_ENGINE_LOADER_H
#define ALD_ENGINE_LOADER_H

#include <stddef.h>

#include "ald/plugin.h"

typedef struct loaded_plugin {
    void *handle; /* dlopen handle */
    char path[1024];
    ald_plugin_descriptor desc; /* host-sized copy of the plugin's descriptor */
    union {
        ald_plc_vtable plc;
        ald_storage_vtable storage;
    } vt; /* host-sized copy; missing trailing operations are NULL */
} loaded_plugin;

/* Resolve a plugin name ("plc-sim") or path to an existing file. Search order:
 * a name containing '/' is used as is; then plugin_dir (if any), the build
 * tree next to the running executable (plugins/NAME/.libs/NAME.so), and the
 * installed pkglibdir. Returns 0, or -1 with a message listing where it looked. */
int loader_resolve(const char *name, const char *plugin_dir, char *path, size_t path_len,
                   char *err, size_t errlen);

/* Open and check a plugin file (expected_kind 0: either kind). Returns 0, or
 * -1 with a message. */
int loader_open(const char *path, ald_plugin_kind expected_kind, loaded_plugin *out,
                char *err, size_t errlen);

void loader_close(loaded_plugin *plugin);

/* The operations of a plugin kind, in vtable order, and whether the engine
 * requires them (for messages and ald-plugin-check). */
typedef struct loader_op {
    const char *name;
    size_t offset; /* in the vtable */
    int mandatory;
} loader_op;

const loader_op *loader_ops(ald_plugin_kind kind, size_t *count);
/* Whether a loaded plugin has the operation (in the engine's copy). */
int loader_op_present(const loaded_plugin *p, const loader_op *op);

#endif
