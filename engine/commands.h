/*
 * commands.h - the command processor: polls recipe_commands and
 * parameter_control_commands for this machine (its id or NULL), claims each
 * with ONE compare-and-set, runs it and finishes it.
 *
 * It only works while this engine holds the machine's lease (engine_leases),
 * so a blue and a green engine never both drive one tool; the claim CAS makes
 * each command run exactly once even if they did. A running recipe never
 * blocks the queue: starts hand the recipe to the executor and return. Nor
 * does a starting one: the recipe is loaded and validated on the starter
 * thread (starter.h) through the loader instance, while this thread keeps
 * taking commands; a stop taken meanwhile cancels the start (its command
 * ends error "stopped by command X before the recipe started", no process is
 * created), a second start is refused, and only this thread begins the run,
 * after checking again what may have changed (shutdown, lease, owed valves,
 * readiness, a pending stop).
 * Stops and aborts are taken before any other pending command (the stores
 * fetch them first, and each batch runs them first); start and set commands
 * older than max_age_s are finished "expired: ..." without acting.
 */
#ifndef ALD_ENGINE_COMMANDS_H
#define ALD_ENGINE_COMMANDS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "executor.h"
#include "lease.h"
#include "ports/plc_port.h"
#include "ports/storage_port.h"
#include "starter.h"
#include "tagmap.h"

#define COMMANDS_POLL_MS 500
#define COMMANDS_BATCH 10
#define COMMANDS_START_WAIT_MS 60000 /* start_waits: a test's load that hangs fails */
#define LEASE_TTL_MS LEASE_DEFAULT_TTL_MS /* without a keeper (tests) */

typedef struct command_processor {
    plugin_instance *storage;
    plugin_instance *plc;
    const tagmap *tags;
    executor *exec;
    const char *machine_id;
    const ald_config *readiness; /* engine.readiness conditions, or NULL */
    char holder[96]; /* lease holder: host:pid */
    unsigned poll_ms;
    unsigned max_age_s; /* start/set commands older than this expire (command_age.h) */
    int lease_held; /* 1 held, 0 not held, -1 not asked yet */
    int orphans_checked; /* runs left by gone engines recovered in this lease term */
    ald_status lease_status; /* the last acquire_lease answer (logged once per change) */
    _Atomic uint64_t busy_since_ms; /* monotonic ms a dispatch began; 0 = idle */
    recipe_starter starter; /* the load of a start in hand (starter.h) */
    int starter_ready;      /* starter initialised (commands_init) */
    int start_waits;        /* 1: a start settles in the poll that took it (tests) */
    char start_operator[64]; /* operator of the start in hand ("" = none) */
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop_requested;
} command_processor;

/* Fill in a processor without starting its thread (tests drive
 * commands_poll_once themselves). Loads go through `storage` and a start
 * settles within the poll that took it (start_waits = 1); a test of the
 * starter itself sets start_waits = 0 and may point starter.loader at
 * another instance (commands_use_loader). */
void commands_init(command_processor *cp, plugin_instance *storage, plugin_instance *plc,
                   const tagmap *tags, executor *exec, const char *machine_id,
                   unsigned poll_ms);
void commands_use_loader(command_processor *cp, plugin_instance *loader);
/* commands_init, then the polling thread; recipes load through `loader`
 * (a second instance of the store, or `storage` itself) and no poll waits
 * for a load. */
int commands_start(command_processor *cp, plugin_instance *storage, plugin_instance *loader,
                   plugin_instance *plc, const tagmap *tags, executor *exec,
                   const char *machine_id, unsigned poll_ms, const ald_config *readiness,
                   unsigned max_age_s);
/* Stop the thread; a start still loading is cancelled (its command ends
 * error) and its load joined: it ends first, it never runs. */
void commands_stop(command_processor *cp);

/* One polling round (claim and run what is pending). Returns commands handled.
 * Exposed for tests. */
int commands_poll_once(command_processor *cp);

/* The parameters of a command row: NULL or "" is an empty object; text that
 * is not a JSON object is refused (NULL) with a message in err. The caller
 * releases the object with json_decref(). Pure; exposed for the fuzz harness. */
struct json_t;
struct json_t *commands_parse_params(const char *parameters_json, char *err, size_t len);

/* Close valves and fail runs left open by engines that are gone: every open
 * run of the machine not driven by this process (its owner, recorded at
 * creation as {"engine", "engine_instance"} in the process parameters, is a
 * crashed or stopped engine, or this engine's previous life). Called by the
 * lease holder only, after it took the lease and before it takes a command:
 * a standby never touches runs or the PLC. */
void commands_recover_orphans(plugin_instance *storage, plugin_instance *plc,
                              const tagmap *tags, const char *machine_id);

#endif
