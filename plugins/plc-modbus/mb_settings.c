/*
 * mb_settings.c - read and validate the plc-modbus settings (no I/O).
 */
#include "mb_settings.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ald/settings.h"
#include "modbus_codec.h"

/* What the loaders share: where to read from and where to complain (the
 * SDK's typed-setting helpers, ald/settings.h). */
typedef ald_settings loader;

/* An integer setting stored into a uint32_t/unsigned/int field. */
#define GET_INT(ld, path, lo, hi, field)                                                     \
    do {                                                                                     \
        int64_t v_ = (int64_t)(field);                                                       \
        ald_status st_ = ald_setting_int(ld, path, lo, hi, &v_);                             \
        if (st_ != ALD_OK)                                                                   \
            return st_;                                                                      \
        (field) = (__typeof__(field))v_;                                                     \
    } while (0)

static ald_status load_transport(const loader *ld, mb_settings *s)
{
    const char *transport = "tcp", *parity = "N";
    ald_status st = ald_setting_string(ld, "transport", &transport);
    if (st != ALD_OK)
        return st;
    if (strcasecmp(transport, "tcp") == 0)
        s->rtu = 0;
    else if (strcasecmp(transport, "rtu") == 0)
        s->rtu = 1;
    else
        return ald_setting_fail(ld, "transport", "\"%s\" is not \"tcp\" or \"rtu\"",
                                transport);

    if ((st = ald_setting_string(ld, "host", &s->host)) != ALD_OK ||
        (st = ald_setting_string(ld, "device", &s->device)) != ALD_OK ||
        (st = ald_setting_string(ld, "parity", &parity)) != ALD_OK)
        return st;
    GET_INT(ld, "port", 1, 65535, s->port);
    GET_INT(ld, "unit_id", 0, 255, s->unit_id);
    GET_INT(ld, "baud", 50, 4000000, s->baud);
    GET_INT(ld, "data_bits", 5, 8, s->data_bits);
    GET_INT(ld, "stop_bits", 1, 2, s->stop_bits);
    if (strlen(parity) != 1 || strchr("NEOneo", parity[0]) == NULL)
        return ald_setting_fail(ld, "parity", "\"%s\" is not N, E or O", parity);
    s->parity = (char)(parity[0] & ~0x20); /* upper case */

    if (!s->rtu && (s->host == NULL || s->host[0] == '\0'))
        return ald_setting_fail(ld, "host",
                                "required for transport \"tcp\" (a name or an address)");
    if (s->rtu && (s->device == NULL || s->device[0] == '\0'))
        return ald_setting_fail(ld, "device",
                                "required for transport \"rtu\" (e.g. \"/dev/ttyUSB0\")");
    if (s->rtu)
        snprintf(s->device_label, sizeof s->device_label, "%s", s->device);
    else if (strchr(s->host, ':') != NULL) /* IPv6 literal */
        snprintf(s->device_label, sizeof s->device_label, "[%s]:%d", s->host, s->port);
    else
        snprintf(s->device_label, sizeof s->device_label, "%s:%d", s->host, s->port);
    return ALD_OK;
}

static ald_status load_byte_order(const loader *ld, mb_settings *s)
{
    const char *order = NULL, *legacy = NULL;
    ald_status st;
    if ((st = ald_setting_string(ld, "byte_order", &order)) != ALD_OK ||
        (st = ald_setting_string(ld, "legacy_byte_order", &legacy)) != ALD_OK)
        return st;
    if (order != NULL && codec_parse_order(order, &s->byte_order) != 0)
        return ald_setting_fail(ld, "byte_order", "\"%s\" is not abcd, badc, cdab or dcba",
                                order);
    /* The legacy word (PLC_BYTE_ORDER) keeps its old meaning and wins when set. */
    if (legacy != NULL && legacy[0] != '\0' &&
        codec_parse_legacy_order(legacy, &s->byte_order) != 0)
        return ald_setting_fail(ld, "legacy_byte_order",
                                "\"%s\" is not abcd, badc, cdab or dcba", legacy);
    return ald_setting_bool(ld, "legacy_function_codes", &s->legacy_function_codes);
}

