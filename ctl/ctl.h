/*
 * ctl.h - what aldctl's files share: the invocation context (options, the
 * engine configuration, the storage instance), exit codes, and storage
 * helpers that copy rows out of the ABI's sink callbacks.
 *
 * aldctl reaches storage ONLY through the engine's storage port
 * (engine/ports/storage_port.h), configured exactly as ald-engine configures
 * it (conf.d + environment), so it works on whichever store the engine uses
 * and calls it under the same convention.
 *
 * ERRORS: helpers print nothing; they return -1 (or an exit code) with a
 * message in the caller's buffer that names the thing and what to do.
 */
#ifndef ALD_ALDCTL_CTL_H
#define ALD_ALDCTL_CTL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ports/plugin_instance.h"
#include "ports/storage_port.h"
#include "recipe.h"

/* Exit codes (docs/aldctl.md). */
#define CTL_EXIT_OK 0      /* done; a run completed; a file is valid */
#define CTL_EXIT_FAILED 1  /* the engine refused or the run failed/aborted; invalid file */
#define CTL_EXIT_USAGE 2   /* bad command line */
#define CTL_EXIT_STORE 3   /* configuration or storage unusable / lacks the operation */
#define CTL_EXIT_TIMEOUT 4 /* nobody took the command, or --timeout passed */

#define CTL_POLL_MS 200
#define CTL_ID_LEN 64
#define CTL_ERR_LEN 1024

typedef struct ctl {
    const char *config_dir;  /* --config; NULL = the engine's default */
    const char *machine_opt; /* --machine */
    const char *machine_id;  /* effective: --machine, else the engine config's */
    int json;                /* --json */
    double timeout_s;        /* --timeout; < 0 = the command's default */
    engine_config cfg;
    int cfg_loaded;
    plugin_instance store;
    int store_open;
} ctl;

/* ---- options every command takes (main.c) ---------------------------------------- */

enum { CTL_OPT_CONFIG = 1000, CTL_OPT_MACHINE, CTL_OPT_JSON, CTL_OPT_TIMEOUT };

#define CTL_COMMON_LONGOPTS                                                                  \
    {"config", required_argument, NULL, CTL_OPT_CONFIG},                                     \
        {"machine", required_argument, NULL, CTL_OPT_MACHINE},                               \
        {"json", no_argument, NULL, CTL_OPT_JSON},                                           \
        {"timeout", required_argument, NULL, CTL_OPT_TIMEOUT},                               \
    {                                                                                        \
        "help", no_argument, NULL, 'h'                                                       \
    }

/* Handle one getopt result that is a common option: 0 handled, 1 not a common
 * option, or an exit code (help printed = -1 meaning "exit 0", usage error = 2). */
int ctl_common_option(ctl *c, const char *command, int opt, const char *arg);
#define CTL_OPT_NOT_COMMON 1
#define CTL_OPT_EXIT_HELP (-1)

/* Print a command's help; usage errors print a one-line hint on stderr. */
void ctl_command_help(const char *command, FILE *out);
int ctl_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "aldctl: <message>" on stderr and return code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- configuration and storage (store.c) --------------------------------------------- */

/* Load conf.d like ald-engine (files, environment, validation, plugin defaults). */
int ctl_load_config(ctl *c, char *err, size_t errlen);
/* Load the configuration, then create and start the active storage instance. */
int ctl_open_store(ctl *c, char *err, size_t errlen);
void ctl_close(ctl *c);
/* The message for a storage port call's result: 0 for ALD_OK; for a missing
 * operation "this storage ('<instance>', plugin <name>) cannot <can_what>";
 * else "<doing>: <status>: <plugin's error text>". Returns -1 then. */
int ctl_store_result(ctl *c, ald_status st, const port_error *why, const char *can_what,
                     const char *doing, char *err, size_t errlen);

typedef struct ctl_command_row {
    int found;
    char status[32]; /* pending, processing, completed, error */
    char type[48];
    char error[1024];
} ctl_command_row;

typedef struct ctl_progress {
    int found;
    char step_type[32];
    char step_name[128];
    int64_t overall_step, total_steps, completed_steps;
    int64_t completed_cycles, total_cycles, loop_iteration, loop_count;
    int64_t last_updated_ms;
} ctl_progress;

