/* thread_role.c - names each engine thread and sets its nice value by its
 * role (see thread_role.h). */
#include "thread_role.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

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

void thread_role_enter(const char *name, thread_role role)
{
    (void)role; /* the role's nice value: the next step */
    set_name(name);
}

void thread_role_enter_once(const char *name, thread_role role)
{
    static _Thread_local int entered;
    if (entered)
        return;
    entered = 1;
    thread_role_enter(name, role);
}
