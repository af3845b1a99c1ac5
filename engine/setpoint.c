/* setpoint.c - validated parameter writes (see setpoint.h). */
#include "setpoint.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* The whole-number range of an integer register type; 0 for other types. */
static int integer_range(ald_data_type type, double *lo, double *hi, const char **name)
{
    switch (type) {
    case ALD_TYPE_U16: *lo = 0; *hi = 65535; *name = "uint16"; return 1;
    case ALD_TYPE_I16: *lo = -32768; *hi = 32767; *name = "int16"; return 1;
    case ALD_TYPE_U32: *lo = 0; *hi = 4294967295.0; *name = "uint32"; return 1;
    case ALD_TYPE_I32: *lo = -2147483648.0; *hi = 2147483647.0; *name = "int32"; return 1;
    default: return 0;
    }
}

/* The value fits what the PLC is written: a binary parameter (coil, or
 * data_type binary) takes exactly 0 or 1, an integer one a whole number in
 * its type's range. Anything else would be rounded or truncated on the way
 * (0.5 opens a valve), so it is refused before any write. */
static int check_type(const tag_param *p, ald_data_type type, double value, const char *label,
                      char *err, size_t errlen)
{
    double lo, hi;
    const char *name;
    if (type == ALD_TYPE_BOOL && value != 0 && value != 1) {
        snprintf(err, errlen, "value %.17g for %s (%s %s) is refused: a binary parameter "
                 "takes only 0 or 1", value, p->id, label, p->name ? p->name : "");
        return -1;
    }
    if (integer_range(type, &lo, &hi, &name) &&
        (value != floor(value) || value < lo || value > hi)) {
        snprintf(err, errlen, "value %.17g for %s (%s %s) is refused: an %s parameter takes "
                 "only whole numbers in [%.0f, %.0f]", value, p->id, label,
                 p->name ? p->name : "", name, lo, hi);
        return -1;
    }
    return 0;
}

int setpoint_validate(const tagmap *tags, const char *parameter_id, double value, char *err,
                      size_t errlen)
{
    const tag_param *p = tagmap_find(tags, parameter_id);
    if (!p) {
        snprintf(err, errlen, "parameter %s is not in this machine's parameter map",
                 parameter_id ? parameter_id : "(none)");
        return -1;
    }
    const char *label = p->component_name ? p->component_name : p->id;
    if (!p->writable || p->write_tag == SIZE_MAX) {
        snprintf(err, errlen, "parameter %s (%s %s) is read-only", p->id, label,
                 p->name ? p->name : "");
        return -1;
    }
    if (isnan(value) || isinf(value)) {
        snprintf(err, errlen, "value for %s (%s) is not a number (NaN and Inf are refused)", p->id, label);
        return -1;
    }
    if (check_type(p, tags->tags[p->write_tag].type, value, label, err, errlen) != 0)
        return -1;
    if ((!isnan(p->min_value) && value < p->min_value) ||
        (!isnan(p->max_value) && value > p->max_value)) {
        snprintf(err, errlen, "value %g for %s (%s %s) is outside its limits [%g, %g]", value,
                 p->id, label, p->name ? p->name : "", p->min_value, p->max_value);
        return -1;
    }
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Write then read back, retrying transient failures. */
static ald_status write_and_verify(const setpoint_target *t, size_t tag, double value,
                                   double *readback, char *why, size_t whylen)
{
    ald_status st = ALD_OK;
    port_error err;
    unsigned backoff = 100;
    for (int attempt = 0; attempt <= SETPOINT_RETRIES; attempt++) {
        if (attempt > 0) {
            sleep_ms(backoff);
            backoff *= 2;
        }
        st = plc_port_write_setpoint(t->plc, tag, value, readback, &err);
        if (st == ALD_OK || !ald_status_is_transient(st))
            break;
    }
    if (st != ALD_OK)
        snprintf(why, whylen, "%s: %s", ald_status_name(st), err.text);
    return st;
}

static void record_set_value(const setpoint_target *t, const char *id, double value)
{
    if (!t->storage || !storage_port_has(t->storage, STORAGE_LIVE_VALUES))
        return;
    ald_parameter_value v = {id, NAN, value};
    port_error err;
    if (storage_port_update_values(t->storage, &v, 1, &err) != ALD_OK)
        log_warning("setpoint", "set_value of %s not recorded: %s", id, err.text);
}

int setpoint_apply(const setpoint_target *t, const char *parameter_id, double value, char *err,
                   size_t errlen)
{
    if (setpoint_validate(t->tags, parameter_id, value, err, errlen) != 0)
        return -1;
    const tag_param *p = tagmap_find(t->tags, parameter_id);
    /* A valve's own parameter written as a setpoint must not open a valve
     * the PLC has not confirmed closed (the valve path refuses the same). */
    if (value != 0.0 && plc_port_valve_is_owed(p->valve_number)) {
        snprintf(err, errlen, "valve %d is owed closed (its close was not confirmed by the "
                 "PLC): %s cannot be set to %g until the PLC reads it OFF",
                 p->valve_number, p->id, value);
        return -1;
    }
    double readback = NAN;
    char why[300];
    if (write_and_verify(t, p->write_tag, value, &readback, why, sizeof why) != ALD_OK) {
        snprintf(err, errlen, "writing %g to %s (%s) failed after %d attempts: %s", value,
                 p->id, p->component_name ? p->component_name : "", SETPOINT_RETRIES + 1, why);
        return -1;
    }
    double tolerance = fmax(fabs(value) * SETPOINT_TOLERANCE, 1e-6);
    if (fabs(readback - value) > tolerance) {
        snprintf(err, errlen, "wrote %g to %s (%s) but read back %g", value, p->id,
                 p->component_name ? p->component_name : "", readback);
        return -1;
    }
    record_set_value(t, p->id, value);
    log_info("setpoint", "%s %s set to %g", p->component_name ? p->component_name : p->id,
             p->name ? p->name : "", value);
    return 0;
}
