/*
 * mb_instance.c - what the files of one plc-modbus instance share besides its
 * state (mb_instance.h): the last-error text, written by reads, writes and
 * lifecycle calls alike, kept shared and per calling thread (thread_error.h). Here, not in plugin.c, so mb_read.c and mb_write.c
 * depend on the instance, not on the vtable file.
 */
#include <stdarg.h>
#include <stdio.h>

#include "mb_instance.h"
#include "thread_error.h"

void mb_set_error(mb_instance *in, int level, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&in->err_lock);
    va_start(ap, fmt);
    vsnprintf(in->last_err, sizeof in->last_err, fmt, ap);
    va_end(ap);
    thread_error_set(in, in->last_err);
    if (level >= 0 && in->host->log != NULL)
        in->host->log(in->host, (ald_log_level)level, "%s", in->last_err);
    pthread_mutex_unlock(&in->err_lock);
}

void mb_clear_error(mb_instance *in)
{
    pthread_mutex_lock(&in->err_lock);
    in->last_err[0] = '\0';
    thread_error_clear(in);
    pthread_mutex_unlock(&in->err_lock);
}