int ctl_insert_command(ctl *c, const char *type, const char *params_json, char *id_out,
                       char *err, size_t errlen);
int ctl_get_command(ctl *c, const char *id, ctl_command_row *row, char *err, size_t errlen);
/* The machine row (storage_port_get_machine) with aldctl's messages. */
int ctl_get_machine(ctl *c, storage_machine *row, char *err, size_t errlen);
/* found = 0 (and 0 returned) when the store has no state row for the process yet. */
int ctl_get_progress(ctl *c, const char *process_id, ctl_progress *p, char *err,
                     size_t errlen);
/* The recipe id of an open process of this machine ("" when none is open). */
int ctl_open_process_recipe(ctl *c, const char *process_id, char *recipe_id, size_t len);

/* The machine's last finished run (when none is open): its process id,
 * recipe id and status ("" each when it has none, or the store cannot tell:
 * a 1.0 plugin). Returns -1 with err on a store failure. */
typedef struct ctl_last_run {
    char process_id[CTL_ID_LEN];
    char recipe_id[CTL_ID_LEN];
    char status[32];
} ctl_last_run;
int ctl_get_last_run(ctl *c, ctl_last_run *out, char *err, size_t errlen);

/* Find a recipe by exact id or exact name (ambiguous names are an error). */
int ctl_resolve_recipe(ctl *c, const char *text, char *id_out, size_t len, char *err,
                       size_t errlen);
/* Load and build a recipe by id. */
int ctl_load_recipe(ctl *c, const char *id, recipe *r, char *err, size_t errlen);

/* The machine's parameter map, copied. */
typedef struct ctl_param {
    char *id, *component, *name, *unit;
    int writable;
    double min, max;
} ctl_param;
typedef struct ctl_param_list {
    ctl_param *items;
    size_t count, cap;
    int oom;
} ctl_param_list;
int ctl_load_parameters(ctl *c, ctl_param_list *list, char *err, size_t errlen);
void ctl_param_list_free(ctl_param_list *list);

/* ---- waiting (wait.c) ------------------------------------------------------------------ */

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t ctl_now_ms(void);
void ctl_sleep_ms(int ms);
/* The deadline for a wait: --timeout, else default_s. */
int64_t ctl_deadline(const ctl *c, double default_s);
/* Poll until the command leaves "pending" (claimed) or the deadline; the
 * timeout message names the machine. Returns 0, or an exit code. */
int ctl_wait_claimed(ctl *c, const char *id, int64_t deadline, ctl_command_row *row,
                     char *err, size_t errlen);
/* Poll until the command is completed or error. 0 or an exit code. */
int ctl_wait_finished(ctl *c, const char *id, int64_t deadline, ctl_command_row *row,
                      char *err, size_t errlen);
/* Insert a command, wait for its outcome and report it: the usual path of
 * set / clear-error / stop. Prints `done` on success. Returns an exit code. */
int ctl_run_command(ctl *c, const char *type, const char *params_json, const char *done);

/* SIGINT/SIGTERM set a flag instead of killing us mid-redraw. */
void ctl_catch_interrupts(void);
int ctl_interrupted(void);

/* ---- commands (cmd_*.c) ------------------------------------------------------------------
 */

int cmd_recipes(ctl *c, int argc, char **argv);
int cmd_show(ctl *c, int argc, char **argv);
int cmd_import(ctl *c, int argc, char **argv);
int cmd_export(ctl *c, int argc, char **argv);
int cmd_validate(ctl *c, int argc, char **argv);
int cmd_start(ctl *c, int argc, char **argv);
int cmd_stop(ctl *c, int argc, char **argv);
int cmd_set(ctl *c, int argc, char **argv);
int cmd_clear_error(ctl *c, int argc, char **argv);
int cmd_status(ctl *c, int argc, char **argv);

/* Parse only the common options of a command that takes `positional`
 * arguments (their count); fills args. Returns 0 or an exit code (-1 = help shown). */
int ctl_parse_simple(ctl *c, const char *command, int argc, char **argv, int positional,
                     const char **args);

#endif
