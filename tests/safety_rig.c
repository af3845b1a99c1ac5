/* safety_rig.c - the engine rig the safety tests share (see safety_rig.h). */
#include "safety_rig.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

safety_rig R;

void rig_instance(plugin_instance *pi, const char *name, const char *plugin_so,
                  plugin_role role, const char *settings)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", test_buildpath(plugin_so));
    plugin_conf conf = {.name = (char *)name, .plugin = path, .role = role, .active = 1,
                        .settings = test_config(settings)};
    snprintf(conf.where, sizeof conf.where, "test");
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(plugin_instance_start(pi), ALD_OK);
}

void rig_up(void)
{
    memset(&R, 0, sizeof R);
    snprintf(R.dir, sizeof R.dir, "%s", test_tmpdir("safety"));
    snprintf(R.db_path, sizeof R.db_path, "%s/ald.db", R.dir);
    char settings[1400];
    snprintf(settings, sizeof settings, "path = \"%s\"; data_dir = \"%s\"; machine_id = \"%s\";",
             R.db_path, R.dir, RIG_MACHINE);
    rig_instance(&R.store, "local", "plugins/storage-sqlite/.libs/storage-sqlite.so",
                 ROLE_STORAGE, settings);
    rig_instance(&R.plc, "fault", "tests/fixtures/plugins/.libs/plc-fault.so", ROLE_PLC, "");
    plc_fault_control_fn controls;
    void *sym = dlsym(R.plc.lib.handle, PLC_FAULT_CONTROL_SYMBOL);
    ck_assert_ptr_nonnull(sym);
    memcpy(&controls, &sym, sizeof controls);
    R.fault = controls();
    tagmap_init(&R.tags);
    ck_assert_int_eq(storage_ops(&R.store)->load_parameters(R.store.inst, RIG_MACHINE,
                                                            tagmap_add_parameter, &R.tags),
                     ALD_OK);
    ck_assert_int_eq(tagmap_finish(&R.tags), 0);
    ck_assert_int_eq(plc_ops(&R.plc)->set_tags(R.plc.inst, R.tags.tag_ptrs, R.tags.tag_count),
                     ALD_OK);
    ck_assert_int_eq(executor_init(&R.exec, &R.plc, &R.store, &R.tags, NULL, RIG_MACHINE, NULL),
                     0);
    commands_init(&R.cp, &R.store, &R.plc, &R.tags, &R.exec, RIG_MACHINE, 100);
    ck_assert_int_eq(sqlite3_open(R.db_path, &R.db), SQLITE_OK);
    sqlite3_busy_timeout(R.db, 5000);
}

void rig_sql(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *err = NULL;
    ck_assert_msg(sqlite3_exec(R.db, text, NULL, NULL, &err) == SQLITE_OK, "%s: %s", text, err);
}

const char *rig_query(const char *fmt, ...)
{
    static char out[1024];
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(R.db, text, -1, &st, NULL) == SQLITE_OK, "%s: %s", text,
                  sqlite3_errmsg(R.db));
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

void rig_command(const char *id, const char *type, const char *params_json)
{
    rig_sql("INSERT INTO recipe_commands(id, type, parameters, status, machine_id, created_at, "
            "updated_at) VALUES('%s', '%s', '%s', 'pending', '%s', "
            "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), "
            "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'))",
            id, type, params_json, RIG_MACHINE);
}

void rig_valve_recipe(const char *id, int valve, int duration_ms)
{
    rig_sql("INSERT INTO recipes(id, name) VALUES('%s', 'one pulse');"
            "INSERT INTO recipe_steps(id, recipe_id, sequence_number, name, type) "
            "VALUES('%s-s1', '%s', 1, 'pulse', 'valve');"
            "INSERT INTO valve_step_config(id, step_id, valve_number, duration_ms) "
            "VALUES('%s-vc1', '%s-s1', %d, %d)",
            id, id, id, id, id, valve, duration_ms);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void rig_wait_idle(void)
{
    for (int i = 0; i < 6000 && executor_busy(&R.exec); i++)
        sleep_ms(10);
    ck_assert_msg(!executor_busy(&R.exec), "the recipe did not end within 60 s");
    executor_join(&R.exec);
}

void rig_wait_writes(size_t n)
{
    for (int i = 0; i < 6000 && R.fault->write_count(R.plc.inst) < n; i++)
        sleep_ms(10);
    ck_assert_uint_ge(R.fault->write_count(R.plc.inst), n);
}

size_t rig_valve_tag(int valve)
{
    const tag_param *v = tagmap_valve(&R.tags, valve);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_ne(v->write_tag, SIZE_MAX);
    return v->write_tag;
}

size_t rig_param_tag(const char *parameter_id)
{
    const tag_param *p = tagmap_find(&R.tags, parameter_id);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ne(p->write_tag, SIZE_MAX);
    return p->write_tag;
}

size_t rig_writes_to(size_t tag)
{
    size_t n = 0, total = R.fault->write_count(R.plc.inst);
    for (size_t i = 0; i < total; i++)
        n += R.fault->write_at(R.plc.inst, i).tag == tag;
    return n;
}
