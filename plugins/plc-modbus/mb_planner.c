/*
 * mb_planner.c - coalesce tag reads into bulk requests (see mb_planner.h).
 */
#include "mb_planner.h"

#include <stdlib.h>
#include <string.h>

mb_function mb_read_function(modbus_area area, int legacy)
{
    switch (area) {
    case AREA_COIL:
        return MB_FN_READ_COILS;
    case AREA_DISCRETE_INPUT:
        return legacy ? MB_FN_READ_COILS : MB_FN_READ_DISCRETE_INPUTS;
    case AREA_INPUT:
        return legacy ? MB_FN_READ_HOLDING_REGISTERS : MB_FN_READ_INPUT_REGISTERS;
    case AREA_HOLDING:
    default:
        return MB_FN_READ_HOLDING_REGISTERS;
    }
}

int mb_function_reads_bits(mb_function fn)
{
    return fn == MB_FN_READ_COILS || fn == MB_FN_READ_DISCRETE_INPUTS;
}

/* qsort has no context argument, so the sort reads the items through this. */
static _Thread_local const mb_read_item *sort_items;

static int by_function_then_address(const void *a, const void *b)
{
    const mb_read_item *x = &sort_items[*(const size_t *)a];
    const mb_read_item *y = &sort_items[*(const size_t *)b];
    if (x->fn != y->fn)
        return (int)x->fn - (int)y->fn;
    if (x->addr != y->addr)
        return (int)x->addr - (int)y->addr;
    /* Stable for equal keys, so members keep set order. */
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Whether item joins block b under the gap and size rules. */
static int joins(const mb_block *b, const mb_read_item *item, const mb_limits *lim)
{
    if (item->fn != b->fn)
        return 0;
    uint32_t end = (uint32_t)b->addr + b->count;
    uint32_t item_end = (uint32_t)item->addr + item->count;
    if (item->addr > end && item->addr - end > lim->max_gap)
        return 0;
    uint32_t new_end = item_end > end ? item_end : end;
    unsigned limit = mb_function_reads_bits(b->fn) ? lim->max_bits : lim->max_registers;
    return new_end - b->addr <= limit;
}

int mb_plan_build(const mb_read_item *items, size_t n, const mb_limits *limits, mb_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    size_t readable = 0;
    for (size_t i = 0; i < n; i++)
        readable += items[i].count > 0;
    if (readable == 0)
        return 0;
    plan->members = malloc(readable * sizeof *plan->members);
    plan->blocks = malloc(readable * sizeof *plan->blocks); /* at most one per item */
    if (plan->members == NULL || plan->blocks == NULL) {
        mb_plan_free(plan);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i].count > 0)
            plan->members[plan->member_total++] = i;
    }
    sort_items = items;
    qsort(plan->members, plan->member_total, sizeof *plan->members, by_function_then_address);
    sort_items = NULL;

    mb_block *cur = NULL;
    for (size_t m = 0; m < plan->member_total; m++) {
        const mb_read_item *item = &items[plan->members[m]];
        if (cur != NULL && joins(cur, item, limits)) {
            uint32_t end = (uint32_t)item->addr + item->count;
            if (end > (uint32_t)cur->addr + cur->count)
                cur->count = (uint16_t)(end - cur->addr);
            cur->member_count++;
            continue;
        }
        cur = &plan->blocks[plan->block_count++];
        *cur = (mb_block){.fn = item->fn, .addr = item->addr, .count = item->count,
                          .first = m, .member_count = 1};
    }
    return 0;
}

void mb_plan_free(mb_plan *plan)
{
    free(plan->blocks);
    free(plan->members);
    memset(plan, 0, sizeof *plan);
}

size_t mb_plan_request_count(const mb_plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->block_count; i++)
        n += plan->blocks[i].per_tag ? plan->blocks[i].member_count : 1;
    return n;
}
