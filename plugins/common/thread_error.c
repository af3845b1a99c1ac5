/* thread_error.c - per-thread last error text of an instance (see thread_error.h). */
#include "thread_error.h"

#include <stdio.h>

/* One slot per thread: a thread works on one PLC instance at a time. */
static _Thread_local struct {
    const void *instance;
    char text[512];
} mine;

void thread_error_set(const void *instance, const char *text)
{
    mine.instance = instance;
    snprintf(mine.text, sizeof mine.text, "%s", text ? text : "");
}

void thread_error_clear(const void *instance)
{
    if (mine.instance == instance)
        mine.text[0] = '\0';
}

const char *thread_error_get(const void *instance)
{
    return mine.instance == instance ? mine.text : NULL;
}
