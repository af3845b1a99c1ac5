/*
 * sim_model.c - the simulated ALD tool (see sim_model.h and docs/demo-tool.md).
 *
 * Dynamics are integrated in substeps of at most SUBSTEP_NS so that the
 * coupled parts (pressure follows the flows, the pump delay gates the base
 * pressure) stay close to the continuous model however far apart the caller's
 * times are; each first-order part uses the exact exponential step. Noise is
 * drawn once per advance, on the readings only, so a reading never feeds
 * noise back into the dynamics.
 */
#include "sim_model.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#define NS_PER_S 1000000000.0
#define SUBSTEP_NS 100000000u /* 100 ms */

#define VALVE_COUNT 6
#define PUMP_DELAY_NS 2000000000u /* running follows power after 2 s */
#define N2_DELAY_NS 5000000000u   /* ready follows power after 5 s */

/* Pressure model constants (docs/demo-tool.md, "Pressure model"). */
#define P_BASE_PUMPED 0.2    /* Torr, pump running */
#define P_ATMOSPHERE 760.0   /* Torr, vented */
#define P_VENT_TAU_S 60.0    /* base rises toward atmosphere */
#define P_PER_SCCM 0.002     /* Torr per sccm of total MFC flow */
#define P_PER_OPEN_VALVE 0.5 /* Torr per open valve */
#define P_TAU_S 0.3          /* the gauge follows its target */
#define P_NOISE 0.001
#define P_FORELINE_FACTOR 1.02 /* gauge 2 = gauge 1 x 1.02 */
#define P_MIN 0.0
#define P_MAX 1000.0

/* Channel ids, in the order of the table below. */
enum channel_id {
    CH_VALVE1,
    CH_VALVE2,
    CH_VALVE3,
    CH_VALVE4,
    CH_VALVE5,
    CH_VALVE6,
    CH_PUMP_POWER,
    CH_N2_POWER,
    CH_PUMP_RUNNING,
    CH_N2_READY,
    CH_SP_MFC1,
    CH_SP_MFC2,
    CH_SP_CHAMBER,
    CH_SP_LINE,
    CH_FLOW_MFC1,
    CH_FLOW_MFC2,
    CH_PRESSURE1,
    CH_PRESSURE2,
    CH_T_CHAMBER,
    CH_T_LINE,
    CH_COUNT
};

static const sim_channel_info channels[CH_COUNT] = {
    [CH_VALVE1] = {AREA_COIL, 0, SIM_KIND_BOOL, 1, 0, 1, "Valve 1 valve_state"},
    [CH_VALVE2] = {AREA_COIL, 1, SIM_KIND_BOOL, 1, 0, 1, "Valve 2 valve_state"},
    [CH_VALVE3] = {AREA_COIL, 2, SIM_KIND_BOOL, 1, 0, 1, "Valve 3 valve_state"},
    [CH_VALVE4] = {AREA_COIL, 3, SIM_KIND_BOOL, 1, 0, 1, "Valve 4 valve_state"},
    [CH_VALVE5] = {AREA_COIL, 4, SIM_KIND_BOOL, 1, 0, 1, "Valve 5 valve_state"},
    [CH_VALVE6] = {AREA_COIL, 5, SIM_KIND_BOOL, 1, 0, 1, "Valve 6 valve_state"},
    [CH_PUMP_POWER] = {AREA_COIL, 10, SIM_KIND_BOOL, 1, 0, 1, "Pump power"},
    [CH_N2_POWER] = {AREA_COIL, 11, SIM_KIND_BOOL, 1, 0, 1, "N2 Generator power"},
    [CH_PUMP_RUNNING] = {AREA_DISCRETE_INPUT, 0, SIM_KIND_BOOL, 0, 0, 1, "Pump running"},
    [CH_N2_READY] = {AREA_DISCRETE_INPUT, 1, SIM_KIND_BOOL, 0, 0, 1, "N2 Generator ready"},
    [CH_SP_MFC1] = {AREA_HOLDING, 0, SIM_KIND_FLOAT, 1, 0, 500, "MFC 1 flow_rate setpoint"},
    [CH_SP_MFC2] = {AREA_HOLDING, 2, SIM_KIND_FLOAT, 1, 0, 500, "MFC 2 flow_rate setpoint"},
    [CH_SP_CHAMBER] = {AREA_HOLDING, 4, SIM_KIND_FLOAT, 1, 20, 400,
                       "Chamber Heater temperature setpoint"},
    [CH_SP_LINE] = {AREA_HOLDING, 6, SIM_KIND_FLOAT, 1, 20, 200,
                    "Line Heater temperature setpoint"},
    [CH_FLOW_MFC1] = {AREA_INPUT, 0, SIM_KIND_FLOAT, 0, 0, 500, "MFC 1 flow_rate"},
    [CH_FLOW_MFC2] = {AREA_INPUT, 2, SIM_KIND_FLOAT, 0, 0, 500, "MFC 2 flow_rate"},
    [CH_PRESSURE1] = {AREA_INPUT, 4, SIM_KIND_FLOAT, 0, P_MIN, P_MAX,
                      "Pressure Gauge 1 pressure"},
    [CH_PRESSURE2] = {AREA_INPUT, 6, SIM_KIND_FLOAT, 0, P_MIN, P_MAX,
                      "Pressure Gauge 2 pressure"},
    [CH_T_CHAMBER] = {AREA_INPUT, 8, SIM_KIND_FLOAT, 0, 20, 400,
                      "Chamber Heater temperature"},
    [CH_T_LINE] = {AREA_INPUT, 10, SIM_KIND_FLOAT, 0, 20, 200, "Line Heater temperature"},
};

