/*
 * check_sim.c - the simulated demo tool: the model (sim_model.c, compiled in)
 * and the plc-sim plugin, loaded with dlopen() from the build tree exactly as
 * the engine loads it.
 *
 * Model tests drive time explicitly, so every value they assert is a
 * consequence of the documented dynamics (docs/demo-tool.md), not of timing.
 */
#include <dlfcn.h>
#include <libconfig.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ald/plugin.h"
#include "sim_model.h"
#include "testutil.h"

#define S_NS 1000000000ull
#define T0 (1000 * S_NS) /* an arbitrary start time */

/* ---- model helpers ----------------------------------------------------------- */

static sim_model *new_model(uint64_t seed, double noise_scale, size_t log_capacity)
{
    sim_options o = {seed, noise_scale, log_capacity};
    sim_model *m = sim_model_new(&o, T0);
    ck_assert_ptr_nonnull(m);
    return m;
}

static double value(sim_model *m, modbus_area area, uint16_t addr)
{
    double v = NAN;
    ck_assert_int_eq(sim_model_read(m, area, addr, &v), SIM_OK);
    return v;
}

static void write_ok(sim_model *m, modbus_area area, uint16_t addr, double v, uint64_t t)
{
    sim_status st = sim_model_write(m, area, addr, v, t, NULL);
    ck_assert_msg(st == SIM_OK || st == SIM_TRANSITION, "write %d:%u -> %s", (int)area, addr,
                  sim_status_text(st));
}

/* ---- model: determinism and noise --------------------------------------------- */

START_TEST(test_model_same_seed_and_times_give_same_values)
{
    sim_model *a = new_model(42, 1.0, 16), *b = new_model(42, 1.0, 16);
    size_t n;
    const sim_channel_info *ch = sim_model_channels(&n);
    for (int step = 1; step <= 50; step++) {
        uint64_t t = T0 + (uint64_t)step * 137000000u;
        if (step == 10) {
            write_ok(a, AREA_HOLDING, 0, 250.0, t);
            write_ok(b, AREA_HOLDING, 0, 250.0, t);
        }
        sim_model_advance(a, t);
        sim_model_advance(b, t);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(value(a, ch[i].area, ch[i].addr) ==
                              value(b, ch[i].area, ch[i].addr),
                          "%s differs at step %d", ch[i].name, step);
    }
    sim_model_free(a);
    sim_model_free(b);
}
END_TEST

START_TEST(test_model_different_seed_gives_different_noise)
{
    sim_model *a = new_model(1, 1.0, 16), *b = new_model(2, 1.0, 16);
    int differing = 0;
    for (int step = 1; step <= 10; step++) {
        sim_model_advance(a, T0 + (uint64_t)step * S_NS);
        sim_model_advance(b, T0 + (uint64_t)step * S_NS);
        differing += value(a, AREA_INPUT, 0) != value(b, AREA_INPUT, 0);
    }
    ck_assert_int_ge(differing, 9);
    sim_model_free(a);
    sim_model_free(b);
}
END_TEST

START_TEST(test_model_noise_is_small_and_centred)
{
    /* MFC 1 sits at its 100 sccm setpoint; noise sigma is 0.2 sccm. */
    sim_model *m = new_model(7, 1.0, 16);
    double sum = 0.0, max_dev = 0.0;
    int changed = 0;
    double last = value(m, AREA_INPUT, 0);
    for (int step = 1; step <= 1000; step++) {
        sim_model_advance(m, T0 + (uint64_t)step * S_NS);
        double v = value(m, AREA_INPUT, 0);
        sum += v - 100.0;
        max_dev = fmax(max_dev, fabs(v - 100.0));
        changed += v != last;
        last = v;
    }
    ck_assert_int_ge(changed, 990);              /* it is noisy... */
    ck_assert_double_lt(max_dev, 2.0);           /* ...but within 10 sigma */
    ck_assert_double_lt(fabs(sum / 1000), 0.05); /* and centred */
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_advance_to_same_time_changes_nothing)
{
    sim_model *m = new_model(3, 1.0, 16);
    sim_model_advance(m, T0 + S_NS);
    double v = value(m, AREA_INPUT, 8);
    sim_model_advance(m, T0 + S_NS);
    sim_model_advance(m, T0); /* earlier: treated as no time passed */
    ck_assert(value(m, AREA_INPUT, 8) == v);
    sim_model_free(m);
}
END_TEST

/* ---- model: dynamics ------------------------------------------------------------ */

