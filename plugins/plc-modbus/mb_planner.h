/*
 * mb_planner.h - turn a tag set into as few Modbus read requests as the
 * coalescing rules allow. Pure: no I/O, no libmodbus, unit-tested directly.
 *
 * RULES: items are grouped by read function, sorted by address, and a
 * neighbour joins the current block while the hole between them is at most
 * max_gap registers/bits and the block stays within max_registers (03/04) or
 * max_bits (01/02). Overlapping or duplicate items share a block.
 *
 * OWNERSHIP: mb_plan_build() allocates the plan; mb_plan_free() releases it.
 * THREADING: a plan is plain data; the caller serialises changes to it.
 */
#ifndef PLC_MODBUS_PLANNER_H
#define PLC_MODBUS_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_codec.h"

typedef enum mb_function {
    MB_FN_READ_COILS = 1,
    MB_FN_READ_DISCRETE_INPUTS = 2,
    MB_FN_READ_HOLDING_REGISTERS = 3,
    MB_FN_READ_INPUT_REGISTERS = 4
} mb_function;

/* The read function for an area; legacy = the old system's 03 for input
 * registers and 01 for discrete inputs. */
mb_function mb_read_function(modbus_area area, int legacy);
/* Whether the function reads bits (01/02) rather than registers. */
int mb_function_reads_bits(mb_function fn);

/* What one tag needs read; count == 0 means "not readable". */
typedef struct mb_read_item {
    mb_function fn;
    uint16_t addr;
    uint16_t count; /* registers or bits */
} mb_read_item;

typedef struct mb_limits {
    unsigned max_gap;
    unsigned max_registers; /* >= 4 */
    unsigned max_bits;      /* >= 1 */
} mb_limits;

/* One request: members[first .. first+member_count) are item indexes. */
typedef struct mb_block {
    mb_function fn;
    uint16_t addr;
    uint16_t count;
    size_t first;
    size_t member_count;
    int per_tag; /* the block failed with "illegal data address": read members alone */
} mb_block;

typedef struct mb_plan {
    mb_block *blocks;
    size_t block_count;
    size_t *members; /* item indexes, grouped by block */
    size_t member_total;
} mb_plan;

/* Plan reads for items[0..n). 0, or -1 when out of memory (plan left empty). */
int mb_plan_build(const mb_read_item *items, size_t n, const mb_limits *limits, mb_plan *plan);
void mb_plan_free(mb_plan *plan);
/* Requests one cycle sends: one per block, one per member of per_tag blocks. */
size_t mb_plan_request_count(const mb_plan *plan);

#endif
