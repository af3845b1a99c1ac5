/*
 * modbus_codec.h - Modbus register images <-> typed values, and the address
 * syntax shared by the Modbus-family plugins (plc-modbus, plc-sim) and the
 * ald-plcsim server. Built into each of them (static code, no exported
 * symbols), never into the engine.
 */
#ifndef ALD_MODBUS_CODEC_H
#define ALD_MODBUS_CODEC_H

#include <stdint.h>

#include "ald/plc.h"

typedef enum modbus_area {
    AREA_COIL = 0,           /* "coil:N"  read 01, write 05/15 */
    AREA_DISCRETE_INPUT = 1, /* "di:N"    read 02 */
    AREA_HOLDING = 2,        /* "hr:N"    read 03, write 06/16 */
    AREA_INPUT = 3           /* "ir:N"    read 04 */
} modbus_area;

typedef struct modbus_address {
    modbus_area area;
    uint16_t addr; /* 0-based PDU address */
} modbus_address;

/* Parse "coil:N", "di:N", "hr:N", "ir:N", or the same areas in the words of
 * the parameter map the engine passes through ("holding_register:N",
 * "input_register:N", "coil:N", "discrete_input:N"); N decimal, 0..65535.
 * 0 or -1. */
int codec_parse_address(const char *text, modbus_address *out);
/* Map a schema modbus type ("holding_register", "input_register", "coil",
 * "discrete_input") to an area. 0 or -1. */
int codec_area_from_schema(const char *schema_type, modbus_area *out);
const char *codec_area_prefix(modbus_area area); /* "coil", "di", "hr", "ir" */

/* Registers a value of this type occupies: 1 (bool, u16, i16), 2, or 4 (f64). */
unsigned codec_register_count(ald_data_type type);

/* Decode `codec_register_count(type)` registers into a value. */
double codec_decode(ald_data_type type, ald_byte_order order, const uint16_t *regs);
/* Encode a value; integers are rounded to nearest. -1 if it does not fit the
 * type (out of range, NaN for an integer type), 0 otherwise. */
int codec_encode(ald_data_type type, ald_byte_order order, double value, uint16_t *regs);

/* "abcd", "badc", "cdab", "dcba" (any case), standard meanings. 0 or -1. */
int codec_parse_order(const char *text, ald_byte_order *out);
/* The OLD system's PLC_BYTE_ORDER words, mapped to what they really did:
 * badc, cdab -> CDAB (low word first); abcd, dcba -> ABCD. 0 or -1. */
int codec_parse_legacy_order(const char *text, ald_byte_order *out);
/* "bool", "u16", "i16", "u32", "i32", "f32", "f64" and the schema's "binary",
 * "int16", "int32", "float" (= f32). 0 or -1. */
int codec_parse_type(const char *text, ald_data_type *out);

#endif
