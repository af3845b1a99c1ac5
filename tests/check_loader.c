/* check_loader.c - which plugins the loader accepts and what it says when not. */
#include <stdio.h>
#include <string.h>

#include "ports/loader.h"
#include "metrics.h"
#include "ports/host_services.h"
#include "ports/plugin_instance.h"
#include "testutil.h"

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s", test_buildpath("tests/fixtures/plugins/.libs/"));
    strncat(path, name, sizeof path - strlen(path) - 1);
    strncat(path, ".so", sizeof path - strlen(path) - 1);
    return path;
}

/* Expect a refusal whose message contains every given fragment. */
static void expect_refused(const char *name, ald_plugin_kind kind, const char *frag1,
                           const char *frag2)
{
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(loader_open(fixture(name), kind, &p, err, sizeof err), -1);
    ck_assert_ptr_null(p.handle);
    ck_assert_msg(strstr(err, fixture(name)) != NULL, "message lacks the path: %s", err);
    ck_assert_msg(strstr(err, frag1) != NULL, "message lacks '%s': %s", frag1, err);
    if (frag2)
        ck_assert_msg(strstr(err, frag2) != NULL, "message lacks '%s': %s", frag2, err);
}

START_TEST(good_plugin_loads_with_its_operations)
{
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(loader_open(fixture("fx-good"), ALD_PLUGIN_PLC, &p, err, sizeof err), 0);
    ck_assert_str_eq(p.desc.name, "fixture-plc");
    ck_assert_ptr_nonnull(p.vt.plc.read_all);
    ck_assert_ptr_nonnull(p.vt.plc.pulse);
    loader_close(&p);
    ck_assert_ptr_null(p.handle);
}
END_TEST

START_TEST(wrong_magic_is_refused)
{
    expect_refused("fx-bad-magic", ALD_PLUGIN_PLC, "magic 0x12345678", "not an ALD plugin");
}
END_TEST

START_TEST(wrong_major_is_refused_naming_both_versions)
{
    char speaks[64];
    snprintf(speaks, sizeof speaks, "engine speaks ABI %d.%d", ALD_ABI_MAJOR, ALD_ABI_MINOR);
    expect_refused("fx-major2", ALD_PLUGIN_PLC, "built for ABI 2.", speaks);
}
END_TEST

START_TEST(missing_entry_symbol_is_refused)
{
    expect_refused("fx-no-entry", ALD_PLUGIN_PLC, "no ald_plugin_entry() entry function",
                   "undefined symbol");
}
END_TEST

START_TEST(wrong_kind_is_refused)
{
    expect_refused("fx-storage-kind", ALD_PLUGIN_PLC, "is a storage plugin", "configured as plc");
}
END_TEST

START_TEST(layout_mismatch_is_refused)
{
    expect_refused("fx-knobs", ALD_PLUGIN_PLC, "another data layout", "rebuild");
}
END_TEST

START_TEST(missing_operation_is_named)
{
    expect_refused("fx-no-write", ALD_PLUGIN_PLC, "lacks the mandatory operation write_tag",
                   NULL);
}
END_TEST

START_TEST(zero_vtable_size_is_named_as_the_cause)
{
    expect_refused("fx-size0", ALD_PLUGIN_PLC,
                   "mandatory operations create, destroy, last_error, set_tags, read_all, "
                   "write_tag",
                   "its struct_size is 0");
}
END_TEST

START_TEST(older_vtable_loads_with_missing_operations_null)
{
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(loader_open(fixture("fx-old-minor"), ALD_PLUGIN_PLC, &p, err, sizeof err),
                     0);
    ck_assert_ptr_nonnull(p.vt.plc.write_tag);
    /* the plugin set pulse, but it lies beyond the size its build declared */
    ck_assert_ptr_null(p.vt.plc.pulse);
    ck_assert_ptr_null(p.vt.plc.valve_events);
    loader_close(&p);
}
END_TEST

START_TEST(newer_minor_is_accepted)
{
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(
        loader_open(fixture("fx-newer-minor"), ALD_PLUGIN_PLC, &p, err, sizeof err), 0);
    ck_assert_int_eq(p.desc.abi_minor, 7);
    loader_close(&p);
}
END_TEST

START_TEST(not_a_shared_object_is_refused_with_dlerror)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/not-a-plugin.so", test_tmpdir("loader"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("this is text\n", f);
    fclose(f);
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(loader_open(path, ALD_PLUGIN_PLC, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot load plugin") && strstr(err, path), "%s", err);
}
END_TEST

START_TEST(resolve_lists_where_it_looked)
{
    char path[1024], err[2048] = "";
    ck_assert_int_eq(loader_resolve("no-such-plugin", "/opt/none", path, sizeof path, err,
                                    sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "/opt/none/no-such-plugin.so") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "ALD_PLUGIN_DIR") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "installed plugins belong in the plugin directory " ALD_PKGLIBDIR),
                  "%s", err);
}
END_TEST

