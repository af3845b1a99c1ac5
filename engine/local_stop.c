/* local_stop.c - the engine's pid file and the host-local stop signal (see
 * local_stop.h). */
#include "local_stop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pidfile_path(const char *data_dir, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", data_dir, LOCAL_STOP_PIDFILE);
}

int local_stop_write_pidfile(const char *data_dir, char *err, size_t len)
{
    char path[4096], tmp[4200];
    pidfile_path(data_dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        snprintf(err, len, "cannot write %s: %s (aldctl stop --local will not find the "
                 "engine)", path, strerror(errno));
        return -1;
    }
    return 0;
}

static long read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        pid = -1;
    fclose(f);
    return pid;
}

void local_stop_remove_pidfile(const char *data_dir)
{
    char path[4096];
    pidfile_path(data_dir, path, sizeof path);
    if (read_pid(path) == (long)getpid())
        unlink(path);
}

/* Is pid an ald-engine? (a stale pid file may name another process) */
static int is_engine(long pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(comm, sizeof comm, f) && !strncmp(comm, "ald-engine", 10);
    fclose(f);
    return ok;
}

long local_stop_signal(const char *data_dir, char *err, size_t len)
{
    char path[4096];
    pidfile_path(data_dir, path, sizeof path);
    long pid = read_pid(path);
    if (pid < 0) {
        snprintf(err, len, "no engine pid in %s: is ald-engine running on this host with "
                 "this data directory (ALD_DATA_DIR)?", path);
        return -1;
    }
    if (!is_engine(pid)) {
        snprintf(err, len, "%s names pid %ld, which is not a running ald-engine (a stale "
                 "pid file)", path, pid);
        return -1;
    }
    if (kill((pid_t)pid, SIGUSR1) != 0) {
        snprintf(err, len, "cannot signal ald-engine (pid %ld): %s", pid, strerror(errno));
        return -1;
    }
    return pid;
}