START_TEST(test_model_initial_state_is_a_warm_tool)
{
    sim_model *m = new_model(1, 1.0, 16);
    ck_assert_double_eq(value(m, AREA_HOLDING, 0), 100.0);
    ck_assert_double_eq(value(m, AREA_HOLDING, 2), 0.0);
    ck_assert_double_eq(value(m, AREA_HOLDING, 4), 150.0);
    ck_assert_double_eq(value(m, AREA_HOLDING, 6), 80.0);
    ck_assert_double_eq(value(m, AREA_INPUT, 0), 100.0);
    ck_assert_double_eq(value(m, AREA_INPUT, 8), 150.0);
    ck_assert_double_eq(value(m, AREA_INPUT, 10), 80.0);
    ck_assert_double_eq(value(m, AREA_COIL, 10), 1.0);
    ck_assert_double_eq(value(m, AREA_COIL, 11), 1.0);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 1.0);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 1), 1.0);
    for (uint16_t v = 0; v < 6; v++)
        ck_assert_double_eq(value(m, AREA_COIL, v), 0.0);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_reading_within_two_percent_after_five_tau)
{
    sim_model *m = new_model(11, 1.0, 16);
    write_ok(m, AREA_HOLDING, 0, 400.0, T0);  /* MFC 1, tau 0.5 s */
    write_ok(m, AREA_HOLDING, 4, 300.0, T0);  /* chamber, tau 20 s */
    sim_model_advance(m, T0 + 2500000000ull); /* 5 tau of the MFC */
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 0), 400.0, 8.0);
    ck_assert_double_lt(value(m, AREA_INPUT, 8), 295.0); /* the heater is still far */
    sim_model_advance(m, T0 + 100 * S_NS);               /* 5 tau of the chamber heater */
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 8), 300.0, 6.0);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_noiseless_approach_is_monotone)
{
    sim_model *m = new_model(5, 0.0, 16);
    write_ok(m, AREA_HOLDING, 6, 180.0, T0); /* line heater 80 -> 180, tau 10 s */
    double last = value(m, AREA_INPUT, 10);
    for (int step = 1; step <= 60; step++) {
        sim_model_advance(m, T0 + (uint64_t)step * S_NS);
        double v = value(m, AREA_INPUT, 10);
        ck_assert_double_gt(v, last);
        ck_assert_double_lt(v, 180.0);
        last = v;
    }
    /* exactly first order: after 10 s (one tau) 63.2 % of the step */
    sim_model *one = new_model(5, 0.0, 16);
    write_ok(one, AREA_HOLDING, 6, 180.0, T0);
    sim_model_advance(one, T0 + 10 * S_NS);
    ck_assert_double_eq_tol(value(one, AREA_INPUT, 10), 80.0 + 100.0 * (1 - exp(-1.0)), 1e-6);
    sim_model_free(one);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_setpoints_and_readings_clamped_to_limits)
{
    sim_model *m = new_model(13, 1.0, 16);
    write_ok(m, AREA_HOLDING, 0, 900.0, T0); /* MFC max 500 */
    write_ok(m, AREA_HOLDING, 4, -5.0, T0);  /* chamber min 20 */
    ck_assert_double_eq(value(m, AREA_HOLDING, 0), 500.0);
    ck_assert_double_eq(value(m, AREA_HOLDING, 4), 20.0);
    /* MFC 2 sits at 0 sccm: noise would go negative half the time. */
    int at_limit = 0;
    for (int step = 1; step <= 200; step++) {
        sim_model_advance(m, T0 + 100 * S_NS + (uint64_t)step * S_NS);
        ck_assert_double_ge(value(m, AREA_INPUT, 2), 0.0);
        ck_assert_double_le(value(m, AREA_INPUT, 0), 500.0);
        at_limit += value(m, AREA_INPUT, 2) == 0.0;
    }
    ck_assert_int_ge(at_limit, 50);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_pump_running_follows_power_after_two_seconds)
{
    sim_model *m = new_model(1, 1.0, 16);
    write_ok(m, AREA_COIL, 10, 0, T0);
    sim_model_advance(m, T0 + 1900000000ull);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 1.0);
    sim_model_advance(m, T0 + 2 * S_NS);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 0.0);
    write_ok(m, AREA_COIL, 10, 1, T0 + 3 * S_NS);
    sim_model_advance(m, T0 + 4 * S_NS);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 0.0);
    sim_model_advance(m, T0 + 5 * S_NS);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 1.0);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_n2_ready_follows_power_after_five_seconds)
{
    sim_model *m = new_model(1, 1.0, 16);
    write_ok(m, AREA_COIL, 11, 0, T0);
    sim_model_advance(m, T0 + 4900000000ull);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 1), 1.0);
    sim_model_advance(m, T0 + 5 * S_NS);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 1), 0.0);
    /* a blip shorter than the delay never shows */
    write_ok(m, AREA_COIL, 11, 1, T0 + 6 * S_NS);
    write_ok(m, AREA_COIL, 11, 0, T0 + 8 * S_NS);
    sim_model_advance(m, T0 + 20 * S_NS);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 1), 0.0);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_pressure_follows_pump_flow_and_valves)
{
    sim_model *m = new_model(1, 0.0, 16);
    /* pumped, 100 sccm: 0.2 + 0.002 * 100 */
    sim_model_advance(m, T0 + S_NS);
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 4), 0.4, 1e-9);
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 6), 0.4 * 1.02, 1e-9);
    /* two open valves add 1 Torr; after 10 tau (3 s) the gauge is there */
    write_ok(m, AREA_COIL, 0, 1, T0 + S_NS);
    write_ok(m, AREA_COIL, 1, 1, T0 + S_NS);
    sim_model_advance(m, T0 + 4 * S_NS);
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 4), 1.4, 0.001);
    write_ok(m, AREA_COIL, 0, 0, T0 + 4 * S_NS);
    write_ok(m, AREA_COIL, 1, 0, T0 + 4 * S_NS);
    /* pump off: after its 2 s delay the chamber vents toward 760 Torr, tau 60 s */
    write_ok(m, AREA_COIL, 10, 0, T0 + 10 * S_NS);
    sim_model_advance(m, T0 + 72 * S_NS);
    double vented = value(m, AREA_INPUT, 4);
    ck_assert_double_gt(vented, 0.4 + 0.55 * 760);
    ck_assert_double_lt(vented, 0.4 + 0.70 * 760);
    sim_model_advance(m, T0 + 3600 * S_NS);
    ck_assert_double_eq_tol(value(m, AREA_INPUT, 4), 760.2, 0.5);
    ck_assert_double_le(value(m, AREA_INPUT, 6), 1000.0);
    sim_model_free(m);
}
END_TEST