/* A setpoint and the reading that approaches it in first order. */
typedef struct loop_spec {
    int setpoint_ch, reading_ch;
    double tau_s, noise, initial;
} loop_spec;

enum { LOOP_MFC1, LOOP_MFC2, LOOP_CHAMBER, LOOP_LINE, LOOP_COUNT };

static const loop_spec loop_specs[LOOP_COUNT] = {
    [LOOP_MFC1] = {CH_SP_MFC1, CH_FLOW_MFC1, 0.5, 0.2, 100.0},
    [LOOP_MFC2] = {CH_SP_MFC2, CH_FLOW_MFC2, 0.5, 0.2, 0.0},
    [LOOP_CHAMBER] = {CH_SP_CHAMBER, CH_T_CHAMBER, 20.0, 0.05, 150.0},
    [LOOP_LINE] = {CH_SP_LINE, CH_T_LINE, 10.0, 0.05, 80.0},
};

typedef struct loop_state {
    double setpoint;
    double state;   /* the noiseless physical value */
    double reading; /* state + noise, clamped: what a read returns */
} loop_state;

/* A binary output and the input that follows it after a delay. */
typedef struct delayed_switch {
    int power, ready;
    uint64_t changed_ns; /* when power last changed */
    uint64_t delay_ns;
} delayed_switch;

struct sim_model {
    pthread_mutex_t lock;
    uint64_t rng;
    double noise_scale;
    uint64_t now_ns;

    int valve[VALVE_COUNT];
    delayed_switch pump, n2;
    loop_state loops[LOOP_COUNT];
    double base_pressure, pressure; /* noiseless */
    double p1_reading, p2_reading;

    sim_valve_event *ring; /* valve transitions, oldest overwritten */
    size_t ring_capacity, ring_head, ring_count;
    uint64_t transitions;
};

const char *sim_status_text(sim_status status)
{
    switch (status) {
    case SIM_TRANSITION:
    case SIM_OK:
        return "ok";
    case SIM_NO_CHANNEL:
        return "no channel at this address in the demo tool map (docs/demo-tool.md)";
    case SIM_READ_ONLY:
        return "read-only channel (input register or discrete input)";
    case SIM_BAD_VALUE:
        return "value is not a finite number";
    case SIM_NO_MEMORY:
        return "out of memory";
    }
    return "unknown simulator status";
}

const sim_channel_info *sim_model_channels(size_t *count)
{
    *count = CH_COUNT;
    return channels;
}

static int channel_id(modbus_area area, uint16_t addr)
{
    for (int i = 0; i < CH_COUNT; i++)
        if (channels[i].area == area && channels[i].addr == addr)
            return i;
    return -1;
}

const sim_channel_info *sim_model_channel(modbus_area area, uint16_t addr)
{
    int id = channel_id(area, addr);
    return id < 0 ? NULL : &channels[id];
}

/* ---- randomness: splitmix64 and a Box-Muller normal -------------------- */

