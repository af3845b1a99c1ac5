/*
 * sim_model.h - the simulated ALD tool of docs/demo-tool.md: valves, two
 * MFCs, two pressure gauges, two heaters, a pump and an N2 generator, seen as
 * Modbus channels (area, 0-based address) holding engineering values.
 *
 * Shared by the in-process plugin (plc_sim.c) and the Modbus TCP server
 * (ald_plcsim.c), so both simulate exactly the same machine.
 *
 * TIME is never read here: every call that changes the model takes the
 * caller's CLOCK_MONOTONIC time in ns, so a model is deterministic for a seed
 * and a sequence of times (tests rely on this). A time earlier than the
 * model's last time is treated as "no time passed" (two threads may race to
 * the lock with slightly out-of-order clock readings).
 *
 * THREADING: every function is thread-safe (one mutex inside); the plugin's
 * recipe thread writes valves while its logger thread reads.
 *
 * ERRORS: functions that can fail return a negative sim_status; nothing is
 * logged here, callers turn the status into a message.
 */
#ifndef ALD_SIM_MODEL_H
#define ALD_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "modbus_codec.h"

typedef struct sim_model sim_model;

typedef enum sim_status {
    SIM_TRANSITION = 1,  /* write applied and a valve coil changed state */
    SIM_OK = 0,          /* applied (or read) */
    SIM_NO_CHANNEL = -1, /* nothing lives at that (area, address) */
    SIM_READ_ONLY = -2,  /* input registers and discrete inputs are readings */
    SIM_BAD_VALUE = -3,  /* NaN or infinite value */
    SIM_NO_MEMORY = -4
} sim_status;

/* Why a status failed, e.g. "read-only channel". */
const char *sim_status_text(sim_status status);

typedef enum sim_value_kind {
    SIM_KIND_BOOL = 0, /* 0 or 1: coils and discrete inputs */
    SIM_KIND_FLOAT = 1 /* a float32 on the wire: two registers */
} sim_value_kind;

/* A channel of the register map (static data, never freed). */
typedef struct sim_channel_info {
    modbus_area area;
    uint16_t addr;
    sim_value_kind kind;
    int writable; /* coils and holding registers */
    double min, max;
    const char *name; /* e.g. "MFC 1 flow_rate setpoint" */
} sim_channel_info;

/* The register map: *count entries, ordered by area then address. */
const sim_channel_info *sim_model_channels(size_t *count);
/* The channel at (area, addr), or NULL. */
const sim_channel_info *sim_model_channel(modbus_area area, uint16_t addr);

typedef struct sim_options {
    uint64_t seed;             /* PRNG seed; the same seed replays the same noise */
    double noise_scale;        /* multiplies every channel's noise; 1 = as documented,
                                  0 = noiseless (tests of the dynamics) */
    size_t valve_log_capacity; /* transitions kept; the oldest are overwritten; >= 1 */
} sim_options;

/* A tool in the documented initial state at time now_ns; NULL without memory.
 * Free with sim_model_free(). */
sim_model *sim_model_new(const sim_options *options, uint64_t now_ns);
void sim_model_free(sim_model *model);

/* Integrate the dynamics up to now_ns and draw fresh noise for the readings.
 * Calling it again with the same time changes nothing. */
void sim_model_advance(sim_model *model, uint64_t now_ns);

/* The current value of a channel (setpoints, readings, coil states), as of
 * the last advance. SIM_OK or SIM_NO_CHANNEL. */
sim_status sim_model_read(sim_model *model, modbus_area area, uint16_t addr, double *out);

/*
 * Advance to now_ns, then set a coil (value != 0 = on) or a holding register
 * (a setpoint, clamped to the channel's limits as the controller would).
 * Returns SIM_TRANSITION when a valve coil (0..5) changed state - the
 * transition is then recorded with now_ns and copied to *transition when that
 * is not NULL - SIM_OK when applied without a transition, or a negative
 * status: SIM_NO_CHANNEL, SIM_READ_ONLY (input registers, discrete inputs),
 * SIM_BAD_VALUE (NaN, infinite).
 */
typedef struct sim_valve_event {
    uint64_t seq;     /* 0, 1, 2 ... over the model's life */
    uint64_t mono_ns; /* CLOCK_MONOTONIC when the model applied it */
    uint16_t addr;    /* coil address 0..5 */
    int open;         /* 1 opened, 0 closed */
} sim_valve_event;

sim_status sim_model_write(sim_model *model, modbus_area area, uint16_t addr, double value,
                           uint64_t now_ns, sim_valve_event *transition);

/* The retained transitions with mono_ns >= since_ns and seq >= from_seq:
 * copies at most max of them, oldest first, into out and returns how many
 * matched (so out may be NULL with max 0 to count them). */
size_t sim_model_valve_events(sim_model *model, uint64_t since_ns, uint64_t from_seq,
                              sim_valve_event *out, size_t max);
/* Transitions recorded since creation (including ones overwritten since). */
uint64_t sim_model_valve_transitions(sim_model *model);

#endif