/* ---- model: valve log and access rules ------------------------------------------ */

START_TEST(test_model_valve_transitions_recorded_in_order)
{
    sim_model *m = new_model(1, 1.0, 16);
    sim_valve_event ev;
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 0, 1, T0 + 10, &ev), SIM_TRANSITION);
    ck_assert_uint_eq(ev.mono_ns, T0 + 10);
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 3, 1, T0 + 20, NULL), SIM_TRANSITION);
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 0, 0, T0 + 30, NULL), SIM_TRANSITION);
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 0, 0, T0 + 40, NULL),
                     SIM_OK); /* no change */
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 10, 0, T0 + 50, NULL), SIM_OK); /* pump */

    sim_valve_event got[8];
    ck_assert_uint_eq(sim_model_valve_events(m, 0, 0, got, 8), 3);
    const struct {
        uint64_t t;
        uint16_t addr;
        int open;
    } want[] = {{T0 + 10, 0, 1}, {T0 + 20, 3, 1}, {T0 + 30, 0, 0}};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(got[i].seq, (uint64_t)i);
        ck_assert_uint_eq(got[i].mono_ns, want[i].t);
        ck_assert_uint_eq(got[i].addr, want[i].addr);
        ck_assert_int_eq(got[i].open, want[i].open);
    }
    ck_assert_uint_eq(sim_model_valve_events(m, T0 + 20, 0, got, 8), 2);
    ck_assert_uint_eq(got[0].mono_ns, T0 + 20);
    ck_assert_uint_eq(sim_model_valve_events(m, 0, 2, got, 8), 1);
    ck_assert_uint_eq(got[0].seq, 2);
    ck_assert_uint_eq(sim_model_valve_transitions(m), 3);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_valve_log_keeps_the_newest_when_full)
{
    sim_model *m = new_model(1, 1.0, 4);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(
            sim_model_write(m, AREA_COIL, 2, (i + 1) % 2, T0 + (uint64_t)i, NULL),
            SIM_TRANSITION);
    sim_valve_event got[10];
    ck_assert_uint_eq(sim_model_valve_events(m, 0, 0, got, 10), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(got[i].seq, (uint64_t)(6 + i));
    ck_assert_uint_eq(sim_model_valve_transitions(m), 10);
    sim_model_free(m);
}
END_TEST

START_TEST(test_model_refuses_writes_to_readings_and_unknown_channels)
{
    sim_model *m = new_model(1, 0.0, 16);
    ck_assert_int_eq(sim_model_write(m, AREA_INPUT, 0, 7.0, T0, NULL), SIM_READ_ONLY);
    ck_assert_int_eq(sim_model_write(m, AREA_DISCRETE_INPUT, 0, 0, T0, NULL), SIM_READ_ONLY);
    ck_assert_int_eq(sim_model_write(m, AREA_HOLDING, 1, 7.0, T0, NULL), SIM_NO_CHANNEL);
    ck_assert_int_eq(sim_model_write(m, AREA_COIL, 6, 1, T0, NULL), SIM_NO_CHANNEL);
    ck_assert_int_eq(sim_model_write(m, AREA_HOLDING, 0, NAN, T0, NULL), SIM_BAD_VALUE);
    double v;
    ck_assert_int_eq(sim_model_read(m, AREA_INPUT, 1, &v), SIM_NO_CHANNEL);
    ck_assert_double_eq(value(m, AREA_INPUT, 0), 100.0);
    ck_assert_double_eq(value(m, AREA_DISCRETE_INPUT, 0), 1.0);
    ck_assert_double_eq(value(m, AREA_HOLDING, 0), 100.0);
    sim_model_free(m);
}
END_TEST

typedef struct toggler {
    sim_model *m;
    uint16_t coil;
    int times;
} toggler;

static void *toggle_valve(void *arg)
{
    toggler *t = arg;
    for (int i = 0; i < t->times; i++)
        sim_model_write(t->m, AREA_COIL, t->coil, (i + 1) % 2, T0 + (uint64_t)i, NULL);
    return NULL;
}

START_TEST(test_model_concurrent_writers_lose_no_transition)
{
    enum { TIMES = 2000 };
    sim_model *m = new_model(1, 1.0, 2 * TIMES);
    toggler a = {m, 0, TIMES}, b = {m, 1, TIMES};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, toggle_valve, &a);
    pthread_create(&tb, NULL, toggle_valve, &b);
    for (int i = 0; i < 200; i++)
        sim_model_advance(m, T0 + (uint64_t)i);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_uint_eq(sim_model_valve_transitions(m), 2 * TIMES);
    sim_valve_event *got = calloc(2 * TIMES, sizeof *got);
    ck_assert_uint_eq(sim_model_valve_events(m, 0, 0, got, 2 * TIMES), 2 * TIMES);
    int expect_open[2] = {1, 1};
    uint64_t last_t = 0;
    for (int i = 0; i < 2 * TIMES; i++) {
        ck_assert_int_eq(got[i].open, expect_open[got[i].addr]); /* strict alternation */
        expect_open[got[i].addr] ^= 1;
        ck_assert_uint_ge(got[i].mono_ns, last_t); /* time never runs backwards */
        last_t = got[i].mono_ns;
    }
    free(got);
    sim_model_free(m);
}
END_TEST

