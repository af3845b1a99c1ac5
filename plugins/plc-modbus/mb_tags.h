/*
 * mb_tags.h - the plugin's own copy of a tag, resolved from an ald_tag (and a
 * same-named config tag, which overrides it), and its conversion between
 * register images and engineering values.
 *
 * OWNERSHIP: mb_tag owns its name (mb_tag_free). THREADING: immutable after
 * mb_tag_resolve(), so readers on any thread may share it.
 */
#ifndef PLC_MODBUS_TAGS_H
#define PLC_MODBUS_TAGS_H

#include <stddef.h>

#include "mb_settings.h"
#include "modbus_codec.h"

typedef struct mb_tag {
    char *name;
    int readable;
    modbus_address read_at;
    int writable;
    modbus_address write_at;
    ald_data_type type;
    ald_byte_order order; /* resolved: never DEFAULT */
    double scale;         /* never 0 */
    double offset;
} mb_tag;

/* Resolve a host tag (spec may be NULL) or a config-only tag (tag NULL).
 * ALD_OK, ALD_ERR_INVALID with err naming the tag, or ALD_ERR_NOMEM. */
ald_status mb_tag_resolve(const ald_tag *tag, const mb_tag_spec *spec,
                          ald_byte_order device_order, mb_tag *out, char *err,
                          size_t errlen);
void mb_tag_free(mb_tag *t);

/* Engineering value of the tag's registers (raw * scale + offset). */
double mb_tag_decode(const mb_tag *t, const uint16_t *regs);
/* Registers for an engineering value. 0, or -1 when it does not fit the type. */
int mb_tag_encode(const mb_tag *t, double value, uint16_t *regs);

#endif
