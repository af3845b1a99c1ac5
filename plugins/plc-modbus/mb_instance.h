/*
 * mb_instance.h - the state of one plc-modbus instance, shared by the files
 * that implement its operations (plugin.c, mb_read.c, mb_write.c); its
 * error helpers are in mb_instance.c.
 *
 * THREADING (see ald/plc.h): the host serialises every call except that
 * write_tag() and is_connected() may run while read_all() does. So:
 *   read_lock   guards the logger connection `reader`, the plan and `values`;
 *   write_lock  guards the control connection `control`;
 *   the tag table is replaced only by set_tags(), which takes both locks;
 *   err_lock    guards the last-error text, written from either thread;
 *   link_up / running are atomics read without locks.
 * Lock order: write_lock before read_lock.
 */
#ifndef PLC_MODBUS_INSTANCE_H
#define PLC_MODBUS_INSTANCE_H

#include <pthread.h>
#include <stdatomic.h>

#include "ald/plc.h"
#include "mb_conn.h"
#include "mb_heartbeat.h"
#include "mb_metrics.h"
#include "mb_planner.h"
#include "mb_settings.h"
#include "mb_tags.h"

typedef struct mb_instance {
    const ald_host *host;
    mb_settings set;
    mb_metrics metrics;
    atomic_int link_up;
    atomic_int running;

    pthread_mutex_t read_lock;
    mb_conn reader;
    pthread_mutex_t write_lock;
    mb_conn control;
    mb_heartbeat heartbeat; /* its own thread and connection */

    mb_tag *tags; /* host tags in set_tags order, then config-only tags */
    size_t tag_count;
    mb_read_item *items; /* per tag: what to read (count 0 = not readable) */
    mb_plan plan;
    ald_tag_value *values; /* one per tag, filled by a read cycle */
    uint16_t scratch[MODBUS_MAX_READ_BITS];

    pthread_mutex_t err_lock;
    char last_err[512];
    char err_out[512];
} mb_instance;

/* Set the last-error text (printf-style); also logged at `level` when >= 0. */
void mb_set_error(mb_instance *in, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void mb_clear_error(mb_instance *in);

/* Operations split out of plugin.c (mb_read.c, mb_write.c). */
ald_status mb_read_all(mb_instance *in, ald_tag_value *out, size_t count);
ald_status mb_read_tags(mb_instance *in, const size_t *indexes, size_t n, ald_tag_value *out);
ald_status mb_write_tag(mb_instance *in, size_t index, double value);
/* PLC-timed pulse; ALD_ERR_UNSUPPORTED for a tag without a pulse timer. */
ald_status mb_pulse(mb_instance *in, size_t index, uint32_t duration_ms);

/* Which of two statuses a caller should see: the more serious one. */
ald_status mb_worse_status(ald_status a, ald_status b);

#endif
