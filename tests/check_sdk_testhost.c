/*
 * check_sdk_testhost.c - the SDK's test host (ald/testhost.h), used the way
 * a plugin author would: built against nothing but the installed headers
 * and Check, it dlopens the storage-jsonl plugin (sdk/example) and drives
 * it through its vtable. Covers the sink's behaviour: one line per sample,
 * a file per UTC day, progress lines, strict settings, I/O errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ald/plugin.h>
#include <ald/testhost.h>

static const ald_storage_vtable *vt;
static void *dl;
static ald_testhost th;
static char dir[256];

static void setup(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/storage-jsonl/.libs/storage-jsonl.so",
             getenv("ALD_TOP_BUILDDIR") ? getenv("ALD_TOP_BUILDDIR") : ".");
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(dl != NULL, "%s", dlerror());
    ald_plugin_entry_fn entry;
    void *sym = dlsym(dl, ALD_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    vt = entry()->vtable;
    ald_testhost_init(&th);
    th.quiet = 1;
    snprintf(dir, sizeof dir, "%s/ald-jsonl-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    dlclose(dl);
}

static void *created(void)
{
    void *inst = NULL;
    char err[256] = "";
    ck_assert_msg(vt->create(&th.host, ald_testhost_config(&th), &inst, err, sizeof err) ==
                      ALD_OK,
                  "%s", err);
    ck_assert_ptr_null(ald_testhost_unread(&th));
    return inst;
}

static int count_lines(const char *path, const char *must_contain)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, must_contain) != NULL;
    fclose(f);
    return n;
}

START_TEST(samples_go_to_a_file_per_utc_day)
{
    ald_testhost_set_string(&th, "dir", dir);
    ald_testhost_set_string(&th, "prefix", "arch");
    ald_testhost_set_bool(&th, "fsync", 1);
    void *inst = created();
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_sample s[2] = {{"p-1", 1.5, NAN}, {"p-\"2\"", -2, 3}};
    ald_sample_batch b = {.struct_size = sizeof b, .machine_id = "m", .samples = s, .count = 2};
    b.timestamp_ms = 1733356799000; /* 2024-12-04T23:59:59Z */
    ck_assert_int_eq(vt->append_samples(inst, &b), ALD_OK);
    b.timestamp_ms += 2000; /* 2024-12-05T00:00:01Z */
    ck_assert_int_eq(vt->append_samples(inst, &b), ALD_OK);
    ck_assert_int_eq(vt->append_samples(inst, &b), ALD_OK);
    char day1[512], day2[512];
    snprintf(day1, sizeof day1, "%s/arch-2024-12-04.jsonl", dir);
    snprintf(day2, sizeof day2, "%s/arch-2024-12-05.jsonl", dir);
    ck_assert_int_eq(count_lines(day1, "\"machine\":\"m\""), 2);
    ck_assert_int_eq(count_lines(day2, "\"machine\":\"m\""), 4);
    ck_assert_int_eq(count_lines(day1, "\"parameter\":\"p-1\",\"value\":1.5,\"set_point\":null}"), 1);
    ck_assert_int_eq(count_lines(day1, "\"parameter\":\"p-\\\"2\\\"\",\"value\":-2,\"set_point\":3}"), 1);
    ald_process_state ps = {.struct_size = sizeof ps, .execution_id = "run-1",
                            .current_overall_step = 3, .total_overall_steps = 12,
                            .current_step_type = "valve", .current_step_name = "V1",
                            .last_updated_ms = 1733356801000};
    ck_assert_int_eq(vt->update_process_state(inst, &ps), ALD_OK);
    ck_assert_int_eq(count_lines(day2, "\"progress\":\"run-1\",\"step\":3,\"of\":12"), 1);
    vt->destroy(inst);
}
END_TEST

START_TEST(settings_are_checked_and_read)
{
    void *inst = NULL;
    char err[256] = "";
    /* neither dir nor data_dir */
    ck_assert_int_eq(vt->create(&th.host, ald_testhost_config(&th), &inst, err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_str_eq(err, "testhost:dir: setting dir: not set, and no data_dir to put archive/ in");
    ald_testhost_set_string(&th, "data_dir", dir);
    ald_testhost_set_string(&th, "prefix", "a/b");
    ck_assert_int_eq(vt->create(&th.host, ald_testhost_config(&th), &inst, err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, "setting prefix: \"a/b\" must be"), "%s", err);
    ald_testhost_set_string(&th, "prefix", "ok");
    ald_testhost_set_int(&th, "rotate_hours", 6); /* no such setting */
    ck_assert_int_eq(vt->create(&th.host, ald_testhost_config(&th), &inst, err, sizeof err),
                     ALD_OK);
    ck_assert_str_eq(ald_testhost_unread(&th), "rotate_hours");
    vt->destroy(inst);
}
END_TEST

START_TEST(an_unwritable_directory_is_an_io_error_with_the_path)
{
    char file[300];
    snprintf(file, sizeof file, "%s/not-a-dir", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ald_testhost_set_string(&th, "dir", file);
    void *inst = created();
    ald_sample s = {"p", 1, NAN};
    ald_sample_batch b = {.struct_size = sizeof b, .machine_id = "m", .samples = &s, .count = 1,
                          .timestamp_ms = 1733356799000};
    ck_assert_int_eq(vt->append_samples(inst, &b), ALD_ERR_IO);
    ck_assert_msg(strstr(vt->last_error(inst), "not-a-dir/samples-2024-12-04.jsonl"), "%s",
                  vt->last_error(inst));
    ck_assert_int_eq(vt->is_connected(inst), 0);
    vt->destroy(inst);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sdk_testhost");
    TCase *tc = tcase_create("storage-jsonl");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, samples_go_to_a_file_per_utc_day);
    tcase_add_test(tc, settings_are_checked_and_read);
    tcase_add_test(tc, an_unwritable_directory_is_an_io_error_with_the_path);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_set_tap(r, "-");
    srunner_run_all(r, CK_SILENT);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