/* ---- the plugin, through dlopen ----------------------------------------------- */

typedef struct loaded {
    void *dl;
    const ald_plugin_descriptor *desc;
    const ald_plc_vtable *vt;
} loaded;

static loaded load_plugin(void)
{
    const char *path = test_buildpath("plugins/plc-sim/.libs/plc-sim.so");
    loaded l = {dlopen(path, RTLD_NOW | RTLD_LOCAL), NULL, NULL};
    ck_assert_msg(l.dl != NULL, "dlopen %s: %s", path, dlerror());
    ald_plugin_entry_fn entry = (ald_plugin_entry_fn)dlsym(l.dl, ALD_PLUGIN_ENTRY_SYMBOL);
    ck_assert_ptr_nonnull(entry);
    l.desc = entry();
    l.vt = l.desc->vtable;
    return l;
}

/* A started instance with the given settings text. */
static void *new_instance(const loaded *l, const char *settings)
{
    char err[512] = "";
    void *inst = NULL;
    ald_status st = l->vt->create(test_host(), test_config(settings), &inst, err, sizeof err);
    ck_assert_msg(st == ALD_OK, "create: %s", err);
    ck_assert_int_eq(l->vt->start(inst), ALD_OK);
    return inst;
}

static ald_tag make_tag(const char *name, const char *rd, const char *wr, ald_data_type type)
{
    return (ald_tag){sizeof(ald_tag), name, rd, wr, type, ALD_ORDER_ABCD, 0.0, 0.0};
}

