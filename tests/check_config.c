/*
 * check_config.c - the engine configuration: conf.d loading, defaults,
 * environment overrides, instance selection, file:line errors, origins and
 * secret masking (engine/config.h).
 *
 * Check forks every test case, so setenv/unsetenv stay inside one case. Each
 * case clears the variables config_apply_env reads before it starts, so the
 * environment of the harness cannot change a result.
 */
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static const char *const env_names[] = {
    "MACHINE_ID",     "LOG_LEVEL",    "STATUS_LOG_INTERVAL",
    "PLC_TYPE",       "ALD_DATA_DIR", "ALD_PLUGIN_DIR",
    "PLC_HOST",       "PLC_IP",       "PLC_PORT",
    "PLC_BYTE_ORDER", "SUPABASE_URL", "SUPABASE_KEY",
    "SUPABASE_URL_FILE", "SUPABASE_KEY_FILE", "HTTP_BIND",
    "ALD_LEASE_TTL_MS", "ALD_LEASE_RENEW_MS", "ALD_EXECUTOR_RT_PRIORITY",
};

static char err[2048];
static engine_config cfg;

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
}

static void setup(void)
{
    clear_env();
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
}

static void teardown(void)
{
    config_free(&cfg);
}

/* ---- fixtures -------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void copy_file(const char *from, const char *dir, const char *name)
{
    FILE *in = fopen(from, "r");
    ck_assert_msg(in != NULL, "cannot read %s", from);
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[n] = '\0';
    write_file(dir, name, text);
}

/* A copy of the shipped simulated-tool-on-SQLite set (without plc-modbus.conf,
 * which another area owns), so fixtures can add instances next to it. */
static const char *shipped_base(const char *tag)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(tag));
    static const char *const files[] = {"engine.conf", "plc-sim.conf", "storage-sqlite.conf"};
    for (size_t i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "conf.d/%s", files[i]);
        copy_file(test_srcpath(rel), dir, files[i]);
    }
    return dir;
}

static void add_fixture(const char *dir, const char *fixture)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/config/%s", fixture);
    copy_file(test_srcpath(rel), dir, fixture);
}

/* A directory holding one minimal plc + storage pair, plus `name` = `text`. */
static const char *minimal_with(const char *tag, const char *name, const char *text)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(tag));
    write_file(dir, "plc.conf",
               "plugins = ( { name = \"sim\"; plugin = \"plc-sim\"; role = \"plc\";\n"
               "              plc_type = \"simulation\"; } );\n");
    write_file(dir, "store.conf",
               "plugins = ( { name = \"local\"; plugin = \"storage-sqlite\";\n"
               "              role = \"storage\"; } );\n");
    if (name)
        write_file(dir, name, text);
    return dir;
}

static void load_ok(const char *dir)
{
    ck_assert_msg(config_load_dir(&cfg, dir, err, sizeof err) == 0, "load: %s", err);
}

static void load_fails_with(const char *dir, const char *file, const char *message)
{
    char expected[2048];
    snprintf(expected, sizeof expected, "%s/%s", dir, file);
    size_t len = strlen(expected);
    ck_assert_int_eq(config_load_dir(&cfg, dir, err, sizeof err), -1);
    ck_assert_msg(!strncmp(err, expected, len) &&
                      !strncmp(err + len, message, strlen(message)),
                  "expected \"%s%s...\", got \"%s\"", expected, message, err);
}

static const plugin_conf *instance(const char *name)
{
    for (size_t i = 0; i < cfg.plugin_count; i++)
        if (!strcmp(cfg.plugins[i].name, name))
            return &cfg.plugins[i];
    ck_abort_msg("no instance %s", name);
    return NULL;
}

static const char *setting_string(const plugin_conf *p, const char *name)
{
    const char *value = NULL;
    ck_assert_int_eq(config_get_string(p->settings, name, &value), ALD_OK);
    return value;
}

static const char *where(const plugin_conf *p, const char *name)
{
    static char buf[512];
    return config_get_where(p->settings, name, buf, sizeof buf);
}

/* ---- the shipped conf.d and defaults --------------------------------------------- */

START_TEST(shipped_confd_loads_and_validates)
{
    load_ok(test_srcpath("conf.d"));
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), 0);
    ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "validate: %s", err);
    const plugin_conf *plc = config_active(&cfg, ROLE_PLC);
    const plugin_conf *store = config_active(&cfg, ROLE_STORAGE);
    ck_assert_ptr_nonnull(plc);
    ck_assert_ptr_nonnull(store);
    ck_assert_str_eq(plc->name, "sim");
    ck_assert_str_eq(plc->plugin, "plc-sim");
    ck_assert_str_eq(plc->plc_type, "simulation");
    ck_assert_str_eq(store->name, "local");
    ck_assert_str_eq(store->plugin, "storage-sqlite");
    ck_assert_ptr_null(config_active(&cfg, ROLE_FALLBACK));
    int seed_demo = 0;
    ck_assert_int_eq(config_get_bool(store->settings, "seed_demo", &seed_demo), ALD_OK);
    ck_assert_int_eq(seed_demo, 1);
    const char *unused;
    ck_assert_int_eq(config_get_string(store->settings, "path", &unused), ALD_ERR_NOT_FOUND);
}
END_TEST

