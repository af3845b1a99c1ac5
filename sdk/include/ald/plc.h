/*
 * ald/plc.h - the PLC plugin ABI: tags, values and the PLC vtable.
 *
 * PLC plugins address TAGS (name, address string, type, byte order), never raw
 * registers, so Modbus, OPC UA or S7 plugins all fit. The address string is
 * the plugin's own syntax; Modbus-family plugins (plc-modbus, plc-sim) accept
 *     "coil:N"  "di:N"  "hr:N"  "ir:N"        N = 0-based PDU address
 * The host builds these from the parameter map (component_parameters'
 * read/write modbus type and address) in the map's own words,
 * "<type>:<address>" ("holding_register:4", "input_register:8", "coil:0",
 * "discrete_input:1"); Modbus-family plugins accept both spellings.
 *
 * LIFECYCLE: create(config) -> set_tags -> start -> read/write ... -> stop ->
 * destroy. create() validates settings WITHOUT any I/O (ald-engine
 * --check-config relies on this). start() may fail to connect: that is not
 * fatal, the plugin keeps reconnecting on later calls with back-off.
 *
 * THREADING: the host serialises all calls on one instance EXCEPT that
 * write_tag(), pulse() and is_connected() may be called from the recipe
 * executor's thread while read_all() runs on the logger's thread, and that
 * set_active() (1.2) may be called from any thread at any time. A plugin
 * must therefore make write_tag()/pulse() safe against a concurrent read_all()
 * and must not make them wait for a running bulk read (use a separate control
 * connection or a priority lane). No call may block longer than the plugin's
 * configured timeouts. The host reads last_error() on the thread that made
 * the failing call, right after it, possibly while the other thread's call
 * runs: keep the text per calling thread (plc-modbus and plc-sim do), so a
 * failed valve write never reports the logger's read error.
 */
#ifndef ALD_PLC_H
#define ALD_PLC_H

#include <stdint.h>

#include "ald/abi.h"
#include "ald/host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ald_data_type {
    ALD_TYPE_BOOL = 0, /* coil / discrete input, or a register != 0 */
    ALD_TYPE_U16 = 1,
    ALD_TYPE_I16 = 2,
    ALD_TYPE_U32 = 3, /* two registers */
    ALD_TYPE_I32 = 4, /* two registers */
    ALD_TYPE_F32 = 5, /* two registers, IEEE 754 */
    ALD_TYPE_F64 = 6  /* four registers, IEEE 754 */
} ald_data_type;

/*
 * Standard byte orders of multi-register values, named by where the bytes of
 * the big-endian value A B C D (A most significant) end up on the wire:
 *   ABCD  registers [AB, CD]  (big-endian, high word first)
 *   BADC  registers [BA, DC]  (bytes swapped inside each register)
 *   CDAB  registers [CD, AB]  (low word first)
 *   DCBA  registers [DC, BA]  (little-endian)
 * For f64 the same rule extends to eight bytes. DEFAULT = the device's default.
 */
typedef enum ald_byte_order {
    ALD_ORDER_DEFAULT = 0,
    ALD_ORDER_ABCD = 1,
    ALD_ORDER_BADC = 2,
    ALD_ORDER_CDAB = 3,
    ALD_ORDER_DCBA = 4
} ald_byte_order;

typedef struct ald_tag {
    uint32_t struct_size;      /* sizeof(ald_tag) */
    const char *name;          /* unique within the set (the host uses parameter ids) */
    const char *read_address;  /* plugin syntax; NULL = not readable */
    const char *write_address; /* plugin syntax; NULL = not writable */
    ald_data_type type;
    ald_byte_order byte_order;
    double scale;  /* engineering value = raw * scale + offset; 0 means 1 */
    double offset;
} ald_tag;

/* One tag's value from a read. */
typedef struct ald_tag_value {
    double value;       /* engineering units; bools are 0 or 1 */
    ald_status quality; /* ALD_OK, or why this tag has no value this cycle */
} ald_tag_value;

/* Capability bits for ald_plugin_descriptor.capabilities of a PLC plugin. */
#define ALD_CAP_PLC_TIMED_PULSE (1u << 0) /* pulse() uses the PLC's own timer */
#define ALD_CAP_PLC_THREAD_SAFE (1u << 1) /* every op may be called concurrently */
#define ALD_CAP_PLC_VALVE_LOG (1u << 2)   /* valve_events() is implemented */