static ald_status load_timing(const loader *ld, mb_settings *s)
{
    ald_status st;
    GET_INT(ld, "connect_timeout_ms", 1, 600000, s->connect_timeout_ms);
    GET_INT(ld, "response_timeout_ms", 1, 600000, s->response_timeout_ms);
    GET_INT(ld, "pause_after_connect_ms", 0, 60000, s->pause_after_connect_ms);
    GET_INT(ld, "pause_between_requests_ms", 0, 60000, s->pause_between_requests_ms);
    GET_INT(ld, "backoff_initial_ms", 1, 3600000, s->backoff_initial_ms);
    GET_INT(ld, "backoff_max_ms", 1, 3600000, s->backoff_max_ms);
    if (s->backoff_max_ms < s->backoff_initial_ms)
        return ald_setting_fail(ld, "backoff_max_ms", "%u is below backoff_initial_ms (%u)",
                                s->backoff_max_ms, s->backoff_initial_ms);
    if ((st = ald_setting_bool(ld, "close_after_cycle", &s->close_after_cycle)) != ALD_OK)
        return st;
    /* A 4-register f64 must fit one request. */
    GET_INT(ld, "max_gap", 0, 2000, s->max_gap);
    GET_INT(ld, "max_registers", 4, 125, s->max_registers);
    GET_INT(ld, "max_bits", 1, 2000, s->max_bits);
    if ((st = ald_setting_double(ld, "write_verify_tolerance", &s->write_verify_tolerance)) !=
        ALD_OK)
        return st;
    if (s->write_verify_tolerance < 0)
        return ald_setting_fail(ld, "write_verify_tolerance", "must not be negative");
    return ALD_OK;
}

/* One element of `tags`; the loader's cfg is the element itself. */
static ald_status load_tag(const loader *ld, mb_tag_spec *t)
{
    const char *type = NULL, *order = NULL;
    ald_status st;
    if ((st = ald_setting_string(ld, "name", &t->name)) != ALD_OK ||
        (st = ald_setting_string(ld, "address", &t->address)) != ALD_OK ||
        (st = ald_setting_string(ld, "type", &type)) != ALD_OK ||
        (st = ald_setting_string(ld, "byte_order", &order)) != ALD_OK ||
        (st = ald_setting_double(ld, "scale", &t->scale)) != ALD_OK ||
        (st = ald_setting_double(ld, "offset", &t->offset)) != ALD_OK ||
        (st = ald_setting_bool(ld, "writable", &t->writable)) != ALD_OK)
        return st;
    if (t->name == NULL || t->name[0] == '\0')
        return ald_setting_fail(ld, "name", "every tag needs a name");
    modbus_address addr;
    if (t->address == NULL || codec_parse_address(t->address, &addr) != 0)
        return ald_setting_fail(ld, "address",
                                "tag \"%s\": \"%s\" is not coil:N, di:N, hr:N or ir:N",
                                t->name, t->address ? t->address : "");
    if (type == NULL || codec_parse_type(type, &t->type) != 0)
        return ald_setting_fail(
            ld, "type", "tag \"%s\": \"%s\" is not bool, u16, i16, u32, i32, f32 or f64",
            t->name, type ? type : "");
    if (order != NULL && codec_parse_order(order, &t->byte_order) != 0)
        return ald_setting_fail(ld, "byte_order",
                                "tag \"%s\": \"%s\" is not abcd, badc, cdab or dcba", t->name,
                                order);
    if (t->scale == 0)
        return ald_setting_fail(ld, "scale", "tag \"%s\": must not be 0", t->name);
    ld->host->config_where(ld->cfg, NULL, t->where, sizeof t->where);
    return ALD_OK;
}

static ald_status load_tags(const loader *ld, mb_settings *s)
{
    unsigned n = ld->host->config_count(ld->cfg, "tags");
    if (n == 0)
        return ALD_OK;
    s->tags = calloc(n, sizeof *s->tags);
    if (s->tags == NULL)
        return ALD_ERR_NOMEM;
    for (unsigned i = 0; i < n; i++) {
        const ald_config *child = ld->host->config_child(ld->cfg, "tags", i);
        if (child == NULL)
            return ald_setting_fail(
                ld, "tags", "element %u is not a group { name = ...; address = ...; }", i);
        loader sub = {ld->host, child, ld->err, ld->errlen};
        mb_tag_spec *t = &s->tags[i];
        t->scale = 1.0;
        ald_status st = load_tag(&sub, t);
        if (st != ALD_OK)
            return st;
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(s->tags[j].name, t->name) == 0)
                return ald_setting_fail(&sub, "name", "tag \"%s\" is declared twice",
                                        t->name);
        }
        s->tag_count = i + 1;
    }
    return ALD_OK;
}