START_TEST(shipped_engine_conf_states_the_defaults)
{
    load_ok(test_srcpath("conf.d"));
    ck_assert_str_eq(cfg.machine_id, "e3e6e280-0000-4000-8000-000000000001");
    ck_assert_int_eq(cfg.log_level, ALD_LOG_INFO);
    ck_assert_double_eq(cfg.logging_interval_s, 1.0);
    ck_assert_int_eq(cfg.status_log_interval_s, 300);
    ck_assert_int_eq(cfg.http_port, 8000);
    ck_assert_str_eq(cfg.plc_type, "simulation");
    ck_assert_ptr_null(cfg.data_dir);
    ck_assert_ptr_null(cfg.plugin_dir);
    ck_assert_uint_eq(cfg.command_max_age_s, 60);
}
END_TEST

START_TEST(command_max_age_is_read_and_bounded)
{
    load_ok(minimal_with("maxage", "engine.conf", "engine: { command_max_age = 300; };\n"));
    ck_assert_uint_eq(cfg.command_max_age_s, 300);
    config_free(&cfg);
    load_fails_with(minimal_with("maxage0", "engine.conf",
                                 "engine: { command_max_age = 0; };\n"),
                    "engine.conf",
                    ":1: command_max_age must be a whole number of seconds 1..86400");
    config_free(&cfg);
    load_fails_with(minimal_with("maxagef", "engine.conf",
                                 "engine: { command_max_age = 1.5; };\n"),
                    "engine.conf",
                    ":1: command_max_age must be a whole number of seconds 1..86400");
}
END_TEST

