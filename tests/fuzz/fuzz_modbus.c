/*
 * fuzz_modbus.c - Modbus tags and the register images a PLC answers with,
 * through the plc-modbus plugin's own code: tag resolution (address, type
 * and byte-order text -> mb_tag_resolve), the read planner (mb_plan_build),
 * and the decoding of each tag from its block's registers exactly as a read
 * cycle slices them (mb_read.c: block registers + (tag address - block
 * address)), with every block in a buffer of exactly its size.
 *
 * Input: text lines, then a line "--", then the register bytes:
 *   limits <max_gap> <max_registers> <max_bits> <legacy 0|1>   (optional)
 *   <address> <type> <order> [scale [offset]]                  (one per tag)
 * e.g. "hr:100 f32 cdab 0.1". Numbers are clamped to the plugin's ranges.
 *
 * Invariants: every readable tag is in exactly one block of its function,
 * inside it, and no block exceeds the limits.
 * Not covered: libmodbus's framing (a Debian library, not instrumented);
 * the plugin checks a response's length before slicing it (mb_conn.c).
 */
#include "fuzz.h"

#include "log.h"
#include "mb_planner.h"
#include "mb_tags.h"

#define MAX_TAGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    return 0;
}

typedef struct fuzz_tags {
    mb_tag tags[MAX_TAGS];
    mb_read_item items[MAX_TAGS];
    size_t count;
    mb_limits limits;
    int legacy;
} fuzz_tags;

static void parse_limits(fuzz_tags *ft, const char *line)
{
    unsigned gap, regs, bits;
    int legacy;
    if (sscanf(line, "limits %u %u %u %d", &gap, &regs, &bits, &legacy) != 4)
        return;
    ft->limits = (mb_limits){gap % 2001, 4 + regs % 122, 1 + bits % 2000};
    ft->legacy = legacy != 0;
}

static void parse_tag(fuzz_tags *ft, const char *line)
{
    char addr[64], type_text[16], order_text[16];
    double scale = 0, offset = 0;
    if (ft->count >= MAX_TAGS ||
        sscanf(line, "%63s %15s %15s %lf %lf", addr, type_text, order_text, &scale, &offset) < 3)
        return;
    ald_tag tag = {.struct_size = sizeof tag, .name = "t", .read_address = addr,
                   .scale = scale, .offset = offset};
    if (codec_parse_type(type_text, &tag.type) != 0)
        return;
    if (strcmp(order_text, "default") != 0 && codec_parse_order(order_text, &tag.byte_order))
        return;
    char err[300];
    mb_tag *t = &ft->tags[ft->count];
    if (mb_tag_resolve(&tag, NULL, ALD_ORDER_ABCD, t, err, sizeof err) != ALD_OK)
        return;
    /* What plugin.c's read_item() derives from a resolved tag. */
    ft->items[ft->count] = (mb_read_item){mb_read_function(t->read_at.area, ft->legacy),
                                          t->read_at.addr,
                                          (uint16_t)codec_register_count(t->type)};
    ft->count++;
}

/* Splits the text part into lines; returns where the register bytes start. */
static size_t parse_text(fuzz_tags *ft, const uint8_t *data, size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char line[256];
        size_t keep = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, data + pos, keep);
        line[keep] = '\0';
        pos += len + (nl != NULL);
        if (strcmp(line, "--") == 0)
            break;
        if (strncmp(line, "limits ", 7) == 0)
            parse_limits(ft, line);
        else
            parse_tag(ft, line);
    }
    return pos;
}

static void check_block(const fuzz_tags *ft, const mb_plan *plan, const mb_block *b,
                        int *seen)
{
    unsigned cap = mb_function_reads_bits(b->fn) ? ft->limits.max_bits
                                                 : ft->limits.max_registers;
    FUZZ_EXPECT(b->count > 0 && b->count <= cap, "block of %u over the limit %u", b->count, cap);
    FUZZ_EXPECT((unsigned)b->addr + b->count <= 65536u, "block runs past 65535");
    for (size_t m = 0; m < b->member_count; m++) {
        size_t idx = plan->members[b->first + m];
        FUZZ_EXPECT(idx < ft->count, "member %zu of %zu tags", idx, ft->count);
        const mb_read_item *it = &ft->items[idx];
        FUZZ_EXPECT(it->fn == b->fn, "tag of function %d in a block of %d", it->fn, b->fn);
        FUZZ_EXPECT(it->addr >= b->addr && it->addr + it->count <= b->addr + b->count,
                    "tag %u+%u outside block %u+%u", it->addr, it->count, b->addr, b->count);
        seen[idx]++;
    }
}

/* Decodes each member from a block image of exactly b->count registers. */
static void decode_block(const fuzz_tags *ft, const mb_plan *plan, const mb_block *b,
                         const uint8_t **regs_data, size_t *regs_left)
{
    uint16_t *regs = malloc(sizeof *regs * b->count);
    FUZZ_EXPECT(regs != NULL, "out of memory");
    for (unsigned r = 0; r < b->count; r++) {
        regs[r] = *regs_left >= 2 ? (uint16_t)((*regs_data)[0] << 8 | (*regs_data)[1]) : 0;
        if (*regs_left >= 2) {
            *regs_data += 2;
            *regs_left -= 2;
        }
    }
    for (size_t m = 0; m < b->member_count; m++) {
        size_t idx = plan->members[b->first + m];
        double v = mb_tag_decode(&ft->tags[idx], regs + (ft->items[idx].addr - b->addr));
        if (ft->tags[idx].type == ALD_TYPE_BOOL)
            FUZZ_EXPECT(v == 0 || v == 1, "bool decoded as %g", v);
    }
    free(regs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_tags ft;
    memset(&ft, 0, sizeof ft);
    ft.limits = (mb_limits){10, 125, 2000}; /* the plugin's defaults */
    size_t regs_at = parse_text(&ft, data, size);
    mb_plan plan;
    if (mb_plan_build(ft.items, ft.count, &ft.limits, &plan) == 0) {
        int seen[MAX_TAGS] = {0};
        const uint8_t *regs_data = data + regs_at;
        size_t regs_left = size - regs_at;
        for (size_t b = 0; b < plan.block_count; b++) {
            check_block(&ft, &plan, &plan.blocks[b], seen);
            decode_block(&ft, &plan, &plan.blocks[b], &regs_data, &regs_left);
        }
        for (size_t i = 0; i < ft.count; i++)
            FUZZ_EXPECT(seen[i] == (ft.items[i].count > 0), "tag %zu is in %d blocks", i,
                        seen[i]);
        FUZZ_EXPECT(mb_plan_request_count(&plan) >= plan.block_count, "fewer requests than blocks");
        mb_plan_free(&plan);
    }
    for (size_t i = 0; i < ft.count; i++)
        mb_tag_free(&ft.tags[i]);
    return 0;
}
