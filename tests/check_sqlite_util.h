/*
 * check_sqlite_util.h - what the storage-sqlite tests share: the REAL built
 * plugin loaded with dlopen(), instances on a fresh database file, and direct
 * sqlite3 access to check what the plugin wrote.
 *
 * Every helper asserts (ck_assert) on failure, so tests read as specifications.
 */
#ifndef ALD_CHECK_SQLITE_UTIL_H
#define ALD_CHECK_SQLITE_UTIL_H

#include <stdint.h>

#include "ald/plugin.h"

#define DEMO_MACHINE "e3e6e280-0000-4000-8000-000000000001"

/* The plugin's descriptor and vtable (dlopen'd once per process). */
const ald_plugin_descriptor *sqt_descriptor(void);
const ald_storage_vtable *sqt_vt(void);

/* A fresh "<tmpdir>/ald.db" path (not yet created); a copy that lives until
 * the test exits (test_keep). */
const char *sqt_new_db_path(const char *tag);

/* create() + start() on db_path with extra settings text (may be ""). */
void *sqt_open(const char *db_path, const char *extra_settings);
/* stop() + destroy(). */
void sqt_close(void *instance);

/* Direct access to the file, bypassing the plugin. */
int64_t sqt_int(const char *db_path, const char *sql);
/* First column of the first row as a malloc'ed string (NULL for SQL NULL). */
char *sqt_text(const char *db_path, const char *sql);
void sqt_exec(const char *db_path, const char *sql);

#endif
