/*
 * mb_settings.h - the plc-modbus instance settings, read and validated once
 * in create() through the host's config getters, without any I/O.
 *
 * OWNERSHIP: strings point into the host's config, which lives until the
 * instance's destroy(); only the tag-spec array is allocated here
 * (mb_settings_free). ERRORS: "file:line: setting X: problem" in err.
 */
#ifndef PLC_MODBUS_SETTINGS_H
#define PLC_MODBUS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "ald/host.h"
#include "ald/plc.h"
#include "modbus_codec.h"

/* A tag declared in the instance config (`tags = ( {...} )`). */
typedef struct mb_tag_spec {
    const char *name;
    const char *address; /* read address; also the write address when writable */
    ald_data_type type;
    ald_byte_order byte_order; /* DEFAULT = the device default */
    double scale;              /* 1 when absent */
    double offset;
    int writable;
    char where[128]; /* "file:line" of the tag, for later errors */
} mb_tag_spec;

/* A PLC-side pulse timer (`pulse_timers = ( {...} )`): writing a duration to
 * `preset` and 1 to `coil` makes the PLC's own timer close the coil. */
typedef struct mb_pulse_timer {
    modbus_address coil;   /* the valve coil it closes */
    modbus_address preset; /* holding register taking the duration */
    uint32_t unit_ms;      /* preset units: duration_ms / unit_ms is written */
} mb_pulse_timer;

typedef struct mb_settings {
    int rtu;          /* transport: 0 = tcp, 1 = rtu */
    const char *host; /* tcp */
    int port;
    int unit_id;
    const char *device; /* rtu */
    int baud;
    char parity; /* 'N', 'E', 'O' */
    int data_bits;
    int stop_bits;

    ald_byte_order byte_order; /* resolved device default (legacy_byte_order wins) */
    int legacy_function_codes; /* ir read with 03, di read with 01 */

    uint32_t connect_timeout_ms;
    uint32_t response_timeout_ms;
    uint32_t pause_after_connect_ms;
    uint32_t pause_between_requests_ms;
    int close_after_cycle;
    unsigned max_gap;
    unsigned max_registers;
    unsigned max_bits;
    uint32_t backoff_initial_ms;
    uint32_t backoff_max_ms;
    double write_verify_tolerance; /* relative */

    mb_tag_spec *tags;
    size_t tag_count;
    mb_pulse_timer *pulse_timers;
    size_t pulse_timer_count;

    /* PLC heartbeat (mb_heartbeat.h): off unless heartbeat_address is set. */
    int heartbeat_enabled;
    modbus_address heartbeat; /* a holding register */
    uint32_t heartbeat_period_ms;

    char device_label[160]; /* "host:port" or the serial device, for metrics and errors */
} mb_settings;

/* Fill *s from cfg. ALD_OK, ALD_ERR_INVALID (err says which setting and why)
 * or ALD_ERR_NOMEM. On error nothing needs freeing. */
ald_status mb_settings_load(const ald_host *host, const ald_config *cfg, mb_settings *s,
                            char *err, size_t errlen);
void mb_settings_free(mb_settings *s);

#endif
