/* loader.c - dlopen and ABI checks for plugins (see loader.h). */
#include "ports/loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h" /* PACKAGE_VERSION */
#include "log.h"

#ifndef ALD_PKGLIBDIR
#define ALD_PKGLIBDIR "/usr/local/lib/ald-engine"
#endif

static int file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The directory of the running executable, "" when unknown. */
static void executable_dir(char *dir, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    dir[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(dir, len, "%s", exe);
}

/* Whether the executable runs from a build tree (plugins/ built beside it). */
static int in_build_tree(const char *exe_dir)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/plugins", exe_dir);
    return exe_dir[0] && access(probe, X_OK) == 0;
}

int loader_resolve(const char *name, const char *plugin_dir, char *path, size_t path_len,
                   char *err, size_t errlen)
{
    if (strchr(name, '/')) {
        snprintf(path, path_len, "%s", name);
        if (file_exists(path))
            return 0;
        snprintf(err, errlen, "plugin file %s does not exist or is not readable", name);
        return -1;
    }
    char exe_dir[PATH_MAX];
    executable_dir(exe_dir, sizeof exe_dir);

    char candidates[3][PATH_MAX];
    int count = 0;
    if (plugin_dir && *plugin_dir)
        snprintf(candidates[count++], PATH_MAX, "%s/%s.so", plugin_dir, name);
    if (in_build_tree(exe_dir)) /* an installed engine never names build paths */
        snprintf(candidates[count++], PATH_MAX, "%s/plugins/%s/.libs/%s.so", exe_dir, name,
                 name);
    snprintf(candidates[count++], PATH_MAX, "%s/%s.so", ALD_PKGLIBDIR, name);

    for (int i = 0; i < count; i++) {
        if (file_exists(candidates[i])) {
            snprintf(path, path_len, "%s", candidates[i]);
            return 0;
        }
    }
    int n = snprintf(err, errlen, "plugin '%s' not found; looked in:", name);
    for (int i = 0; i < count && n > 0 && (size_t)n < errlen; i++)
        n += snprintf(err + n, errlen - (size_t)n, " %s%s", candidates[i],
                      i + 1 < count ? "," : "");
    if (n > 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n,
                 " (installed plugins belong in the plugin directory %s; elsewhere set "
                 "plugin_dir in engine.conf or ALD_PLUGIN_DIR)",
                 ALD_PKGLIBDIR);
    return -1;
}

static const char *kind_name(ald_plugin_kind kind)
{
    switch (kind) {
    case ALD_PLUGIN_PLC:
        return "plc";
    case ALD_PLUGIN_STORAGE:
        return "storage";
    }
    return "unknown";
}

static int check_knobs(const ald_plugin_descriptor *d, const char *path, char *err,
                       size_t errlen)
{
    const ald_abi_knobs host = ALD_ABI_KNOBS_INIT;
    if (memcmp(&host, &d->knobs, sizeof host) == 0)
        return 0;
    snprintf(err, errlen,
             "%s: built with another data layout (pointer/long/double/enum sizes "
             "%u/%u/%u/%u, engine %u/%u/%u/%u); rebuild it for this platform",
             path, d->knobs.pointer_size, d->knobs.long_size, d->knobs.double_size,
             d->knobs.enum_size, host.pointer_size, host.long_size, host.double_size,
             host.enum_size);
    return -1;
}

/* Checks the fixed header: magic, size, major version, layout. */
static int check_header(const ald_plugin_descriptor *d, const char *path, char *err,
                        size_t errlen)
{
    if (d->magic != ALD_PLUGIN_MAGIC) {
        snprintf(err, errlen,
                 "%s: bad descriptor magic 0x%08x (expected 0x%08x); not an ALD plugin",
                 path, d->magic, ALD_PLUGIN_MAGIC);
        return -1;
    }
    if (d->abi_major != ALD_ABI_MAJOR) {
        snprintf(err, errlen,
                 "%s: plugin built for ABI %u.%u, this engine speaks ABI %u.%u; "
                 "rebuild the plugin against this engine's SDK (ald-sdk " PACKAGE_VERSION
                 ", ABI %u.%u: pkg-config --variable=abi_major ald-sdk)",
                 path, d->abi_major, d->abi_minor, ALD_ABI_MAJOR, ALD_ABI_MINOR,
                 ALD_ABI_MAJOR, ALD_ABI_MINOR);
        return -1;
    }
    size_t minimum = offsetof(ald_plugin_descriptor, vtable) + sizeof(void *);
    if (d->struct_size < minimum) {
        snprintf(err, errlen, "%s: descriptor is %u bytes, at least %zu expected", path,
                 d->struct_size, minimum);
        return -1;
    }
    return check_knobs(d, path, err, errlen);
}

