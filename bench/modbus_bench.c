/*
 * modbus_bench.c - plc-modbus read throughput on loopback.
 *
 * Forks a plain libmodbus TCP server (a 65536-register image), loads the
 * plugin, declares TAGS f32 tags spread over the holding registers (one every
 * STRIDE registers), and times read_all cycles. Prints requests per cycle,
 * the lower bound the 125-register limit allows, cycle time median and p99,
 * and client CPU per cycle.
 *
 * Usage: modbus_bench [tags=1000] [stride=4] [cycles=300]   (run from the build tree)
 */
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

#include "ald/plc.h"
#include "metrics.h"
#include <arpa/inet.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "host.h"

/* Check's helpers assert, which only works inside a test: do it by hand. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static const ald_config *settings(const char *text)
{
    static config_t cfg;
    config_init(&cfg);
    return config_read_string(&cfg, text) ? (const ald_config *)config_root_setting(&cfg) : NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The server: one client at a time, answers until killed. */
static void serve(int port)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t *map = modbus_mapping_new(0, 0, 65535, 0);
    for (int i = 0; i < 65535; i++)
        map->tab_registers[i] = (uint16_t)i;
    int s = modbus_tcp_listen(ctx, 1);
    printf("READY\n");
    fflush(stdout);
    for (;;) {
        modbus_tcp_accept(ctx, &s);
        uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
        int rc;
        while ((rc = modbus_receive(ctx, q)) >= 0) {
            if (rc > 0)
                modbus_reply(ctx, q, rc, map);
        }
        modbus_close(ctx);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int ntags = argc > 1 ? atoi(argv[1]) : 1000;
    int stride = argc > 2 ? atoi(argv[2]) : 4;
    int cycles = argc > 3 ? atoi(argv[3]) : 300;
    if (ntags < 1 || stride < 2 || cycles < 1 || (long)ntags * stride > 65534) {
        fprintf(stderr, "modbus_bench: tags*stride must fit 65535 registers, stride >= 2\n");
        return 2;
    }
    int port = free_port();
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        serve(port);
        _exit(0);
    }
    char ready[16] = "";
    if (read(fds[0], ready, sizeof ready - 1) <= 0)
        return 1;

    const char *top = getenv("ALD_TOP_BUILDDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/plc-modbus/.libs/plc-modbus.so", top ? top : ".");
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (so == NULL) {
        fprintf(stderr, "modbus_bench: %s\n", dlerror());
        return 1;
    }
    const ald_plugin_descriptor *d = ((ald_plugin_entry_fn)dlsym(so, "ald_plugin_entry"))();
    const ald_plc_vtable *vt = d->vtable;
    char cfg[128], err[256];
    snprintf(cfg, sizeof cfg, "host = \"127.0.0.1\"; port = %d;", port);
    void *inst;
    if (vt->create(host_new("bench"), settings(cfg), &inst, err, sizeof err) != ALD_OK) {
        fprintf(stderr, "modbus_bench: %s\n", err);
        return 1;
    }
    ald_tag *tags = calloc((size_t)ntags, sizeof *tags);
    const ald_tag **ptrs = calloc((size_t)ntags, sizeof *ptrs);
    char (*names)[16] = calloc((size_t)ntags, sizeof *names);
    char (*addrs)[16] = calloc((size_t)ntags, sizeof *addrs);
    for (int i = 0; i < ntags; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        snprintf(addrs[i], sizeof addrs[i], "hr:%d", i * stride);
        tags[i] = (ald_tag){.struct_size = sizeof(ald_tag), .name = names[i],
                            .read_address = addrs[i], .type = ALD_TYPE_F32};
        ptrs[i] = &tags[i];
    }
    vt->set_tags(inst, ptrs, (size_t)ntags);
    vt->start(inst);
    ald_tag_value *v = calloc((size_t)ntags, sizeof *v);
    double *t = calloc((size_t)cycles, sizeof *t);
    int bad = 0;
    vt->read_all(inst, v, (size_t)ntags); /* warm up: connect */
    double cpu0 = cpu_s();
    for (int c = 0; c < cycles; c++) {
        double t0 = now_s();
        bad += vt->read_all(inst, v, (size_t)ntags) != ALD_OK;
        t[c] = now_s() - t0;
    }
    double cpu = cpu_s() - cpu0;
    char labels[64];
    snprintf(labels, sizeof labels, "device=\"127.0.0.1:%d\"", port);
    double requests = metrics_value(metrics_gauge("ald_plc_requests_per_cycle", "", labels));
    qsort(t, (size_t)cycles, sizeof *t, by_value);
    long span = (long)(ntags - 1) * stride + 2;
    /* A float never straddles two requests: floor(125 - 2) / stride + 1 floats per request. */
    long per_request = (125 - 2) / stride + 1;
    printf("tags %d stride %d cycles %d failed %d\n", ntags, stride, cycles, bad);
    printf("requests/cycle %.0f (lower bound by 125-register limit: %ld; whole floats: %ld)\n",
           requests, (span + 124) / 125, (ntags + per_request - 1) / per_request);
    printf("cycle median %.3f ms p99 %.3f ms; client CPU %.3f ms/cycle\n",
           t[cycles / 2] * 1e3, t[(int)floor(cycles * 0.99)] * 1e3, cpu / cycles * 1e3);
    vt->stop(inst);
    vt->destroy(inst);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return bad != 0;
}
