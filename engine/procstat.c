/* procstat.c - resource usage from /proc/self (see procstat.h). */
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read a whole small file into buf (NUL-terminated). -1 on error. */
static int read_small_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, len - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (used += (size_t)n) == len - 1)
            break;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    buf[used] = '\0';
    return used > 0 ? 0 : -1;
}

/* The number after "key:" in /proc/self/status, or -1. */
static long long status_field(const char *status, const char *key)
{
    size_t key_len = strlen(key);
    for (const char *line = status; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ':')
            return strtoll(line + key_len + 1, NULL, 10);
    }
    return -1;
}

static int read_status(procstat *out)
{
    char buf[8192]; /* status is ~1.5 KiB; room for long Groups lines */
    if (read_small_file("/proc/self/status", buf, sizeof buf) != 0)
        return -1;
    long long rss_kb = status_field(buf, "VmRSS");
    long long threads = status_field(buf, "Threads");
    if (rss_kb < 0 || threads < 1) {
        errno = EPROTO;
        return -1;
    }
    out->resident_bytes = (uint64_t)rss_kb * 1024u;
    out->resident_mb = (double)out->resident_bytes / (1024.0 * 1024.0);
    out->threads = (unsigned)threads;
    return 0;
}

/* utime and stime are fields 14 and 15; the command name (field 2) may hold
 * spaces and parentheses, so count from the last ')'. */
static int read_stat(procstat *out)
{
    char buf[1024];
    if (read_small_file("/proc/self/stat", buf, sizeof buf) != 0)
        return -1;
    const char *p = strrchr(buf, ')');
    if (!p) {
        errno = EPROTO;
        return -1;
    }
    p++; /* now before field 3 */
    for (int field = 3; field < 14 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p) {
        errno = EPROTO;
        return -1;
    }
    char *end;
    unsigned long long utime = strtoull(p, &end, 10);
    unsigned long long stime = strtoull(end, NULL, 10);
    long ticks = sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)(utime + stime) / (double)(ticks > 0 ? ticks : 100);
    return 0;
}

int procstat_read(procstat *out)
{
    memset(out, 0, sizeof *out);
    if (read_status(out) != 0 || read_stat(out) != 0) {
        int saved = errno;
        memset(out, 0, sizeof *out);
        errno = saved;
        return -1;
    }
    return 0;
}
