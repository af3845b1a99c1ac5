/*
 * check_sdk_rows.c - rows a storage plugin hands the host go through a
 * zero-filled sized copy: a row shorter than the ABI 1.0 size (a plugin built
 * against a pre-1.0 header) is refused with a message, and bytes past a row's
 * struct_size never reach the engine. The plugin here is an in-process
 * vtable, so the test controls every byte of the rows.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ports/plugin_instance.h"
#include "ports/row_guard.h"
#include "ports/storage_port.h"
#include "build-config.h"
#include "testutil.h"

#define POISON 0x5a
/* A row and the poison bytes after it. */
#define ROW_BUFFER (sizeof(ald_parameter) + 64)

/* Sizes of the rows the fake plugin hands out (set by each test). */
static uint32_t row_size;
static unsigned row_count = 2;

static void fill_parameter(unsigned char *buf, uint32_t size, unsigned i)
{
    memset(buf, POISON, ROW_BUFFER);
    ald_parameter p;
    memset(&p, 0, sizeof p);
    p.struct_size = size;
    p.id = i ? "p-1" : "p-0";
    p.name = "flow_rate";
    p.read_address = 4;
    p.write_address = -1;
    p.min_value = 1.0;
    p.max_value = 2.0;
    p.current_value = NAN;
    p.set_value = NAN;
    memcpy(buf, &p, size < sizeof p ? size : sizeof p); /* the rest stays poison */
    memcpy(buf, &size, sizeof size); /* even a row of size 0 says so */
}

static ald_status fake_load_parameters(void *inst, const char *machine_id,
                                       ald_parameter_sink sink, void *ctx)
{
    (void)inst;
    (void)machine_id;
    _Alignas(ald_parameter) unsigned char buf[ROW_BUFFER];
    for (unsigned i = 0; i < row_count; i++) {
        fill_parameter(buf, row_size, i);
        sink(ctx, (const ald_parameter *)(const void *)buf);
    }
    return ALD_OK;
}

static const char *fake_last_error(void *inst)
{
    (void)inst;
    return "";
}

static void fake_store(plugin_instance *pi)
{
    memset(pi, 0, sizeof *pi);
    snprintf(pi->name, sizeof pi->name, "old-store");
    pi->lib.desc.name = "storage-old";
    pi->lib.vt.storage.last_error = fake_last_error;
    pi->lib.vt.storage.load_parameters = fake_load_parameters;
}

typedef struct seen {
    unsigned count;
    ald_parameter last;
} seen;

static void on_parameter(void *ctx, const ald_parameter *p)
{
    seen *s = ctx;
    s->count++;
    s->last = *p;
}

START_TEST(row_ending_before_min_value_is_refused_with_a_message)
{
    plugin_instance pi;
    fake_store(&pi);
    row_size = (uint32_t)offsetof(ald_parameter, min_value);
    seen s = {0};
    port_error err = {""};
    ald_status st = storage_port_load_parameters(&pi, "m", on_parameter, &s, &err);
    ck_assert_int_eq(st, ALD_ERR_PROTOCOL);
    ck_assert_uint_eq(s.count, 0); /* no poison byte became a limit */
    char expected[256];
    snprintf(expected, sizeof expected,
             "instance 'old-store' (storage-old) handed 2 ald_parameter row(s) of %u bytes, "
             "refused: ABI 1.0 rows are at least %zu bytes; rebuild the plugin against "
             "ald-sdk " PACKAGE_VERSION,
             row_size, ALD_FIELD_END(ald_parameter, set_value));
    ck_assert_str_eq(err.text, expected);
}
END_TEST

START_TEST(full_row_passes_with_its_values)
{
    plugin_instance pi;
    fake_store(&pi);
    row_size = sizeof(ald_parameter);
    seen s = {0};
    port_error err = {""};
    ck_assert_int_eq(storage_port_load_parameters(&pi, "m", on_parameter, &s, &err), ALD_OK);
    ck_assert_uint_eq(s.count, 2);
    ck_assert_str_eq(s.last.id, "p-1");
    ck_assert_double_eq(s.last.min_value, 1.0);
    ck_assert_double_eq(s.last.max_value, 2.0);
    ck_assert_int_eq(s.last.read_address, 4);
}
END_TEST

START_TEST(zero_struct_size_row_is_refused)
{
    plugin_instance pi;
    fake_store(&pi);
    row_size = 0;
    row_count = 1;
    seen s = {0};
    port_error err = {""};
    ck_assert_int_eq(storage_port_load_parameters(&pi, "m", on_parameter, &s, &err),
                     ALD_ERR_PROTOCOL);
    ck_assert_uint_eq(s.count, 0);
    ck_assert_msg(strstr(err.text, "1 ald_parameter row(s) of 0 bytes"), "%s", err.text);
    row_count = 2;
}
END_TEST

/* A host newer than the plugin: its struct is larger than the plugin's row.
 * The bytes past the plugin's struct_size read as zero, never as what
 * happens to follow the row in the plugin's memory. */
START_TEST(bytes_past_struct_size_read_as_zero)
{
    _Alignas(ald_parameter) unsigned char row[ROW_BUFFER];
    fill_parameter(row, (uint32_t)sizeof(ald_parameter), 0);
    unsigned char host[sizeof(ald_parameter) + 32];
    memset(host, 0xff, sizeof host);
    row_guard g = {"ald_parameter", ALD_FIELD_END(ald_parameter, set_value), 0, 0};
    ck_assert_int_eq(row_guard_copy(&g, host, sizeof host, row), 1);
    ck_assert_int_eq(memcmp(host, row, sizeof(ald_parameter)), 0);
    for (size_t i = sizeof(ald_parameter); i < sizeof host; i++)
        ck_assert_uint_eq(host[i], 0);
    ck_assert_uint_eq(g.refused, 0);
}
END_TEST

START_TEST(has_field_follows_struct_size)
{
    ald_parameter p = {.struct_size = (uint32_t)offsetof(ald_parameter, min_value)};
    ck_assert(ALD_HAS_FIELD(&p, ald_parameter, is_writable));
    ck_assert(!ALD_HAS_FIELD(&p, ald_parameter, min_value));
    p.struct_size = sizeof p;
    ck_assert(ALD_HAS_FIELD(&p, ald_parameter, set_value));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sdk_rows");
    TCase *tc = tcase_create("sized copies");
    tcase_add_test(tc, row_ending_before_min_value_is_refused_with_a_message);
    tcase_add_test(tc, full_row_passes_with_its_values);
    tcase_add_test(tc, zero_struct_size_row_is_refused);
    tcase_add_test(tc, bytes_past_struct_size_read_as_zero);
    tcase_add_test(tc, has_field_follows_struct_size);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
