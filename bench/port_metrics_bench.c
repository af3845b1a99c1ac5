/*
 * port_metrics_bench.c - what recording one plugin call costs a port
 * (engine/ports/port_metrics.c): a steady-state port_metrics_record() and
 * the clock_mono_ns() read each call adds twice, in ns per call, over N calls
 * (default 5 000 000), three rounds. docs/benchmarks.md, "Metrics around port
 * calls", gives the figures and the command.
 *
 * Usage: bench/port_metrics_bench [N]
 */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "ports/port_metrics.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    if (n < 1) {
        fprintf(stderr, "usage: %s [N >= 1]\n", argv[0]);
        return 2;
    }
    static port_call_metrics m; /* zeroed, as in a plugin instance */
    port_metrics_record(&m, "plc", PORT_OP_write_tag, ALD_OK, 1000); /* registers */
    for (int round = 1; round <= 3; round++) {
        uint64_t t0 = clock_mono_ns();
        for (long i = 0; i < n; i++)
            port_metrics_record(&m, "plc", PORT_OP_write_tag, ALD_OK,
                                (uint64_t)(i & 1023) * 1000u);
        uint64_t t1 = clock_mono_ns();
        for (long i = 0; i < n; i++)
            (void)clock_mono_ns(); /* clock_gettime(): a call, never optimised away */
        uint64_t t2 = clock_mono_ns();
        printf("round %d: port_metrics_record %.1f ns/call, clock_mono_ns %.1f ns/read\n",
               round, (double)(t1 - t0) / (double)n, (double)(t2 - t1) / (double)n);
    }
    return 0;
}