/* A recorded valve transition (simulators; for tests and benchmarks). */
typedef struct ald_valve_event {
    uint32_t struct_size;
    const char *tag;  /* write address of the valve tag, e.g. "coil:0" */
    int open;         /* 1 = opened, 0 = closed */
    uint64_t mono_ns; /* CLOCK_MONOTONIC when the model applied it */
} ald_valve_event;

typedef void (*ald_valve_event_sink)(void *ctx, const ald_valve_event *ev);

typedef struct ald_plc_vtable {
    uint32_t struct_size; /* sizeof(ald_plc_vtable) as the plugin saw it */

    /* Validate settings and allocate an instance. No I/O. On error, write a
     * message naming the setting (use host->config_where) into err. */
    ald_status (*create)(const ald_host *host, const ald_config *cfg, void **instance,
                         char *err, size_t errlen);
    void (*destroy)(void *instance);
    /* Connect (or start trying to). Must not block past the connect timeout. */
    ald_status (*start)(void *instance);
    /* Close connections; no further I/O. Idempotent. */
    void (*stop)(void *instance);
    /* The text of the last error of THE CALLING THREAD's calls on this
     * instance ("" when none): ABI 1.0 semantics, see THREADING above. The
     * pointer stays valid until this thread's next call on the instance.
     * Never contains secrets. A plugin that keeps one text per instance
     * still loads and works; only while write_tag()/pulse() overlap a
     * read_all() may its text describe the other thread's call (the status
     * the host acts on is always the call's own return value). */
    const char *(*last_error)(void *instance);

    /* Replace the tag set; plans bulk reads once. Tag pointers are only valid
     * during the call: copy what you keep. Returns ALD_ERR_INVALID naming the
     * first bad tag (unknown address syntax, unsupported type). */
    ald_status (*set_tags)(void *instance, const ald_tag *const *tags, size_t count);
    /* Read every readable tag of the set in as few requests as the rules allow.
     * out has `count` entries in set_tags order; unreadable tags get quality
     * ALD_ERR_UNSUPPORTED. Returns ALD_OK when every readable tag was read, or
     * the most serious error; per-tag quality tells which values are good. */
    ald_status (*read_all)(void *instance, ald_tag_value *out, size_t count);
    /* Read a few tags now (index into the set), e.g. to read back a write. */
    ald_status (*read_tags)(void *instance, const size_t *indexes, size_t n,
                            ald_tag_value *out);
    /* Write one tag at its write address (bools: value != 0). */
    ald_status (*write_tag)(void *instance, size_t index, double value);
    /* Whether the last I/O succeeded (a cheap flag, no I/O). */
    int (*is_connected)(void *instance);

    /* OPTIONAL (ALD_CAP_PLC_TIMED_PULSE): open a valve tag and let the PLC close
     * it after duration_ms. NULL when unsupported, or ALD_ERR_UNSUPPORTED for a
     * tag without a PLC timer: the host then writes 1, sleeps to an absolute
     * deadline, and writes 0. After a PLC-timed pulse the host still writes 0
     * at the deadline (harmless if the PLC already closed it). */
    ald_status (*pulse)(void *instance, size_t index, uint32_t duration_ms);
    /* OPTIONAL (ALD_CAP_PLC_VALVE_LOG): hand every valve transition recorded
     * since `since_ns` to sink, oldest first. Returns the count. */
    size_t (*valve_events)(void *instance, uint64_t since_ns, ald_valve_event_sink sink,
                           void *ctx);

    /* OPTIONAL (ABI 1.2): the host tells the plugin whether this engine holds
     * the machine's lease (active = 1) or is a standby (active = 0). Called
     * on every change: when the lease is acquired, lost, and released at
     * shutdown; with a store without leases the engine is active at start.
     * A plugin that writes to the PLC on its own (a heartbeat register, a
     * keep-alive) does so ONLY while active: a standby engine must write
     * nothing to the PLC, and a standby's heartbeat would keep the PLC's
     * watchdog fed after the active engine died. Every instance starts
     * inactive, before the first call. On becoming inactive, stop writing at
     * once (a write already on the wire may complete; write no final value).
     * THREADING: may be called from any thread, concurrently with any other
     * operation, so it must not block and must not do I/O: store a flag
     * (e.g. an atomic) and wake the writer thread. NULL: the plugin does no
     * writes of its own and needs no telling. */
    void (*set_active)(void *instance, int active);
} ald_plc_vtable;

#ifdef __cplusplus
}
#endif
#endif /* ALD_PLC_H */
