/* check_modbus_codec.c - register images <-> values, orders, address and type names. */
#include <math.h>
#include <stdint.h>

#include "modbus_codec.h"
#include "testutil.h"

/* 123.456f = 0x42F6E979 */
static const float F = 123.456f;

static void assert_f32_regs(ald_byte_order order, uint16_t r0, uint16_t r1)
{
    uint16_t regs[2];
    ck_assert_int_eq(codec_encode(ALD_TYPE_F32, order, F, regs), 0);
    ck_assert_uint_eq(regs[0], r0);
    ck_assert_uint_eq(regs[1], r1);
    ck_assert(codec_decode(ALD_TYPE_F32, order, regs) == (double)F);
}

START_TEST(f32_standard_orders)
{
    assert_f32_regs(ALD_ORDER_ABCD, 0x42F6, 0xE979);
    assert_f32_regs(ALD_ORDER_BADC, 0xF642, 0x79E9);
    assert_f32_regs(ALD_ORDER_CDAB, 0xE979, 0x42F6);
    assert_f32_regs(ALD_ORDER_DCBA, 0x79E9, 0xF642);
}
END_TEST

START_TEST(default_order_is_big_endian)
{
    assert_f32_regs(ALD_ORDER_DEFAULT, 0x42F6, 0xE979);
}
END_TEST

