/*
 * modbus_codec.c - Modbus register images <-> typed values, address syntax.
 *
 * A multi-register value is handled as its big-endian byte string (A B C D ...,
 * A most significant), cut into 16-bit words w0 w1 ... Each standard order is
 * two independent choices applied to those words:
 *   swap bytes inside each word  (BADC, DCBA)
 *   reverse the order of words   (CDAB, DCBA)
 * so the same rule covers 32- and 64-bit values. ALD_ORDER_DEFAULT reaches the
 * codec only when a caller did not resolve it; it is treated as ABCD.
 */
#include "modbus_codec.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const area_prefixes[] = {"coil", "di", "hr", "ir"};

int codec_parse_address(const char *text, modbus_address *out)
{
    if (text == NULL || out == NULL)
        return -1;
    const char *colon = strchr(text, ':');
    if (colon == NULL)
        return -1;
    size_t plen = (size_t)(colon - text);
    int area = -1;
    for (int i = 0; i < 4; i++) {
        if (strlen(area_prefixes[i]) == plen && strncasecmp(text, area_prefixes[i], plen) == 0)
            area = i;
    }
    char word[24];
    modbus_area schema_area;
    if (area < 0 && plen < sizeof word) {
        memcpy(word, text, plen);
        word[plen] = '\0';
        if (codec_area_from_schema(word, &schema_area) == 0)
            area = (int)schema_area;
    }
    const char *num = colon + 1;
    /* strtoul accepts signs and spaces; a PDU address is plain digits only. */
    if (area < 0 || *num == '\0' || strlen(num) > 5 || strspn(num, "0123456789") != strlen(num))
        return -1;
    unsigned long n = strtoul(num, NULL, 10);
    if (n > 65535)
        return -1;
    out->area = (modbus_area)area;
    out->addr = (uint16_t)n;
    return 0;
}

int codec_area_from_schema(const char *schema_type, modbus_area *out)
{
    static const struct {
        const char *name;
        modbus_area area;
    } map[] = {
        {"coil", AREA_COIL},
        {"discrete_input", AREA_DISCRETE_INPUT},
        {"holding_register", AREA_HOLDING},
        {"input_register", AREA_INPUT},
    };
    if (schema_type == NULL || out == NULL)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcasecmp(schema_type, map[i].name) == 0) {
            *out = map[i].area;
            return 0;
        }
    }
    return -1;
}

const char *codec_area_prefix(modbus_area area)
{
    return ((unsigned)area < 4) ? area_prefixes[area] : "?";
}

unsigned codec_register_count(ald_data_type type)
{
    switch (type) {
    case ALD_TYPE_U32:
    case ALD_TYPE_I32:
    case ALD_TYPE_F32:
        return 2;
    case ALD_TYPE_F64:
        return 4;
    default:
        return 1;
    }
}

static int order_swaps_bytes(ald_byte_order order)
{
    return order == ALD_ORDER_BADC || order == ALD_ORDER_DCBA;
}

static int order_reverses_words(ald_byte_order order)
{
    return order == ALD_ORDER_CDAB || order == ALD_ORDER_DCBA;
}

static uint16_t swap16(uint16_t w)
{
    return (uint16_t)((w << 8) | (w >> 8));
}

/* Wire registers -> big-endian value of n words (n = 2 or 4). */
static uint64_t regs_to_bits(ald_byte_order order, const uint16_t *regs, unsigned n)
{
    uint64_t bits = 0;
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = regs[order_reverses_words(order) ? n - 1 - i : i];
        bits = (bits << 16) | (order_swaps_bytes(order) ? swap16(w) : w);
    }
    return bits;
}

/* Big-endian value of n words -> wire registers. */
static void bits_to_regs(ald_byte_order order, uint64_t bits, uint16_t *regs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = (uint16_t)(bits >> (16 * (n - 1 - i)));
        regs[order_reverses_words(order) ? n - 1 - i : i] =
            order_swaps_bytes(order) ? swap16(w) : w;
    }
}

