/* loader.c - dlopen and ABI checks for plugins (see loader.h). */
#include "ports/loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    if (exe_dir[0])
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
                 " (hint: set plugin_dir in engine.conf or ALD_PLUGIN_DIR)");
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
                 "rebuild the plugin against ald-sdk %u.x",
                 path, d->abi_major, d->abi_minor, ALD_ABI_MAJOR, ALD_ABI_MINOR,
                 ALD_ABI_MAJOR);
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

static int check_plc_ops(const ald_plc_vtable *vt, const char *path, char *err, size_t len)
{
    if (vt->create && vt->destroy && vt->last_error && vt->set_tags && vt->read_all &&
        vt->write_tag)
        return 0;
    snprintf(err, len,
             "%s: PLC vtable lacks a mandatory operation (create, destroy, last_error, "
             "set_tags, read_all, write_tag)",
             path);
    return -1;
}

static int check_storage_ops(const ald_storage_vtable *vt, const char *path, char *err,
                             size_t len)
{
    if (vt->create && vt->destroy && vt->last_error)
        return 0;
    snprintf(err, len, "%s: storage vtable lacks create, destroy or last_error", path);
    return -1;
}

static int copy_vtable(loaded_plugin *p, char *err, size_t errlen)
{
    const void *vt = p->desc.vtable;
    if (!vt) {
        snprintf(err, errlen, "%s: descriptor has no vtable", p->path);
        return -1;
    }
    if (p->desc.kind == ALD_PLUGIN_PLC) {
        copy_sized(&p->vt.plc, sizeof p->vt.plc, vt);
        return check_plc_ops(&p->vt.plc, p->path, err, errlen);
    }
    copy_sized(&p->vt.storage, sizeof p->vt.storage, vt);
    return check_storage_ops(&p->vt.storage, p->path, err, errlen);
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
    if (out->desc.kind != expected_kind) {
        snprintf(err, errlen, "%s: plugin '%s' is a %s plugin, but is configured as %s",
                 path, out->desc.name ? out->desc.name : "?", kind_name(out->desc.kind),
                 kind_name(expected_kind));
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
