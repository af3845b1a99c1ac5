/*
 * reference_bench.c - the machine's own timing limit, measured in the same
 * run as the engine, so benchmarks report ratios instead of absolute times
 * (issue 14, item 3). Nothing of the engine is linked: these are the bare
 * minimum a program could do on this machine right now.
 *
 *   reference_bench pulse HOST PORT PULSES MS COIL
 *       a bare libmodbus client: write COIL on, clock_nanosleep to an
 *       absolute CLOCK_MONOTONIC deadline MS later, write it off, wait MS
 *       (as the bench recipe's purge), PULSES times; meanwhile a second
 *       connection reads 10 input registers at 1 Hz, as the logger does.
 *       The pulse error is measured by the server (ald-plcsim --events), as
 *       for the engine in bench/recipe_bench.sh (b).
 *   reference_bench period CYCLES MS
 *       a bare clock_nanosleep(TIMER_ABSTIME) loop with period MS; prints the
 *       p50 / p99 / max of |actual period - MS| in ms, as the logger's
 *       period error is defined (bench/logger_bench.sh).
 * Exit status 0, or 1 with a message naming what failed.
 */
#include <errno.h>
#include <math.h>
#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "reference_bench: %s: %s\n", what, why);
    exit(1);
}

static void add_ns(struct timespec *t, long long ns)
{
    long long total = t->tv_nsec + ns;
    t->tv_sec += total / 1000000000LL;
    t->tv_nsec = total % 1000000000LL;
}

static void sleep_until(const struct timespec *deadline)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL) == EINTR)
        ;
}

static modbus_t *connect_to(const char *host, int port)
{
    modbus_t *mb = modbus_new_tcp(host, port);
    if (!mb || modbus_connect(mb) != 0)
        die("connect", modbus_strerror(errno));
    return mb;
}

typedef struct reader {
    const char *host;
    int port;
    atomic_int stop;
} reader;

/* The logger's load: one bulk read a second on its own connection. */
static void *read_at_1hz(void *arg)
{
    reader *r = arg;
    modbus_t *mb = connect_to(r->host, r->port);
    uint16_t regs[10];
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&r->stop)) {
        if (modbus_read_input_registers(mb, 0, 10, regs) != 10) /* the demo tool's gauges */
            fprintf(stderr, "reference_bench: read: %s\n", modbus_strerror(errno));
        add_ns(&next, 1000000000LL);
        for (int i = 0; i < 10 && !atomic_load(&r->stop); i++) { /* stop within 0.1 s */
            struct timespec slice = next;
            add_ns(&slice, -100000000LL * (9 - i));
            sleep_until(&slice);
        }
    }
    modbus_close(mb);
    modbus_free(mb);
    return NULL;
}

static int bench_pulse(const char *host, int port, int pulses, int ms, int coil)
{
    reader r = {host, port, 0};
    pthread_t t;
    if (pthread_create(&t, NULL, read_at_1hz, &r) != 0)
        die("pthread_create", strerror(errno));
    modbus_t *mb = connect_to(host, port);
    struct timespec deadline;
    for (int i = 0; i < pulses; i++) {
        if (modbus_write_bit(mb, coil, 1) != 1)
            die("write on", modbus_strerror(errno));
        clock_gettime(CLOCK_MONOTONIC, &deadline); /* the pulse starts once it is open */
        add_ns(&deadline, (long long)ms * 1000000LL);
        sleep_until(&deadline);
        if (modbus_write_bit(mb, coil, 0) != 1)
            die("write off", modbus_strerror(errno));
        add_ns(&deadline, (long long)ms * 1000000LL);
        sleep_until(&deadline);
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    modbus_close(mb);
    modbus_free(mb);
    printf("pulse: %d pulses of %d ms on coil %d written\n", pulses, ms, coil);
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_period(int cycles, int ms)
{
    double *err = calloc((size_t)cycles, sizeof *err);
    if (!err)
        die("period", "out of memory");
    struct timespec deadline, now, last;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    last = deadline;
    for (int i = 0; i < cycles; i++) {
        add_ns(&deadline, (long long)ms * 1000000LL);
        sleep_until(&deadline);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double period_ms = (double)(now.tv_sec - last.tv_sec) * 1e3 +
                           (double)(now.tv_nsec - last.tv_nsec) / 1e6;
        err[i] = fabs(period_ms - ms);
        last = now;
    }
    qsort(err, (size_t)cycles, sizeof *err, by_value);
    printf("period: %d cycles of %d ms; |error| p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           cycles, ms, err[cycles / 2], err[(int)ceil(cycles * 0.99) - 1], err[cycles - 1]);
    free(err);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "pulse"))
        return bench_pulse(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                           atoi(argv[6]));
    if (argc == 4 && !strcmp(argv[1], "period") && atoi(argv[2]) > 0)
        return bench_period(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: reference_bench pulse HOST PORT PULSES MS COIL\n"
                    "       reference_bench period CYCLES MS\n");
    return 2;
}
