/* check_sqlite_util.c - helpers of the storage-sqlite tests (see the header). */
#include "check_sqlite_util.h"

#include <check.h>
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define PLUGIN_SO "plugins/storage-sqlite/.libs/storage-sqlite.so"

const ald_plugin_descriptor *sqt_descriptor(void)
{
    static const ald_plugin_descriptor *desc;
    if (desc)
        return desc;
    void *dl = dlopen(test_buildpath(PLUGIN_SO), RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(dl != NULL, "dlopen %s: %s", test_buildpath(PLUGIN_SO), dlerror());
    ald_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, ALD_PLUGIN_ENTRY_SYMBOL);
    ck_assert_msg(entry != NULL, "no %s in the plugin", ALD_PLUGIN_ENTRY_SYMBOL);
    desc = entry();
    return desc;
}

const ald_storage_vtable *sqt_vt(void)
{
    return sqt_descriptor()->vtable;
}

const char *sqt_new_db_path(const char *tag)
{
    char path[600];
    snprintf(path, sizeof path, "%s/ald.db", test_tmpdir(tag));
    char *copy = strdup(path);
    ck_assert_ptr_nonnull(copy);
    return test_keep(copy, free);
}

void *sqt_open(const char *db_path, const char *extra_settings)
{
    char text[2048], err[512] = "";
    snprintf(text, sizeof text,
             "path = \"%s\"; data_dir = \"/nonexistent\"; machine_id = \"%s\"; %s", db_path,
             DEMO_MACHINE, extra_settings);
    void *inst = NULL;
    ald_status rc = sqt_vt()->create(test_host(), test_config(text), &inst, err, sizeof err);
    ck_assert_msg(rc == ALD_OK, "create: %s: %s", ald_status_name(rc), err);
    rc = sqt_vt()->start(inst);
    ck_assert_msg(rc == ALD_OK, "start: %s: %s", ald_status_name(rc),
                  sqt_vt()->last_error(inst));
    return inst;
}

void sqt_close(void *instance)
{
    sqt_vt()->stop(instance);
    sqt_vt()->destroy(instance);
}

static sqlite3 *open_direct(const char *db_path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "open %s: %s", db_path, sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static sqlite3_stmt *first_row(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    ck_assert_msg(rc == SQLITE_OK, "prepare %s: %s", sql, sqlite3_errmsg(db));
    rc = sqlite3_step(st);
    ck_assert_msg(rc == SQLITE_ROW, "no row from %s (%s)", sql, sqlite3_errmsg(db));
    return st;
}

int64_t sqt_int(const char *db_path, const char *sql)
{
    sqlite3 *db = open_direct(db_path);
    sqlite3_stmt *st = first_row(db, sql);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *sqt_text(const char *db_path, const char *sql)
{
    sqlite3 *db = open_direct(db_path);
    sqlite3_stmt *st = first_row(db, sql);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *v = t ? strdup((const char *)t) : NULL;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void sqt_exec(const char *db_path, const char *sql)
{
    sqlite3 *db = open_direct(db_path);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : sqlite3_errstr(rc));
    sqlite3_close(db);
}
