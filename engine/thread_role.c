/* thread_role.c - names each engine thread and sets its nice value by its
 * role (see thread_role.h). */
#include "thread_role.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

/* The kernel keeps 15 characters of a thread's name; a longer one would make
 * pthread_setname_np fail with ERANGE, so it is cut. */
static void set_name(const char *name)
{
    char cut[16];
    snprintf(cut, sizeof cut, "%s", name);
    int rc = pthread_setname_np(pthread_self(), cut);
    if (rc != 0)
        log_warning("thread", "cannot name thread '%s': %s", cut, strerror(rc));
}

/* setpriority on a thread id changes that thread only (Linux); raising one's
 * own nice value is always permitted. */
static void lower_priority(const char *name)
{
    pid_t tid = gettid();
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
    if (nice_now == -1 && errno != 0)
        nice_now = 0;
    if (setpriority(PRIO_PROCESS, (id_t)tid, nice_now + THREAD_BACKGROUND_NICE) != 0)
        log_warning("thread", "cannot raise the nice value of background thread '%s' "
                    "from %d by %d: %s; it runs on at %d", name, nice_now,
                    THREAD_BACKGROUND_NICE, strerror(errno), nice_now);
}

void thread_role_enter(const char *name, thread_role role)
{
    set_name(name);
    if (role == THREAD_BACKGROUND)
        lower_priority(name);
}

void thread_role_enter_once(const char *name, thread_role role)
{
    static _Thread_local int entered;
    if (entered)
        return;
    entered = 1;
    thread_role_enter(name, role);
}
