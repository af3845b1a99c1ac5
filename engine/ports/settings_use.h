/*
 * settings_use.h - which of its settings a plugin read during create(), so
 * the engine can refuse the ones it did not (ABI rule: unknown settings are
 * errors). The host's config getters (host_services.c) note every setting a
 * lookup finds while a tracker is active on the calling thread; create()
 * runs on one thread and does no I/O, so a thread-local tracker sees every
 * read of that instance and nothing of another's.
 *
 * Known without being read: settings the engine put there (origin "engine"
 * or "environment ...": machine_id, data_dir, env mappings) and the names
 * machine_id and data_dir, which every instance is given.
 */
#ifndef ALD_ENGINE_SETTINGS_USE_H
#define ALD_ENGINE_SETTINGS_USE_H

#include <stddef.h>

#include "ald/host.h"

typedef struct settings_use {
    const void **marks; /* settings a getter found (and their parents) */
    size_t count, capacity;
    char asked[512]; /* top-level names the plugin asked for, for the hint */
    const ald_config *top;
    int oom;
} settings_use;

/* Start noting reads of `top` and below on this thread. */
void settings_use_begin(settings_use *u, const ald_config *top);
/* Stop noting on this thread. */
void settings_use_end(void);
/* A getter looked up `path` under c (path NULL or "" = c itself). */
void settings_use_note(const ald_config *c, const char *path);
/* A getter handed out `child` (config_child). */
void settings_use_note_child(const ald_config *child);
/* 0 when every setting under top was read or is known; else -1 with
 * "<file>:<line>: setting <name>: not a setting of this plugin (it reads: ...)". */
int settings_use_check(const settings_use *u, char *err, size_t errlen);
void settings_use_free(settings_use *u);

#endif
