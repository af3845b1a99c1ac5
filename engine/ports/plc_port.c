/* plc_port.c - the PLC port: every call the engine makes to a PLC plugin
 * (see plc_port.h for the locking policy). */
#include "ports/plc_port.h"

#include <math.h>
#include <stdio.h>

#include "log.h"
#include "pulse_trace.h"
#include "ports/plugin_instance.h"
#include "state.h"

/* A call on the read lane: the instance lock, error captured inside it. */
#define PLC_READ_CALL(pi, err, op, ...)                                                      \
    (plc_ops(pi)->op                                                                         \
         ? plugin_call_done((pi), PORT_OP_##op,                                              \
                            (plugin_lock(pi), plc_ops(pi)->op((pi)->inst, __VA_ARGS__)),     \
                            (err))                                                           \
         : plugin_call_unsupported((pi), #op, (err)))

/* End of a control-lane call: count it, capture the text, release the lane. */
static ald_status control_done(plugin_instance *pi, port_op op, ald_status st,
                               port_error *err)
{
    return plugin_control_done(pi, op, st, err);
}

static ald_status control_write(plugin_instance *pi, size_t tag, double value,
                                port_error *err)
{
    plugin_control_lock(pi);
    return control_done(pi, PORT_OP_write_tag, plc_ops(pi)->write_tag(pi->inst, tag, value),
                        err);
}

ald_status plc_port_set_tags(plugin_instance *plc, const tagmap *tags, port_error *err)
{
    return PLC_READ_CALL(plc, err, set_tags, tags->tag_ptrs, tags->tag_count);
}

ald_status plc_port_read_all(plugin_instance *plc, ald_tag_value *out, size_t count,
                             int *connected, port_error *err)
{
    const ald_plc_vtable *ops = plc_ops(plc);
    plugin_lock(plc);
    ald_status st = ops->read_all(plc->inst, out, count);
    if (connected)
        *connected = ops->is_connected ? ops->is_connected(plc->inst) : st == ALD_OK;
    if (st != ALD_OK) /* for the health report, from whichever thread asks */
        snprintf(plc->read_error, sizeof plc->read_error, "%s", plugin_last_error(plc));
    plugin_call_done(plc, PORT_OP_read_all, st, err);
    if (st != ALD_OK)
        atomic_fetch_add(&g_state.plc_errors_total, 1);
    return st;
}

int plc_port_can_read_tags(const plugin_instance *plc)
{
    return plc_ops(plc)->read_tags != NULL;
}

ald_status plc_port_read_tag(plugin_instance *plc, size_t tag, double *value, port_error *err)
{
    if (!plc_port_can_read_tags(plc))
        return plugin_call_unsupported(plc, "read_tags", err);
    ald_tag_value v = {0};
    plugin_lock(plc);
    ald_status st = plc_ops(plc)->read_tags(plc->inst, &tag, 1, &v);
    if (st == ALD_OK)
        st = v.quality;
    *value = v.value;
    return plugin_call_done(plc, PORT_OP_read_tags, st, err);
}

/* The write tag of valve N, or SIZE_MAX. */
static size_t valve_tag(const tagmap *tags, int valve_number)
{
    const tag_param *v = tagmap_valve(tags, valve_number);
    return v ? v->write_tag : SIZE_MAX;
}

static ald_status no_such_valve(int valve_number, port_error *err)
{
    if (err)
        snprintf(err->text, sizeof err->text, "no such valve: %d", valve_number);
    return ALD_ERR_NOT_FOUND;
}

/* ---- owed valves ----------------------------------------------------------------- */

static uint_fast64_t owed_bit(int valve_number)
{
    return (uint_fast64_t)1 << (valve_number > 64 ? 63 : valve_number - 1);
}

static int is_owed(int valve_number)
{
    return (atomic_load(&g_state.valves_owed) & owed_bit(valve_number)) != 0;
}

static void set_owed(int valve_number, int owed)
{
    uint_fast64_t before =
        owed ? atomic_fetch_or(&g_state.valves_owed, owed_bit(valve_number))
             : atomic_fetch_and(&g_state.valves_owed, ~owed_bit(valve_number));
    int was = (before & owed_bit(valve_number)) != 0;
    if (owed && !was)
        log_error("safety", "valve %d is OWED closed: commanded closed, not confirmed OFF; "
                  "the engine keeps closing it until the PLC confirms", valve_number);
    else if (!owed && was)
        log_info("safety", "valve %d confirmed closed by the PLC: no longer owed",
                 valve_number);
}

static ald_status refuse_owed(int valve_number, port_error *err)
{
    if (err)
        snprintf(err->text, sizeof err->text,
                 "valve %d is owed closed (its close was not confirmed by the PLC); it "
                 "cannot be opened until the PLC reads it OFF", valve_number);
    return ALD_ERR_CONFLICT;
}

int plc_port_valve_is_owed(int valve_number)
{
    return valve_number > 0 && is_owed(valve_number);
}

int plc_port_owed_count(void)
{
    uint_fast64_t m = atomic_load(&g_state.valves_owed);
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

void plc_port_owed_names(char *buf, size_t len)
{
    uint_fast64_t m = atomic_load(&g_state.valves_owed);
    size_t used = 0;
    buf[0] = '\0';
    for (int bit = 0; bit < 64 && used < len; bit++) {
        if (!(m & ((uint_fast64_t)1 << bit)))
            continue;
        int n = snprintf(buf + used, len - used, "%svalve %d%s", used ? ", " : "", bit + 1,
                         bit == 63 ? " (or above)" : "");
        used += n > 0 ? (size_t)n : 0;
    }
}

/* ---- valve writes ------------------------------------------------------------------ */

ald_status plc_port_valve_set(plugin_instance *plc, const tagmap *tags, int valve_number,
                              int open, port_error *err)
{
    size_t tag = valve_tag(tags, valve_number);
    if (tag == SIZE_MAX)
        return no_such_valve(valve_number, err);
    if (open && is_owed(valve_number))
        return refuse_owed(valve_number, err);
    return control_write(plc, tag, open ? 1.0 : 0.0, err);
}

ald_status plc_port_pulse(plugin_instance *plc, const tagmap *tags, int valve_number,
                          uint32_t duration_ms, port_error *err)
{
    size_t tag = valve_tag(tags, valve_number);
    if (tag == SIZE_MAX)
        return no_such_valve(valve_number, err);
    if (!plc_ops(plc)->pulse)
        return plugin_call_unsupported(plc, "pulse", err);
    if (is_owed(valve_number))
        return refuse_owed(valve_number, err);
    plugin_control_lock(plc);
    return control_done(plc, PORT_OP_pulse, plc_ops(plc)->pulse(plc->inst, tag, duration_ms),
                        err);
}

/* Write OFF, then read the valve back: only a read OFF confirms the close. */
static ald_status write_and_confirm_off(plugin_instance *plc, size_t tag, port_error *err)
{
    ald_status st = control_write(plc, tag, 0.0, err);
    pulse_trace_mark(PT_CLOSE_WRITTEN);
    if (st != ALD_OK || !plc_port_can_read_tags(plc))
        return st; /* without single-tag reads a successful write is all we know */
    double state = NAN;
    st = plc_port_read_tag(plc, tag, &state, err);
    if (st == ALD_OK && state != 0.0) {
        snprintf(err->text, sizeof err->text, "read back %g after the close, not 0", state);
        st = ALD_ERR_PROTOCOL;
    }
    return st;
}

ald_status plc_port_close_valve(plugin_instance *plc, const tagmap *tags, int valve_number,
                                port_error *err)
{
    size_t tag = valve_tag(tags, valve_number);
    if (tag == SIZE_MAX)
        return no_such_valve(valve_number, err);
    port_error local;
    port_error *why = err ? err : &local;
    ald_status st = write_and_confirm_off(plc, tag, why);
    set_owed(valve_number, st != ALD_OK);
    return st;
}

/* Close the valves of the map, all of them or only the owed ones.
 * Returns how many are not confirmed OFF. */
static int close_valves(plugin_instance *plc, const tagmap *tags, int only_owed)
{
    int unconfirmed = 0;
    for (size_t i = 0; i < tags->param_count; i++) {
        const tag_param *p = &tags->params[i];
        if (p->valve_number <= 0 || p->write_tag == SIZE_MAX)
            continue;
        if (only_owed && !is_owed(p->valve_number))
            continue;
        port_error why;
        ald_status st = plc_port_close_valve(plc, tags, p->valve_number, &why);
        if (st != ALD_OK) {
            unconfirmed++;
            if (!only_owed) /* the retry path would log every 250 ms */
                log_error("safety", "could not confirm valve %d closed: %s: %s",
                          p->valve_number, ald_status_name(st), why.text);
        }
    }
    return unconfirmed;
}

int plc_port_close_all_valves(plugin_instance *plc, const tagmap *tags)
{
    return close_valves(plc, tags, 0);
}

int plc_port_retry_owed(plugin_instance *plc, const tagmap *tags)
{
    if (atomic_load(&g_state.valves_owed))
        close_valves(plc, tags, 1);
    return plc_port_owed_count();
}

ald_status plc_port_write_setpoint(plugin_instance *plc, size_t write_tag, double value,
                                   double *readback, port_error *err)
{
    ald_status st = control_write(plc, write_tag, value, err);
    if (st != ALD_OK)
        return st;
    if (!plc_port_can_read_tags(plc)) {
        *readback = value; /* the plugin cannot read single tags: trust the write */
        return ALD_OK;
    }
    return plc_port_read_tag(plc, write_tag, readback, err);
}

int plc_port_set_active(plugin_instance *plc, int active)
{
    if (!plc_ops(plc)->set_active)
        return 0; /* an older plugin: it has no writes of its own to stop */
    plc_ops(plc)->set_active(plc->inst, active != 0);
    log_debug("plc", "told PLC instance '%s' this engine is %s", plc->name,
              active ? "active (holds the lease)" : "not active");
    return 1;
}

void plc_port_error_text(plugin_instance *plc, char *buf, size_t len)
{
    plugin_lock(plc);
    snprintf(buf, len, "%s", plc->read_error[0] ? plc->read_error : plugin_last_error(plc));
    plugin_unlock(plc);
}

void plc_port_prepare_valve_path(plugin_instance *plc)
{
    const ald_plc_vtable *ops = plc_ops(plc);
    if (ops->pulse)
        port_metrics_prepare(&plc->calls, plc->name, PORT_OP_pulse);
    if (ops->write_tag)
        port_metrics_prepare(&plc->calls, plc->name, PORT_OP_write_tag);
    if (ops->read_tags)
        port_metrics_prepare(&plc->calls, plc->name, PORT_OP_read_tags);
}
