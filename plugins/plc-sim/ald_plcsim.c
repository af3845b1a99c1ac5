/*
 * ald_plcsim.c - `ald-plcsim`: the demo tool of docs/demo-tool.md served over
 * Modbus TCP, for plc-modbus tests, benchmarks and demos without hardware.
 *
 * One thread, one select() loop over the listening socket and every client
 * socket, so any number of clients (any unit id) share one model. Before each
 * reply the model is advanced to the request's arrival time and the register
 * image is rebuilt from it; after a write the changed coils and registers are
 * applied to the model with that same arrival time, which is therefore the
 * time stamped on valve transitions (the closest we get to "when the valve
 * moved").
 *
 * Output: log lines on stderr, among them "listening on ADDR:PORT" once the
 * socket is ready, one line per valve transition and, for each close, the
 * pulse length: "valve coil:0 pulse 20.143 ms". With --events FILE every
 * transition is also appended to FILE as CSV "mono_ns,address,open".
 *
 * For benchmarks, --registers N serves N more holding registers from address
 * EXTRA_BASE on: plain storage outside the model (zeros, or with
 * --fill-pattern each f32 pair at A, A+1 holds the value A). On exit the
 * server logs how many requests it answered ("served N requests: R reads,
 * W writes"), so a benchmark can count what a client sent.
 *
 * With --watchdog-ms T it runs the PLC program of docs/safety.md: when the
 * heartbeat register (--heartbeat-register, default hr:100) has not changed
 * for T ms, every valve coil is forced off, and stays forced off until the
 * register changes again ("watchdog: ..." log lines).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

#include "modbus_codec.h"
#include "sim_model.h"

#define VALVE_COUNT 6
#define VALVE_LOG_CAPACITY 65536
#define INDICATION_TIMEOUT_S 1 /* a client that sends half a frame is dropped */
#define EXTRA_BASE 1000          /* first address of the --registers block */
#define EXTRA_MAX (65536 - EXTRA_BASE)

typedef struct plcsim_options {
    const char *bind;
    int port;
    uint64_t seed;
    int seed_given;
    ald_byte_order order;
    const char *events_path;
    int extra_registers; /* --registers N: holding registers EXTRA_BASE... */
    int fill_pattern;    /* --fill-pattern: f32 at A holds A, else zeros */
    uint64_t watchdog_ms; /* --watchdog-ms T: 0 = no watchdog */
    int heartbeat_register; /* -1 = not served */
} plcsim_options;

/* Requests answered, by kind, reported on exit. */
typedef struct plcsim_counters {
    uint64_t reads;
    uint64_t writes;
    uint64_t other;
} plcsim_counters;

typedef struct plcsim {
    plcsim_options opt;
    sim_model *model;
    modbus_t *ctx;
    modbus_mapping_t *map;
    FILE *events;
    int listen_fd;
    fd_set clients;
    int max_fd;
    int demo_registers; /* holding registers the model owns: 0...demo_registers-1 */
    uint64_t opened_ns[VALVE_COUNT]; /* when each valve last opened; 0 = unknown */
    plcsim_counters served;
    uint64_t last_beat_ns; /* when the heartbeat register last changed (or start) */
    int tripped;           /* the watchdog holds every valve closed */
} plcsim;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static void
say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ald-plcsim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- command line ------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ald-plcsim --port N [--bind ADDR] [--seed N]\n"
            "                  [--byte-order abcd|badc|cdab|dcba] [--events FILE]\n"
            "                  [--registers N [--fill-pattern]]\n"
            "                  [--watchdog-ms T [--heartbeat-register ADDR]]\n"
            "Serve the simulated ALD demo tool (docs/demo-tool.md) over Modbus TCP.\n\n"
            "  --port N          TCP port to listen on (1-65535), required\n"
            "  --bind ADDR       address to listen on (default 127.0.0.1)\n"
            "  --seed N          noise seed, for repeatable runs (default: from the clock)\n"
            "  --byte-order O    register order of floats (default abcd: high word first)\n"
            "  --events FILE     append every valve transition as CSV mono_ns,address,open\n"
            "  --registers N     also serve N plain holding registers from address 1000\n"
            "                    (benchmarks: readable, writable, outside the model)\n"
            "  --fill-pattern    fill them with f32 values: the pair at A, A+1 holds A\n"
            "  --watchdog-ms T   close every valve when the heartbeat register has not\n"
            "                    changed for T ms (the PLC logic of docs/safety.md)\n"
            "  --heartbeat-register ADDR  its holding register (default 100)\n"
            "  --help            show this help\n"
            "  --version         show the version\n\n"
            "Logs go to stderr; \"listening on ADDR:PORT\" marks readiness. SIGTERM or\n"
            "SIGINT stops the server, which then logs how many requests it served.\n");
}

