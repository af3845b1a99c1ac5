/* plugin_check.c - ald-plugin-check's report and create() run (see plugin_check.h). */
#include "plugin_check.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

static const char *kind_text(ald_plugin_kind k)
{
    return k == ALD_PLUGIN_PLC ? "plc" : k == ALD_PLUGIN_STORAGE ? "storage" : "unknown";
}

static uint32_t vtable_size(const loaded_plugin *p)
{
    uint32_t size = 0;
    memcpy(&size, p->desc.vtable, sizeof size);
    return size;
}

static void print_descriptor(const loaded_plugin *p)
{
    const ald_plugin_descriptor *d = &p->desc;
    const ald_abi_knobs host = ALD_ABI_KNOBS_INIT;
    printf("plugin:       %s %s (%s)\n", d->name ? d->name : "(no name)",
           d->version ? d->version : "(no version)", kind_text(d->kind));
    printf("file:         %s\n", p->path);
    printf("ABI:          %u.%u (this engine %u.%u)%s\n", d->abi_major, d->abi_minor,
           ALD_ABI_MAJOR, ALD_ABI_MINOR,
           d->abi_minor != ALD_ABI_MINOR ? ": operations past the older one are unsupported"
                                         : "");
    printf("layout:       pointer/long/double/enum %u/%u/%u/%u bytes (engine %u/%u/%u/%u)\n",
           d->knobs.pointer_size, d->knobs.long_size, d->knobs.double_size,
           d->knobs.enum_size, host.pointer_size, host.long_size, host.double_size,
           host.enum_size);
    printf("descriptor:   %u bytes; vtable struct_size %u (engine's vtable %zu)\n",
           d->struct_size, vtable_size(p),
           d->kind == ALD_PLUGIN_PLC ? sizeof(ald_plc_vtable) : sizeof(ald_storage_vtable));
    printf("capabilities: 0x%llx\n", (unsigned long long)d->capabilities);
}

static void print_operations(const loaded_plugin *p)
{
    size_t count;
    const loader_op *ops = loader_ops(p->desc.kind, &count);
    printf("operations:\n");
    for (size_t i = 0; i < count; i++)
        printf("  %-8s %-24s%s\n", loader_op_present(p, &ops[i]) ? "present" : "missing",
               ops[i].name, ops[i].mandatory ? " (required)" : "");
}

/* Opens the plugin the way the engine does and prints what the engine sees.
 * Returns the number of problems, or -1 when the engine would refuse it. */
static int static_report(const check_options *o, loaded_plugin *p)
{
    char err[1024] = "";
    if (loader_open(o->file, o->kind, p, err, sizeof err) != 0) {
        printf("NOT LOADABLE: %s\nRESULT: problems found\n", err);
        return -1;
    }
    print_descriptor(p);
    print_operations(p);
    int problems = plugin_check_capabilities(p);
    if (vtable_size(p) == 0) {
        printf("  PROBLEM: the vtable's struct_size is 0: the engine sees no operation\n");
        problems++;
    }
    return problems;
}

/* The settings file's root group, or an empty one. */
static config_setting_t *load_settings(config_t *cfg, const char *file)
{
    config_init(cfg);
    if (file && !config_read_file(cfg, file)) {
        printf("settings:     %s:%d: %s\n", config_error_file(cfg) ? config_error_file(cfg)
                                                                    : file,
               config_error_line(cfg), config_error_text(cfg));
        return NULL;
    }
    /* What the engine gives every instance, unless the file sets it. */
    config_setting_t *root = config_root_setting(cfg);
    const ald_config *settings = (const ald_config *)root;
    const char *tmp = getenv("TMPDIR");
    if (!config_setting_get_member(root, "machine_id"))
        cfg_put_string(settings, "machine_id", "00000000-0000-4000-8000-000000000000",
                       "engine");
    if (!config_setting_get_member(root, "data_dir"))
        cfg_put_string(settings, "data_dir", tmp && *tmp ? tmp : "/tmp", "engine");
    return root;
}

int plugin_check_run(const check_options *o)
{
    loaded_plugin p;
    int problems = static_report(o, &p);
    if (problems < 0)
        return -1;
    int failed = problems > 0;
    plugin_conf conf = {.name = "check", .plugin = (char *)o->file,
                        .role = p.desc.kind == ALD_PLUGIN_PLC ? ROLE_PLC : ROLE_STORAGE,
                        .active = 1};
    snprintf(conf.where, sizeof conf.where, "%s", o->settings ? o->settings : "(no settings)");
    loader_close(&p);
    config_t cfg;
    conf.settings = (const ald_config *)load_settings(&cfg, o->settings);
    if (!conf.settings) {
        config_destroy(&cfg);
        return -1;
    }
    plugin_instance pi;
    char err[1024] = "";
    if (plugin_instance_create(&pi, &conf, NULL, err, sizeof err) != 0) {
        printf("create():     FAILED: %s\nRESULT: problems found\n", err);
        config_destroy(&cfg);
        return -1;
    }
    printf("create():     ok with %s\n", conf.where);
    if (pi.lib.desc.kind == ALD_PLUGIN_PLC && plugin_check_threading(&pi, o) != 0)
        failed = 1;
    plugin_instance_destroy(&pi);
    config_destroy(&cfg);
    printf("%s\n", failed ? "RESULT: problems found" : "RESULT: loadable and consistent");
    return failed ? -1 : 0;
}