static ald_status load_pulse_timer(const loader *ld, mb_pulse_timer *t)
{
    const char *coil = NULL, *preset = NULL;
    int64_t unit = 1;
    ald_status st = ald_setting_string(ld, "coil", &coil);
    if (st == ALD_OK)
        st = ald_setting_string(ld, "preset", &preset);
    if (st == ALD_OK)
        st = ald_setting_int(ld, "unit_ms", 1, 60000, &unit);
    if (st != ALD_OK)
        return st;
    if (!coil || codec_parse_address(coil, &t->coil) != 0 || t->coil.area != AREA_COIL)
        return ald_setting_fail(ld, "coil", "must be a coil address like \"coil:0\"");
    if (!preset || codec_parse_address(preset, &t->preset) != 0 ||
        t->preset.area != AREA_HOLDING)
        return ald_setting_fail(ld, "preset",
                                "must be a holding register address like \"hr:100\"");
    t->unit_ms = (uint32_t)unit;
    return ALD_OK;
}

static ald_status load_pulse_timers(const loader *ld, mb_settings *s)
{
    unsigned n = ld->host->config_count(ld->cfg, "pulse_timers");
    if (n == 0)
        return ALD_OK;
    s->pulse_timers = calloc(n, sizeof *s->pulse_timers);
    if (s->pulse_timers == NULL)
        return ALD_ERR_NOMEM;
    for (unsigned i = 0; i < n; i++) {
        const ald_config *child = ld->host->config_child(ld->cfg, "pulse_timers", i);
        if (child == NULL)
            return ald_setting_fail(ld, "pulse_timers",
                                    "element %u is not a group { coil = ...; preset = ...; }",
                                    i);
        loader sub = {ld->host, child, ld->err, ld->errlen};
        ald_status st = load_pulse_timer(&sub, &s->pulse_timers[i]);
        if (st != ALD_OK)
            return st;
        s->pulse_timer_count = i + 1;
    }
    return ALD_OK;
}

/* heartbeat_address = "hr:N" turns the heartbeat on; heartbeat_period_ms. */
static ald_status load_heartbeat(const loader *ld, mb_settings *s)
{
    const char *address = NULL;
    ald_status st = ald_setting_string(ld, "heartbeat_address", &address);
    if (st != ALD_OK)
        return st;
    GET_INT(ld, "heartbeat_period_ms", 50, 10000, s->heartbeat_period_ms);
    if (address == NULL || address[0] == '\0')
        return ALD_OK;
    if (codec_parse_address(address, &s->heartbeat) != 0 || s->heartbeat.area != AREA_HOLDING)
        return ald_setting_fail(ld, "heartbeat_address",
                    "\"%s\" is not a holding register address like \"hr:100\"", address);
    s->heartbeat_enabled = 1;
    return ALD_OK;
}

static void set_defaults(mb_settings *s)
{
    memset(s, 0, sizeof *s);
    s->port = 502;
    s->unit_id = 1;
    s->baud = 19200;
    s->parity = 'N';
    s->data_bits = 8;
    s->stop_bits = 1;
    s->byte_order = ALD_ORDER_ABCD;
    s->connect_timeout_ms = 2000;
    s->response_timeout_ms = 1000;
    s->max_gap = 10;
    s->max_registers = 125;
    s->max_bits = 2000;
    s->backoff_initial_ms = 500;
    s->backoff_max_ms = 30000;
    s->write_verify_tolerance = 1e-3;
    s->heartbeat_period_ms = 500;
}

ald_status mb_settings_load(const ald_host *host, const ald_config *cfg, mb_settings *s,
                            char *err, size_t errlen)
{
    loader ld = {host, cfg, err, errlen};
    set_defaults(s);
    ald_status st = load_transport(&ld, s);
    if (st == ALD_OK)
        st = load_byte_order(&ld, s);
    if (st == ALD_OK)
        st = load_timing(&ld, s);
    if (st == ALD_OK)
        st = load_tags(&ld, s);
    if (st == ALD_OK)
        st = load_pulse_timers(&ld, s);
    if (st == ALD_OK)
        st = load_heartbeat(&ld, s);
    if (st != ALD_OK)
        mb_settings_free(s);
    if (st == ALD_ERR_NOMEM)
        snprintf(err, errlen, "plc-modbus: out of memory while reading settings");
    return st;
}

void mb_settings_free(mb_settings *s)
{
    free(s->tags);
    s->tags = NULL;
    s->tag_count = 0;
    free(s->pulse_timers);
    s->pulse_timers = NULL;
    s->pulse_timer_count = 0;
}
