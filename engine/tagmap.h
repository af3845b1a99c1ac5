/*
 * tagmap.h - the machine's parameter map turned into PLC tags.
 *
 * Each component_parameters row with a read address becomes a tag named by
 * the parameter id. A writable register parameter whose setpoint lives at
 * another address (an MFC reads its flow from an input register and takes its
 * setpoint in a holding register) also gets a setpoint tag that reads the
 * write address, so each sample carries its set_point and setpoints changed
 * at the PLC by someone else are seen.
 *
 * Protocol-neutral: a tag's address is the row's own words, "<read/write
 * modbus type>:<address>" ("holding_register:4", "coil:0"), passed through
 * for the PLC plugin to parse in its own syntax (plc-modbus and plc-sim
 * accept them next to their short "hr:4"). The engine formats no protocol's
 * addresses; it knows only the schema's words (SCHEMA.md).
 */
#ifndef ALD_ENGINE_TAGMAP_H
#define ALD_ENGINE_TAGMAP_H

#include <stddef.h>

#include "ald/plugin.h"

typedef struct tag_param {
    char *id;             /* parameter id = tag name of the value tag */
    char *component_name; /* "Valve 1" */
    char *name;           /* parameter_name */
    int writable;
    double min_value, max_value; /* NaN = no limit */
    int valve_number;     /* N for "Valve N"/valve_state, else 0 */
    size_t value_tag;     /* index of its value tag; SIZE_MAX = not readable */
    size_t setpoint_tag;  /* index of its setpoint tag; SIZE_MAX = none */
    size_t write_tag;     /* tag to write setpoints/valves to; SIZE_MAX = none */
} tag_param;

typedef struct tagmap {
    tag_param *params;
    size_t param_count;
    ald_tag *tags;             /* what the PLC plugin reads */
    const ald_tag **tag_ptrs;  /* the same, as set_tags() wants them */
    size_t tag_count;
    size_t *tag_param;         /* tag index -> its parameter index */
    size_t capacity_params, capacity_tags;
    char error[256];           /* first row that could not be mapped */
    size_t skipped;            /* rows without any usable address */
} tagmap;

void tagmap_init(tagmap *m);
void tagmap_free(tagmap *m);

/* ald_parameter_sink: add one parameter row (copies everything it keeps). */
void tagmap_add_parameter(void *tagmap_ctx, const ald_parameter *p);

/* After the last add: builds tag_ptrs (the tags array no longer moves). */
int tagmap_finish(tagmap *m);

/* Parameter by valve number (1-based), or NULL. */
const tag_param *tagmap_valve(const tagmap *m, int valve_number);
/* Parameter by id, or NULL. */
const tag_param *tagmap_find(const tagmap *m, const char *id);

/* The parameter map's words (SCHEMA.md), exposed for tests: the value type of
 * a data_type on an area (coils and discrete inputs hold bools), and whether
 * a word names an area at all. */
ald_data_type tagmap_data_type(const char *schema_data_type, const char *modbus_type);
int tagmap_is_area_word(const char *modbus_type);

#endif