START_TEST(legacy_badc_sends_low_word_first)
{
    ald_byte_order o;
    ck_assert_int_eq(codec_parse_legacy_order("badc", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_CDAB);
    assert_f32_regs(o, 0xE979, 0x42F6);
    ck_assert_int_eq(codec_parse_legacy_order("CDAB", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_CDAB);
    ck_assert_int_eq(codec_parse_legacy_order("abcd", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_ABCD);
    ck_assert_int_eq(codec_parse_legacy_order("dcba", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_ABCD);
    ck_assert_int_eq(codec_parse_legacy_order("little", &o), -1);
    ck_assert_int_eq(codec_parse_legacy_order(NULL, &o), -1);
}
END_TEST

START_TEST(standard_order_names)
{
    ald_byte_order o;
    ck_assert_int_eq(codec_parse_order("badc", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_BADC);
    ck_assert_int_eq(codec_parse_order("DCBA", &o), 0);
    ck_assert_int_eq(o, ALD_ORDER_DCBA);
    ck_assert_int_eq(codec_parse_order("abdc", &o), -1);
    ck_assert_int_eq(codec_parse_order("", &o), -1);
}
END_TEST

START_TEST(i32_negative_in_every_order)
{
    /* -123456789 = 0xF8A432EB */
    static const uint16_t want[4][2] = {
        {0xF8A4, 0x32EB}, {0xA4F8, 0xEB32}, {0x32EB, 0xF8A4}, {0xEB32, 0xA4F8}};
    for (int i = 0; i < 4; i++) {
        ald_byte_order order = (ald_byte_order)(ALD_ORDER_ABCD + i);
        uint16_t regs[2];
        ck_assert_int_eq(codec_encode(ALD_TYPE_I32, order, -123456789.0, regs), 0);
        ck_assert_uint_eq(regs[0], want[i][0]);
        ck_assert_uint_eq(regs[1], want[i][1]);
        ck_assert(codec_decode(ALD_TYPE_I32, order, regs) == -123456789.0);
    }
}
END_TEST

START_TEST(u32_full_range)
{
    uint16_t regs[2];
    ck_assert_int_eq(codec_encode(ALD_TYPE_U32, ALD_ORDER_CDAB, 4294967295.0, regs), 0);
    ck_assert(codec_decode(ALD_TYPE_U32, ALD_ORDER_CDAB, regs) == 4294967295.0);
    ck_assert_int_eq(codec_encode(ALD_TYPE_U32, ALD_ORDER_ABCD, 65536.0, regs), 0);
    ck_assert_uint_eq(regs[0], 1);
    ck_assert_uint_eq(regs[1], 0);
}
END_TEST

START_TEST(i16_and_u16)
{
    uint16_t r;
    ck_assert_int_eq(codec_encode(ALD_TYPE_I16, ALD_ORDER_ABCD, -1234, &r), 0);
    ck_assert_uint_eq(r, 0xFB2E);
    ck_assert(codec_decode(ALD_TYPE_I16, ALD_ORDER_ABCD, &r) == -1234.0);
    ck_assert(codec_decode(ALD_TYPE_U16, ALD_ORDER_ABCD, &r) == 64302.0);
    ck_assert_int_eq(codec_encode(ALD_TYPE_U16, ALD_ORDER_ABCD, 54321.4, &r), 0);
    ck_assert_uint_eq(r, 54321); /* rounded to nearest */
    ck_assert_int_eq(codec_encode(ALD_TYPE_I16, ALD_ORDER_ABCD, -2.6, &r), 0);
    ck_assert(codec_decode(ALD_TYPE_I16, ALD_ORDER_ABCD, &r) == -3.0);
}
END_TEST

START_TEST(f64_orders)
{
    /* 1234.5678 = 0x40934A456D5CFAAD */
    static const uint16_t want[4][4] = {{0x4093, 0x4A45, 0x6D5C, 0xFAAD},
                                        {0x9340, 0x454A, 0x5C6D, 0xADFA},
                                        {0xFAAD, 0x6D5C, 0x4A45, 0x4093},
                                        {0xADFA, 0x5C6D, 0x454A, 0x9340}};
    ck_assert_uint_eq(codec_register_count(ALD_TYPE_F64), 4);
    for (int i = 0; i < 4; i++) {
        ald_byte_order order = (ald_byte_order)(ALD_ORDER_ABCD + i);
        uint16_t regs[4];
        ck_assert_int_eq(codec_encode(ALD_TYPE_F64, order, 1234.5678, regs), 0);
        for (int k = 0; k < 4; k++)
            ck_assert_uint_eq(regs[k], want[i][k]);
        ck_assert(codec_decode(ALD_TYPE_F64, order, regs) == 1234.5678);
    }
}
END_TEST

START_TEST(bool_is_nonzero_register)
{
    uint16_t r = 0x0100;
    ck_assert(codec_decode(ALD_TYPE_BOOL, ALD_ORDER_ABCD, &r) == 1.0);
    r = 0;
    ck_assert(codec_decode(ALD_TYPE_BOOL, ALD_ORDER_ABCD, &r) == 0.0);
    ck_assert_int_eq(codec_encode(ALD_TYPE_BOOL, ALD_ORDER_ABCD, 0.3, &r), 0);
    ck_assert_uint_eq(r, 1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_BOOL, ALD_ORDER_ABCD, NAN, &r), -1);
}
END_TEST

START_TEST(range_errors)
{
    uint16_t regs[4] = {0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA};
    ck_assert_int_eq(codec_encode(ALD_TYPE_U16, ALD_ORDER_ABCD, 65536, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_U16, ALD_ORDER_ABCD, -1, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_I16, ALD_ORDER_ABCD, 32768, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_I16, ALD_ORDER_ABCD, -32769, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_I32, ALD_ORDER_ABCD, 2147483648.0, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_U32, ALD_ORDER_ABCD, -0.6, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_I32, ALD_ORDER_ABCD, NAN, regs), -1);
    ck_assert_int_eq(codec_encode(ALD_TYPE_F32, ALD_ORDER_ABCD, 1e39, regs), -1);
    ck_assert_uint_eq(regs[0], 0xAAAA); /* nothing written on error */
    ck_assert_int_eq(codec_encode(ALD_TYPE_I16, ALD_ORDER_ABCD, 32767.4, regs), 0);
    ck_assert_int_eq(codec_encode(ALD_TYPE_F32, ALD_ORDER_ABCD, NAN, regs), 0);
    ck_assert(isnan(codec_decode(ALD_TYPE_F32, ALD_ORDER_ABCD, regs)));
}
END_TEST

START_TEST(address_parsing)
{
    modbus_address a;
    ck_assert_int_eq(codec_parse_address("coil:0", &a), 0);
    ck_assert_int_eq(a.area, AREA_COIL);
    ck_assert_uint_eq(a.addr, 0);
    ck_assert_int_eq(codec_parse_address("di:7", &a), 0);
    ck_assert_int_eq(a.area, AREA_DISCRETE_INPUT);
    ck_assert_int_eq(codec_parse_address("hr:65535", &a), 0);
    ck_assert_int_eq(a.area, AREA_HOLDING);
    ck_assert_uint_eq(a.addr, 65535);
    ck_assert_int_eq(codec_parse_address("ir:12", &a), 0);
    ck_assert_int_eq(a.area, AREA_INPUT);
    ck_assert_uint_eq(a.addr, 12);
}
END_TEST

START_TEST(address_parsing_rejects_bad_input)
{
    static const char *const bad[] = {"",       "hr",     "hr:",   "hr:65536", "hr:-1",
                                      "hr:+1",  "hr: 1",  "hr:1x", "xx:1",     "holding:1",
                                      "40001",  ":5",     "hr:99999999999", "coil:0:1"};
    modbus_address a;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(codec_parse_address(bad[i], &a) == -1, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(codec_parse_address(NULL, &a), -1);
}
END_TEST

START_TEST(schema_areas_and_prefixes)
{
    modbus_area a;
    ck_assert_int_eq(codec_area_from_schema("holding_register", &a), 0);
    ck_assert_str_eq(codec_area_prefix(a), "hr");
    ck_assert_int_eq(codec_area_from_schema("input_register", &a), 0);
    ck_assert_str_eq(codec_area_prefix(a), "ir");
    ck_assert_int_eq(codec_area_from_schema("coil", &a), 0);
    ck_assert_str_eq(codec_area_prefix(a), "coil");
    ck_assert_int_eq(codec_area_from_schema("discrete_input", &a), 0);
    ck_assert_str_eq(codec_area_prefix(a), "di");
    ck_assert_int_eq(codec_area_from_schema("register", &a), -1);
}
END_TEST

START_TEST(addresses_in_the_parameter_maps_words_parse_like_the_short_ones)
{
    modbus_address a;
    ck_assert_int_eq(codec_parse_address("holding_register:4", &a), 0);
    ck_assert_int_eq(a.area, AREA_HOLDING);
    ck_assert_uint_eq(a.addr, 4);
    ck_assert_int_eq(codec_parse_address("Input_Register:8", &a), 0);
    ck_assert_int_eq(a.area, AREA_INPUT);
    ck_assert_int_eq(codec_parse_address("discrete_input:1", &a), 0);
    ck_assert_int_eq(a.area, AREA_DISCRETE_INPUT);
    ck_assert_int_eq(codec_parse_address("holding_register:65536", &a), -1);
    ck_assert_int_eq(codec_parse_address("register:1", &a), -1);
}
END_TEST

START_TEST(type_names)
{
    static const struct {
        const char *name;
        ald_data_type type;
    } ok[] = {{"bool", ALD_TYPE_BOOL}, {"binary", ALD_TYPE_BOOL}, {"u16", ALD_TYPE_U16},
              {"i16", ALD_TYPE_I16},   {"int16", ALD_TYPE_I16},   {"u32", ALD_TYPE_U32},
              {"i32", ALD_TYPE_I32},   {"int32", ALD_TYPE_I32},   {"f32", ALD_TYPE_F32},
              {"float", ALD_TYPE_F32}, {"f64", ALD_TYPE_F64}};
    ald_data_type t;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(codec_parse_type(ok[i].name, &t), 0);
        ck_assert_int_eq(t, ok[i].type);
    }
    ck_assert_int_eq(codec_parse_type("double", &t), -1);
    ck_assert_int_eq(codec_parse_type("", &t), -1);
    ck_assert_uint_eq(codec_register_count(ALD_TYPE_I16), 1);
    ck_assert_uint_eq(codec_register_count(ALD_TYPE_U32), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modbus_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, f32_standard_orders);
    tcase_add_test(tc, default_order_is_big_endian);
    tcase_add_test(tc, legacy_badc_sends_low_word_first);
    tcase_add_test(tc, standard_order_names);
    tcase_add_test(tc, i32_negative_in_every_order);
    tcase_add_test(tc, u32_full_range);
    tcase_add_test(tc, i16_and_u16);
    tcase_add_test(tc, f64_orders);
    tcase_add_test(tc, bool_is_nonzero_register);
    tcase_add_test(tc, range_errors);
    tcase_add_test(tc, address_parsing);
    tcase_add_test(tc, address_parsing_rejects_bad_input);
    tcase_add_test(tc, schema_areas_and_prefixes);
    tcase_add_test(tc, addresses_in_the_parameter_maps_words_parse_like_the_short_ones);
    tcase_add_test(tc, type_names);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
