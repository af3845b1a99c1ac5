/* realtime.c - the executor's opt-in real-time mode (see realtime.h). */
#include "realtime.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#define PART_TEXT 200

typedef struct rt_part {
    const char *name;
    char status[PART_TEXT]; /* "off", "applied" or "refused: ..." */
} rt_part;

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static int rt_priority; /* 0 = off; under rt_lock */
static rt_part sched_part = {"sched_fifo", "off"}, mlock_part = {"mlockall", "off"},
               stack_part = {"stack_prefault", "off"};

/* Record a part's status; a refusal is logged when its text changes, so a
 * refusal repeated at every run is logged once. */
static void set_part(rt_part *p, const char *status)
{
    pthread_mutex_lock(&rt_lock);
    int changed = strcmp(p->status, status) != 0;
    snprintf(p->status, sizeof p->status, "%s", status);
    pthread_mutex_unlock(&rt_lock);
    if (changed && strncmp(status, "refused", 7) == 0)
        log_warning("realtime", "ALD_EXECUTOR_RT_PRIORITY: %s %s; the engine runs on "
                    "without it (docs/deployment.md, real-time recipe pulses)", p->name,
                    status);
}

static int has_capability(int cap)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return 0;
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/* VmLck of /proc/self/status in kB; -1 when it cannot be read. */
static long locked_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* mlockall only where it cannot turn into failed allocations later. A
 * success is believed only when the kernel shows locked memory: under
 * AddressSanitizer mlockall is a no-op that returns 0. */
static void lock_memory(void)
{
    struct rlimit lim;
    char why[PART_TEXT];
    if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        !has_capability(CAP_IPC_LOCK)) {
        snprintf(why, sizeof why, "refused: RLIMIT_MEMLOCK is %llu bytes, not unlimited, and "
                 "CAP_IPC_LOCK is not held (set LimitMEMLOCK=infinity)",
                 (unsigned long long)lim.rlim_cur);
        set_part(&mlock_part, why);
        return;
    }
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
        set_part(&mlock_part, locked_kb() != 0 ? "applied"
                                               : "not applied: mlockall returned success but "
                                                 "VmLck is 0 (a sanitizer build ignores it)");
        return;
    }
    snprintf(why, sizeof why, "refused: mlockall: %s", strerror(errno));
    set_part(&mlock_part, why);
}

/* SCHED_FIFO for the calling thread; the part's status says how it went. */
static void apply_fifo(int priority)
{
    struct sched_param sp = {.sched_priority = priority};
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc == 0) {
        set_part(&sched_part, "applied");
        return;
    }
    struct rlimit lim = {0, 0};
    getrlimit(RLIMIT_RTPRIO, &lim);
    char why[PART_TEXT];
    snprintf(why, sizeof why, "refused: priority %d: %s (RLIMIT_RTPRIO %llu, CAP_SYS_NICE %s; "
             "set LimitRTPRIO=%d)", priority, strerror(rc), (unsigned long long)lim.rlim_cur,
             has_capability(CAP_SYS_NICE) ? "held" : "not held", priority);
    set_part(&sched_part, why);
}

static void *probe_fifo(void *arg)
{
    apply_fifo(*(int *)arg);
    return NULL;
}

/* A part's status for the summary line: a refusal's reason is logged already. */
static const char *brief(const char *status)
{
    return strncmp(status, "refused", 7) == 0 ? "refused (above)" : status;
}

void realtime_configure(int priority)
{
    pthread_mutex_lock(&rt_lock);
    rt_priority = priority > 0 ? priority : 0;
    pthread_mutex_unlock(&rt_lock);
    if (priority <= 0)
        return;
    lock_memory();
    pthread_t probe; /* the kernel's answer now, not at the first recipe */
    if (pthread_create(&probe, NULL, probe_fifo, &priority) == 0)
        pthread_join(probe, NULL);
    set_part(&stack_part, "applied");
    log_info("realtime", "executor real-time mode: SCHED_FIFO %d %s, mlockall %s, run thread "
             "stacks %u KiB with %u KiB pre-faulted", priority, brief(sched_part.status),
             brief(mlock_part.status), REALTIME_STACK_SIZE / 1024,
             REALTIME_STACK_PREFAULT / 1024);
}

static int requested_priority(void)
{
    pthread_mutex_lock(&rt_lock);
    int p = rt_priority;
    pthread_mutex_unlock(&rt_lock);
    return p;
}

int realtime_run_thread_attr(pthread_attr_t *attr)
{
    pthread_attr_init(attr);
    if (!requested_priority())
        return 0;
    return pthread_attr_setstacksize(attr, REALTIME_STACK_SIZE);
}

/* Touch the stack a run may use, so the pulse path never faults on it (and
 * with mlockall the pages stay). Not inlined: the frame must be its own. */
static __attribute__((noinline)) void prefault_stack(void)
{
    volatile unsigned char touch[REALTIME_STACK_PREFAULT];
    for (size_t i = 0; i < sizeof touch; i += 4096)
        touch[i] = 0;
}

void realtime_enter_run_thread(void)
{
    int priority = requested_priority();
    if (!priority)
        return;
    apply_fifo(priority);
    prefault_stack();
}

json_t *realtime_health_json(void)
{
    pthread_mutex_lock(&rt_lock);
    json_t *o = json_pack("{s:b, s:i, s:s, s:s, s:s}", "requested", rt_priority > 0,
                          "priority", rt_priority, sched_part.name, sched_part.status,
                          mlock_part.name, mlock_part.status, stack_part.name,
                          stack_part.status);
    pthread_mutex_unlock(&rt_lock);
    return o;
}
