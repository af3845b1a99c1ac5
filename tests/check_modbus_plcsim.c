/*
 * check_modbus_plcsim.c - interoperability: the plc-modbus plugin reading and
 * writing the demo tool (docs/demo-tool.md) served by ald-plcsim over TCP.
 */
#include <dlfcn.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ald/plc.h"
#include "metrics.h"
#include "testutil.h"

static pid_t sim_pid;
static int sim_port;

/* Start ald-plcsim with extra arguments; wait for "listening on". */
static void sim_start(const char *byte_order)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    sim_port = test_free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", sim_port);
    const char *exe = test_buildpath("ald-plcsim");
    sim_pid = fork();
    ck_assert_int_ge(sim_pid, 0);
    if (sim_pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(exe, "ald-plcsim", "--port", port, "--seed", "7", "--byte-order", byte_order,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[2048] = "";
    size_t len = 0;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    while (strstr(buf, "listening on") == NULL && len < sizeof buf - 1 &&
           poll(&p, 1, 20000) > 0) {
        ssize_t n = read(fds[0], buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    close(fds[0]); /* later log lines go nowhere (EPIPE is its business) */
    ck_assert_msg(strstr(buf, "listening on") != NULL, "ald-plcsim did not start: %s", buf);
}

static void sim_stop(void)
{
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        waitpid(sim_pid, NULL, 0);
        sim_pid = 0;
    }
}

static const ald_plc_vtable *vt;
static void *inst;

static void open_plugin(const char *extra)
{
    void *so = dlopen(test_buildpath("plugins/plc-modbus/.libs/plc-modbus.so"),
                      RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(so != NULL, "dlopen: %s", dlerror());
    ald_plugin_entry_fn entry = (ald_plugin_entry_fn)dlsym(so, ALD_PLUGIN_ENTRY_SYMBOL);
    ck_assert_ptr_nonnull(entry);
    vt = entry()->vtable;
    char text[512], err[512] = "";
    snprintf(text, sizeof text, "host = \"127.0.0.1\"; port = %d; %s", sim_port, extra);
    ck_assert_msg(vt->create(test_host(), test_config(text), &inst, err, sizeof err) == ALD_OK,
                  "%s", err);
}

/* The demo map, as the engine's tagmap would hand it over. */
static const struct {
    const char *read, *write;
    ald_data_type type;
} demo[] = {
    {"coil:0", "coil:0", ALD_TYPE_BOOL}, {"coil:5", "coil:5", ALD_TYPE_BOOL},
    {"ir:0", NULL, ALD_TYPE_F32},        {"hr:0", "hr:0", ALD_TYPE_F32},
    {"ir:4", NULL, ALD_TYPE_F32},        {"ir:8", NULL, ALD_TYPE_F32},
    {"hr:4", "hr:4", ALD_TYPE_F32},      {"hr:6", "hr:6", ALD_TYPE_F32},
    {"coil:10", "coil:10", ALD_TYPE_BOOL}, {"di:0", NULL, ALD_TYPE_BOOL},
    {"di:1", NULL, ALD_TYPE_BOOL},       {"hr:2", "hr:2", ALD_TYPE_F32},
};
enum { N = sizeof demo / sizeof demo[0] };

static void set_demo_tags(void)
{
    static ald_tag tags[N];
    static const ald_tag *ptrs[N];
    static char names[N][8];
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "d%zu", i);
        tags[i] = (ald_tag){.struct_size = sizeof(ald_tag), .name = names[i],
                            .read_address = demo[i].read, .write_address = demo[i].write,
                            .type = demo[i].type, .byte_order = ALD_ORDER_DEFAULT};
        ptrs[i] = &tags[i];
    }
    ck_assert_int_eq(vt->set_tags(inst, ptrs, N), ALD_OK);
}

static void teardown(void)
{
    if (inst) {
        vt->stop(inst);
        vt->destroy(inst);
        inst = NULL;
    }
    sim_stop();
}

static void check_initial_state(void)
{
    ald_tag_value v[N];
    ck_assert_msg(vt->read_all(inst, v, N) == ALD_OK, "%s", vt->last_error(inst));
    ck_assert_double_eq(v[0].value, 0);                    /* valve 1 closed */
    ck_assert_double_eq(v[1].value, 0);                    /* valve 6 closed */
    ck_assert_double_eq_tol(v[2].value, 100.0, 5.0);       /* MFC 1 flow (noisy) */
    ck_assert_double_eq(v[3].value, 100.0);                /* MFC 1 setpoint */
    ck_assert(v[4].value >= 0 && v[4].value < 5.0);        /* pumped-down pressure */
    ck_assert_double_eq_tol(v[5].value, 150.0, 5.0);       /* chamber temperature */
    ck_assert_double_eq(v[6].value, 150.0);                /* chamber setpoint */
    ck_assert_double_eq(v[7].value, 80.0);                 /* line heater setpoint */
    ck_assert_double_eq(v[8].value, 1);                    /* pump power on */
    ck_assert_double_eq(v[9].value, 1);                    /* pump running */
    ck_assert_double_eq(v[10].value, 1);                   /* N2 ready */
    ck_assert_double_eq(v[11].value, 0.0);                 /* MFC 2 setpoint */
    /* coils 0..10, di 0..1, hr 0..7, ir 0..9: four requests */
    char labels[96];
    snprintf(labels, sizeof labels, "device=\"127.0.0.1:%d\",plugin_instance=\"test\"",
             sim_port); /* the host adds the instance label */
    ck_assert_double_eq(metrics_value(metrics_gauge("ald_plc_requests_per_cycle", "", labels)),
                        4);
}

START_TEST(reads_the_demo_tool)
{
    sim_start("abcd");
    open_plugin("");
    set_demo_tags();
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    check_initial_state();
}
END_TEST

START_TEST(reads_a_low_word_first_server_with_the_legacy_word)
{
    sim_start("cdab");
    open_plugin("legacy_byte_order = \"badc\";"); /* what sites set as PLC_BYTE_ORDER */
    set_demo_tags();
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    check_initial_state();
}
END_TEST

START_TEST(writes_valves_and_setpoints)
{
    sim_start("abcd");
    open_plugin("");
    set_demo_tags();
    ck_assert_int_eq(vt->start(inst), ALD_OK);
    ck_assert_int_eq(vt->write_tag(inst, 0, 1), ALD_OK); /* open valve 1 */
    ck_assert_msg(vt->write_tag(inst, 11, 42.5) == ALD_OK, "%s", vt->last_error(inst));
    size_t idx[] = {0, 11, 1};
    ald_tag_value v[3];
    ck_assert_int_eq(vt->read_tags(inst, idx, 3, v), ALD_OK);
    ck_assert_double_eq(v[0].value, 1);
    ck_assert_double_eq(v[1].value, 42.5);
    ck_assert_double_eq(v[2].value, 0);
    ck_assert_int_eq(vt->write_tag(inst, 0, 0), ALD_OK);
    ck_assert_int_eq(vt->read_tags(inst, idx, 1, v), ALD_OK);
    ck_assert_double_eq(v[0].value, 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("modbus_plcsim");
    TCase *tc = tcase_create("plcsim");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, reads_the_demo_tool);
    tcase_add_test(tc, reads_a_low_word_first_server_with_the_legacy_word);
    tcase_add_test(tc, writes_valves_and_setpoints);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