/* The whole demo tool as the engine's parameter map would describe it. */
static ald_tag demo_tags[] = {
    {sizeof(ald_tag), "valve1", "coil:0", "coil:0", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "valve2", "coil:1", "coil:1", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "valve3", "coil:2", "coil:2", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "valve4", "coil:3", "coil:3", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "valve5", "coil:4", "coil:4", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "valve6", "coil:5", "coil:5", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "mfc1", "ir:0", "hr:0", ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "mfc2", "ir:2", "hr:2", ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "gauge1", "ir:4", NULL, ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "gauge2", "ir:6", NULL, ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "chamber", "ir:8", "hr:4", ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "line", "ir:10", "hr:6", ALD_TYPE_F32, ALD_ORDER_ABCD, 0, 0},
    {sizeof(ald_tag), "pump_power", "coil:10", "coil:10", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "pump_running", "di:0", NULL, ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "n2_power", "coil:11", "coil:11", ALD_TYPE_BOOL, 0, 0, 0},
    {sizeof(ald_tag), "n2_ready", "di:1", NULL, ALD_TYPE_BOOL, 0, 0, 0},
};
#define DEMO_COUNT (sizeof demo_tags / sizeof demo_tags[0])

static ald_status set_demo_tags(const loaded *l, void *inst)
{
    const ald_tag *ptrs[DEMO_COUNT];
    for (size_t i = 0; i < DEMO_COUNT; i++)
        ptrs[i] = &demo_tags[i];
    return l->vt->set_tags(inst, ptrs, DEMO_COUNT);
}

static ald_status set_one_tag(const loaded *l, void *inst, ald_tag t)
{
    const ald_tag *ptr = &t;
    return l->vt->set_tags(inst, &ptr, 1);
}

START_TEST(test_plugin_descriptor_declares_plc_with_valve_log)
{
    loaded l = load_plugin();
    ck_assert_uint_eq(l.desc->magic, ALD_PLUGIN_MAGIC);
    ck_assert_uint_eq(l.desc->abi_major, ALD_ABI_MAJOR);
    ck_assert_str_eq(l.desc->name, "plc-sim");
    ck_assert_int_eq(l.desc->kind, ALD_PLUGIN_PLC);
    ck_assert_uint_eq(l.desc->capabilities, ALD_CAP_PLC_VALVE_LOG | ALD_CAP_PLC_THREAD_SAFE);
    ck_assert_ptr_nonnull(l.vt->valve_events);
    ck_assert_ptr_null(l.vt->pulse);
    /* only the entry function is exported */
    ck_assert_ptr_null(dlsym(l.dl, "sim_model_new"));
    ck_assert_ptr_null(dlsym(l.dl, "codec_parse_address"));
}
END_TEST

