/*
 * pulse_trace.h - per-pulse phase time stamps for finding where a valve
 * pulse's timing tail comes from (docs/benchmarks.md, "Where the pulse tail
 * comes from"). Only in builds configured with --enable-pulse-trace: in every
 * other build the calls below compile to nothing, so production pays nothing.
 *
 * A trace build keeps one record per valve step in a preallocated array and,
 * when the executor shuts down, writes them as CSV to the file named by
 * ALD_PULSE_TRACE_FILE (CLOCK_MONOTONIC ns, the clock ald-plcsim's --events
 * uses, so the two files can be joined pulse by pulse).
 * Threading: one run thread records at a time (the executor runs one recipe).
 */
#ifndef ALD_ENGINE_PULSE_TRACE_H
#define ALD_ENGINE_PULSE_TRACE_H

#include <stdint.h>

#include "build-config.h"

typedef enum pulse_phase {
    PT_OPEN_BEGIN,    /* run_valve entered: the pulse's start (`opened`) */
    PT_OPEN_LOCKED,   /* the PLC control lane taken for the ON write */
    PT_OPEN_DONE,     /* the ON write returned */
    PT_PUBLISHED,     /* the step's progress queued */
    PT_DEADLINE,      /* when the OFF write is due */
    PT_WOKE,          /* the run thread back from its wait */
    PT_CLOSE_LOCKED,  /* the control lane taken for the OFF write */
    PT_CLOSE_WRITTEN, /* the OFF write returned */
    PT_CLOSE_DONE,    /* the close confirmed (read back) */
    PT_PHASES
} pulse_phase;

#ifdef ALD_PULSE_TRACE
/* Start a record for a new pulse (stamps PT_OPEN_BEGIN). */
void pulse_trace_begin(void);
/* Stamp a phase of the current pulse now / with a given time. */
void pulse_trace_mark(pulse_phase phase);
void pulse_trace_set(pulse_phase phase, uint64_t ns);
/* The control lane was taken: before the wait it is the ON write's, after
 * it the OFF write's; only the first take of each is recorded. */
void pulse_trace_lane_taken(void);
/* End the record (context switches and page faults of the pulse). */
void pulse_trace_end(void);
/* Write every record to $ALD_PULSE_TRACE_FILE, if set. */
void pulse_trace_dump(void);
#else
static inline void pulse_trace_begin(void) {}
static inline void pulse_trace_mark(pulse_phase phase) { (void)phase; }
static inline void pulse_trace_set(pulse_phase phase, uint64_t ns) { (void)phase; (void)ns; }
static inline void pulse_trace_lane_taken(void) {}
static inline void pulse_trace_end(void) {}
static inline void pulse_trace_dump(void) {}
#endif

#endif
