/*
 * row_guard.h - the sized copy every row a plugin hands the host goes
 * through (ABI rule: the reader uses min(struct_size, its own size)).
 *
 * A plugin's sink callback receives rows whose layout is the plugin's build
 * of the headers. The guard copies struct_size bytes into a zero-filled
 * host-sized struct (members the plugin's build lacks read as 0 / NULL, bytes
 * past its struct_size are never read), and refuses rows shorter than the
 * ABI 1.0 size: such a plugin was built against a pre-1.0 header, and its
 * rows would put garbage into the store. After the call, row_guard_finish()
 * turns refusals into ALD_ERR_PROTOCOL with a message naming the row type,
 * both sizes and the fix.
 *
 * ROW_GUARD(type, last_1_0_member) defines, for one row type,
 *     type##_guard             the guard plus the real sink and its ctx
 *     type##_guard_make(s, c)  a guard in front of sink s
 *     type##_guarded           the sink to hand the plugin (ctx = &guard)
 */
#ifndef ALD_ENGINE_ROW_GUARD_H
#define ALD_ENGINE_ROW_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "ald/plugin.h"
#include "ports/port.h"

typedef struct row_guard {
    const char *row_type; /* "ald_parameter" */
    size_t v1_size;       /* the member end of the type's last ABI 1.0 member */
    size_t refused;       /* rows refused so far */
    uint32_t refused_size; /* struct_size of the first refused row */
} row_guard;

/* Copies a plugin row into dst (dst_size bytes, zero-filled first). Returns
 * 1, or 0 when the row is NULL or shorter than the 1.0 size (counted). */
int row_guard_copy(row_guard *g, void *dst, size_t dst_size, const void *row);

/* The call's status: st, or ALD_ERR_PROTOCOL (with err's text set) when the
 * guard refused rows. */
ald_status row_guard_finish(const row_guard *g, const plugin_instance *pi, ald_status st,
                            port_error *err);

#define ROW_GUARD(type, last_1_0_member)                                                    \
    typedef struct type##_guard {                                                            \
        row_guard g;                                                                         \
        void (*sink)(void *ctx, const type *row);                                            \
        void *ctx;                                                                           \
    } type##_guard;                                                                          \
    static inline type##_guard type##_guard_make(void (*sink)(void *, const type *),         \
                                                 void *ctx)                                  \
    {                                                                                        \
        type##_guard gd = {{#type, ALD_FIELD_END(type, last_1_0_member), 0, 0}, sink, ctx};  \
        return gd;                                                                           \
    }                                                                                        \
    static inline void type##_guarded(void *ctx, const type *row)                            \
    {                                                                                        \
        type##_guard *gd = ctx;                                                              \
        type copy;                                                                           \
        if (row_guard_copy(&gd->g, &copy, sizeof copy, row) && gd->sink)                     \
            gd->sink(gd->ctx, &copy);                                                        \
    }

/* The rows storage plugins hand the host, with their last ABI 1.0 member. */
ROW_GUARD(ald_parameter, set_value)
ROW_GUARD(ald_recipe_info, pressure_set_point)
ROW_GUARD(ald_recipe_step, hold_duration_ms)
ROW_GUARD(ald_command, error_message)
ROW_GUARD(ald_machine, failure_description)
ROW_GUARD(ald_process, parameters_json)
ROW_GUARD(ald_process_state, last_updated_ms)
ROW_GUARD(ald_setpoint_command, created_at)
ROW_GUARD(ald_outbox_record, created_ms)
ROW_GUARD(ald_valve_event, mono_ns)

#endif
