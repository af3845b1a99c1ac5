/*
 * check_modbus_plugin.c - the loaded plc-modbus plugin against a real peer:
 * a pymodbus 3.0 server (tests/fixtures/modbus/pymodbus_server.py) with a
 * known register image, started per test on a free 127.0.0.1 port.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ald/plc.h"
#include "metrics.h"
#include "testutil.h"

/* ---- the pymodbus server --------------------------------------------------- */

static pid_t server_pid;
static int server_port;

static void server_start(int port)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    const char *script = test_srcpath("tests/fixtures/modbus/pymodbus_server.py");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        /* argv[0] is the full path: Python finds its prefix (and Debian's
         * pymodbus) from it, and a bare "python3" would be looked up on
         * PATH, where another Python may come first. */
        execl("/usr/bin/python3", "/usr/bin/python3", script, port_text, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[64] = "";
    size_t len = 0;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    /* Wait for "READY <port>\n" (python start-up is slow on a busy machine). */
    while (len < sizeof line - 1 && strchr(line, '\n') == NULL && poll(&p, 1, 30000) > 0) {
        ssize_t n = read(fds[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
    }
    close(fds[0]);
    ck_assert_msg(strncmp(line, "READY", 5) == 0,
                  "pymodbus server did not start (got \"%s\"); needs python3-pymodbus, "
                  "python3-serial and python3-serial-asyncio",
                  line);
    server_pid = pid;
    server_port = port;
}

static void server_signal(int sig)
{
    ck_assert_int_eq(kill(server_pid, sig), 0);
}

static void server_kill(void)
{
    if (server_pid <= 0)
        return;
    kill(server_pid, SIGCONT);
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    server_pid = 0;
}

static void stop_server_fixture(void)
{
    server_kill();
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the plugin ---------------------------------------------------------------- */

static const ald_plc_vtable *vt;
static void *inst;

static const ald_plc_vtable *load_plugin(void)
{
    void *so = dlopen(test_buildpath("plugins/plc-modbus/.libs/plc-modbus.so"),
                      RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(so != NULL, "dlopen: %s", dlerror());
    ald_plugin_entry_fn entry = (ald_plugin_entry_fn)dlsym(so, ALD_PLUGIN_ENTRY_SYMBOL);
    ck_assert_ptr_nonnull(entry);
    const ald_plugin_descriptor *d = entry();
    ck_assert_uint_eq(d->magic, ALD_PLUGIN_MAGIC);
    ck_assert_int_eq(d->kind, ALD_PLUGIN_PLC);
    ck_assert_str_eq(d->name, "plc-modbus");
    return d->vtable;
}

/* create() with `extra` settings added to host/port of the running server. */
static ald_status create_with(const char *extra, char *err, size_t errlen)
{
    char text[2048];
    snprintf(text, sizeof text, "host = \"127.0.0.1\"; port = %d; %s", server_port,
             extra ? extra : "");
    vt = load_plugin();
    return vt->create(test_host(), test_config(text), &inst, err, errlen);
}

static void open_plugin(const char *extra)
{
    char err[512] = "";
    ck_assert_msg(create_with(extra, err, sizeof err) == ALD_OK, "create: %s", err);
}

typedef struct tag_def {
    const char *addr;
    ald_data_type type;
    ald_byte_order order;
} tag_def;

/* set_tags with tags named t0, t1, ... read (and, writable, write) at addr. */
static ald_status set_tags(const tag_def *defs, size_t n, int writable)
{
    static ald_tag tags[64];
    static const ald_tag *ptrs[64];
    static char names[64][8];
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "t%zu", i);
        tags[i] = (ald_tag){.struct_size = sizeof(ald_tag), .name = names[i],
                            .read_address = defs[i].addr,
                            .write_address = writable ? defs[i].addr : NULL,
                            .type = defs[i].type, .byte_order = defs[i].order};
        ptrs[i] = &tags[i];
    }
    return vt->set_tags(inst, ptrs, n);
}

static void close_plugin(void)
{
    if (inst != NULL) {
        vt->stop(inst);
        vt->destroy(inst);
        inst = NULL;
    }
}

static double metric(const char *name, const char *extra_labels)
{
    char labels[200];
    snprintf(labels, sizeof labels, "device=\"127.0.0.1:%d\"%s,plugin_instance=\"test\"",
             server_port, extra_labels ? extra_labels : ""); /* the host adds the instance */
    ald_metric *m = strstr(name, "_total") ? metrics_counter(name, "", labels)
                                           : metrics_gauge(name, "", labels);
    ck_assert_ptr_nonnull(m);
    return metrics_value(m);
}

static void with_server(void)
{
    server_start(test_free_port());
}

static void teardown(void)
{
    close_plugin();
    stop_server_fixture();
}

#define ck_assert_value(v, expected)                                                          \
    do {                                                                                      \
        ck_assert_msg((v).quality == ALD_OK, "quality %s", ald_status_name((v).quality));      \
        ck_assert_double_eq_tol((v).value, (expected), 1e-9 * fmax(1.0, fabs(expected)));     \
    } while (0)

static const double F = (double)123.456f;

/* ---- value decoding -------------------------------------------------------------- */

START_TEST(reads_every_type_and_order_in_few_requests)
{
    open_plugin(NULL);
    static const tag_def defs[] = {
        {"hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD},  {"hr:2", ALD_TYPE_F32, ALD_ORDER_BADC},
        {"hr:4", ALD_TYPE_F32, ALD_ORDER_CDAB},  {"hr:6", ALD_TYPE_F32, ALD_ORDER_DCBA},
        {"hr:8", ALD_TYPE_I32, ALD_ORDER_ABCD},  {"hr:10", ALD_TYPE_I32, ALD_ORDER_BADC},
        {"hr:12", ALD_TYPE_I32, ALD_ORDER_CDAB}, {"hr:14", ALD_TYPE_I32, ALD_ORDER_DCBA},
        {"hr:16", ALD_TYPE_I16, 0},              {"hr:17", ALD_TYPE_U16, 0},
        {"hr:18", ALD_TYPE_F64, ALD_ORDER_ABCD}, {"ir:0", ALD_TYPE_F32, 0},
        {"ir:2", ALD_TYPE_U16, 0},               {"coil:0", ALD_TYPE_BOOL, 0},
        {"coil:1", ALD_TYPE_BOOL, 0},            {"coil:3", ALD_TYPE_BOOL, 0},
        {"di:1", ALD_TYPE_BOOL, 0},              {"di:3", ALD_TYPE_BOOL, 0},
        {"hr:16", ALD_TYPE_U16, 0},
    };
    const size_t n = sizeof defs / sizeof defs[0];
    ck_assert_int_eq(set_tags(defs, n, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[sizeof defs / sizeof defs[0]];
    ck_assert_msg(vt->read_all(inst, v, n) == ALD_OK, "%s", vt->last_error(inst));
    for (int i = 0; i < 4; i++)
        ck_assert_value(v[i], F);
    for (int i = 4; i < 8; i++)
        ck_assert_value(v[i], -123456789.0);
    ck_assert_value(v[8], -1234.0);
    ck_assert_value(v[9], 54321.0);
    ck_assert_value(v[10], 1234.5678);
    ck_assert_value(v[11], 42.5);
    ck_assert_value(v[12], 777.0);
    ck_assert_value(v[13], 1.0);
    ck_assert_value(v[14], 0.0);
    ck_assert_value(v[15], 1.0);
    ck_assert_value(v[16], 1.0);
    ck_assert_value(v[17], 0.0);
    ck_assert_value(v[18], 64302.0); /* the same register read as u16 */
    /* hr 0..21, ir 0..2, coils 0..3, di 1..3: one request each */
    ck_assert_double_eq(metric("ald_plc_requests_per_cycle", NULL), 4);
    ck_assert_double_eq(metric("ald_plc_requests_total", NULL), 4);
    ck_assert_int_eq(vt->is_connected(inst), 1);
}
END_TEST

START_TEST(device_byte_order_applies_to_default_tags)
{
    open_plugin("byte_order = \"badc\";");
    static const tag_def defs[] = {{"hr:2", ALD_TYPE_F32, ALD_ORDER_DEFAULT},
                                   {"hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD}};
    ck_assert_int_eq(set_tags(defs, 2, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[2];
    ck_assert_int_eq(vt->read_all(inst, v, 2), ALD_OK);
    ck_assert_value(v[0], F);
    ck_assert_value(v[1], F);
}
END_TEST

START_TEST(legacy_byte_order_and_function_codes)
{
    /* PLC_BYTE_ORDER=badc meant low word first (CDAB); it beats byte_order. */
    open_plugin("byte_order = \"dcba\"; legacy_byte_order = \"badc\"; "
                "legacy_function_codes = true;");
    static const tag_def defs[] = {
        {"hr:4", ALD_TYPE_F32, ALD_ORDER_DEFAULT}, /* CDAB image */
        {"ir:4", ALD_TYPE_F32, ALD_ORDER_DEFAULT}, /* read with 03: the same registers */
        {"di:1", ALD_TYPE_BOOL, 0},                /* read with 01: coil 1 = 0 (di 1 = 1) */
        {"di:7", ALD_TYPE_BOOL, 0},                /* coil 7 = 1; there is no di 7 */
        {"hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD},    /* explicit orders keep the standard meaning */
    };
    ck_assert_int_eq(set_tags(defs, 5, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[5];
    ck_assert_msg(vt->read_all(inst, v, 5) == ALD_OK, "%s", vt->last_error(inst));
    ck_assert_value(v[0], F);
    ck_assert_value(v[1], F);
    ck_assert_value(v[2], 0.0);
    ck_assert_value(v[3], 1.0);
    ck_assert_value(v[4], F);
    ck_assert_double_eq(metric("ald_plc_requests_per_cycle", NULL), 2); /* 03 and 01 */
}
END_TEST

START_TEST(correct_function_codes_by_default)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"ir:4", ALD_TYPE_F32, 0}, {"di:1", ALD_TYPE_BOOL, 0}};
    ck_assert_int_eq(set_tags(defs, 2, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[2];
    ck_assert_int_eq(vt->read_all(inst, v, 2), ALD_ERR_PROTOCOL);
    ck_assert_int_eq(v[0].quality, ALD_ERR_PROTOCOL); /* there is no input register 4 */
    ck_assert_value(v[1], 1.0);
}
END_TEST

START_TEST(scale_offset_and_config_tags)
{
    open_plugin("tags = ( { name = \"half\"; address = \"hr:17\"; type = \"u16\"; "
                "scale = 0.5; offset = 1.0; },"
                "{ name = \"t0\"; address = \"hr:16\"; type = \"int16\"; } );");
    /* The host's t0 says u16 at hr:0; the config's t0 overrides it. */
    static const tag_def defs[] = {{"hr:0", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 1, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[2];
    ck_assert_int_eq(vt->read_all(inst, v, 2), ALD_OK);
    ck_assert_value(v[0], -1234.0);
    ck_assert_value(v[1], 54321 * 0.5 + 1.0); /* the config-only tag comes after */
}
END_TEST

/* ---- refused blocks and bad tags ---------------------------------------------------- */

START_TEST(hole_in_block_falls_back_to_per_tag_reads_once)
{
    open_plugin(NULL);
    /* hr 16..26 merges (gap 22..24 <= max_gap) but 22..24 do not exist. */
    static const tag_def defs[] = {{"hr:16", ALD_TYPE_I16, 0},
                                   {"hr:17", ALD_TYPE_U16, 0},
                                   {"hr:25", ALD_TYPE_F32, ALD_ORDER_ABCD}};
    ck_assert_int_eq(set_tags(defs, 3, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[3];
    ck_assert_msg(vt->read_all(inst, v, 3) == ALD_OK, "%s", vt->last_error(inst));
    ck_assert_value(v[0], -1234.0);
    ck_assert_value(v[1], 54321.0);
    ck_assert_value(v[2], 6.5);
    ck_assert_double_eq(metric("ald_plc_requests_per_cycle", NULL), 4); /* block + 3 */
    for (int cycle = 0; cycle < 3; cycle++) {
        ck_assert_int_eq(vt->read_all(inst, v, 3), ALD_OK);
        ck_assert_value(v[2], 6.5);
        ck_assert_double_eq(metric("ald_plc_requests_per_cycle", NULL), 3);
    }
    /* the refused block was sent once, not every cycle */
    ck_assert_double_eq(metric("ald_plc_request_errors_total", ",kind=\"exception\""), 1);
    ck_assert_double_eq(metric("ald_plc_requests_total", NULL), 4 + 3 * 3);
}
END_TEST

START_TEST(one_bad_tag_keeps_the_others)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD},
                                   {"hr:17", ALD_TYPE_U16, 0},
                                   {"hr:23", ALD_TYPE_U16, 0}, /* in the hole */
                                   {"hr:300", ALD_TYPE_U16, 0}, /* nothing there */
                                   {"ir:2", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 5, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[5];
    ck_assert_int_eq(vt->read_all(inst, v, 5), ALD_ERR_PROTOCOL);
    ck_assert_value(v[0], F);
    ck_assert_value(v[1], 54321.0);
    ck_assert_int_eq(v[2].quality, ALD_ERR_PROTOCOL);
    ck_assert_int_eq(v[3].quality, ALD_ERR_PROTOCOL);
    ck_assert(isnan(v[3].value));
    ck_assert_value(v[4], 777.0);
    const char *err = vt->last_error(inst);
    ck_assert_msg(strstr(err, "exception 2") && strstr(err, "illegal data address"), "%s", err);
    ck_assert_msg(strstr(err, "\"t2\"") || strstr(err, "\"t3\""), "%s", err);
    ck_assert_int_eq(vt->is_connected(inst), 1); /* exceptions keep the link */
}
END_TEST

START_TEST(set_tags_rejects_bad_tags)
{
    open_plugin(NULL);
    static const tag_def wide_coil[] = {{"coil:0", ALD_TYPE_F32, 0}};
    ck_assert_int_eq(set_tags(wide_coil, 1, 0), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "\"t0\""));
    static const tag_def bad_syntax[] = {{"hr:0", ALD_TYPE_U16, 0}, {"40001", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(bad_syntax, 2, 0), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "\"t1\""));
    static const tag_def past_end[] = {{"hr:65535", ALD_TYPE_F32, 0}};
    ck_assert_int_eq(set_tags(past_end, 1, 0), ALD_ERR_INVALID);
    static const tag_def write_input[] = {{"ir:0", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(write_input, 1, 1), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "read-only"));
}
END_TEST

/* ---- writes ---------------------------------------------------------------------------- */

START_TEST(writes_and_reads_back)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"hr:30", ALD_TYPE_F32, ALD_ORDER_CDAB},
                                   {"hr:32", ALD_TYPE_U16, 0},
                                   {"coil:8", ALD_TYPE_BOOL, 0},
                                   {"hr:40", ALD_TYPE_F32, ALD_ORDER_ABCD}};
    ck_assert_int_eq(set_tags(defs, 4, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ck_assert_msg(vt->write_tag(inst, 0, 250.5) == ALD_OK, "%s", vt->last_error(inst));
    ck_assert_int_eq(vt->write_tag(inst, 1, 4321), ALD_OK);
    ck_assert_int_eq(vt->write_tag(inst, 2, 1), ALD_OK);
    size_t idx[] = {0, 1, 2};
    ald_tag_value v[3];
    ck_assert_int_eq(vt->read_tags(inst, idx, 3, v), ALD_OK);
    ck_assert_value(v[0], 250.5);
    ck_assert_value(v[1], 4321.0);
    ck_assert_value(v[2], 1.0);
    ck_assert_int_eq(vt->write_tag(inst, 2, 0), ALD_OK);
    ck_assert_int_eq(vt->read_tags(inst, idx + 2, 1, v), ALD_OK);
    ck_assert_value(v[0], 0.0);
}
END_TEST

START_TEST(pulse_uses_the_plc_timer_where_one_is_declared)
{
    open_plugin("pulse_timers = ( { coil = \"coil:8\"; preset = \"hr:32\"; unit_ms = 10; } );");
    static const tag_def defs[] = {{"coil:8", ALD_TYPE_BOOL, 0},
                                   {"hr:32", ALD_TYPE_U16, 0},
                                   {"coil:9", ALD_TYPE_BOOL, 0}};
    ck_assert_int_eq(set_tags(defs, 3, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ck_assert_msg(vt->pulse(inst, 0, 250) == ALD_OK, "%s", vt->last_error(inst));
    size_t idx[] = {0, 1};
    ald_tag_value v[2];
    ck_assert_int_eq(vt->read_tags(inst, idx, 2, v), ALD_OK);
    ck_assert_value(v[0], 1.0);  /* the coil is open */
    ck_assert_value(v[1], 25.0); /* the timer got 250 ms in 10 ms units */
    /* a valve without a timer: the host must time it itself */
    ck_assert_int_eq(vt->pulse(inst, 2, 250), ALD_ERR_UNSUPPORTED);
    ck_assert_int_eq(vt->pulse(inst, 0, 0), ALD_ERR_INVALID);
}
END_TEST

/* A started instance beating hr:50 every period_ms, with hr:50 as tag 0. */
static void start_heartbeat(int period_ms)
{
    char settings[128];
    snprintf(settings, sizeof settings,
             "heartbeat_address = \"hr:50\"; heartbeat_period_ms = %d;", period_ms);
    open_plugin(settings);
    static const tag_def defs[] = {{"hr:50", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 1, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
}

/* The heartbeat register's value now (tag 0 of the set). */
static double heartbeat_value(void)
{
    size_t idx[] = {0};
    ald_tag_value v[1];
    ck_assert_int_eq(vt->read_tags(inst, idx, 1, v), ALD_OK);
    return v[0].value;
}

/* Polls (every 50 ms, at most 5 s) until the register differs from `from`. */
static int heartbeat_moves_from(double from)
{
    for (int i = 0; i < 100; i++) {
        if (heartbeat_value() != from)
            return 1;
        sleep_ms(50);
    }
    return 0;
}

/* The register keeps `value` over `periods` heartbeat periods of 50 ms. */
static void heartbeat_stays_at(double value, int periods)
{
    for (int i = 0; i < periods; i++) {
        sleep_ms(50);
        double now = heartbeat_value();
        ck_assert_msg(now == value, "the heartbeat register moved from %g to %g", value, now);
    }
}

/* The heartbeat register counts up while the instance is active, and stops with it. */
START_TEST(heartbeat_increments_its_register_until_stop)
{
    start_heartbeat(50); /* tag 0 reads the register */
    vt->set_active(inst, 1); /* the engine holds the lease */
    size_t idx[] = {0};
    ald_tag_value v[1];
    double seen = 0;
    for (int i = 0; i < 200 && seen < 3; i++) { /* at most 10 s */
        ck_assert_int_eq(vt->read_tags(inst, idx, 1, v), ALD_OK);
        seen = v[0].value;
        usleep(50000);
    }
    ck_assert_msg(seen >= 3, "the heartbeat register stayed at %g", seen);
    vt->stop(inst); /* joins the thread: nothing beats after this */
}
END_TEST

/* A standby writes nothing to the PLC: the heartbeat beats only between
 * set_active(1) and set_active(0), and resumes on the next set_active(1). */
START_TEST(heartbeat_writes_only_while_the_engine_is_active)
{
    start_heartbeat(50); /* tag 0 reads the register */
    double before = heartbeat_value();
    heartbeat_stays_at(before, 8); /* instances start inactive */
    vt->set_active(inst, 1);
    ck_assert_msg(heartbeat_moves_from(before), "no beat after set_active(1)");
    vt->set_active(inst, 0);
    sleep_ms(300); /* a beat already on the wire lands */
    heartbeat_stays_at(heartbeat_value(), 8);
    double stopped = heartbeat_value();
    vt->set_active(inst, 1);
    ck_assert_msg(heartbeat_moves_from(stopped), "no beat after the second set_active(1)");
}
END_TEST

/* Becoming active beats at once, not at the next period: with a 10 s period
 * the first beat comes well within 5 s of set_active(1). */
START_TEST(heartbeat_beats_at_once_on_becoming_active)
{
    start_heartbeat(10000); /* tag 0 reads the register */
    double before = heartbeat_value();
    sleep_ms(200); /* the thread is in its first 10 s wait */
    vt->set_active(inst, 1);
    ck_assert_msg(heartbeat_moves_from(before), "no beat within 5 s of set_active(1)");
}
END_TEST

START_TEST(write_mismatch_and_range_errors)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"hr:40", ALD_TYPE_F32, ALD_ORDER_ABCD},
                                   {"hr:32", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 2, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    /* hr:40 keeps 1.0 whatever is written (a clamping PLC) */
    ck_assert_int_eq(vt->write_tag(inst, 0, 5.0), ALD_ERR_PROTOCOL);
    const char *err = vt->last_error(inst);
    ck_assert_msg(strstr(err, "wrote 5") && strstr(err, "read back 1"), "%s", err);
    ck_assert_int_eq(vt->write_tag(inst, 1, 70000), ALD_ERR_INVALID);
    ck_assert_int_eq(vt->write_tag(inst, 1, -1), ALD_ERR_INVALID);
    ck_assert_int_eq(vt->write_tag(inst, 7, 1), ALD_ERR_NOT_FOUND);
}
END_TEST

START_TEST(write_to_read_only_tag_is_invalid)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"hr:32", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 1, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ck_assert_int_eq(vt->write_tag(inst, 0, 1), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "no write address"));
}
END_TEST

/* ---- faults ------------------------------------------------------------------------------- */

static const char *const FAST_FAILS = "connect_timeout_ms = 500; response_timeout_ms = 300; "
                                      "backoff_initial_ms = 50; backoff_max_ms = 200;";

static int is_link_failure(ald_status st)
{
    return st == ALD_ERR_DISCONNECTED || st == ALD_ERR_TIMEOUT;
}

/* read_all until it succeeds; the number of tries it took, or -1. */
static int read_until_ok(ald_tag_value *v, size_t n)
{
    for (int i = 1; i <= 200; i++) {
        if (vt->read_all(inst, v, n) == ALD_OK)
            return i;
        sleep_ms(50);
    }
    return -1;
}

START_TEST(killed_server_fails_fast_then_reconnects)
{
    open_plugin(FAST_FAILS);
    static const tag_def defs[] = {{"hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD}};
    ck_assert_int_eq(set_tags(defs, 1, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[1];
    ck_assert_int_eq(vt->read_all(inst, v, 1), ALD_OK);
    int port = server_port;
    server_kill();
    for (int i = 0; i < 5; i++) {
        ald_status st = vt->read_all(inst, v, 1);
        ck_assert_msg(is_link_failure(st), "read %d: %s", i, ald_status_name(st));
        ck_assert_int_eq(v[0].quality, st);
        ck_assert(is_link_failure(vt->write_tag(inst, 0, 1.0)));
    }
    ck_assert_int_eq(vt->is_connected(inst), 0);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "127.0.0.1:"));
    double reconnects = metric("ald_plc_reconnects_total", NULL);
    server_start(port);
    ck_assert_int_gt(read_until_ok(v, 1), 0);
    ck_assert_value(v[0], F);
    ck_assert_int_eq(vt->is_connected(inst), 1);
    ck_assert_double_gt(metric("ald_plc_reconnects_total", NULL), reconnects);
    ck_assert_int_eq(vt->write_tag(inst, 0, 2.0), ALD_OK); /* the control link is back too */
}
END_TEST

START_TEST(stopped_server_times_out_then_recovers)
{
    open_plugin(FAST_FAILS);
    static const tag_def defs[] = {{"hr:17", ALD_TYPE_U16, 0}, {"coil:0", ALD_TYPE_BOOL, 0}};
    ck_assert_int_eq(set_tags(defs, 2, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ald_tag_value v[2];
    ck_assert_int_eq(vt->read_all(inst, v, 2), ALD_OK);
    server_signal(SIGSTOP);
    for (int i = 0; i < 4; i++) {
        ald_status st = vt->read_all(inst, v, 2);
        ck_assert_msg(is_link_failure(st), "read %d: %s", i, ald_status_name(st));
        ck_assert(is_link_failure(v[0].quality) && is_link_failure(v[1].quality));
        sleep_ms(60);
    }
    ck_assert_double_ge(metric("ald_plc_request_errors_total", ",kind=\"timeout\""), 1);
    server_signal(SIGCONT);
    ck_assert_int_gt(read_until_ok(v, 2), 0);
    ck_assert_value(v[0], 54321.0);
    ck_assert_value(v[1], 1.0);
}
END_TEST

START_TEST(no_server_at_start_is_not_fatal)
{
    int port = server_port;
    server_kill();
    open_plugin(FAST_FAILS);
    static const tag_def defs[] = {{"hr:17", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 1, 0), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_ERR_DISCONNECTED);
    ck_assert_ptr_nonnull(strstr(vt->last_error(inst), "cannot connect"));
    ald_tag_value v[1];
    ck_assert_int_eq(vt->read_all(inst, v, 1), ALD_ERR_DISCONNECTED);
    server_start(port);
    ck_assert_int_gt(read_until_ok(v, 1), 0);
    ck_assert_value(v[0], 54321.0);
}
END_TEST

START_TEST(stopped_instance_does_no_io)
{
    open_plugin(NULL);
    static const tag_def defs[] = {{"hr:17", ALD_TYPE_U16, 0}};
    ck_assert_int_eq(set_tags(defs, 1, 1), ALD_OK);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    vt->stop(inst);
    vt->stop(inst); /* idempotent */
    ald_tag_value v[1];
    double sent = metric("ald_plc_requests_total", NULL);
    ck_assert_int_eq(vt->read_all(inst, v, 1), ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(vt->write_tag(inst, 0, 1), ALD_ERR_DISCONNECTED);
    ck_assert_double_eq(metric("ald_plc_requests_total", NULL), sent);
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ck_assert_int_eq(vt->read_all(inst, v, 1), ALD_OK);
}
END_TEST

/* ---- settings (no server needed: create() does no I/O) -------------------------------------- */

static void assert_setting_error(const char *settings, const char *needle)
{
    char err[512] = "";
    vt = load_plugin();
    inst = NULL;
    ald_status st = vt->create(test_host(), test_config(settings), &inst, err, sizeof err);
    ck_assert_msg(st == ALD_ERR_INVALID, "accepted: %s", settings);
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
    ck_assert_ptr_null(inst);
}

START_TEST(settings_errors_name_the_setting)
{
    assert_setting_error("port = 502;", "setting host");
    assert_setting_error("host = \"plc\"; port = 70000;", "setting port: 70000 is out of range");
    assert_setting_error("host = \"plc\"; port = \"502\";", "setting port: expected an integer");
    assert_setting_error("host = \"plc\"; transport = \"udp\";", "setting transport");
    assert_setting_error("transport = \"rtu\";", "setting device");
    assert_setting_error("transport = \"rtu\"; device = \"/dev/ttyS0\"; parity = \"X\";",
                         "setting parity");
    assert_setting_error("host = \"plc\"; byte_order = \"big\";", "setting byte_order");
    assert_setting_error("host = \"plc\"; legacy_byte_order = \"x\";",
                         "setting legacy_byte_order");
    assert_setting_error("host = \"plc\"; max_registers = 126;", "setting max_registers");
    assert_setting_error("host = \"plc\"; max_bits = 2001;", "setting max_bits");
    assert_setting_error("host = \"plc\"; backoff_initial_ms = 500; backoff_max_ms = 100;",
                         "setting backoff_max_ms");
    assert_setting_error("host = \"plc\"; tags = ( { name = \"a\"; address = \"hr:x\"; "
                         "type = \"f32\"; } );",
                         "setting address: tag \"a\"");
    assert_setting_error("host = \"plc\"; tags = ( { name = \"a\"; address = \"hr:1\"; "
                         "type = \"float128\"; } );",
                         "setting type");
    assert_setting_error("host = \"plc\"; tags = ( { name = \"a\"; address = \"hr:1\"; "
                         "type = \"u16\"; }, { name = \"a\"; address = \"hr:2\"; "
                         "type = \"u16\"; } );",
                         "declared twice");
    assert_setting_error("host = \"plc\"; heartbeat_address = \"coil:1\";",
                         "setting heartbeat_address: \"coil:1\" is not a holding register");
    assert_setting_error("host = \"plc\"; heartbeat_address = \"hr:1\"; "
                         "heartbeat_period_ms = 10;",
                         "setting heartbeat_period_ms: 10 is out of range 50..10000");
}
END_TEST

START_TEST(settings_error_without_location_has_no_stray_prefix)
{
    /* test_config() parses a string, so the host knows no file:line; the
     * message then starts with the setting (file configs get "file:line: "). */
    char err[512] = "";
    vt = load_plugin();
    ald_status st = vt->create(test_host(), test_config("host = \"plc\";\n\nport = 0;\n"), &inst,
                               err, sizeof err);
    ck_assert_int_eq(st, ALD_ERR_INVALID);
    ck_assert_str_eq(err, "setting port: 0 is out of range 1..65535");
}
END_TEST

START_TEST(valid_settings_create_without_io)
{
    char err[512] = "";
    vt = load_plugin();
    /* Nothing listens on port 1 and the name does not resolve: create() must not care. */
    ck_assert_int_eq(vt->create(test_host(),
                                test_config("host = \"plc.invalid\"; port = 1; unit_id = 7; "
                                            "legacy_byte_order = \"badc\"; "
                                            "legacy_function_codes = true; max_gap = 0;"),
                                &inst, err, sizeof err),
                     ALD_OK);
    vt->destroy(inst);
    inst = NULL;
    ck_assert_int_eq(vt->create(test_host(),
                                test_config("transport = \"rtu\"; device = \"/dev/ttyUSB0\"; "
                                            "baud = 9600; parity = \"e\"; stop_bits = 2;"),
                                &inst, err, sizeof err),
                     ALD_OK);
    vt->destroy(inst);
    inst = NULL;
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("modbus_plugin");

    TCase *io = tcase_create("pymodbus");
    tcase_add_checked_fixture(io, with_server, teardown);
    tcase_set_timeout(io, 60);
    tcase_add_test(io, reads_every_type_and_order_in_few_requests);
    tcase_add_test(io, device_byte_order_applies_to_default_tags);
    tcase_add_test(io, legacy_byte_order_and_function_codes);
    tcase_add_test(io, correct_function_codes_by_default);
    tcase_add_test(io, scale_offset_and_config_tags);
    tcase_add_test(io, hole_in_block_falls_back_to_per_tag_reads_once);
    tcase_add_test(io, one_bad_tag_keeps_the_others);
    tcase_add_test(io, set_tags_rejects_bad_tags);
    tcase_add_test(io, writes_and_reads_back);
    tcase_add_test(io, pulse_uses_the_plc_timer_where_one_is_declared);
    tcase_add_test(io, heartbeat_increments_its_register_until_stop);
    tcase_add_test(io, heartbeat_writes_only_while_the_engine_is_active);
    tcase_add_test(io, heartbeat_beats_at_once_on_becoming_active);
    tcase_add_test(io, write_mismatch_and_range_errors);
    tcase_add_test(io, write_to_read_only_tag_is_invalid);
    tcase_add_test(io, killed_server_fails_fast_then_reconnects);
    tcase_add_test(io, stopped_server_times_out_then_recovers);
    tcase_add_test(io, no_server_at_start_is_not_fatal);
    tcase_add_test(io, stopped_instance_does_no_io);
    suite_add_tcase(s, io);

    TCase *cfg = tcase_create("settings");
    tcase_add_test(cfg, settings_errors_name_the_setting);
    tcase_add_test(cfg, settings_error_without_location_has_no_stray_prefix);
    tcase_add_test(cfg, valid_settings_create_without_io);
    suite_add_tcase(s, cfg);
    return run_suite(s);
}
