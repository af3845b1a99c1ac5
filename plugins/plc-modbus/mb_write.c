/*
 * mb_write.c - writes on the control connection, so a valve or setpoint
 * never waits behind the logger's bulk read; register writes are read back.
 */
#include <math.h>

#include "mb_instance.h"

/* Relative comparison; the tolerance is a fraction of the larger magnitude. */
static int close_enough(double expected, double got, double tolerance)
{
    double diff = fabs(expected - got);
    return diff <= tolerance * fmax(fabs(expected), fabs(got));
}

/* Read the written registers back (function 03) and compare in engineering
 * units against what the registers we sent decode to (f32 rounding is not a
 * mismatch). */
static ald_status verify(mb_instance *in, const mb_tag *t, const uint16_t *sent)
{
    uint16_t back[4];
    unsigned n = codec_register_count(t->type);
    int exc;
    ald_status st = mb_conn_read(&in->control, MB_FN_READ_HOLDING_REGISTERS, t->write_at.addr,
                                 (uint16_t)n, back, &exc);
    if (st != ALD_OK) {
        mb_set_error(in, -1, "%s (reading back tag \"%s\" after a write)", in->control.error,
                     t->name);
        return st;
    }
    double expected = mb_tag_decode(t, sent), got = mb_tag_decode(t, back);
    if (close_enough(expected, got, in->set.write_verify_tolerance))
        return ALD_OK;
    mb_set_error(in, ALD_LOG_WARNING,
                 "plc-modbus: tag \"%s\" (hr:%u) on %s: wrote %.9g but read back %.9g "
                 "(tolerance %g relative); the PLC clamps or ignores this value",
                 t->name, t->write_at.addr, in->set.device_label, expected, got,
                 in->set.write_verify_tolerance);
    return ALD_ERR_PROTOCOL;
}

/* Why a tag cannot take a write or pulse (sets last_error). */
static ald_status write_tag_unusable(mb_instance *in, size_t index)
{
    if (index >= in->tag_count) {
        mb_set_error(in, -1, "plc-modbus: index %zu is not in the tag set", index);
        return ALD_ERR_NOT_FOUND;
    }
    mb_set_error(in, -1, "plc-modbus: tag \"%s\" has no write address", in->tags[index].name);
    return ALD_ERR_INVALID;
}

static ald_status write_locked(mb_instance *in, size_t index, double value)
{
    if (!atomic_load(&in->running)) {
        mb_set_error(in, -1, "plc-modbus: %s: not started (or stopped)", in->set.device_label);
        return ALD_ERR_DISCONNECTED;
    }
    if (index >= in->tag_count) {
        mb_set_error(in, -1, "plc-modbus: write_tag: index %zu is not in the tag set", index);
        return ALD_ERR_NOT_FOUND;
    }
    const mb_tag *t = &in->tags[index];
    uint16_t regs[4];
    if (!t->writable) {
        mb_set_error(in, -1, "plc-modbus: tag \"%s\" has no write address", t->name);
        return ALD_ERR_INVALID;
    }
    if (mb_tag_encode(t, value, regs) != 0) {
        mb_set_error(in, -1, "plc-modbus: tag \"%s\": value %.9g does not fit its type",
                     t->name, value);
        return ALD_ERR_INVALID;
    }
    int exc;
    ald_status st;
    if (t->write_at.area == AREA_COIL) {
        st = mb_conn_write_bit(&in->control, t->write_at.addr, regs[0] != 0, &exc);
    } else {
        st = mb_conn_write_registers(&in->control, t->write_at.addr,
                                     (uint16_t)codec_register_count(t->type), regs, &exc);
        if (st == ALD_OK)
            return verify(in, t, regs);
    }
    if (st != ALD_OK)
        mb_set_error(in, -1, "%s (tag \"%s\")", in->control.error, t->name);
    return st;
}

ald_status mb_write_tag(mb_instance *in, size_t index, double value)
{
    pthread_mutex_lock(&in->write_lock);
    ald_status st = write_locked(in, index, value);
    pthread_mutex_unlock(&in->write_lock);
    return st;
}

static const mb_pulse_timer *timer_for(const mb_settings *s, const mb_tag *t)
{
    for (size_t i = 0; i < s->pulse_timer_count; i++)
        if (t->write_at.area == AREA_COIL && s->pulse_timers[i].coil.addr == t->write_at.addr)
            return &s->pulse_timers[i];
    return NULL;
}

/* Preset the PLC's timer, then open the coil; the PLC closes it. */
ald_status mb_pulse(mb_instance *in, size_t index, uint32_t duration_ms)
{
    if (index >= in->tag_count || !in->tags[index].writable)
        return write_tag_unusable(in, index);
    const mb_pulse_timer *timer = timer_for(&in->set, &in->tags[index]);
    if (!timer) {
        mb_set_error(in, -1, "plc-modbus: tag \"%s\" has no PLC pulse timer",
                     in->tags[index].name);
        return ALD_ERR_UNSUPPORTED; /* the host times this pulse itself */
    }
    uint32_t units = (duration_ms + timer->unit_ms / 2) / timer->unit_ms;
    if (units == 0 || units > 65535) {
        mb_set_error(in, -1, "plc-modbus: pulse of %u ms does not fit the timer (%u ms units)",
                     duration_ms, timer->unit_ms);
        return ALD_ERR_INVALID;
    }
    uint16_t preset = (uint16_t)units;
    int exc;
    pthread_mutex_lock(&in->write_lock);
    ald_status st = atomic_load(&in->running)
                        ? mb_conn_write_registers(&in->control, timer->preset.addr, 1, &preset,
                                                  &exc)
                        : ALD_ERR_DISCONNECTED;
    if (st == ALD_OK)
        st = mb_conn_write_bit(&in->control, timer->coil.addr, 1, &exc);
    if (st != ALD_OK)
        mb_set_error(in, -1, "%s (pulse on tag \"%s\")", in->control.error,
                     in->tags[index].name);
    pthread_mutex_unlock(&in->write_lock);
    return st;
}