static int parse_number(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || !end || *end || end == text || text[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* 0 to run, 1 to exit successfully (help, version), 2 on a usage error. */
static int parse_args(int argc, char **argv, plcsim_options *o)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 's'},
        {"byte-order", required_argument, NULL, 'o'},
        {"events", required_argument, NULL, 'e'},
        {"registers", required_argument, NULL, 'r'},
        {"fill-pattern", no_argument, NULL, 'f'},
        {"watchdog-ms", required_argument, NULL, 'w'},
        {"heartbeat-register", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *o = (plcsim_options){.bind = "127.0.0.1", .order = ALD_ORDER_ABCD,
                          .heartbeat_register = -1};
    unsigned long long v;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_number(optarg, 65535, &v) != 0 || v == 0)
                return say("--port %s: expected a TCP port 1-65535", optarg), 2;
            o->port = (int)v;
            break;
        case 'b':
            o->bind = optarg;
            break;
        case 's':
            if (parse_number(optarg, UINT64_MAX, &v) != 0)
                return say("--seed %s: expected a non-negative integer", optarg), 2;
            o->seed = v;
            o->seed_given = 1;
            break;
        case 'o':
            if (codec_parse_order(optarg, &o->order) != 0)
                return say("--byte-order %s: expected abcd, badc, cdab or dcba", optarg), 2;
            break;
        case 'e':
            o->events_path = optarg;
            break;
        case 'r':
            if (parse_number(optarg, EXTRA_MAX, &v) != 0)
                return say("--registers %s: expected a count 0-%d (they start at %d)", optarg,
                           EXTRA_MAX, EXTRA_BASE),
                       2;
            o->extra_registers = (int)v;
            break;
        case 'f':
            o->fill_pattern = 1;
            break;
        case 'w':
            if (parse_number(optarg, 3600000, &v) != 0 || v == 0)
                return say("--watchdog-ms %s: expected milliseconds 1-3600000", optarg), 2;
            o->watchdog_ms = v;
            break;
        case 'H':
            if (parse_number(optarg, EXTRA_BASE - 1, &v) != 0 || v < 8)
                return say("--heartbeat-register %s: expected a holding register 8-%d "
                           "(0-7 are the demo tool's)", optarg, EXTRA_BASE - 1),
                       2;
            o->heartbeat_register = (int)v;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("ald-plcsim %s (libmodbus %s)\n", PLC_SIM_VERSION,
                   LIBMODBUS_VERSION_STRING);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return say("unexpected argument \"%s\" (see --help)", argv[optind]), 2;
    if (o->port == 0)
        return say("--port is required (see --help)"), 2;
    if (o->fill_pattern && o->extra_registers == 0)
        return say("--fill-pattern needs --registers N (see --help)"), 2;
    if (o->watchdog_ms && o->heartbeat_register < 0)
        o->heartbeat_register = 100;
    return 0;
}

/* ---- register image <-> model ---------------------------------------------- */

/* The demo map's areas, plus the --registers block; sets p->demo_registers. */
static modbus_mapping_t *new_mapping(plcsim *p)
{
    int end[4] = {0}; /* one past the highest address of each area */
    size_t n;
    const sim_channel_info *ch = sim_model_channels(&n);
    for (size_t i = 0; i < n; i++) {
        int last = ch[i].addr + (ch[i].kind == SIM_KIND_FLOAT ? 2 : 1);
        if (last > end[ch[i].area])
            end[ch[i].area] = last;
    }
    p->demo_registers = end[AREA_HOLDING];
    if (p->opt.heartbeat_register >= end[AREA_HOLDING])
        end[AREA_HOLDING] = p->opt.heartbeat_register + 1;
    if (p->opt.extra_registers > 0)
        end[AREA_HOLDING] = EXTRA_BASE + p->opt.extra_registers;
    return modbus_mapping_new(end[AREA_COIL], end[AREA_DISCRETE_INPUT], end[AREA_HOLDING],
                              end[AREA_INPUT]);
}