START_TEST(defaults_apply_without_an_engine_group)
{
    load_ok(minimal_with("defaults", NULL, NULL));
    ck_assert_str_eq(cfg.machine_id, "e3e6e280-0000-4000-8000-000000000001");
    ck_assert_int_eq(cfg.log_level, ALD_LOG_INFO);
    ck_assert_double_eq(cfg.logging_interval_s, 1.0);
    ck_assert_int_eq(cfg.status_log_interval_s, 300);
    ck_assert_int_eq(cfg.http_port, 8000);
    ck_assert_str_eq(cfg.plc_type, "simulation");
    ck_assert_ptr_null(cfg.data_dir);
    ck_assert_ptr_null(cfg.plugin_dir);
    ck_assert_uint_eq(cfg.command_max_age_s, 60);
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(engine_group_values_are_read)
{
    load_ok(minimal_with("values", "engine.conf",
                         "engine: { machine_id = \"11111111-2222-4333-8444-555555555555\";\n"
                         "  log_level = \"WARNING\"; logging_interval = 2;\n"
                         "  status_log_interval = 0; http_port = 0;\n"
                         "  data_dir = \"/srv/ald\"; plugin_dir = \"/opt/ald\"; };\n"));
    ck_assert_str_eq(cfg.machine_id, "11111111-2222-4333-8444-555555555555");
    ck_assert_int_eq(cfg.log_level, ALD_LOG_WARNING);
    ck_assert_double_eq(cfg.logging_interval_s, 2.0);
    ck_assert_int_eq(cfg.status_log_interval_s, 0);
    ck_assert_int_eq(cfg.http_port, 0);
    ck_assert_str_eq(cfg.data_dir, "/srv/ald");
    ck_assert_str_eq(cfg.plugin_dir, "/opt/ald");
}
END_TEST

START_TEST(files_are_read_in_name_order_and_other_files_ignored)
{
    const char *dir = minimal_with("order", "README", "not libconfig {");
    write_file(dir, "b.conf",
               "plugins = ( { name = \"b\"; plugin = \"x\"; role = \"fallback\"; } );\n");
    write_file(dir, "a.conf",
               "plugins = ( { name = \"a\"; plugin = \"x\"; role = \"fallback\"; "
               "requires_env = \"NOT_SET_ANYWHERE\"; } );\n");
    write_file(dir, ".hidden.conf", "broken {");
    load_ok(dir);
    ck_assert_uint_eq(cfg.plugin_count, 4);
    ck_assert_str_eq(cfg.plugins[0].name, "a");
    ck_assert_str_eq(cfg.plugins[1].name, "b");
    ck_assert_str_eq(cfg.plugins[2].name, "sim");
    ck_assert_str_eq(cfg.plugins[3].name, "local");
}
END_TEST

START_TEST(absent_settings_group_is_empty_and_points_at_the_instance)
{
    const char *dir = minimal_with("nosettings", NULL, NULL);
    load_ok(dir);
    const plugin_conf *sim = instance("sim");
    ck_assert_ptr_nonnull(sim->settings);
    ck_assert_int_eq(config_setting_length((const config_setting_t *)sim->settings), 0);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s/plc.conf:1", dir);
    ck_assert_str_eq(sim->where, expected);
    ck_assert_str_eq(where(sim, "host"), expected);
}
END_TEST

/* ---- environment overrides -------------------------------------------------- */

START_TEST(env_overrides_engine_settings)
{
    load_ok(test_srcpath("conf.d"));
    setenv("MACHINE_ID", "abcdef01-2345-4789-8abc-def012345678", 1);
    setenv("LOG_LEVEL", "DeBuG", 1);
    setenv("STATUS_LOG_INTERVAL", "0", 1);
    setenv("ALD_DATA_DIR", "/tmp/ald-data", 1);
    setenv("ALD_PLUGIN_DIR", "/tmp/ald-plugins", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(cfg.machine_id, "abcdef01-2345-4789-8abc-def012345678");
    ck_assert_int_eq(cfg.log_level, ALD_LOG_DEBUG);
    ck_assert_int_eq(cfg.status_log_interval_s, 0);
    ck_assert_str_eq(cfg.data_dir, "/tmp/ald-data");
    ck_assert_str_eq(cfg.plugin_dir, "/tmp/ald-plugins");
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(empty_env_values_count_as_unset)
{
    load_ok(test_srcpath("conf.d"));
    setenv("LOG_LEVEL", "", 1);
    setenv("PLC_PORT", "", 1);
    setenv("MACHINE_ID", "", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cfg.log_level, ALD_LOG_INFO);
    ck_assert_str_eq(cfg.machine_id, "e3e6e280-0000-4000-8000-000000000001");
}
END_TEST

START_TEST(plc_type_real_selects_the_modbus_instance)
{
    const char *dir = shipped_base("real");
    add_fixture(dir, "plc-real.conf");
    load_ok(dir);
    ck_assert_str_eq(config_active(&cfg, ROLE_PLC)->name, "sim");
    setenv("PLC_TYPE", "real", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "%s", err);
    const plugin_conf *plc = config_active(&cfg, ROLE_PLC);
    ck_assert_str_eq(plc->name, "plc");
    ck_assert_str_eq(plc->plugin, "plc-modbus");
    ck_assert_int_eq(instance("sim")->active, 0);
    ck_assert_str_eq(cfg.plc_type, "real");
}
END_TEST

START_TEST(plc_env_sets_host_port_and_byte_order_on_the_real_instance)
{
    const char *dir = shipped_base("plcenv");
    add_fixture(dir, "plc-real.conf");
    load_ok(dir);
    setenv("PLC_TYPE", "REAL", 1);
    setenv("PLC_HOST", "10.5.5.5", 1);
    setenv("PLC_IP", "10.9.9.9", 1); /* PLC_HOST wins */
    setenv("PLC_PORT", "1502", 1);
    setenv("PLC_BYTE_ORDER", "CDAB", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    const plugin_conf *plc = instance("plc");
    ck_assert_str_eq(setting_string(plc, "host"), "10.5.5.5");
    int64_t port = 0;
    ck_assert_int_eq(config_get_int(plc->settings, "port", &port), ALD_OK);
    ck_assert_int_eq(port, 1502);
    ck_assert_str_eq(setting_string(plc, "legacy_byte_order"), "cdab");
    ck_assert_str_eq(where(plc, "host"), "environment PLC_HOST");
    ck_assert_str_eq(where(plc, "port"), "environment PLC_PORT");
    ck_assert_str_eq(where(plc, "legacy_byte_order"), "environment PLC_BYTE_ORDER");
    /* The simulated instance is not touched. */
    const char *unused;
    ck_assert_int_eq(config_get_string(instance("sim")->settings, "host", &unused),
                     ALD_ERR_NOT_FOUND);
}
END_TEST

START_TEST(plc_ip_is_used_when_plc_host_is_unset)
{
    const char *dir = shipped_base("plcip");
    add_fixture(dir, "plc-real.conf");
    load_ok(dir);
    setenv("PLC_TYPE", "real", 1);
    setenv("PLC_IP", "192.168.7.7", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    const plugin_conf *plc = instance("plc");
    ck_assert_str_eq(setting_string(plc, "host"), "192.168.7.7");
    ck_assert_str_eq(where(plc, "host"), "environment PLC_IP");
}
END_TEST

START_TEST(plc_env_is_not_applied_while_simulating)
{
    const char *dir = shipped_base("plcsim");
    add_fixture(dir, "plc-real.conf");
    load_ok(dir);
    setenv("PLC_HOST", "10.5.5.5", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(config_active(&cfg, ROLE_PLC)->name, "sim");
    /* The file's value stays, and says where it came from. */
    const plugin_conf *plc = instance("plc");
    ck_assert_str_eq(setting_string(plc, "host"), "127.0.0.1");
    char expected[1024];
    snprintf(expected, sizeof expected, "%s/plc-real.conf:11", dir);
    ck_assert_str_eq(where(plc, "host"), expected);
}
END_TEST

START_TEST(plc_type_without_a_matching_instance_lists_what_is_declared)
{
    const char *dir = shipped_base("nomatch");
    load_ok(dir);
    setenv("PLC_TYPE", "real", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), 0);
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
    char expected[1024];
    snprintf(expected, sizeof expected,
             "PLC_TYPE=real but no plc instance has plc_type \"real\" "
             "(declared: sim (simulation) at %s/plc-sim.conf:6)",
             dir);
    ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(plc_type_from_a_file_without_a_matching_instance_names_the_file)
{
    const char *dir = minimal_with("filetype", "engine.conf",
                                   "engine: {\n"
                                   "  plc_type = \"opcua\";\n"
                                   "};\n");
    load_ok(dir);
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
    char expected[1024];
    snprintf(expected, sizeof expected, "plc_type \"opcua\" (%s/engine.conf:2) but no plc",
             dir);
    ck_assert_msg(!strncmp(err, expected, strlen(expected)), "got: %s", err);
}
END_TEST

START_TEST(plc_type_env_selects_any_configured_plc_type)
{
    const char *dir = shipped_base("replay");
    write_file(dir, "plc-replay.conf",
               "plugins = ( { name = \"replay\"; plugin = \"plc-sim\"; role = \"plc\";\n"
               "              plc_type = \"replay\"; } );\n");
    load_ok(dir);
    setenv("PLC_TYPE", "replay", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(config_active(&cfg, ROLE_PLC)->name, "replay");
}
END_TEST

START_TEST(bad_plc_port_is_rejected_naming_the_variable)
{
    static const char *const bad[] = {"abc", "0", "65536", "502x", "-1"};
    load_ok(test_srcpath("conf.d"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("PLC_PORT", bad[i], 1);
        err[0] = '\0';
        ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == -1, "PLC_PORT=%s", bad[i]);
        ck_assert_msg(strstr(err, "PLC_PORT") && strstr(err, "1..65535"), "got: %s", err);
    }
}
END_TEST

START_TEST(bad_plc_byte_order_is_rejected_naming_the_variable)
{
    load_ok(test_srcpath("conf.d"));
    setenv("PLC_BYTE_ORDER", "big", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_str_eq(err, "environment PLC_BYTE_ORDER=big is unknown: use abcd, badc, cdab "
                          "or dcba");
}
END_TEST

START_TEST(bad_log_level_is_rejected_naming_the_variable)
{
    load_ok(test_srcpath("conf.d"));
    setenv("LOG_LEVEL", "loud", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_str_eq(err,
                     "environment LOG_LEVEL=loud is not a log level: use error, warning, "
                     "info or debug");
}
END_TEST

START_TEST(bad_plc_type_and_status_interval_are_rejected)
{
    load_ok(test_srcpath("conf.d"));
    setenv("PLC_TYPE", "virtual", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "PLC_TYPE=virtual but no plc instance has plc_type \"virtual\"") &&
                      strstr(err, "declared: "),
                  "%s", err);
    unsetenv("PLC_TYPE");
    config_free(&cfg); /* the second load below replaces it */
    load_ok(test_srcpath("conf.d"));
    setenv("STATUS_LOG_INTERVAL", "-5", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "STATUS_LOG_INTERVAL=-5"), "%s", err);
    unsetenv("STATUS_LOG_INTERVAL");
    setenv("MACHINE_ID", "machine-7", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "MACHINE_ID") && strstr(err, "UUID"), "%s", err);
}
END_TEST

START_TEST(a_bad_variable_changes_nothing)
{
    load_ok(test_srcpath("conf.d"));
    setenv("LOG_LEVEL", "debug", 1);
    setenv("PLC_TYPE", "real", 1);
    setenv("PLC_PORT", "none", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_int_eq(cfg.log_level, ALD_LOG_INFO);
    ck_assert_str_eq(cfg.plc_type, "simulation");
    ck_assert_str_eq(config_active(&cfg, ROLE_PLC)->name, "sim");
}
END_TEST

START_TEST(supabase_url_activates_the_cloud_store_and_demotes_sqlite)
{
    const char *dir = shipped_base("supabase");
    add_fixture(dir, "storage-supabase.conf");
    load_ok(dir);
    setenv("SUPABASE_URL", "https://demo.supabase.co", 1);
    setenv("SUPABASE_KEY", "eyJ-not-a-real-key", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "%s", err);
    const plugin_conf *store = config_active(&cfg, ROLE_STORAGE);
    const plugin_conf *fallback = config_active(&cfg, ROLE_FALLBACK);
    ck_assert_str_eq(store->name, "cloud");
    ck_assert_str_eq(store->plugin, "storage-supabase");
    ck_assert_str_eq(fallback->name, "local");
    ck_assert_str_eq(setting_string(store, "url"), "https://demo.supabase.co");
    ck_assert_str_eq(setting_string(store, "key"), "eyJ-not-a-real-key");
    ck_assert_str_eq(where(store, "url"), "environment SUPABASE_URL");
    ck_assert_str_eq(where(store, "key"), "environment SUPABASE_KEY");
}
END_TEST

START_TEST(missing_secret_file_names_the_variable_and_path)
{
    load_ok(test_srcpath("conf.d"));
    setenv("SUPABASE_KEY_FILE", "/nonexistent/supabase_key", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "SUPABASE_KEY_FILE") && strstr(err, "/nonexistent/supabase_key"),
                  "%s", err);
}
END_TEST

START_TEST(secret_and_its_file_together_are_refused)
{
    load_ok(test_srcpath("conf.d"));
    setenv("SUPABASE_KEY", "eyJ-do-not-echo", 1);
    setenv("SUPABASE_KEY_FILE", "/run/secrets/supabase_key", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "both SUPABASE_KEY and SUPABASE_KEY_FILE"), "%s", err);
    ck_assert_msg(!strstr(err, "eyJ-do-not-echo"), "secret in: %s", err);
}
END_TEST

START_TEST(runtime_env_defaults_to_loopback_and_fast_lease)
{
    engine_runtime rt;
    ck_assert_msg(runtime_env_load(&rt, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(rt.http_bind, "127.0.0.1");
    ck_assert_uint_eq(rt.lease_ttl_ms, 1500);
    ck_assert_uint_eq(rt.lease_renew_ms, 500);
    ck_assert_int_eq(rt.executor_rt_priority, 0);
    setenv("HTTP_BIND", "0.0.0.0", 1);
    setenv("ALD_LEASE_TTL_MS", "3000", 1);
    setenv("ALD_EXECUTOR_RT_PRIORITY", "50", 1);
    ck_assert_msg(runtime_env_load(&rt, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(rt.http_bind, "0.0.0.0");
    ck_assert_uint_eq(rt.lease_ttl_ms, 3000);
    ck_assert_int_eq(rt.executor_rt_priority, 50);
}
END_TEST

START_TEST(renewal_slower_than_half_the_ttl_is_refused)
{
    engine_runtime rt;
    setenv("ALD_LEASE_RENEW_MS", "1000", 1);
    ck_assert_int_eq(runtime_env_load(&rt, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "ALD_LEASE_RENEW_MS=1000"), "%s", err);
    setenv("ALD_LEASE_RENEW_MS", "abc", 1);
    ck_assert_int_eq(runtime_env_load(&rt, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "ALD_LEASE_RENEW_MS=abc"), "%s", err);
}
END_TEST

START_TEST(without_supabase_url_sqlite_stays_the_store)
{
    const char *dir = shipped_base("nosupabase");
    add_fixture(dir, "storage-supabase.conf");
    load_ok(dir);
    setenv("SUPABASE_KEY", "eyJ-not-a-real-key", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(config_active(&cfg, ROLE_STORAGE)->name, "local");
    ck_assert_ptr_null(config_active(&cfg, ROLE_FALLBACK));
    ck_assert_int_eq(instance("cloud")->active, 0);
}
END_TEST

START_TEST(two_active_stores_are_rejected)
{
    const char *dir =
        minimal_with("twostores", "second.conf",
                     "plugins = ( { name = \"other\"; plugin = \"storage-sqlite\";"
                     " role = \"storage\"; } );\n");
    load_ok(dir);
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "2 active storage instances") && strstr(err, "local at") &&
                      strstr(err, "other at"),
                  "%s", err);
}
END_TEST

/* ---- broken files name file:line ------------------------------------------------ */

START_TEST(syntax_error_names_file_and_line)
{
    const char *dir = minimal_with("syntax", "engine.conf",
                                   "engine: {\n"
                                   "  http_port = 8000;\n"
                                   "  log_level = ;\n"
                                   "};\n");
    load_fails_with(dir, "engine.conf", ":3: syntax error");
    ck_assert_ptr_null(cfg.impl); /* nothing left to free */
}
END_TEST

START_TEST(wrong_type_names_file_and_line)
{
    const char *dir = minimal_with("type", "engine.conf",
                                   "engine: {\n"
                                   "  log_level = \"info\";\n"
                                   "  logging_interval = \"1s\";\n"
                                   "};\n");
    load_fails_with(dir, "engine.conf",
                    ":3: logging_interval must be a number of seconds from 0.01 to 3600");
}
END_TEST

START_TEST(non_positive_interval_is_rejected)
{
    const char *dir =
        minimal_with("zero", "engine.conf", "engine: { logging_interval = 0.0; };\n");
    load_fails_with(dir, "engine.conf", ":1: logging_interval = 0 is out of bounds: it must be "
                    "a number of seconds from 0.01 to 3600");
}
END_TEST

/* ---- every numeric setting at its extremes (issue 9, item 9) -------------------- */

/* Texts no numeric setting may take: zero, negative, huge, tiny, and the
 * non-numbers (libconfig has no NaN/inf literal, so those are syntax errors). */
static const char *const extremes[] = {"0",     "0.0",    "-1",    "-0.5", "1e12",
                                       "1e-10", "1e-9",   "1e300", "1e999", "99999999999999999999",
                                       "nan",   "inf",    "-inf",  "3600.001", "0.009"};

/* engine.conf line 2 holds key = text: the load fails naming engine.conf:2
 * and, when libconfig read a number, the bounds. */
static void engine_setting_refused(const char *key, const char *text, const char *rule)
{
    char conf[256];
    snprintf(conf, sizeof conf, "engine: {\n  %s = %s;\n};\n", key, text);
    const char *dir = minimal_with("extreme", "engine.conf", conf);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s/engine.conf:2: ", dir);
    config_free(&cfg);
    ck_assert_msg(config_load_dir(&cfg, dir, err, sizeof err) == -1, "%s = %s was accepted",
                  key, text);
    ck_assert_msg(!strncmp(err, expected, strlen(expected)), "%s = %s: \"%s\"", key, text,
                  err);
    ck_assert_msg(strstr(err, rule) || strstr(err, "syntax error"), "%s = %s: \"%s\"", key,
                  text, err);
}

START_TEST(every_numeric_engine_setting_refuses_its_extremes)
{
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        const char *t = extremes[i];
        engine_setting_refused("logging_interval", t, "from 0.01 to 3600");
        /* whole-number settings: 0 is valid (off), the rest are not */
        if (strcmp(t, "0") != 0) {
            engine_setting_refused("status_log_interval", t, "from 0 (off) to 31536000");
            engine_setting_refused("http_port", t, "1..65535 (0 = HTTP off)");
        }
        char ready[256];
        snprintf(ready, sizeof ready, "( { parameter = \"p\"; op = \">=\"; value = %s; } )",
                 t);
        if (strstr(t, "999") || strstr(t, "inf") || strstr(t, "nan"))
            engine_setting_refused("readiness", ready, "finite number");
    }
}
END_TEST

START_TEST(the_bounds_themselves_are_accepted)
{
    static const char *const ok[] = {"0.01", "3600", "3600.0", "1", "0.5"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char conf[128];
        snprintf(conf, sizeof conf, "engine: { logging_interval = %s; };\n", ok[i]);
        config_free(&cfg);
        load_ok(minimal_with("bounds-ok", "engine.conf", conf));
        ck_assert_msg(config_validate(&cfg, err, sizeof err) == 0, "%s: %s", ok[i], err);
    }
}
END_TEST

/* The environment's numbers, at their extremes, are refused naming the variable. */
START_TEST(every_numeric_variable_refuses_its_extremes)
{
    static const char *const vars[] = {"STATUS_LOG_INTERVAL", "ALD_LEASE_TTL_MS",
                                       "ALD_LEASE_RENEW_MS", "ALD_EXECUTOR_RT_PRIORITY"};
    static const char *const texts[] = {"-1", "1e12", "1e-10", "99999999999999999999", "nan",
                                        "inf", "0.5", "abc"};
    engine_runtime rt;
    for (size_t v = 0; v < sizeof vars / sizeof vars[0]; v++)
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            clear_env();
            config_free(&cfg);
            load_ok(test_srcpath("conf.d"));
            setenv(vars[v], texts[t], 1);
            char named[128];
            snprintf(named, sizeof named, "%s=%s", vars[v], texts[t]);
            int refused = v == 0 ? config_apply_env(&cfg, err, sizeof err) == -1
                                 : runtime_env_load(&rt, err, sizeof err) == -1;
            ck_assert_msg(refused && strstr(err, named), "%s: \"%s\"", named, err);
        }
    /* 0 is refused where it would break the lease (TTL, renewal) */
    clear_env();
    setenv("ALD_LEASE_TTL_MS", "0", 1);
    ck_assert_int_eq(runtime_env_load(&rt, err, sizeof err), -1);
    clear_env();
    setenv("ALD_LEASE_RENEW_MS", "0", 1);
    ck_assert_int_eq(runtime_env_load(&rt, err, sizeof err), -1);
}
END_TEST

/* The environment cannot bring a value past the bounds either: the check
 * runs again on the effective configuration. */
START_TEST(validate_refuses_an_interval_out_of_bounds)
{
    load_ok(test_srcpath("conf.d"));
    static const double bad[] = {0, -1, 1e12, 1e-10, 1e-9, 3600.5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.logging_interval_s = bad[i];
        ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "from 0.01 to 3600"), "%g: %s", bad[i], err);
    }
    cfg.logging_interval_s = 0.0 / 0.0;
    ck_assert_int_eq(config_validate(&cfg, err, sizeof err), -1);
}
END_TEST

START_TEST(unknown_engine_setting_names_file_and_line)
{
    const char *dir = minimal_with("unknown", "engine.conf",
                                   "engine: {\n"
                                   "  log_level = \"info\";\n"
                                   "  loging_interval = 1.0;\n"
                                   "};\n");
    load_fails_with(dir, "engine.conf", ":3: unknown engine setting 'loging_interval'");
}
END_TEST

START_TEST(duplicate_engine_group_names_both_places)
{
    const char *dir = minimal_with("dupengine", "a.conf", "engine: { http_port = 1; };\n");
    write_file(dir, "b.conf", "\n\nengine: { http_port = 2; };\n");
    load_fails_with(dir, "b.conf", ":3: duplicate engine group (the first is at ");
    ck_assert_msg(strstr(err, "/a.conf:1)"), "%s", err);
}
END_TEST

START_TEST(duplicate_instance_names_name_both_places)
{
    const char *dir =
        minimal_with("dupname", "z.conf",
                     "plugins = (\n"
                     "  { name = \"sim\"; plugin = \"plc-sim\"; role = \"plc\";\n"
                     "    plc_type = \"other\"; }\n"
                     ");\n");
    load_fails_with(dir, "z.conf", ":2: duplicate instance name 'sim' (also at ");
    ck_assert_msg(strstr(err, "/plc.conf:1)"), "%s", err);
}
END_TEST

START_TEST(readiness_conditions_are_checked_with_their_place)
{
    const char *dir = minimal_with("ready-bad", "engine.conf",
                                   "engine: {\n"
                                   "  readiness = (\n"
                                   "    { parameter = \"p1\"; op = \">=\"; value = 1.0; },\n"
                                   "    { parameter = \"p2\"; op = \"=>\"; value = 1.0; }\n"
                                   "  );\n"
                                   "};\n");
    load_fails_with(dir, "engine.conf", ":4: readiness op '=>' is not one of");
    config_free(&cfg);
    dir = minimal_with("ready-ok", "engine.conf",
                       "engine: { readiness = ( { parameter = \"p1\"; op = \"<\"; "
                       "value = 2.5; } ); };\n");
    load_ok(dir);
    ck_assert_uint_eq(config_get_count(cfg.readiness, NULL), 1);
    const char *param = NULL;
    ck_assert_int_eq(config_get_string(config_get_child(cfg.readiness, NULL, 0), "parameter",
                                       &param),
                     ALD_OK);
    ck_assert_str_eq(param, "p1");
}
END_TEST

START_TEST(unknown_role_names_file_and_line)
{
    const char *dir =
        minimal_with("role", "x.conf",
                     "plugins = ( {\n"
                     "  name = \"x\"; plugin = \"plc-sim\"; role = \"plcc\"; } );\n");
    load_fails_with(dir, "x.conf", ":1: instance 'x' has unknown role 'plcc'");
}
END_TEST

START_TEST(missing_plugin_names_file_and_line)
{
    const char *dir = minimal_with("noplugin", "x.conf",
                                   "# a comment line\n"
                                   "plugins = ( { name = \"x\"; role = \"fallback\"; } );\n");
    load_fails_with(dir, "x.conf", ":2: instance 'x' has no plugin");
}
END_TEST

START_TEST(unknown_instance_and_top_level_settings_are_rejected)
{
    const char *dir =
        minimal_with("instkey", "x.conf",
                     "plugins = ( { name = \"x\"; plugin = \"p\"; role = \"fallback\";\n"
                     "  host = \"10.0.0.1\"; } );\n");
    load_fails_with(dir, "x.conf", ":2: unknown instance setting 'host'");
    config_free(&cfg);
    dir = minimal_with("toplevel", "x.conf", "plugin = ( );\n");
    load_fails_with(dir, "x.conf", ":1: unknown top-level setting 'plugin'");
}
END_TEST

START_TEST(plc_instance_needs_a_plc_type)
{
    const char *dir =
        minimal_with("noplctype", "x.conf",
                     "plugins = ( { name = \"x\"; plugin = \"p\"; role = \"plc\"; } );\n");
    load_fails_with(dir, "x.conf", ":1: plc instance 'x' has no plc_type");
}
END_TEST

START_TEST(empty_or_missing_directory_is_an_error)
{
    const char *dir = test_tmpdir("empty");
    write_file(dir, "notes.txt", "engine: { };\n");
    ck_assert_int_eq(config_load_dir(&cfg, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, dir) && strstr(err, "holds no *.conf files"), "%s", err);
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/absent", dir);
    ck_assert_int_eq(config_load_dir(&cfg, missing, err, sizeof err), -1);
    ck_assert_msg(strstr(err, missing) && strstr(err, "No such file or directory"), "%s",
                  err);
}
END_TEST

/* ---- origins ------------------------------------------------------------------ */

START_TEST(config_where_names_the_file_line_of_a_setting)
{
    const char *dir = shipped_base("where");
    load_ok(dir);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s/storage-sqlite.conf:20", dir);
    ck_assert_str_eq(where(instance("local"), "seed_demo"), expected);
}
END_TEST

START_TEST(plugin_defaults_add_machine_id_and_data_dir_unless_set)
{
    const char *dir =
        minimal_with("defaults2", "x.conf",
                     "plugins = ( { name = \"x\"; plugin = \"p\"; role = \"fallback\";\n"
                     "  settings = { data_dir = \"/own\"; }; } );\n");
    load_ok(dir);
    ck_assert_int_eq(config_set_plugin_defaults(&cfg, "/var/lib/ald", err, sizeof err), 0);
    const plugin_conf *sim = instance("sim");
    ck_assert_str_eq(setting_string(sim, "machine_id"),
                     "e3e6e280-0000-4000-8000-000000000001");
    ck_assert_str_eq(setting_string(sim, "data_dir"), "/var/lib/ald");
    ck_assert_str_eq(where(sim, "machine_id"), "engine");
    const plugin_conf *x = instance("x");
    ck_assert_str_eq(setting_string(x, "data_dir"), "/own");
    char expected[1024];
    snprintf(expected, sizeof expected, "%s/x.conf:2", dir);
    ck_assert_str_eq(where(x, "data_dir"), expected);
}
END_TEST

/* ---- the effective-configuration log ------------------------------------------ */

/* Run config_log_effective with fd 2 redirected to a file; return its text. */
static char *captured_log(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/stderr.log", test_tmpdir("log"));
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    int saved = dup(2);
    dup2(fd, 2);
    config_log_effective(&cfg);
    dup2(saved, 2);
    close(saved);
    close(fd);
    static char text[65536];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

START_TEST(effective_log_masks_secrets)
{
    const char *dir = shipped_base("secrets");
    add_fixture(dir, "storage-supabase.conf");
    write_file(
        dir, "zz-extra.conf",
        "plugins = ( { name = \"extra\"; plugin = \"p\"; role = \"fallback\";\n"
        "  requires_env = \"NOT_SET_ANYWHERE\";\n"
        "  settings = { db_password = \"hunter2-secret\"; api = { token = \"tok-123\"; };\n"
        "               mirror = \"https://bob:pa55w0rd@mirror.example/path\"; }; } );\n");
    load_ok(dir);
    setenv("SUPABASE_URL", "https://user:urlsecret@demo.supabase.co/", 1);
    setenv("SUPABASE_KEY", "eyJ-super-secret-key", 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    char *log = captured_log();
    ck_assert_msg(!strstr(log, "eyJ-super-secret-key"), "key leaked:\n%s", log);
    ck_assert_msg(!strstr(log, "hunter2-secret"), "password leaked:\n%s", log);
    ck_assert_msg(!strstr(log, "tok-123"), "token leaked:\n%s", log);
    ck_assert_msg(!strstr(log, "urlsecret") && !strstr(log, "pa55w0rd"),
                  "URL userinfo leaked:\n%s", log);
    ck_assert_msg(
        strstr(log, "instance cloud: key = \"********\" (environment SUPABASE_KEY)"), "%s",
        log);
    ck_assert_msg(strstr(log, "instance extra: db_password = \"********\""), "%s", log);
    ck_assert_msg(strstr(log, "instance extra: api.token = \"********\""), "%s", log);
    ck_assert_msg(strstr(log, "instance cloud: url = \"https://demo.supabase.co/\""), "%s",
                  log);
    ck_assert_msg(strstr(log, "\"https://mirror.example/path\""), "%s", log);
    ck_assert_msg(
        strstr(log, "instance cloud: plugin storage-supabase, role storage, active"), "%s",
        log);
    ck_assert_msg(strstr(log, "instance local: plugin storage-sqlite, role fallback, active"),
                  "%s", log);
    ck_assert_msg(strstr(log, "engine: machine_id = e3e6e280-0000-4000-8000-000000000001"),
                  "%s", log);
}
END_TEST

START_TEST(supabase_key_file_is_read_without_its_newline_and_masked)
{
    const char *dir = shipped_base("keyfilelog");
    add_fixture(dir, "storage-supabase.conf");
    write_file(dir, "key.secret", "eyJ-from-a-file\n");
    load_ok(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/key.secret", dir);
    setenv("SUPABASE_URL", "https://demo.supabase.co", 1);
    setenv("SUPABASE_KEY_FILE", path, 1);
    ck_assert_msg(config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
    const plugin_conf *store = config_active(&cfg, ROLE_STORAGE);
    ck_assert_str_eq(setting_string(store, "key"), "eyJ-from-a-file");
    char *log = captured_log();
    ck_assert_msg(!strstr(log, "eyJ-from-a-file"), "key leaked:\n%s", log);
    ck_assert_msg(strstr(log, "key = \"********\" (environment SUPABASE_KEY_FILE)"), "%s", log);
}
END_TEST

START_TEST(errors_never_echo_secret_values)
{
    load_ok(test_srcpath("conf.d"));
    setenv("SUPABASE_URL", "ftp://admin:topsecret@example.org", 1);
    ck_assert_int_eq(config_apply_env(&cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "SUPABASE_URL"), "%s", err);
    ck_assert_msg(!strstr(err, "topsecret"), "secret in: %s", err);
}
END_TEST

START_TEST(free_is_safe_after_a_failed_load_and_twice)
{
    ck_assert_int_eq(config_load_dir(&cfg, "/nonexistent/conf.d", err, sizeof err), -1);
    config_free(&cfg);
    load_ok(test_srcpath("conf.d"));
    config_free(&cfg);
    config_free(&cfg);
    ck_assert_ptr_null(cfg.impl);
    ck_assert_uint_eq(cfg.plugin_count, 0);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, shipped_confd_loads_and_validates);
    tcase_add_test(tc, shipped_engine_conf_states_the_defaults);
    tcase_add_test(tc, defaults_apply_without_an_engine_group);
    tcase_add_test(tc, command_max_age_is_read_and_bounded);
    tcase_add_test(tc, engine_group_values_are_read);
    tcase_add_test(tc, files_are_read_in_name_order_and_other_files_ignored);
    tcase_add_test(tc, absent_settings_group_is_empty_and_points_at_the_instance);
    tcase_add_test(tc, env_overrides_engine_settings);
    tcase_add_test(tc, empty_env_values_count_as_unset);
    tcase_add_test(tc, plc_type_real_selects_the_modbus_instance);
    tcase_add_test(tc, plc_env_sets_host_port_and_byte_order_on_the_real_instance);
    tcase_add_test(tc, plc_ip_is_used_when_plc_host_is_unset);
    tcase_add_test(tc, plc_env_is_not_applied_while_simulating);
    tcase_add_test(tc, plc_type_without_a_matching_instance_lists_what_is_declared);
    tcase_add_test(tc, plc_type_from_a_file_without_a_matching_instance_names_the_file);
    tcase_add_test(tc, plc_type_env_selects_any_configured_plc_type);
    tcase_add_test(tc, bad_plc_port_is_rejected_naming_the_variable);
    tcase_add_test(tc, bad_plc_byte_order_is_rejected_naming_the_variable);
    tcase_add_test(tc, bad_log_level_is_rejected_naming_the_variable);
    tcase_add_test(tc, bad_plc_type_and_status_interval_are_rejected);
    tcase_add_test(tc, a_bad_variable_changes_nothing);
    tcase_add_test(tc, supabase_url_activates_the_cloud_store_and_demotes_sqlite);
    tcase_add_test(tc, without_supabase_url_sqlite_stays_the_store);
    tcase_add_test(tc, two_active_stores_are_rejected);
    tcase_add_test(tc, syntax_error_names_file_and_line);
    tcase_add_test(tc, wrong_type_names_file_and_line);
    tcase_add_test(tc, non_positive_interval_is_rejected);
    tcase_add_test(tc, unknown_engine_setting_names_file_and_line);
    tcase_add_test(tc, duplicate_engine_group_names_both_places);
    tcase_add_test(tc, duplicate_instance_names_name_both_places);
    tcase_add_test(tc, unknown_role_names_file_and_line);
    tcase_add_test(tc, readiness_conditions_are_checked_with_their_place);
    tcase_add_test(tc, missing_plugin_names_file_and_line);
    tcase_add_test(tc, unknown_instance_and_top_level_settings_are_rejected);
    tcase_add_test(tc, plc_instance_needs_a_plc_type);
    tcase_add_test(tc, empty_or_missing_directory_is_an_error);
    tcase_add_test(tc, config_where_names_the_file_line_of_a_setting);
    tcase_add_test(tc, plugin_defaults_add_machine_id_and_data_dir_unless_set);
    tcase_add_test(tc, effective_log_masks_secrets);
    tcase_add_test(tc, supabase_key_file_is_read_without_its_newline_and_masked);
    tcase_add_test(tc, missing_secret_file_names_the_variable_and_path);
    tcase_add_test(tc, secret_and_its_file_together_are_refused);
    tcase_add_test(tc, runtime_env_defaults_to_loopback_and_fast_lease);
    tcase_add_test(tc, renewal_slower_than_half_the_ttl_is_refused);
    tcase_add_test(tc, errors_never_echo_secret_values);
    tcase_add_test(tc, free_is_safe_after_a_failed_load_and_twice);
    tcase_add_test(tc, every_numeric_engine_setting_refuses_its_extremes);
    tcase_add_test(tc, the_bounds_themselves_are_accepted);
    tcase_add_test(tc, every_numeric_variable_refuses_its_extremes);
    tcase_add_test(tc, validate_refuses_an_interval_out_of_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(config_suite());
}
