/* check_modbus_planner.c - how many requests a tag set costs, and which. */
#include <stdint.h>
#include <stdlib.h>

#include "mb_planner.h"
#include "testutil.h"

static const mb_limits DEFAULT_LIMITS = {.max_gap = 10, .max_registers = 125, .max_bits = 2000};

static mb_plan plan_of(const mb_read_item *items, size_t n, const mb_limits *lim)
{
    mb_plan p;
    ck_assert_int_eq(mb_plan_build(items, n, lim, &p), 0);
    return p;
}

#define HR(a, n) {MB_FN_READ_HOLDING_REGISTERS, (a), (n)}

START_TEST(neighbours_merge_into_one_request)
{
    mb_read_item items[] = {HR(4, 2), HR(0, 2), HR(2, 2)};
    mb_plan p = plan_of(items, 3, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 1);
    ck_assert_uint_eq(p.blocks[0].addr, 0);
    ck_assert_uint_eq(p.blocks[0].count, 6);
    ck_assert_uint_eq(p.blocks[0].member_count, 3);
    /* members sorted by address: items 1, 2, 0 */
    ck_assert_uint_eq(p.members[0], 1);
    ck_assert_uint_eq(p.members[1], 2);
    ck_assert_uint_eq(p.members[2], 0);
    mb_plan_free(&p);
}
END_TEST

START_TEST(gap_rule_is_inclusive)
{
    /* end of first = 2; gap of exactly 10 merges, 11 splits */
    mb_read_item merged[] = {HR(0, 2), HR(12, 2)};
    mb_plan p = plan_of(merged, 2, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 1);
    ck_assert_uint_eq(p.blocks[0].count, 14);
    mb_plan_free(&p);

    mb_read_item split[] = {HR(0, 2), HR(13, 2)};
    p = plan_of(split, 2, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 2);
    mb_plan_free(&p);

    mb_limits no_gap = {0, 125, 2000};
    mb_read_item adjacent[] = {HR(0, 2), HR(2, 2), HR(5, 1)};
    p = plan_of(adjacent, 3, &no_gap);
    ck_assert_uint_eq(mb_plan_request_count(&p), 2);
    mb_plan_free(&p);
}
END_TEST

START_TEST(register_limit_125)
{
    /* 1000 f32 tags packed back to back = 2000 registers: 16 requests of <=125
     * (62 whole floats per request; a float never straddles two requests). */
    mb_read_item *items = calloc(1000, sizeof *items);
    for (int i = 0; i < 1000; i++)
        items[i] = (mb_read_item)HR((uint16_t)(2 * i), 2);
    mb_plan p = plan_of(items, 1000, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 17); /* ceil(1000 / 62) */
    for (size_t b = 0; b < p.block_count; b++)
        ck_assert_uint_le(p.blocks[b].count, 125);
    mb_plan_free(&p);

    /* u16 tags fill a request exactly: 2000 registers in 16 requests. */
    items = realloc(items, 2000 * sizeof *items);
    for (int i = 0; i < 2000; i++)
        items[i] = (mb_read_item)HR((uint16_t)i, 1);
    p = plan_of(items, 2000, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 16);
    ck_assert_uint_eq(p.blocks[0].count, 125);
    mb_plan_free(&p);
    free(items);
}
END_TEST

START_TEST(bit_limit_2000)
{
    mb_read_item *items = calloc(4001, sizeof *items);
    for (int i = 0; i < 4001; i++)
        items[i] = (mb_read_item){MB_FN_READ_COILS, (uint16_t)i, 1};
    mb_plan p = plan_of(items, 4001, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 3);
    ck_assert_uint_eq(p.blocks[0].count, 2000);
    ck_assert_uint_eq(p.blocks[1].count, 2000);
    ck_assert_uint_eq(p.blocks[2].count, 1);
    mb_plan_free(&p);
    free(items);
}
END_TEST

START_TEST(function_codes_never_mix)
{
    mb_read_item items[] = {
        {MB_FN_READ_COILS, 0, 1},           {MB_FN_READ_DISCRETE_INPUTS, 0, 1},
        HR(0, 2),                           {MB_FN_READ_INPUT_REGISTERS, 0, 2},
        {MB_FN_READ_COILS, 1, 1},           {MB_FN_READ_INPUT_REGISTERS, 2, 2},
    };
    mb_plan p = plan_of(items, 6, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 4);
    ck_assert_int_eq(p.blocks[0].fn, MB_FN_READ_COILS);
    ck_assert_uint_eq(p.blocks[0].member_count, 2);
    ck_assert_int_eq(p.blocks[1].fn, MB_FN_READ_DISCRETE_INPUTS);
    ck_assert_int_eq(p.blocks[2].fn, MB_FN_READ_HOLDING_REGISTERS);
    ck_assert_int_eq(p.blocks[3].fn, MB_FN_READ_INPUT_REGISTERS);
    ck_assert_uint_eq(p.blocks[3].count, 4);
    mb_plan_free(&p);
}
END_TEST