START_TEST(test_plugin_accepts_the_demo_tag_set)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 1;");
    ck_assert_int_eq(set_demo_tags(&l, inst), ALD_OK);
    ck_assert_str_eq(l.vt->last_error(inst), "");
    l.vt->stop(inst);
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_rejects_bad_tags_naming_tag_and_address)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 1;");
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("ghost", "hr:9", NULL, ALD_TYPE_F32)),
                     ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "ghost"));
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "hr:9"));
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("odd", "ir:1", NULL, ALD_TYPE_F32)),
                     ALD_ERR_INVALID); /* second word of a float */
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("typo", "input:0", NULL, ALD_TYPE_F32)),
                     ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "input:0"));
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("w", "ir:0", "hr:3", ALD_TYPE_F32)),
                     ALD_ERR_INVALID);
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("fv", "coil:0", "coil:0", ALD_TYPE_F32)),
                     ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "fv"));
    /* a failed set leaves the previous one in force */
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("ok", "ir:8", NULL, ALD_TYPE_F32)),
                     ALD_OK);
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("bad", "hr:99", NULL, ALD_TYPE_F32)),
                     ALD_ERR_INVALID);
    ald_tag_value out[1];
    ck_assert_int_eq(l.vt->read_all(inst, out, 1), ALD_OK);
    ck_assert_double_eq_tol(out[0].value, 150.0, 1.0);
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_read_all_returns_model_values)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 5;");
    ck_assert_int_eq(set_demo_tags(&l, inst), ALD_OK);
    ald_tag_value out[DEMO_COUNT];
    ck_assert_int_eq(l.vt->read_all(inst, out, DEMO_COUNT), ALD_OK);
    for (size_t i = 0; i < DEMO_COUNT; i++)
        ck_assert_int_eq(out[i].quality, ALD_OK);
    ck_assert_double_eq(out[0].value, 0.0);             /* valve 1 closed */
    ck_assert_double_eq_tol(out[6].value, 100.0, 2.0);  /* MFC 1 */
    ck_assert_double_eq_tol(out[8].value, 0.4, 0.05);   /* gauge 1 */
    ck_assert_double_eq_tol(out[10].value, 150.0, 1.0); /* chamber */
    ck_assert_double_eq_tol(out[11].value, 80.0, 1.0);  /* line */
    ck_assert_double_eq(out[12].value, 1.0);            /* pump power */
    ck_assert_double_eq(out[13].value, 1.0);            /* pump running */
    ck_assert_double_eq(out[15].value, 1.0);            /* N2 ready */
    ck_assert_int_eq(l.vt->read_all(inst, out, DEMO_COUNT - 1), ALD_ERR_INVALID);
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_applies_scale_offset_and_marks_unreadable_tags)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 5;");
    ald_tag scaled = make_tag("sp_doubled", "hr:4", "hr:4", ALD_TYPE_F32);
    scaled.scale = 2.0;
    scaled.offset = 1.0;
    ald_tag write_only = make_tag("sp_mfc2", NULL, "hr:2", ALD_TYPE_F32);
    const ald_tag *tags[] = {&scaled, &write_only};
    ck_assert_int_eq(l.vt->set_tags(inst, tags, 2), ALD_OK);
    ald_tag_value out[2];
    ck_assert_int_eq(l.vt->read_all(inst, out, 2), ALD_OK);
    ck_assert_double_eq(out[0].value, 150.0 * 2.0 + 1.0);
    ck_assert_int_eq(out[1].quality, ALD_ERR_UNSUPPORTED);
    /* writing the engineering value 401 sets the raw setpoint 200 */
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 401.0), ALD_OK);
    ck_assert_int_eq(l.vt->read_all(inst, out, 2), ALD_OK);
    ck_assert_double_eq(out[0].value, 401.0);
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_write_tag_sets_the_model)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 5;");
    ck_assert_int_eq(set_demo_tags(&l, inst), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 7, 250.0), ALD_OK); /* MFC 2 setpoint */
    ck_assert_int_eq(l.vt->write_tag(inst, 2, 1.0), ALD_OK);   /* valve 3 */
    ck_assert_int_eq(l.vt->write_tag(inst, 12, 0.0), ALD_OK);  /* pump off */
    size_t idx[] = {2, 12, 13};
    ald_tag_value out[3];
    ck_assert_int_eq(l.vt->read_tags(inst, idx, 3, out), ALD_OK);
    ck_assert_double_eq(out[0].value, 1.0);
    ck_assert_double_eq(out[1].value, 0.0);
    ck_assert_double_eq(out[2].value, 1.0); /* still running: 2 s delay */
    /* write_tag wrote the setpoint (hr:2); read it back with a tag on hr:2 */
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("sp", "hr:2", NULL, ALD_TYPE_F32)),
                     ALD_OK);
    ald_tag_value sp;
    ck_assert_int_eq(l.vt->read_all(inst, &sp, 1), ALD_OK);
    ck_assert_double_eq(sp.value, 250.0);
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_refuses_writes_to_read_only_addresses)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 5;");
    ald_tag ro = make_tag("reading", "ir:0", "ir:0", ALD_TYPE_F32);
    ald_tag di = make_tag("running", "di:0", "di:0", ALD_TYPE_BOOL);
    ald_tag no_write = make_tag("gauge", "ir:4", NULL, ALD_TYPE_F32);
    const ald_tag *tags[] = {&ro, &di, &no_write};
    ck_assert_int_eq(l.vt->set_tags(inst, tags, 3), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 5.0), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "read-only"));
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "ir:0"));
    ck_assert_int_eq(l.vt->write_tag(inst, 1, 0.0), ALD_ERR_INVALID);
    ck_assert_int_eq(l.vt->write_tag(inst, 2, 1.0), ALD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), "gauge"));
    ck_assert_int_eq(l.vt->write_tag(inst, 3, 1.0), ALD_ERR_INVALID); /* no such index */
    ald_tag_value out[3];
    ck_assert_int_eq(l.vt->read_all(inst, out, 3), ALD_OK);
    ck_assert_double_eq(out[1].value, 1.0); /* still running */
    l.vt->destroy(inst);
}
END_TEST

/* The executor's failed valve write and the logger's failed read run on two
 * threads at once; each must read the text of its own failure. */
typedef struct two_threads {
    const loaded *l;
    void *inst;
    pthread_barrier_t wrote, read;
    char seen[512];
} two_threads;

static void *failing_writer(void *arg)
{
    two_threads *t = arg;
    t->l->vt->write_tag(t->inst, 999, 1.0); /* fails: no such tag */
    pthread_barrier_wait(&t->wrote);
    pthread_barrier_wait(&t->read); /* the other thread failed meanwhile */
    snprintf(t->seen, sizeof t->seen, "%s", t->l->vt->last_error(t->inst));
    return NULL;
}

