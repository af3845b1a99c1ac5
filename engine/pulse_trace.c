/* pulse_trace.c - the per-pulse phase recorder of trace builds (see
 * pulse_trace.h); empty unless configured with --enable-pulse-trace. */
#include "pulse_trace.h"

#ifdef ALD_PULSE_TRACE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "clock.h"

#define PULSE_TRACE_MAX 20000

typedef struct pulse_record {
    uint64_t at[PT_PHASES];
    long nvcsw, nivcsw, minflt; /* during the pulse, this thread */
} pulse_record;

static pulse_record records[PULSE_TRACE_MAX]; /* static: no allocation while tracing */
static size_t used;
static pulse_record *current;
static struct rusage at_begin;

void pulse_trace_begin(void)
{
    current = used < PULSE_TRACE_MAX ? &records[used++] : NULL;
    if (!current)
        return;
    getrusage(RUSAGE_THREAD, &at_begin);
    current->at[PT_OPEN_BEGIN] = clock_mono_ns();
}

void pulse_trace_set(pulse_phase phase, uint64_t ns)
{
    if (current && !current->at[phase])
        current->at[phase] = ns;
}

void pulse_trace_mark(pulse_phase phase)
{
    pulse_trace_set(phase, clock_mono_ns());
}

void pulse_trace_lane_taken(void)
{
    if (current)
        pulse_trace_mark(current->at[PT_WOKE] ? PT_CLOSE_LOCKED : PT_OPEN_LOCKED);
}

void pulse_trace_end(void)
{
    if (!current)
        return;
    struct rusage now;
    getrusage(RUSAGE_THREAD, &now);
    current->nvcsw = now.ru_nvcsw - at_begin.ru_nvcsw;
    current->nivcsw = now.ru_nivcsw - at_begin.ru_nivcsw;
    current->minflt = now.ru_minflt - at_begin.ru_minflt;
    current = NULL;
}

void pulse_trace_dump(void)
{
    const char *path = getenv("ALD_PULSE_TRACE_FILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    fprintf(f, "open_begin,open_locked,open_done,published,deadline,woke,close_locked,"
               "close_written,close_done,nvcsw,nivcsw,minflt\n");
    for (size_t i = 0; i < used; i++) {
        for (int p = 0; p < PT_PHASES; p++)
            fprintf(f, "%llu,", (unsigned long long)records[i].at[p]);
        fprintf(f, "%ld,%ld,%ld\n", records[i].nvcsw, records[i].nivcsw, records[i].minflt);
    }
    fclose(f);
}
#else
typedef int pulse_trace_is_empty; /* a translation unit needs a declaration */
#endif