START_TEST(legacy_codes_fold_areas_together)
{
    ck_assert_int_eq(mb_read_function(AREA_INPUT, 0), MB_FN_READ_INPUT_REGISTERS);
    ck_assert_int_eq(mb_read_function(AREA_DISCRETE_INPUT, 0), MB_FN_READ_DISCRETE_INPUTS);
    ck_assert_int_eq(mb_read_function(AREA_INPUT, 1), MB_FN_READ_HOLDING_REGISTERS);
    ck_assert_int_eq(mb_read_function(AREA_DISCRETE_INPUT, 1), MB_FN_READ_COILS);
    ck_assert_int_eq(mb_read_function(AREA_HOLDING, 1), MB_FN_READ_HOLDING_REGISTERS);
    ck_assert_int_eq(mb_read_function(AREA_COIL, 1), MB_FN_READ_COILS);

    /* The demo map under legacy codes: ir 0..11 and hr 0..7 become one 03 request. */
    mb_read_item items[10];
    for (int i = 0; i < 6; i++)
        items[i] = (mb_read_item){mb_read_function(AREA_INPUT, 1), (uint16_t)(2 * i), 2};
    for (int i = 0; i < 4; i++)
        items[6 + i] = (mb_read_item){mb_read_function(AREA_HOLDING, 1), (uint16_t)(2 * i), 2};
    mb_plan p = plan_of(items, 10, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 1);
    mb_plan_free(&p);
    for (int i = 0; i < 6; i++)
        items[i].fn = mb_read_function(AREA_INPUT, 0);
    p = plan_of(items, 10, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 2);
    mb_plan_free(&p);
}
END_TEST

START_TEST(unreadable_items_are_skipped)
{
    mb_read_item items[] = {HR(0, 0), HR(100, 2), {0, 0, 0}};
    mb_plan p = plan_of(items, 3, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 1);
    ck_assert_uint_eq(p.member_total, 1);
    ck_assert_uint_eq(p.members[0], 1);
    mb_plan_free(&p);
    p = plan_of(items, 1, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 0);
    mb_plan_free(&p);
}
END_TEST

START_TEST(overlaps_and_duplicates_share_a_block)
{
    mb_read_item items[] = {HR(10, 4), HR(10, 2), HR(12, 2), HR(11, 1)};
    mb_plan p = plan_of(items, 4, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 1);
    ck_assert_uint_eq(p.blocks[0].addr, 10);
    ck_assert_uint_eq(p.blocks[0].count, 4);
    ck_assert_uint_eq(p.blocks[0].member_count, 4);
    mb_plan_free(&p);
}
END_TEST

START_TEST(per_tag_blocks_count_each_member)
{
    mb_read_item items[] = {HR(0, 2), HR(4, 2), HR(8, 2), HR(500, 1)};
    mb_plan p = plan_of(items, 4, &DEFAULT_LIMITS);
    ck_assert_uint_eq(mb_plan_request_count(&p), 2);
    p.blocks[0].per_tag = 1;
    ck_assert_uint_eq(mb_plan_request_count(&p), 4);
    mb_plan_free(&p);
}
END_TEST

START_TEST(top_of_address_space)
{
    mb_read_item items[] = {HR(65532, 4), HR(65530, 2)};
    mb_plan p = plan_of(items, 2, &DEFAULT_LIMITS);
    ck_assert_uint_eq(p.block_count, 1);
    ck_assert_uint_eq(p.blocks[0].addr, 65530);
    ck_assert_uint_eq(p.blocks[0].count, 6);
    mb_plan_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modbus_planner");
    TCase *tc = tcase_create("planner");
    tcase_add_test(tc, neighbours_merge_into_one_request);
    tcase_add_test(tc, gap_rule_is_inclusive);
    tcase_add_test(tc, register_limit_125);
    tcase_add_test(tc, bit_limit_2000);
    tcase_add_test(tc, function_codes_never_mix);
    tcase_add_test(tc, legacy_codes_fold_areas_together);
    tcase_add_test(tc, unreadable_items_are_skipped);
    tcase_add_test(tc, overlaps_and_duplicates_share_a_block);
    tcase_add_test(tc, per_tag_blocks_count_each_member);
    tcase_add_test(tc, top_of_address_space);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
