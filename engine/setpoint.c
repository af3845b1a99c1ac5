/* setpoint.c - validated parameter writes (see setpoint.h). */
#include "setpoint.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

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
        snprintf(err, errlen, "value for %s (%s) is not a number", p->id, label);
        return -1;
    }
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
    const ald_plc_vtable *ops = plc_ops(t->plc);
    ald_status st = ALD_OK;
    unsigned backoff = 100;
    for (int attempt = 0; attempt <= SETPOINT_RETRIES; attempt++) {
        if (attempt > 0) {
            sleep_ms(backoff);
            backoff *= 2;
        }
        st = ops->write_tag(t->plc->inst, tag, value);
        if (st == ALD_OK && ops->read_tags) {
            ald_tag_value v = {0};
            plugin_lock(t->plc); /* reads are serialised with the logger */
            st = ops->read_tags(t->plc->inst, &tag, 1, &v);
            plugin_unlock(t->plc);
            if (st == ALD_OK)
                st = v.quality;
            *readback = v.value;
        } else if (st == ALD_OK) {
            *readback = value; /* the plugin cannot read single tags: trust the write */
        }
        if (st == ALD_OK || !ald_status_is_transient(st))
            break;
    }
    if (st != ALD_OK)
        snprintf(why, whylen, "%s: %s", ald_status_name(st), plc_ops(t->plc)->last_error(t->plc->inst));
    return st;
}

static void record_set_value(const setpoint_target *t, const char *id, double value)
{
    if (!t->storage || !storage_ops(t->storage)->update_parameter_values)
        return;
    ald_parameter_value v = {id, NAN, value};
    plugin_lock(t->storage);
    ald_status st = storage_ops(t->storage)->update_parameter_values(t->storage->inst, &v, 1);
    if (st != ALD_OK)
        log_warning("setpoint", "set_value of %s not recorded: %s", id,
                    plugin_last_error(t->storage));
    plugin_unlock(t->storage);
}

int setpoint_apply(const setpoint_target *t, const char *parameter_id, double value, char *err,
                   size_t errlen)
{
    if (setpoint_validate(t->tags, parameter_id, value, err, errlen) != 0)
        return -1;
    const tag_param *p = tagmap_find(t->tags, parameter_id);
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

ald_status valve_write(plugin_instance *plc, const tagmap *tags, int valve_number, int open)
{
    const tag_param *v = tagmap_valve(tags, valve_number);
    if (!v || v->write_tag == SIZE_MAX)
        return ALD_ERR_NOT_FOUND;
    return plc_ops(plc)->write_tag(plc->inst, v->write_tag, open ? 1.0 : 0.0);
}

int valves_close_all(plugin_instance *plc, const tagmap *tags)
{
    int failed = 0;
    for (size_t i = 0; i < tags->param_count; i++) {
        const tag_param *p = &tags->params[i];
        if (p->valve_number <= 0 || p->write_tag == SIZE_MAX)
            continue;
        ald_status st = plc_ops(plc)->write_tag(plc->inst, p->write_tag, 0.0);
        if (st != ALD_OK) {
            failed++;
            log_error("safety", "could not close valve %d: %s: %s", p->valve_number,
                      ald_status_name(st), plc_ops(plc)->last_error(plc->inst));
        }
    }
    return failed;
}