START_TEST(test_plugin_each_thread_reads_the_error_of_its_own_call)
{
    loaded l = load_plugin();
    two_threads t = {.l = &l, .inst = new_instance(&l, "seed = 5;")};
    ck_assert_int_eq(set_demo_tags(&l, t.inst), ALD_OK);
    pthread_barrier_init(&t.wrote, NULL, 2);
    pthread_barrier_init(&t.read, NULL, 2);
    pthread_t writer;
    ck_assert_int_eq(pthread_create(&writer, NULL, failing_writer, &t), 0);
    pthread_barrier_wait(&t.wrote);
    ald_tag_value out[1];
    ck_assert_int_eq(l.vt->read_all(t.inst, out, 1), ALD_ERR_INVALID); /* wrong count */
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(t.inst), "read_all"));
    pthread_barrier_wait(&t.read);
    pthread_join(writer, NULL);
    ck_assert_msg(strstr(t.seen, "write_tag: index 999"), "writer saw: %s", t.seen);
    pthread_barrier_destroy(&t.wrote);
    pthread_barrier_destroy(&t.read);
    l.vt->destroy(t.inst);
}
END_TEST

static void collect_event(void *ctx, const ald_valve_event *ev)
{
    char *log = ctx;
    char line[64];
    snprintf(line, sizeof line, "%s=%d;", ev->tag, ev->open);
    strcat(log, line);
}

START_TEST(test_plugin_valve_events_in_order)
{
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 5;");
    ck_assert_int_eq(set_demo_tags(&l, inst), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 1.0), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 4, 1.0), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 0.0), ALD_OK);
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 0.0), ALD_OK);  /* already closed */
    ck_assert_int_eq(l.vt->write_tag(inst, 12, 0.0), ALD_OK); /* not a valve */
    char log[256] = "";
    ck_assert_uint_eq(l.vt->valve_events(inst, 0, collect_event, log), 3);
    ck_assert_str_eq(log, "coil:0=1;coil:4=1;coil:0=0;");
    log[0] = '\0';
    ck_assert_uint_eq(l.vt->valve_events(inst, UINT64_MAX, collect_event, log), 0);
    ck_assert_str_eq(log, "");
    l.vt->destroy(inst);
}
END_TEST

START_TEST(test_plugin_disconnect_file_drops_and_restores_the_plc)
{
    loaded l = load_plugin();
    char path[600], settings[700];
    snprintf(path, sizeof path, "%s/unplugged", test_tmpdir("sim"));
    snprintf(settings, sizeof settings, "seed = 2; disconnect_file = \"%s\";", path);
    void *inst = new_instance(&l, settings);
    ck_assert_int_eq(set_demo_tags(&l, inst), ALD_OK);
    ck_assert_int_eq(l.vt->is_connected(inst), 1);

    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ald_tag_value out[DEMO_COUNT];
    ck_assert_int_eq(l.vt->is_connected(inst), 0);
    ck_assert_int_eq(l.vt->read_all(inst, out, DEMO_COUNT), ALD_ERR_DISCONNECTED);
    ck_assert_int_eq(out[6].quality, ALD_ERR_DISCONNECTED);
    ck_assert_ptr_nonnull(strstr(l.vt->last_error(inst), path));
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 1.0), ALD_ERR_DISCONNECTED);
    size_t idx = 0;
    ck_assert_int_eq(l.vt->read_tags(inst, &idx, 1, out), ALD_ERR_DISCONNECTED);
    l.vt->stop(inst);
    ck_assert_int_eq(l.vt->start(inst), ALD_ERR_DISCONNECTED);

    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(l.vt->is_connected(inst), 1);
    ck_assert_int_eq(l.vt->read_all(inst, out, DEMO_COUNT), ALD_OK);
    ck_assert_double_eq(out[0].value, 0.0); /* the refused write never happened */
    ck_assert_int_eq(l.vt->write_tag(inst, 0, 1.0), ALD_OK);
    l.vt->stop(inst);
    ck_assert_int_eq(l.vt->is_connected(inst), 0);
    l.vt->destroy(inst);
}
END_TEST

/* create() on a settings file, so errors can name file:line. */
static ald_status create_from_file(const loaded *l, const char *text, char *err, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/sim.conf", test_tmpdir("simconf"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    config_t cfg;
    config_init(&cfg);
    ck_assert_msg(config_read_file(&cfg, path), "%s", config_error_text(&cfg));
    void *inst = NULL;
    ald_status st = l->vt->create(test_host(), (const ald_config *)config_root_setting(&cfg),
                                  &inst, err, len);
    if (st == ALD_OK)
        l->vt->destroy(inst); /* before the config it may point into */
    config_destroy(&cfg);
    return st;
}

