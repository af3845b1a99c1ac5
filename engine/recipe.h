/*
 * recipe.h - a recipe as the executor runs it: a validated tree of steps.
 *
 * Built from recipe_steps rows (+ *_step_config rows, falling back to the
 * legacy inline `parameters` JSON) by recipe_build(), which is the ONE
 * validator: the engine uses it before a run, aldctl before an import. Every
 * error names the step (its position, name and id) and says what is wrong.
 */
#ifndef ALD_ENGINE_RECIPE_H
#define ALD_ENGINE_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "ald/storage.h"

/* Bounds that catch typos and corrupt rows, not real process limits. */
#define RECIPE_MAX_VALVE_MS 60000        /* a 60 s pulse is no pulse */
#define RECIPE_MAX_WAIT_MS 86400000      /* 24 h: purges, holds, waits */
#define RECIPE_MAX_ITERATIONS 1000000    /* per loop */
#define RECIPE_MAX_DEPTH 16              /* loop nesting */
#define RECIPE_MAX_TOTAL_STEPS 100000000 /* executed leaf steps in a run */

typedef enum step_kind {
    STEP_VALVE,
    STEP_PURGE,
    STEP_SET_PARAMETER,
    STEP_LOOP,
    STEP_WAIT
} step_kind;

typedef enum wait_op { WAIT_GE, WAIT_LE, WAIT_GT, WAIT_LT, WAIT_EQ } wait_op;

typedef struct recipe_step {
    step_kind kind;
    char *id;
    char *name;
    int64_t sequence_number;
    int64_t duration_ms;   /* valve pulse, purge, set-parameter hold, wait timeout */
    int valve_number;      /* valve */
    char *gas_type;        /* purge */
    double flow_rate;      /* purge; NaN = unset */
    char *parameter_id;    /* set parameter, wait */
    double target_value;   /* set parameter target, wait threshold */
    wait_op op;            /* wait */
    int64_t iterations;    /* loop */
    struct recipe_step *children; /* loop body, in sequence order */
    size_t child_count;
    int64_t leaf_count;    /* executed leaf steps of one pass of this step */
} recipe_step;

typedef struct recipe {
    char *id;
    char *name;
    char *description;
    int64_t version;
    double chamber_temperature_set_point; /* NaN = unset */
    double pressure_set_point;            /* NaN = unset */
    recipe_step *steps;                   /* top level, in sequence order */
    size_t step_count;
    char **parameter_names;
    char **parameter_values;
    size_t parameter_count;
    int64_t total_steps;  /* leaf steps executed by a whole run */
    int64_t total_cycles; /* iterations of the top-level loops */
    double nominal_ms;    /* sum of all timed durations of a run */
} recipe;

/* Collects rows from a storage read; then recipe_build() turns them into a tree. */
typedef struct recipe_rows {
    ald_recipe_info info;
    int have_info;
    ald_recipe_step *steps; /* deep copies */
    size_t count, capacity;
    char **param_names, **param_values;
    size_t param_count, param_capacity;
    int oom;
} recipe_rows;

void recipe_rows_init(recipe_rows *rows);
void recipe_rows_free(recipe_rows *rows);
/* An ald_recipe_reader whose callbacks copy into rows. */
ald_recipe_reader recipe_rows_reader(recipe_rows *rows);

/* Validate and build. 0, or -1 with a message naming the step. */
int recipe_build(recipe *r, const recipe_rows *rows, char *err, size_t errlen);
void recipe_free(recipe *r);

/* Parse a step type as stored ("valve", "purge", "loop", "set parameter",
 * "parameter", "set_parameter", "wait"); -1 if unknown. */
int recipe_step_kind(const char *type);
const char *recipe_step_kind_name(step_kind kind); /* "valve", "purge", "set parameter", ... */

/* ">=", "<=", ">", "<", "==" -> wait_op. 0 or -1. */
int recipe_parse_wait_op(const char *text, wait_op *op);
/* Whether value `v` satisfies `op target` (== with a relative tolerance). */
int recipe_condition_holds(wait_op op, double v, double target);


#endif
