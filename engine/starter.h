/*
 * starter.h - the slow part of a recipe start (read the recipe, build and
 * validate it, check it against the machine's tag map) on a thread of its
 * own, so the command thread keeps taking commands while a huge recipe
 * loads (issue 9, item 8: "a recipe start never blocks command intake").
 *
 * The read goes through `loader`: in the engine a second instance of the
 * active storage plugin used for nothing else (engine.c), so a long read
 * never holds the lock the command thread, the writer and the lease keeper
 * take on the primary instance. Tests may pass the primary itself.
 *
 * One start at a time. The command processor begins a load, may cancel it
 * (a stop came in: the result is discarded when the load ends), and takes
 * the result once the load is done; only the command processor begins the
 * run, so a cancelled or shut-down start never runs. The recipe's snapshot
 * (the JSON the process row keeps) is made here too: for a huge recipe it
 * takes as long as the read, and the command thread must not spend it.
 */
#ifndef ALD_ENGINE_STARTER_H
#define ALD_ENGINE_STARTER_H

#include <pthread.h>

#include "ports/port.h"
#include "recipe.h"
#include "tagmap.h"

#define STARTER_ERR_LEN 600

typedef enum starter_phase {
    STARTER_IDLE,    /* nothing begun, or the last result taken */
    STARTER_LOADING, /* the thread reads and validates */
    STARTER_DONE     /* a result waits for starter_take */
} starter_phase;

typedef struct recipe_starter {
    plugin_instance *loader;
    const tagmap *tags;
    void (*notify)(void *ctx); /* called when a load ends (wakes the command thread) */
    void *notify_ctx;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    int joinable;
    starter_phase phase;
    int cancelled;
    char command_id[64];
    char recipe_id[128];
    recipe rc;      /* the built recipe when ok */
    char *snapshot; /* recipe_snapshot_json(&rc) when ok */
    int ok;     /* 1 = rc is built and checked; 0 = err says why not */
    char err[STARTER_ERR_LEN];
} recipe_starter;

void starter_init(recipe_starter *s, plugin_instance *loader, const tagmap *tags);
/* Joins a load still running (it cannot be interrupted: it ends first) and
 * frees what it left. */
void starter_destroy(recipe_starter *s);

/* Begin loading `recipe_id` for command `command_id`. -1 when a start is
 * already in hand (err says which) or the thread cannot be created. */
int starter_begin(recipe_starter *s, const char *command_id, const char *recipe_id, char *err,
                  size_t len);
/* The command in hand (loading, done, or cancelled but still loading);
 * "" when idle. Returns 1 when one is in hand. */
int starter_in_hand(recipe_starter *s, char *command_id, size_t len);
/* Whether the start in hand was cancelled (its command already finished). */
int starter_cancelled(recipe_starter *s);
/* Discard the start in hand: its result will never be handed out. 1 = its
 * load was still running, 0 = it had ended (or nothing was in hand). */
int starter_cancel(recipe_starter *s);

/* A finished load: 1 = rc built and checked and its snapshot made (the
 * caller owns both; free() the snapshot), -1 = err says why not, 0 =
 * nothing to take (still loading, or idle). A cancelled start's result is
 * freed here and 0 returned. Back to idle after 1 or -1. */
int starter_take(recipe_starter *s, recipe *rc, char **snapshot, char *command_id,
                 size_t id_len, char *err, size_t len);
/* Wait (at most limit_ms) until the load in hand ends. 0 when it did. */
int starter_wait(recipe_starter *s, unsigned limit_ms);

#endif
