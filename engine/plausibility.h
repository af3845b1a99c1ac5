/*
 * plausibility.h - readings far outside their parameter's min..max.
 *
 * A wrong byte order (or a wrong address) does not fail a read: it yields
 * absurd numbers (1e+38 Torr, 3e-41 sccm), which were stored without a word.
 * The writer hands every built sample batch to plausibility_observe(); a
 * reading is implausible when it is not finite, when a float tag reads a
 * subnormal number (no sensor reports one; a swapped float often is one), or
 * when it lies outside min..max by more than the range's own width. Each
 * implausible reading is counted (ald_implausible_readings_total), and
 * logged once per parameter per hour; ald_implausible_parameters is how many
 * parameters were implausible in their latest reading.
 *
 * --doctor (engine/main.c) calls plausibility_scan() on one read of the PLC
 * (plc_port_read_all over the tagmap's tags) and, when
 * report.byte_order_suspect is set, points at the PLC plugin's byte_order
 * setting (PLC_BYTE_ORDER / legacy_byte_order); a running engine's counts
 * are in plausibility_summary().
 */
#ifndef ALD_ENGINE_PLAUSIBILITY_H
#define ALD_ENGINE_PLAUSIBILITY_H

#include <stddef.h>
#include <stdint.h>

#include "ald/storage.h"
#include "tagmap.h"

/* A parameter's implausible readings are logged at most this often. */
#define PLAUSIBILITY_LOG_INTERVAL_MS (3600 * 1000)

typedef struct plausibility_report {
    size_t checked;            /* readings looked at */
    size_t implausible;        /* of those, implausible */
    size_t float_tags;         /* non-zero float (f32/f64) readings looked at */
    size_t float_implausible;  /* of those, implausible */
    uint64_t total;            /* implausible readings since start (summary only) */
    int byte_order_suspect;    /* most non-zero float readings implausible (>= 2) */
} plausibility_report;

/* The rule for one reading (NaN limits = no limit on that side). */
int plausibility_is_implausible(double value, double min, double max, ald_data_type type);

/* One read of the tags (values[i] belongs to tags->tags[i]): a report only,
 * nothing logged or counted. For --doctor. */
void plausibility_scan(const tagmap *tags, const ald_tag_value *values, size_t count,
                       plausibility_report *out);

/* What the float readings would be under the other byte orders. The four
 * orders of a 32-bit value (abcd, badc, cdab, dcba) are the configured one
 * combined with one of these swaps, so the hint needs no knowledge of the
 * plugin's setting: it says which swap makes most readings plausible. */
typedef enum plausibility_swap {
    PLAUSIBILITY_SWAP_NONE,  /* the configured order is the best */
    PLAUSIBILITY_SWAP_WORDS, /* the two 16-bit registers the other way round */
    PLAUSIBILITY_SWAP_BYTES, /* the two bytes inside each register */
    PLAUSIBILITY_SWAP_BOTH   /* all four bytes reversed */
} plausibility_swap;

typedef struct plausibility_hint {
    size_t floats;           /* non-zero f32 readings judged */
    size_t plausible_now;    /* of those, plausible as read */
    size_t plausible_best;   /* plausible under `best` */
    plausibility_swap best;  /* NONE unless a swap makes strictly more plausible */
} plausibility_hint;

/* For --doctor, on the same read as plausibility_scan. Here "plausible" is
 * stricter than the counting rule: also not vanishingly small against the
 * range (1e-9 of its width), which is where a swapped word of noise lands. */
void plausibility_order_hint(const tagmap *tags, const ald_tag_value *values, size_t count,
                             plausibility_hint *out);
const char *plausibility_swap_text(plausibility_swap swap);

/* The writer's hooks: start with the map it writes (allocates per-parameter
 * state, registers the metrics), observe each batch writer_build() made
 * (samples in parameter order; now_ms = the batch's timestamp, so a batch
 * the writer retries is observed once), stop when it stops. One writer per
 * engine. */
int plausibility_start(const tagmap *tags);
void plausibility_observe(const tagmap *tags, const ald_sample *samples, size_t count,
                          int64_t now_ms);
void plausibility_stop(void);

/* Counts of the latest observed batch and the total since start. */
void plausibility_summary(plausibility_report *out);

#endif