/* Copies a struct that starts with its own uint32_t size into a zeroed
 * host-sized struct: fields the plugin does not have read as zero/NULL. */
static void copy_sized(void *dst, size_t dst_size, const void *src)
{
    uint32_t src_size;
    memcpy(&src_size, src, sizeof src_size);
    memset(dst, 0, dst_size);
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

#define PLC_OP(name, mandatory) {#name, offsetof(ald_plc_vtable, name), mandatory}
#define STORAGE_OP(name, mandatory) {#name, offsetof(ald_storage_vtable, name), mandatory}

static const loader_op plc_op_table[] = {
    PLC_OP(create, 1),    PLC_OP(destroy, 1),   PLC_OP(start, 0),     PLC_OP(stop, 0),
    PLC_OP(last_error, 1), PLC_OP(set_tags, 1), PLC_OP(read_all, 1),  PLC_OP(read_tags, 0),
    PLC_OP(write_tag, 1), PLC_OP(is_connected, 0), PLC_OP(pulse, 0), PLC_OP(valve_events, 0),
    PLC_OP(set_active, 0), /* 1.2 */
};

static const loader_op storage_op_table[] = {
    STORAGE_OP(create, 1),
    STORAGE_OP(destroy, 1),
    STORAGE_OP(start, 0),
    STORAGE_OP(stop, 0),
    STORAGE_OP(last_error, 1),
    STORAGE_OP(is_connected, 0),
    STORAGE_OP(load_parameters, 0),
    STORAGE_OP(update_parameter_values, 0),
    STORAGE_OP(append_samples, 0),
    STORAGE_OP(load_recipe, 0),
    STORAGE_OP(list_recipes, 0),
    STORAGE_OP(fetch_pending_commands, 0),
    STORAGE_OP(claim_command, 0),
    STORAGE_OP(finish_command, 0),
    STORAGE_OP(get_machine, 0),
    STORAGE_OP(set_machine_state, 0),
    STORAGE_OP(get_or_create_session, 0),
    STORAGE_OP(create_process, 0),
    STORAGE_OP(update_process_state, 0),
    STORAGE_OP(finish_process, 0),
    STORAGE_OP(find_open_processes, 0),
    STORAGE_OP(get_process_state, 0),
    STORAGE_OP(fetch_setpoint_commands, 0),
    STORAGE_OP(claim_setpoint_command, 0),
    STORAGE_OP(finish_setpoint_command, 0),
    STORAGE_OP(write_health, 0),
    STORAGE_OP(acquire_lease, 0),
    STORAGE_OP(release_lease, 0),
    STORAGE_OP(insert_command, 0),
    STORAGE_OP(outbox_push, 0),
    STORAGE_OP(outbox_peek, 0),
    STORAGE_OP(outbox_ack, 0),
    STORAGE_OP(outbox_stats, 0),
    STORAGE_OP(save_recipe, 0),
    STORAGE_OP(get_command, 0),
    STORAGE_OP(save_parameters, 0),
    STORAGE_OP(append_sample_batches, 0), /* 1.1 */
    STORAGE_OP(find_last_finished_process, 0), /* 1.1 */
};

const loader_op *loader_ops(ald_plugin_kind kind, size_t *count)
{
    if (kind == ALD_PLUGIN_PLC) {
        *count = sizeof plc_op_table / sizeof plc_op_table[0];
        return plc_op_table;
    }
    *count = sizeof storage_op_table / sizeof storage_op_table[0];
    return storage_op_table;
}

int loader_op_present(const loaded_plugin *p, const loader_op *op)
{
    void (*fn)(void);
    memcpy(&fn, (const char *)&p->vt + op->offset, sizeof fn);
    return fn != NULL;
}

/* Names every missing mandatory operation, and says why when the plugin's
 * vtable declared struct_size 0 (then the engine sees no operation at all). */
static int check_ops(const loaded_plugin *p, uint32_t vt_size, char *err, size_t len)
{
    size_t count, used = 0;
    const loader_op *ops = loader_ops(p->desc.kind, &count);
    char missing[512] = "";
    for (size_t i = 0; i < count; i++)
        if (ops[i].mandatory && !loader_op_present(p, &ops[i])) {
            int n = snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                             ops[i].name);
            if (n > 0 && used + (size_t)n < sizeof missing)
                used += (size_t)n;
        }
    if (!missing[0])
        return 0;
    snprintf(err, len, "%s: %s vtable lacks the mandatory operation%s %s%s", p->path,
             kind_name(p->desc.kind), strchr(missing, ',') ? "s" : "", missing,
             vt_size == 0 ? " (its struct_size is 0: set .struct_size = sizeof the vtable, "
                            "or the engine sees no operation at all)"
                          : "");
    return -1;
}