START_TEST(test_plugin_bad_settings_rejected_with_file_and_line)
{
    loaded l = load_plugin();
    char err[512];
    ck_assert_int_eq(create_from_file(&l, "# sim\n\nseed = \"abc\";\n", err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, "sim.conf:3: setting seed:") != NULL, "got: %s", err);
    ck_assert_int_eq(
        create_from_file(&l, "seed = 1;\nvalve_log_capacity = 0;\n", err, sizeof err),
        ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, "sim.conf:2: setting valve_log_capacity:") != NULL, "got: %s",
                  err);
    ck_assert_int_eq(create_from_file(&l, "disconnect_file = 5;\n", err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_msg(strstr(err, "sim.conf:1: setting disconnect_file:") != NULL, "got: %s",
                  err);
    ck_assert_int_eq(create_from_file(&l, "disconnect_file = \"\";\n", err, sizeof err),
                     ALD_ERR_INVALID);
    ck_assert_int_eq(
        create_from_file(&l, "seed = 9;\nvalve_log_capacity = 8;\n", err, sizeof err),
        ALD_OK);
}
END_TEST

START_TEST(test_plugin_accepts_an_int64_seed)
{
    /* libconfig writes seeds above 2^31 as int64 settings ("L" suffix). */
    loaded l = load_plugin();
    void *inst = new_instance(&l, "seed = 12345678901L;");
    ck_assert_int_eq(set_one_tag(&l, inst, make_tag("sp", "hr:6", NULL, ALD_TYPE_F32)),
                     ALD_OK);
    ald_tag_value v;
    ck_assert_int_eq(l.vt->read_all(inst, &v, 1), ALD_OK);
    ck_assert_double_eq(v.value, 80.0);
    l.vt->destroy(inst);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *model = tcase_create("model");
    tcase_add_test(model, test_model_same_seed_and_times_give_same_values);
    tcase_add_test(model, test_model_different_seed_gives_different_noise);
    tcase_add_test(model, test_model_noise_is_small_and_centred);
    tcase_add_test(model, test_model_advance_to_same_time_changes_nothing);
    tcase_add_test(model, test_model_initial_state_is_a_warm_tool);
    tcase_add_test(model, test_model_reading_within_two_percent_after_five_tau);
    tcase_add_test(model, test_model_noiseless_approach_is_monotone);
    tcase_add_test(model, test_model_setpoints_and_readings_clamped_to_limits);
    tcase_add_test(model, test_model_pump_running_follows_power_after_two_seconds);
    tcase_add_test(model, test_model_n2_ready_follows_power_after_five_seconds);
    tcase_add_test(model, test_model_pressure_follows_pump_flow_and_valves);
    tcase_add_test(model, test_model_valve_transitions_recorded_in_order);
    tcase_add_test(model, test_model_valve_log_keeps_the_newest_when_full);
    tcase_add_test(model, test_model_refuses_writes_to_readings_and_unknown_channels);
    tcase_add_test(model, test_model_concurrent_writers_lose_no_transition);
    suite_add_tcase(s, model);

    TCase *plugin = tcase_create("plugin");
    tcase_add_test(plugin, test_plugin_descriptor_declares_plc_with_valve_log);
    tcase_add_test(plugin, test_plugin_accepts_the_demo_tag_set);
    tcase_add_test(plugin, test_plugin_rejects_bad_tags_naming_tag_and_address);
    tcase_add_test(plugin, test_plugin_read_all_returns_model_values);
    tcase_add_test(plugin, test_plugin_applies_scale_offset_and_marks_unreadable_tags);
    tcase_add_test(plugin, test_plugin_write_tag_sets_the_model);
    tcase_add_test(plugin, test_plugin_refuses_writes_to_read_only_addresses);
    tcase_add_test(plugin, test_plugin_each_thread_reads_the_error_of_its_own_call);
    tcase_add_test(plugin, test_plugin_valve_events_in_order);
    tcase_add_test(plugin, test_plugin_disconnect_file_drops_and_restores_the_plc);
    tcase_add_test(plugin, test_plugin_bad_settings_rejected_with_file_and_line);
    tcase_add_test(plugin, test_plugin_accepts_an_int64_seed);
    suite_add_tcase(s, plugin);
    return s;
}

int main(void)
{
    return run_suite(sim_suite());
}
