/*
 * mb_tags.c - resolve tags and convert their values.
 */
#include "mb_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Check an address: known syntax, the type fits the area and the address space. */
static int check_address(const char *text, ald_data_type type, int for_write,
                         modbus_address *out, char *why, size_t whylen)
{
    if (codec_parse_address(text, out) != 0) {
        snprintf(why, whylen,
                 "address \"%s\" is not coil:N, di:N, hr:N or ir:N (or holding_register:N, "
                 "input_register:N, discrete_input:N; N 0..65535)",
                 text);
        return -1;
    }
    int bit_area = out->area == AREA_COIL || out->area == AREA_DISCRETE_INPUT;
    if (bit_area && type != ALD_TYPE_BOOL) {
        snprintf(why, whylen, "address \"%s\" holds single bits; the type must be bool", text);
        return -1;
    }
    if (for_write && (out->area == AREA_DISCRETE_INPUT || out->area == AREA_INPUT)) {
        snprintf(why, whylen, "address \"%s\" is read-only; write to coil:N or hr:N", text);
        return -1;
    }
    if ((uint32_t)out->addr + codec_register_count(type) > 65536u) {
        snprintf(why, whylen, "address \"%s\" runs past register 65535", text);
        return -1;
    }
    return 0;
}

static ald_status invalid(const char *name, const char *where, const char *why, char *err,
                          size_t errlen)
{
    snprintf(err, errlen, "%s%stag \"%s\": %s", where ? where : "", where && *where ? ": " : "",
             name ? name : "(unnamed)", why);
    return ALD_ERR_INVALID;
}

ald_status mb_tag_resolve(const ald_tag *tag, const mb_tag_spec *spec,
                          ald_byte_order device_order, mb_tag *out, char *err, size_t errlen)
{
    const char *name = spec ? spec->name : tag->name;
    const char *where = spec ? spec->where : NULL;
    const char *raddr = spec ? spec->address : tag->read_address;
    const char *waddr = spec ? (spec->writable ? spec->address : NULL) : tag->write_address;
    char why[200];
    memset(out, 0, sizeof *out);
    out->type = spec ? spec->type : tag->type;
    ald_byte_order order = spec ? spec->byte_order : tag->byte_order;
    out->scale = spec ? spec->scale : (tag->scale == 0 ? 1.0 : tag->scale);
    out->offset = spec ? spec->offset : tag->offset;

    if ((unsigned)out->type > ALD_TYPE_F64)
        return invalid(name, where, "unsupported data type", err, errlen);
    if ((unsigned)order > ALD_ORDER_DCBA)
        return invalid(name, where, "unknown byte order", err, errlen);
    out->order = order == ALD_ORDER_DEFAULT ? device_order : order;
    if (raddr != NULL) {
        if (check_address(raddr, out->type, 0, &out->read_at, why, sizeof why) != 0)
            return invalid(name, where, why, err, errlen);
        out->readable = 1;
    }
    if (waddr != NULL) {
        if (check_address(waddr, out->type, 1, &out->write_at, why, sizeof why) != 0)
            return invalid(name, where, why, err, errlen);
        out->writable = 1;
    }
    out->name = strdup(name ? name : "");
    return out->name ? ALD_OK : ALD_ERR_NOMEM;
}

void mb_tag_free(mb_tag *t)
{
    free(t->name);
    t->name = NULL;
}

/* Bools are 0 or 1 in every unit: scale and offset do not apply to them. */
double mb_tag_decode(const mb_tag *t, const uint16_t *regs)
{
    if (t->type == ALD_TYPE_BOOL)
        return codec_decode(t->type, t->order, regs);
    return codec_decode(t->type, t->order, regs) * t->scale + t->offset;
}

int mb_tag_encode(const mb_tag *t, double value, uint16_t *regs)
{
    if (t->type == ALD_TYPE_BOOL)
        return codec_encode(t->type, t->order, value, regs);
    return codec_encode(t->type, t->order, (value - t->offset) / t->scale, regs);
}