double codec_decode(ald_data_type type, ald_byte_order order, const uint16_t *regs)
{
    switch (type) {
    case ALD_TYPE_BOOL:
        return regs[0] != 0 ? 1.0 : 0.0;
    case ALD_TYPE_U16:
        return regs[0];
    case ALD_TYPE_I16:
        return (int16_t)regs[0];
    case ALD_TYPE_U32:
        return (uint32_t)regs_to_bits(order, regs, 2);
    case ALD_TYPE_I32:
        return (int32_t)(uint32_t)regs_to_bits(order, regs, 2);
    case ALD_TYPE_F32: {
        uint32_t bits = (uint32_t)regs_to_bits(order, regs, 2);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    case ALD_TYPE_F64: {
        uint64_t bits = regs_to_bits(order, regs, 4);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    }
    return NAN;
}

/* Round to nearest and check [lo, hi]; -1 when NaN or outside. */
static int round_in_range(double value, double lo, double hi, int64_t *out)
{
    if (isnan(value))
        return -1;
    double r = nearbyint(value);
    if (r < lo || r > hi)
        return -1;
    *out = (int64_t)r;
    return 0;
}

int codec_encode(ald_data_type type, ald_byte_order order, double value, uint16_t *regs)
{
    int64_t n;
    switch (type) {
    case ALD_TYPE_BOOL:
        if (isnan(value))
            return -1;
        regs[0] = value != 0.0 ? 1 : 0;
        return 0;
    case ALD_TYPE_U16:
        if (round_in_range(value, 0, UINT16_MAX, &n) != 0)
            return -1;
        regs[0] = (uint16_t)n;
        return 0;
    case ALD_TYPE_I16:
        if (round_in_range(value, INT16_MIN, INT16_MAX, &n) != 0)
            return -1;
        regs[0] = (uint16_t)(int16_t)n;
        return 0;
    case ALD_TYPE_U32:
        if (round_in_range(value, 0, UINT32_MAX, &n) != 0)
            return -1;
        bits_to_regs(order, (uint32_t)n, regs, 2);
        return 0;
    case ALD_TYPE_I32:
        if (round_in_range(value, INT32_MIN, INT32_MAX, &n) != 0)
            return -1;
        bits_to_regs(order, (uint32_t)(int32_t)n, regs, 2);
        return 0;
    case ALD_TYPE_F32: {
        /* NaN and infinities are representable; finite values beyond FLT_MAX are not. */
        if (isfinite(value) && fabs(value) > FLT_MAX)
            return -1;
        float f = (float)value;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        bits_to_regs(order, bits, regs, 2);
        return 0;
    }
    case ALD_TYPE_F64: {
        uint64_t bits;
        memcpy(&bits, &value, sizeof bits);
        bits_to_regs(order, bits, regs, 4);
        return 0;
    }
    }
    return -1;
}

static const char *const order_names[] = {"abcd", "badc", "cdab", "dcba"};

int codec_parse_order(const char *text, ald_byte_order *out)
{
    if (text == NULL || out == NULL)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, order_names[i]) == 0) {
            *out = (ald_byte_order)(ALD_ORDER_ABCD + i);
            return 0;
        }
    }
    return -1;
}

int codec_parse_legacy_order(const char *text, ald_byte_order *out)
{
    ald_byte_order word;
    if (codec_parse_order(text, &word) != 0)
        return -1;
    /* The old system only ever swapped words: "badc"/"cdab" both sent the low
     * word first, "abcd"/"dcba" both sent plain big-endian. */
    *out = (word == ALD_ORDER_BADC || word == ALD_ORDER_CDAB) ? ALD_ORDER_CDAB : ALD_ORDER_ABCD;
    return 0;
}

int codec_parse_type(const char *text, ald_data_type *out)
{
    static const struct {
        const char *name;
        ald_data_type type;
    } map[] = {
        {"bool", ALD_TYPE_BOOL}, {"binary", ALD_TYPE_BOOL}, {"u16", ALD_TYPE_U16},
        {"i16", ALD_TYPE_I16},   {"int16", ALD_TYPE_I16},   {"u32", ALD_TYPE_U32},
        {"i32", ALD_TYPE_I32},   {"int32", ALD_TYPE_I32},   {"f32", ALD_TYPE_F32},
        {"float", ALD_TYPE_F32}, {"f64", ALD_TYPE_F64},
    };
    if (text == NULL || out == NULL)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcasecmp(text, map[i].name) == 0) {
            *out = map[i].type;
            return 0;
        }
    }
    return -1;
}