/* --fill-pattern: each whole f32 pair of the extra block holds its address. */
static void fill_extra_registers(plcsim *p)
{
    if (!p->opt.fill_pattern)
        return;
    int end = EXTRA_BASE + p->opt.extra_registers;
    for (int a = EXTRA_BASE; a + 1 < end; a += 2)
        codec_encode(ALD_TYPE_F32, p->opt.order, (double)a, &p->map->tab_registers[a]);
}

static uint16_t *registers_of(modbus_mapping_t *map, modbus_area area)
{
    return area == AREA_HOLDING ? map->tab_registers : map->tab_input_registers;
}

static uint8_t *bits_of(modbus_mapping_t *map, modbus_area area)
{
    return area == AREA_COIL ? map->tab_bits : map->tab_input_bits;
}

static void refresh_mapping(plcsim *p)
{
    size_t n;
    const sim_channel_info *ch = sim_model_channels(&n);
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        sim_model_read(p->model, ch[i].area, ch[i].addr, &v);
        if (ch[i].kind == SIM_KIND_BOOL)
            bits_of(p->map, ch[i].area)[ch[i].addr] = v != 0.0;
        else
            codec_encode(ALD_TYPE_F32, p->opt.order, v,
                         &registers_of(p->map, ch[i].area)[ch[i].addr]);
    }
}

/* ---- valve transitions ------------------------------------------------------ */

static void report_transition(plcsim *p, const sim_valve_event *ev)
{
    say("valve coil:%u %s", ev->addr, ev->open ? "opened" : "closed");
    if (ev->addr < VALVE_COUNT) {
        if (ev->open)
            p->opened_ns[ev->addr] = ev->mono_ns;
        else if (p->opened_ns[ev->addr])
            say("valve coil:%u pulse %.3f ms", ev->addr,
                (double)(ev->mono_ns - p->opened_ns[ev->addr]) / 1e6);
    }
    if (p->events) {
        fprintf(p->events, "%" PRIu64 ",coil:%u,%d\n", ev->mono_ns, ev->addr, ev->open);
        fflush(p->events);
    }
}

/* The image of a channel before the reply (saved) and after it differ? */
static int channel_changed(const plcsim *p, const sim_channel_info *ch, const uint8_t *bits,
                           const uint16_t *regs)
{
    if (ch->kind == SIM_KIND_BOOL)
        return bits[ch->addr] != p->map->tab_bits[ch->addr];
    return memcmp(&regs[ch->addr], &p->map->tab_registers[ch->addr], 2 * sizeof *regs) != 0;
}

/* Apply what a write request changed in the coils and holding registers. */
static void apply_writes(plcsim *p, const uint8_t *old_bits, const uint16_t *old_regs,
                         uint64_t now)
{
    size_t n;
    const sim_channel_info *ch = sim_model_channels(&n);
    for (size_t i = 0; i < n; i++) {
        if (!ch[i].writable || !channel_changed(p, &ch[i], old_bits, old_regs))
            continue;
        double v = ch[i].kind == SIM_KIND_BOOL
                       ? p->map->tab_bits[ch[i].addr]
                       : codec_decode(ALD_TYPE_F32, p->opt.order,
                                      &p->map->tab_registers[ch[i].addr]);
        sim_valve_event ev;
        sim_status st = sim_model_write(p->model, ch[i].area, ch[i].addr, v, now, &ev);
        if (st == SIM_TRANSITION)
            report_transition(p, &ev);
        else if (st != SIM_OK)
            say("write %s:%u = %g refused: %s", codec_area_prefix(ch[i].area), ch[i].addr, v,
                sim_status_text(st));
    }
}

/* ---- the watchdog (docs/safety.md) ------------------------------------------- */

/* Force every open valve coil off, as the PLC program's interlock does. */
static void force_valves_closed(plcsim *p, uint64_t now)
{
    for (int coil = 0; coil < VALVE_COUNT; coil++) {
        sim_valve_event ev;
        p->map->tab_bits[coil] = 0;
        if (sim_model_write(p->model, AREA_COIL, (unsigned)coil, 0.0, now, &ev) ==
            SIM_TRANSITION)
            report_transition(p, &ev);
    }
}