START_TEST(resolve_finds_a_plugin_in_plugin_dir)
{
    char dir[1024], path[1024], err[1024];
    snprintf(dir, sizeof dir, "%s", test_buildpath("tests/fixtures/plugins/.libs"));
    ck_assert_int_eq(loader_resolve("fx-good", dir, path, sizeof path, err, sizeof err), 0);
    ck_assert_str_eq(path, fixture("fx-good"));
}
END_TEST

START_TEST(instance_create_reports_settings_error_with_place)
{
    plugin_conf conf = {.name = "plc0", .plugin = (char *)fixture("fx-good"), .role = ROLE_PLC,
                        .active = 1, .settings = test_config("reject = 1;")};
    snprintf(conf.where, sizeof conf.where, "conf.d/test.conf:3");
    plugin_instance pi;
    char err[1024] = "";
    ck_assert_int_eq(plugin_instance_create(&pi, &conf, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "plc0") && strstr(err, "conf.d/test.conf:3") &&
                      strstr(err, "asked to reject"),
                  "%s", err);
}
END_TEST

/* A settings file in a temporary directory, as an ald_config with file:line. */
static const ald_config *settings_file(const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/settings.conf", test_tmpdir("settings"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return test_config_file(path);
}

START_TEST(unknown_setting_is_refused_with_file_and_line)
{
    char path[1024];
    plugin_conf conf = {.name = "plc0", .plugin = (char *)fixture("fx-good"), .role = ROLE_PLC,
                        .active = 1,
                        .settings = settings_file("reject = 0;\nrejekt = 1;\n", path,
                                                  sizeof path)};
    snprintf(conf.where, sizeof conf.where, "conf.d/test.conf:3");
    plugin_instance pi;
    char err[1024] = "", expected[1200];
    ck_assert_int_eq(plugin_instance_create(&pi, &conf, NULL, err, sizeof err), -1);
    snprintf(expected, sizeof expected,
             "instance 'plc0' (fixture-plc, declared at conf.d/test.conf:3) rejected its "
             "settings: %s:2: setting rejekt: not a setting of this plugin (it reads: reject)",
             path);
    ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(injected_settings_are_known_without_being_read)
{
    char path[1024];
    plugin_conf conf = {.name = "plc0", .plugin = (char *)fixture("fx-good"), .role = ROLE_PLC,
                        .active = 1,
                        .settings = settings_file("machine_id = \"m\";\ndata_dir = \"/d\";\n"
                                                  "reject = 0;\n",
                                                  path, sizeof path)};
    plugin_instance pi;
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(&pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    plugin_instance_destroy(&pi);
}
END_TEST

START_TEST(instance_lifecycle_calls_the_plugin)
{
    plugin_conf conf = {.name = "plc0", .plugin = (char *)fixture("fx-good"), .role = ROLE_PLC,
                        .active = 1, .settings = test_config("")};
    plugin_instance pi;
    char err[1024] = "";
    ck_assert_int_eq(plugin_instance_create(&pi, &conf, NULL, err, sizeof err), 0);
    ck_assert_int_eq(pi.serialise, 1); /* the fixture does not declare thread safety */
    ck_assert_int_eq(plugin_instance_start(&pi), ALD_OK);
    ald_tag tag = {.struct_size = sizeof tag, .name = "t", .read_address = "hr:1"};
    const ald_tag *tags[] = {&tag};
    ck_assert_int_eq(plc_ops(&pi)->set_tags(pi.inst, tags, 1), ALD_OK);
    ald_tag_value v;
    ck_assert_int_eq(plc_ops(&pi)->read_all(pi.inst, &v, 1), ALD_OK);
    ck_assert_double_eq(v.value, 1.0); /* tag 0, first read */
    plugin_instance_destroy(&pi);
}
END_TEST

START_TEST(sdk_example_plugin_loads_and_reads)
{
    plugin_conf conf = {.name = "gen", .plugin = (char *)fixture("plc-example"),
                        .role = ROLE_PLC, .active = 1, .settings = test_config("")};
    plugin_instance pi;
    char err[1024] = "";
    ck_assert_msg(plugin_instance_create(&pi, &conf, NULL, err, sizeof err) == 0, "%s", err);
    ald_tag a = {.struct_size = sizeof a, .name = "a", .read_address = "const:2.5"};
    ald_tag b = {.struct_size = sizeof b, .name = "b", .read_address = "ramp:3"};
    ald_tag bad = {.struct_size = sizeof bad, .name = "bad", .read_address = "hr:1"};
    const ald_tag *tags[] = {&a, &b, &bad};
    ck_assert_int_eq(plc_ops(&pi)->set_tags(pi.inst, tags, 3), ALD_ERR_INVALID);
    ck_assert_msg(strstr(plugin_last_error(&pi), "tag bad") != NULL, "%s",
                  plugin_last_error(&pi));
    ck_assert_int_eq(plc_ops(&pi)->set_tags(pi.inst, tags, 2), ALD_OK);
    ald_tag_value v[2];
    double ramp[4];
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(plc_ops(&pi)->read_all(pi.inst, v, 2), ALD_OK);
        ck_assert_double_eq(v[0].value, 2.5);
        ramp[i] = v[1].value;
    }
    ck_assert_double_eq(ramp[0], 0);
    ck_assert_double_eq(ramp[2], 2);
    ck_assert_double_eq(ramp[3], 0); /* wrapped at 3 */
    ck_assert_int_eq(plc_ops(&pi)->write_tag(pi.inst, 0, 7.0), ALD_OK);
    ck_assert_int_eq(plc_ops(&pi)->read_all(pi.inst, v, 2), ALD_OK);
    ck_assert_double_eq(v[0].value, 7.0);
    plugin_instance_destroy(&pi);
}
END_TEST

/* Plugins built from the frozen ABI 1.0 headers load and run in this engine,
 * whatever the engine's own headers have grown since. */
START_TEST(frozen_1_0_plugins_load_and_run)
{
    static const char *const names[] = {"fx-abi10-plc", "fx-abi10-example"};
    for (int i = 0; i < 2; i++) {
        plugin_conf conf = {.name = "old", .plugin = (char *)fixture(names[i]),
                            .role = ROLE_PLC, .active = 1, .settings = test_config("")};
        plugin_instance pi;
        char err[1024] = "";
        ck_assert_msg(plugin_instance_create(&pi, &conf, NULL, err, sizeof err) == 0, "%s: %s",
                      names[i], err);
        ck_assert_int_eq(pi.lib.desc.abi_major, 1);
        ck_assert_int_eq(pi.lib.desc.abi_minor, 0);
        ald_tag tag = {.struct_size = sizeof tag, .name = "t", .read_address = "const:2.5",
                       .write_address = "const:2.5"};
        const ald_tag *tags[] = {&tag};
        ck_assert_int_eq(plc_ops(&pi)->set_tags(pi.inst, tags, 1), ALD_OK);
        ald_tag_value v;
        ck_assert_int_eq(plc_ops(&pi)->read_all(pi.inst, &v, 1), ALD_OK);
        ck_assert_int_eq(plc_ops(&pi)->write_tag(pi.inst, 0, 1.0), ALD_OK);
        plugin_instance_destroy(&pi);
    }
}
END_TEST

/* Plugin series get the instance's name as a label, whatever the plugin set. */
START_TEST(plugin_metrics_get_the_instance_label)
{
    ald_host *host = host_new("plc-left");
    ald_metric_desc d = {.struct_size = sizeof d, .name = "fx_requests_total", .help = "h",
                         .type = ALD_METRIC_COUNTER, .labels = "device=\"a\""};
    ald_metric *m = host->metric_register(host, &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_eq(m, metrics_counter("fx_requests_total", "h",
                                        "device=\"a\",plugin_instance=\"plc-left\""));
    d.labels = NULL;
    ck_assert_ptr_eq(host->metric_register(host, &d),
                     metrics_counter("fx_requests_total", "h", "plugin_instance=\"plc-left\""));
    d.labels = "plugin_instance=\"own\"";
    ck_assert_ptr_eq(host->metric_register(host, &d),
                     metrics_counter("fx_requests_total", "h", "plugin_instance=\"own\""));
    host_free(host);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, good_plugin_loads_with_its_operations);
    tcase_add_test(tc, wrong_magic_is_refused);
    tcase_add_test(tc, wrong_major_is_refused_naming_both_versions);
    tcase_add_test(tc, missing_entry_symbol_is_refused);
    tcase_add_test(tc, wrong_kind_is_refused);
    tcase_add_test(tc, layout_mismatch_is_refused);
    tcase_add_test(tc, missing_operation_is_named);
    tcase_add_test(tc, zero_vtable_size_is_named_as_the_cause);
    tcase_add_test(tc, older_vtable_loads_with_missing_operations_null);
    tcase_add_test(tc, newer_minor_is_accepted);
    tcase_add_test(tc, not_a_shared_object_is_refused_with_dlerror);
    tcase_add_test(tc, resolve_lists_where_it_looked);
    tcase_add_test(tc, resolve_finds_a_plugin_in_plugin_dir);
    tcase_add_test(tc, instance_create_reports_settings_error_with_place);
    tcase_add_test(tc, unknown_setting_is_refused_with_file_and_line);
    tcase_add_test(tc, injected_settings_are_known_without_being_read);
    tcase_add_test(tc, instance_lifecycle_calls_the_plugin);
    tcase_add_test(tc, sdk_example_plugin_loads_and_reads);
    tcase_add_test(tc, frozen_1_0_plugins_load_and_run);
    tcase_add_test(tc, plugin_metrics_get_the_instance_label);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
