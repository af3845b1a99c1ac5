/* engine_id.c - this engine's stable name in engine_leases (see engine_id.h). */
#include "engine_id.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char claimed[96];
static int lock_fd = -1;

/* A name worth keeping: printable, no blanks, not empty. */
static int valid_name(const char *s)
{
    if (!s[0])
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return 0;
    return 1;
}

/* Read the kept name (trailing newline dropped); 1 when valid. */
static int read_name(int fd, char *out, size_t len)
{
    ssize_t n = pread(fd, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return valid_name(out);
}

/* host-<16 hex>, written and synced before it is used. 0 or -1. */
static int write_new_name(int fd, char *out, size_t len)
{
    char host[64] = "engine";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    snprintf(out, len, "%s-%016llx", valid_name(host) ? host : "engine", r);
    char line[128];
    int n = snprintf(line, sizeof line, "%s\n", out);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n || fsync(fd) != 0)
        return -1;
    return 0;
}

/* Claim <data_dir>/engine-id; 0 with `claimed` set, else -1 (why logged). */
static int claim_file(const char *data_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir, ENGINE_ID_FILE);
    (void)mkdir(data_dir, 0750); /* the stores usually made it already */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        log_warning("lease", "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        log_warning("lease", "%s is held by another running engine on the same data "
                    "directory: this one gets its own name; set ALD_ENGINE_ID per engine "
                    "to keep names across restarts", path);
        close(fd);
        return -1;
    }
    int created = 0;
    if (!read_name(fd, claimed, sizeof claimed)) {
        if (write_new_name(fd, claimed, sizeof claimed) != 0) {
            log_warning("lease", "cannot write %s: %s", path, strerror(errno));
            claimed[0] = '\0';
            close(fd);
            return -1;
        }
        created = 1;
    }
    lock_fd = fd;
    log_info("lease", "engine id \"%s\" %s %s", claimed, created ? "created in" : "read from",
             path);
    return 0;
}

void engine_id_claim(const char *data_dir)
{
    engine_id_release();
    const char *id = getenv("ALD_ENGINE_ID");
    if (id && id[0]) {
        snprintf(claimed, sizeof claimed, "%s", id);
        return;
    }
    if (data_dir && claim_file(data_dir) == 0)
        return;
    char host[64] = "engine";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(claimed, sizeof claimed, "%s:%d", host, (int)getpid());
}

const char *engine_id_name(void)
{
    return claimed[0] ? claimed : NULL;
}

static char instance[40];
static pthread_once_t instance_once = PTHREAD_ONCE_INIT;

static void make_instance(void)
{
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    snprintf(instance, sizeof instance, "%d-%016llx", (int)getpid(), r);
}

const char *engine_id_instance(void)
{
    pthread_once(&instance_once, make_instance);
    return instance;
}

void engine_id_release(void)
{
    if (lock_fd >= 0)
        close(lock_fd); /* closing drops the flock */
    lock_fd = -1;
    claimed[0] = '\0';
}
