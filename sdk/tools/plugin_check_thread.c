/* plugin_check_thread.c - the PLC threading contract, exercised (see
 * plugin_check.h): write_tag() on the checker's thread while read_all()
 * runs on another, as the recipe executor and the logger do. A call that
 * does not return within CHECK_BOUND_S ends the check with a failure. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_check.h"

#define CHECK_BOUND_S 60
#define CHECK_WRITES 200

typedef struct reader_state {
    plugin_instance *pi;
    size_t count;
    atomic_int reading, stop;
    atomic_uint reads;
} reader_state;

static void on_alarm(int sig)
{
    static const char msg[] = "threading:    FAILED: a call did not return within the bound "
                              "(write_tag waits behind read_all, or a deadlock)\n"
                              "RESULT: problems found\n";
    (void)sig;
    ssize_t n = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

static void *read_loop(void *arg)
{
    reader_state *r = arg;
    ald_tag_value *out = calloc(r->count, sizeof *out);
    while (out && !atomic_load(&r->stop)) {
        atomic_store(&r->reading, 1);
        plc_ops(r->pi)->read_all(r->pi->inst, out, r->count);
        atomic_store(&r->reading, 0);
        atomic_fetch_add(&r->reads, 1);
    }
    free(out);
    return NULL;
}

static int parse_type(const char *text, ald_data_type *type)
{
    static const char *const names[] = {"bool", "u16", "i16", "u32", "i32", "f32", "f64"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(text, names[i])) {
            *type = (ald_data_type)i;
            return 0;
        }
    return -1;
}

/* Tags t0..tN from "ADDRESS[=TYPE]"; the address is read and written. */
static int set_tags(plugin_instance *pi, const check_options *o, char addr[][128])
{
    ald_tag tags[CHECK_MAX_TAGS];
    const ald_tag *ptrs[CHECK_MAX_TAGS];
    static const char *const names[] = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7",
                                        "t8", "t9", "t10", "t11", "t12", "t13", "t14", "t15"};
    for (int i = 0; i < o->tag_count; i++) {
        snprintf(addr[i], 128, "%s", o->tags[i]);
        char *eq = strchr(addr[i], '=');
        ald_data_type type = ALD_TYPE_U16;
        if (eq) {
            *eq = '\0';
            if (parse_type(eq + 1, &type) != 0) {
                printf("threading:    --tag %s: unknown type (bool u16 i16 u32 i32 f32 f64)\n",
                       o->tags[i]);
                return -1;
            }
        }
        tags[i] = (ald_tag){.struct_size = sizeof(ald_tag), .name = names[i],
                            .read_address = addr[i], .write_address = addr[i], .type = type};
        ptrs[i] = &tags[i];
    }
    ald_status st = plc_ops(pi)->set_tags(pi->inst, ptrs, (size_t)o->tag_count);
    if (st != ALD_OK)
        printf("threading:    set_tags failed: %s: %s\n", ald_status_name(st),
               plugin_last_error(pi));
    return st == ALD_OK ? 0 : -1;
}

int plugin_check_threading(plugin_instance *pi, const check_options *o)
{
    char addr[CHECK_MAX_TAGS][128];
    if (o->tag_count == 0) {
        printf("threading:    not exercised (give --tag ADDRESS to call write_tag while "
               "read_all runs)\n");
        return 0;
    }
    signal(SIGALRM, on_alarm);
    alarm(CHECK_BOUND_S);
    if (set_tags(pi, o, addr) != 0)
        return -1;
    ald_status st = plugin_instance_start(pi);
    printf("start():      %s\n", ald_status_name(st));
    reader_state r = {.pi = pi, .count = (size_t)o->tag_count};
    pthread_t t;
    if (pthread_create(&t, NULL, read_loop, &r) != 0)
        return -1;
    unsigned writes = 0, overlapped = 0, failed = 0;
    char last[PORT_ERROR_LEN] = "";
    for (; writes < CHECK_WRITES; writes++) {
        int during = atomic_load(&r.reading);
        ald_status ws = plc_ops(pi)->write_tag(pi->inst, 0, (double)(writes % 2));
        overlapped += during && atomic_load(&r.reading);
        if (ws != ALD_OK) {
            failed++;
            snprintf(last, sizeof last, "%s: %s", ald_status_name(ws), plugin_last_error(pi));
        }
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    alarm(0);
    printf("threading:    %u write_tag calls (%u while read_all ran), %u read_all calls, "
           "all returned; %u writes failed%s%s\n",
           writes, overlapped, atomic_load(&r.reads), failed, failed ? ", last: " : "", last);
    return 0;
}