/* After each request and each idle tick: trip, hold or release. */
static void watchdog_check(plcsim *p, uint64_t now)
{
    if (!p->opt.watchdog_ms)
        return;
    uint64_t silent_ns = now - p->last_beat_ns;
    if (!p->tripped && silent_ns > p->opt.watchdog_ms * 1000000u) {
        p->tripped = 1;
        say("watchdog: heartbeat hr:%d unchanged for %" PRIu64 " ms: all valves forced closed",
            p->opt.heartbeat_register, silent_ns / 1000000u);
    }
    if (p->tripped)
        force_valves_closed(p, now);
}

/* A write that changed the heartbeat register feeds the watchdog. */
static void watchdog_feed(plcsim *p, uint16_t before, uint64_t now)
{
    if (p->opt.heartbeat_register < 0 ||
        p->map->tab_registers[p->opt.heartbeat_register] == before)
        return;
    p->last_beat_ns = now;
    if (p->tripped) {
        p->tripped = 0;
        say("watchdog: heartbeat back: valves released");
    }
}

/* ---- serving -------------------------------------------------------------- */

/* Counts the request by its function code (the byte after the TCP header). */
static void count_request(plcsim *p, const uint8_t *req, int len)
{
    int offset = modbus_get_header_length(p->ctx);
    int function = len > offset ? req[offset] : -1;
    switch (function) {
    case MODBUS_FC_READ_COILS:
    case MODBUS_FC_READ_DISCRETE_INPUTS:
    case MODBUS_FC_READ_HOLDING_REGISTERS:
    case MODBUS_FC_READ_INPUT_REGISTERS:
        p->served.reads++;
        break;
    case MODBUS_FC_WRITE_SINGLE_COIL:
    case MODBUS_FC_WRITE_SINGLE_REGISTER:
    case MODBUS_FC_WRITE_MULTIPLE_COILS:
    case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        p->served.writes++;
        break;
    default:
        p->served.other++;
    }
}

static void serve_request(plcsim *p, const uint8_t *req, int len, uint64_t now)
{
    /* Snapshot of the model's writable areas, to see what the request changed
     * (the --registers block is plain storage: nothing to apply). */
    uint8_t old_bits[MODBUS_MAX_WRITE_BITS];
    uint16_t old_regs[MODBUS_MAX_WRITE_REGISTERS];
    count_request(p, req, len);
    sim_model_advance(p->model, now);
    refresh_mapping(p);
    memcpy(old_bits, p->map->tab_bits, (size_t)p->map->nb_bits);
    memcpy(old_regs, p->map->tab_registers, (size_t)p->demo_registers * sizeof *old_regs);
    uint16_t old_beat =
        p->opt.heartbeat_register >= 0 ? p->map->tab_registers[p->opt.heartbeat_register] : 0;
    if (modbus_reply(p->ctx, req, len, p->map) < 0)
        say("reply failed: %s", modbus_strerror(errno));
    apply_writes(p, old_bits, old_regs, now);
    watchdog_feed(p, old_beat, now);
    watchdog_check(p, now);
}

static void drop_client(plcsim *p, int fd, const char *why)
{
    say("client fd %d closed (%s)", fd, why);
    close(fd);
    FD_CLR(fd, &p->clients);
}

static void accept_client(plcsim *p)
{
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0) {
        say("accept failed: %s", strerror(errno));
        return;
    }
    if (fd >= FD_SETSIZE) {
        say("too many clients: refusing fd %d", fd);
        close(fd);
        return;
    }
    FD_SET(fd, &p->clients);
    if (fd > p->max_fd)
        p->max_fd = fd;
    say("client fd %d connected", fd);
}

static void read_client(plcsim *p, int fd)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    modbus_set_socket(p->ctx, fd);
    int len = modbus_receive(p->ctx, req);
    if (len > 0)
        serve_request(p, req, len, mono_ns());
    else if (len < 0)
        drop_client(p, fd, errno == 0 ? "end of stream" : modbus_strerror(errno));
}

