/*
 * procstat.h - this process's resource usage, read from /proc/self.
 *
 * Used by the metrics collector and /health at scrape time. Reads two small
 * /proc files into stack buffers: no popen, no allocation. Linux only.
 *
 * THREADING: thread-safe (no shared state).
 */
#ifndef ALD_ENGINE_PROCSTAT_H
#define ALD_ENGINE_PROCSTAT_H

#include <stdint.h>

typedef struct procstat {
    uint64_t resident_bytes; /* VmRSS */
    double resident_mb;      /* resident_bytes / 2^20 */
    double cpu_seconds;      /* user + system time of all threads */
    unsigned threads;        /* current thread count */
} procstat;

/* Fill *out. Returns 0, or -1 with errno set when /proc/self cannot be read
 * or parsed (then *out is all zero). */
int procstat_read(procstat *out);

#endif
