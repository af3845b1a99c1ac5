/*
 * plugin_check.h - the checks ald-plugin-check runs (see ald_plugin_check.c):
 * the static report (descriptor, layout, operations, capabilities), create()
 * on the given settings, and the PLC threading contract.
 */
#ifndef ALD_PLUGIN_CHECK_H
#define ALD_PLUGIN_CHECK_H

#include "ports/loader.h"
#include "ports/plugin_instance.h"

#define CHECK_MAX_TAGS 16

typedef struct check_options {
    const char *file;
    ald_plugin_kind kind; /* 0 = whatever the plugin declares */
    const char *settings; /* libconfig file, or NULL = empty settings */
    const char *tags[CHECK_MAX_TAGS];
    int tag_count;
} check_options;

/* Everything, printed to stdout. 0 = loadable and consistent. */
int plugin_check_run(const check_options *o);

/* The static part: capability bits against operations. Returns the number
 * of problems, each printed as "  PROBLEM: ...". */
int plugin_check_capabilities(const loaded_plugin *p);

/* start(), then write_tag() while read_all() runs elsewhere. 0 = the
 * contract held (every call returned within its bound). */
int plugin_check_threading(plugin_instance *pi, const check_options *o);

#endif