static int copy_vtable(loaded_plugin *p, char *err, size_t errlen)
{
    const void *vt = p->desc.vtable;
    if (!vt) {
        snprintf(err, errlen, "%s: descriptor has no vtable", p->path);
        return -1;
    }
    uint32_t vt_size;
    memcpy(&vt_size, vt, sizeof vt_size);
    if (p->desc.kind == ALD_PLUGIN_PLC)
        copy_sized(&p->vt.plc, sizeof p->vt.plc, vt);
    else
        copy_sized(&p->vt.storage, sizeof p->vt.storage, vt);
    return check_ops(p, vt_size, err, errlen);
}

static const ald_plugin_descriptor *call_entry(loaded_plugin *p, char *err, size_t errlen)
{
    dlerror();
    void *sym = dlsym(p->handle, ALD_PLUGIN_ENTRY_SYMBOL);
    const char *why = dlerror();
    if (why || !sym) {
        snprintf(err, errlen,
                 "%s: no %s() entry function (%s); is it an ALD plugin built with "
                 "ALD_PLUGIN_ENTRY?",
                 p->path, ALD_PLUGIN_ENTRY_SYMBOL, why ? why : "NULL symbol");
        return NULL;
    }
    ald_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object -> function pointer, as POSIX allows */
    const ald_plugin_descriptor *d = entry();
    if (!d)
        snprintf(err, errlen, "%s: %s() returned NULL", p->path, ALD_PLUGIN_ENTRY_SYMBOL);
    return d;
}

int loader_open(const char *path, ald_plugin_kind expected_kind, loaded_plugin *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    out->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!out->handle) {
        snprintf(err, errlen, "cannot load plugin %s: %s", path, dlerror());
        return -1;
    }
    const ald_plugin_descriptor *d = call_entry(out, err, errlen);
    if (!d || check_header(d, path, err, errlen) != 0)
        goto fail;
    copy_sized(&out->desc, sizeof out->desc, d);
    if (expected_kind && out->desc.kind != expected_kind) {
        snprintf(err, errlen, "%s: plugin '%s' is a %s plugin, but is configured as %s",
                 path, out->desc.name ? out->desc.name : "?", kind_name(out->desc.kind),
                 kind_name(expected_kind));
        goto fail;
    }
    if (out->desc.kind != ALD_PLUGIN_PLC && out->desc.kind != ALD_PLUGIN_STORAGE) {
        snprintf(err, errlen, "%s: plugin '%s' declares unknown kind %d (1 = plc, 2 = storage)",
                 path, out->desc.name ? out->desc.name : "?", (int)out->desc.kind);
        goto fail;
    }
    if (copy_vtable(out, err, errlen) != 0)
        goto fail;
    if (d->abi_minor != ALD_ABI_MINOR)
        log_info("loader", "%s: plugin '%s' uses ABI %u.%u (engine %u.%u); operations newer "
                 "than the older of the two are treated as unsupported",
                 path, out->desc.name, d->abi_major, d->abi_minor, ALD_ABI_MAJOR,
                 ALD_ABI_MINOR);
    return 0;
fail:
    dlclose(out->handle);
    out->handle = NULL;
    return -1;
}

void loader_close(loaded_plugin *plugin)
{
    if (plugin && plugin->handle) {
        dlclose(plugin->handle);
        plugin->handle = NULL;
    }
}