static int serve(plcsim *p)
{
    while (!stop_requested) {
        fd_set ready = p->clients;
        FD_SET(p->listen_fd, &ready);
        int maxfd = p->max_fd > p->listen_fd ? p->max_fd : p->listen_fd;
        struct timeval tick = {0, 10000}; /* the watchdog's scan time: 10 ms */
        if (select(maxfd + 1, &ready, NULL, NULL, p->opt.watchdog_ms ? &tick : NULL) < 0) {
            if (errno == EINTR)
                continue;
            say("select failed: %s", strerror(errno));
            return -1;
        }
        watchdog_check(p, mono_ns());
        if (FD_ISSET(p->listen_fd, &ready))
            accept_client(p);
        for (int fd = 0; fd <= p->max_fd; fd++)
            if (fd != p->listen_fd && FD_ISSET(fd, &ready) && FD_ISSET(fd, &p->clients))
                read_client(p, fd);
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------------- */

static int install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: select() returns */
    sigemptyset(&sa.sa_mask);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is handled by the error path */
    return sigaction(SIGTERM, &sa, NULL) | sigaction(SIGINT, &sa, NULL);
}

static int open_events(plcsim *p)
{
    if (!p->opt.events_path)
        return 0;
    p->events = fopen(p->opt.events_path, "a");
    if (!p->events)
        return say("--events %s: cannot open for appending: %s", p->opt.events_path,
                   strerror(errno)),
               -1;
    if (ftell(p->events) == 0)
        fputs("mono_ns,address,open\n", p->events);
    fflush(p->events);
    return 0;
}

static int start(plcsim *p)
{
    uint64_t now = mono_ns();
    uint64_t seed = p->opt.seed_given ? p->opt.seed : now ^ (uint64_t)time(NULL);
    sim_options so = {seed, 1.0, VALVE_LOG_CAPACITY};
    p->model = sim_model_new(&so, now);
    p->map = new_mapping(p);
    if (!p->model || !p->map)
        return say("out of memory creating the model"), -1;
    /* serve_request() snapshots the model's writable areas into fixed buffers. */
    if (p->map->nb_bits > MODBUS_MAX_WRITE_BITS ||
        p->demo_registers > MODBUS_MAX_WRITE_REGISTERS || p->demo_registers > EXTRA_BASE)
        return say("internal error: register map larger than the write snapshot"), -1;
    fill_extra_registers(p);
    if (open_events(p) != 0 || install_signals() != 0)
        return -1;
    char port[8];
    snprintf(port, sizeof port, "%d", p->opt.port);
    p->ctx = modbus_new_tcp(p->opt.bind, p->opt.port);
    if (!p->ctx)
        return say("--bind %s: %s", p->opt.bind, modbus_strerror(errno)), -1;
    modbus_set_indication_timeout(p->ctx, INDICATION_TIMEOUT_S, 0);
    p->listen_fd = modbus_tcp_listen(p->ctx, 16);
    if (p->listen_fd < 0)
        return say("cannot listen on %s:%s: %s (is the port in use?)", p->opt.bind, port,
                   modbus_strerror(errno)),
               -1;
    FD_ZERO(&p->clients);
    p->max_fd = p->listen_fd;
    p->last_beat_ns = now; /* the watchdog's timer runs from power-on */
    if (p->opt.watchdog_ms)
        say("watchdog: valves close when hr:%d is unchanged for %" PRIu64 " ms",
            p->opt.heartbeat_register, p->opt.watchdog_ms);
    say("seed %" PRIu64 "%s, byte order %s", seed,
        p->opt.seed_given ? "" : " (from the clock)",
        (const char *[]){"abcd", "abcd", "badc", "cdab", "dcba"}[p->opt.order]);
    if (p->opt.extra_registers > 0)
        say("extra holding registers %d-%d (%s)", EXTRA_BASE,
            EXTRA_BASE + p->opt.extra_registers - 1,
            p->opt.fill_pattern ? "f32 pattern: the pair at A holds A" : "zeros");
    say("listening on %s:%s", p->opt.bind, port);
    return 0;
}

static void finish(plcsim *p)
{
    for (int fd = 0; fd <= p->max_fd; fd++)
        if (FD_ISSET(fd, &p->clients))
            close(fd);
    if (p->listen_fd > 0)
        close(p->listen_fd);
    if (p->ctx)
        modbus_free(p->ctx);
    if (p->map)
        modbus_mapping_free(p->map);
    if (p->events)
        fclose(p->events);
    sim_model_free(p->model);
}

int main(int argc, char **argv)
{
    plcsim p = {.listen_fd = -1};
    int rc = parse_args(argc, argv, &p.opt);
    if (rc != 0)
        return rc == 1 ? EXIT_SUCCESS : 2;
    rc = start(&p) == 0 && serve(&p) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    if (rc == EXIT_SUCCESS)
        say("stopped; served %" PRIu64 " requests: %" PRIu64 " reads, %" PRIu64
            " writes, %" PRIu64 " other",
            p.served.reads + p.served.writes + p.served.other, p.served.reads,
            p.served.writes, p.served.other);
    finish(&p);
    return rc;
}