static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so log() below is finite. */
static double next_unit(uint64_t *state)
{
    return (double)((next_u64(state) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static double next_normal(uint64_t *state)
{
    double u1 = next_unit(state), u2 = next_unit(state);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Fraction of the remaining gap a first-order system closes in dt. */
static double approach(double dt_s, double tau_s)
{
    return 1.0 - exp(-dt_s / tau_s);
}

/* ---- lifecycle ----------------------------------------------------------- */

sim_model *sim_model_new(const sim_options *options, uint64_t now_ns)
{
    size_t capacity = options->valve_log_capacity ? options->valve_log_capacity : 1;
    sim_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ring = calloc(capacity, sizeof *m->ring);
    if (!m->ring || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->ring);
        free(m);
        return NULL;
    }
    m->ring_capacity = capacity;
    m->rng = options->seed;
    m->noise_scale = options->noise_scale;
    m->now_ns = now_ns;

    /* A warm tool: pump and N2 on and settled, readings at their setpoints. */
    m->pump = (delayed_switch){1, 1, now_ns, PUMP_DELAY_NS};
    m->n2 = (delayed_switch){1, 1, now_ns, N2_DELAY_NS};
    for (int i = 0; i < LOOP_COUNT; i++)
        m->loops[i] =
            (loop_state){loop_specs[i].initial, loop_specs[i].initial, loop_specs[i].initial};
    m->base_pressure = P_BASE_PUMPED;
    m->pressure =
        P_BASE_PUMPED + P_PER_SCCM * (m->loops[LOOP_MFC1].state + m->loops[LOOP_MFC2].state);
    m->p1_reading = m->pressure;
    m->p2_reading = clamp(m->pressure * P_FORELINE_FACTOR, P_MIN, P_MAX);
    return m;
}

void sim_model_free(sim_model *model)
{
    if (!model)
        return;
    pthread_mutex_destroy(&model->lock);
    free(model->ring);
    free(model);
}

/* ---- dynamics (called with the lock held) ---------------------------------- */

static void update_switch(delayed_switch *s, uint64_t t_ns)
{
    if (s->ready != s->power && t_ns - s->changed_ns >= s->delay_ns)
        s->ready = s->power;
}

static int open_valves(const sim_model *m)
{
    int n = 0;
    for (int i = 0; i < VALVE_COUNT; i++)
        n += m->valve[i];
    return n;
}

static void substep(sim_model *m, double dt_s, uint64_t t_end_ns)
{
    update_switch(&m->pump, t_end_ns);
    update_switch(&m->n2, t_end_ns);

    for (int i = 0; i < LOOP_COUNT; i++) {
        loop_state *l = &m->loops[i];
        l->state += (l->setpoint - l->state) * approach(dt_s, loop_specs[i].tau_s);
    }

    if (m->pump.ready)
        m->base_pressure = P_BASE_PUMPED;
    else
        m->base_pressure += (P_ATMOSPHERE - m->base_pressure) * approach(dt_s, P_VENT_TAU_S);
    double flow = m->loops[LOOP_MFC1].state + m->loops[LOOP_MFC2].state;
    double target = m->base_pressure + P_PER_SCCM * flow + P_PER_OPEN_VALVE * open_valves(m);
    m->pressure += (target - m->pressure) * approach(dt_s, P_TAU_S);
}

static void draw_readings(sim_model *m)
{
    for (int i = 0; i < LOOP_COUNT; i++) {
        const sim_channel_info *ch = &channels[loop_specs[i].reading_ch];
        double noise = loop_specs[i].noise * m->noise_scale * next_normal(&m->rng);
        m->loops[i].reading = clamp(m->loops[i].state + noise, ch->min, ch->max);
    }
    double noise = P_NOISE * m->noise_scale * next_normal(&m->rng);
    m->p1_reading = clamp(m->pressure + noise, P_MIN, P_MAX);
    m->p2_reading = clamp(m->p1_reading * P_FORELINE_FACTOR, P_MIN, P_MAX);
}

static void advance_locked(sim_model *m, uint64_t now_ns)
{
    if (now_ns <= m->now_ns)
        return;
    uint64_t span = now_ns - m->now_ns;
    uint64_t steps = (span + SUBSTEP_NS - 1) / SUBSTEP_NS;
    for (uint64_t i = 1; i <= steps; i++) {
        /* Equal substeps ending exactly at now_ns, so delays fire on time. */
        uint64_t t_end = m->now_ns + span * i / steps;
        uint64_t t_begin = m->now_ns + span * (i - 1) / steps;
        substep(m, (double)(t_end - t_begin) / NS_PER_S, t_end);
    }
    m->now_ns = now_ns;
    draw_readings(m);
}

void sim_model_advance(sim_model *model, uint64_t now_ns)
{
    pthread_mutex_lock(&model->lock);
    advance_locked(model, now_ns);
    pthread_mutex_unlock(&model->lock);
}

/* ---- reads and writes ---------------------------------------------------- */

static double value_locked(const sim_model *m, int id)
{
    if (id >= CH_VALVE1 && id <= CH_VALVE6)
        return m->valve[id - CH_VALVE1];
    for (int i = 0; i < LOOP_COUNT; i++) {
        if (id == loop_specs[i].setpoint_ch)
            return m->loops[i].setpoint;
        if (id == loop_specs[i].reading_ch)
            return m->loops[i].reading;
    }
    switch (id) {
    case CH_PUMP_POWER:
        return m->pump.power;
    case CH_N2_POWER:
        return m->n2.power;
    case CH_PUMP_RUNNING:
        return m->pump.ready;
    case CH_N2_READY:
        return m->n2.ready;
    case CH_PRESSURE1:
        return m->p1_reading;
    case CH_PRESSURE2:
        return m->p2_reading;
    default:
        return NAN; /* unreachable: every channel is handled above */
    }
}

sim_status sim_model_read(sim_model *model, modbus_area area, uint16_t addr, double *out)
{
    int id = channel_id(area, addr);
    if (id < 0)
        return SIM_NO_CHANNEL;
    pthread_mutex_lock(&model->lock);
    *out = value_locked(model, id);
    pthread_mutex_unlock(&model->lock);
    return SIM_OK;
}

static void record_transition(sim_model *m, uint16_t addr, int open, sim_valve_event *copy)
{
    sim_valve_event ev = {m->transitions++, m->now_ns, addr, open};
    m->ring[m->ring_head] = ev;
    m->ring_head = (m->ring_head + 1) % m->ring_capacity;
    if (m->ring_count < m->ring_capacity)
        m->ring_count++;
    if (copy)
        *copy = ev;
}

static void set_switch(sim_model *m, delayed_switch *s, int on)
{
    if (s->power != on) {
        s->power = on;
        s->changed_ns = m->now_ns;
    }
}

/* Apply a write to a writable channel; the lock is held, time advanced. */
static sim_status apply_locked(sim_model *m, int id, double value,
                               sim_valve_event *transition)
{
    int on = value != 0.0;
    if (id >= CH_VALVE1 && id <= CH_VALVE6) {
        int *valve = &m->valve[id - CH_VALVE1];
        if (*valve == on)
            return SIM_OK;
        *valve = on;
        record_transition(m, channels[id].addr, on, transition);
        return SIM_TRANSITION;
    }
    if (id == CH_PUMP_POWER) {
        set_switch(m, &m->pump, on);
        return SIM_OK;
    }
    if (id == CH_N2_POWER) {
        set_switch(m, &m->n2, on);
        return SIM_OK;
    }
    for (int i = 0; i < LOOP_COUNT; i++)
        if (id == loop_specs[i].setpoint_ch) {
            m->loops[i].setpoint = clamp(value, channels[id].min, channels[id].max);
            return SIM_OK;
        }
    return SIM_READ_ONLY; /* unreachable for a writable channel */
}

sim_status sim_model_write(sim_model *model, modbus_area area, uint16_t addr, double value,
                           uint64_t now_ns, sim_valve_event *transition)
{
    int id = channel_id(area, addr);
    if (id < 0)
        return SIM_NO_CHANNEL;
    if (!channels[id].writable)
        return SIM_READ_ONLY;
    if (!isfinite(value))
        return SIM_BAD_VALUE;
    pthread_mutex_lock(&model->lock);
    advance_locked(model, now_ns);
    sim_status status = apply_locked(model, id, value, transition);
    pthread_mutex_unlock(&model->lock);
    return status;
}

/* ---- the valve log ---------------------------------------------------- */

size_t sim_model_valve_events(sim_model *model, uint64_t since_ns, uint64_t from_seq,
                              sim_valve_event *out, size_t max)
{
    size_t matched = 0;
    pthread_mutex_lock(&model->lock);
    size_t oldest =
        (model->ring_head + model->ring_capacity - model->ring_count) % model->ring_capacity;
    for (size_t i = 0; i < model->ring_count; i++) {
        const sim_valve_event *ev = &model->ring[(oldest + i) % model->ring_capacity];
        if (ev->mono_ns < since_ns || ev->seq < from_seq)
            continue;
        if (matched < max)
            out[matched] = *ev;
        matched++;
    }
    pthread_mutex_unlock(&model->lock);
    return matched;
}

uint64_t sim_model_valve_transitions(sim_model *model)
{
    pthread_mutex_lock(&model->lock);
    uint64_t n = model->transitions;
    pthread_mutex_unlock(&model->lock);
    return n;
}
