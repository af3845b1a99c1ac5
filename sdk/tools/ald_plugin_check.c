/*
 * ald_plugin_check.c - ald-plugin-check, the plugin author's checker: loads
 * a plugin exactly as the engine does and reports what the engine sees.
 *
 *   ald-plugin-check FILE.so [--kind plc|storage] [--settings FILE] [--tag ADDR[=TYPE]]...
 *
 * Prints the descriptor, ABI and layout; lists present, missing and required
 * operations; flags a vtable struct_size of 0 and capability bits without
 * their operation (and the reverse); runs create() on the settings (a
 * libconfig file holding the `settings` group's contents) with the engine's
 * strict-settings rule; for a PLC plugin given --tag, starts it and calls
 * write_tag() while read_all() runs on another thread (the threading
 * contract), with a bound on every call. Exit status 0 only when the plugin
 * is loadable and consistent; 1 otherwise; 2 for a usage error.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_check.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: ald-plugin-check FILE.so [--kind plc|storage] [--settings FILE]\n"
                "                        [--tag ADDRESS[=TYPE]]...\n"
                "  --kind      refuse the plugin unless it is of this kind\n"
                "  --settings  run create() on this file's settings (libconfig syntax, the\n"
                "              contents of an instance's settings group); default: none\n"
                "  --tag       a PLC tag address (TYPE: bool u16 i16 u32 i32 f32 f64; default\n"
                "              u16) for the threading check: start(), then write_tag() on\n"
                "              the first tag while read_all() runs on another thread\n"
                "Exit status: 0 loadable and consistent, 1 not, 2 usage error.\n");
}

static int parse_args(int argc, char **argv, check_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--kind") && i + 1 < argc) {
            const char *k = argv[++i];
            o->kind = !strcmp(k, "plc") ? ALD_PLUGIN_PLC
                      : !strcmp(k, "storage") ? ALD_PLUGIN_STORAGE : (ald_plugin_kind)-1;
            if ((int)o->kind == -1) {
                fprintf(stderr, "ald-plugin-check: --kind %s: use plc or storage\n", k);
                return -1;
            }
        } else if (!strcmp(a, "--settings") && i + 1 < argc) {
            o->settings = argv[++i];
        } else if (!strcmp(a, "--tag") && i + 1 < argc) {
            if (o->tag_count == CHECK_MAX_TAGS) {
                fprintf(stderr, "ald-plugin-check: at most %d --tag\n", CHECK_MAX_TAGS);
                return -1;
            }
            o->tags[o->tag_count++] = argv[++i];
        } else if (a[0] != '-' && !o->file) {
            o->file = a;
        } else {
            fprintf(stderr, "ald-plugin-check: unexpected argument '%s'\n", a);
            return -1;
        }
    }
    if (!o->file)
        fprintf(stderr, "ald-plugin-check: no plugin file given\n");
    return o->file ? 0 : -1;
}

int main(int argc, char **argv)
{
    check_options o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    return plugin_check_run(&o) == 0 ? 0 : 1;
}
