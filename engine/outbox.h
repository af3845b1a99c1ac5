/*
 * outbox.h - store-and-forward: what the primary store cannot take lands in
 * the fallback store's durable outbox (SQLite, fsync'd per push) and is
 * replayed, oldest first, when the primary answers again.
 *
 * Mode switch, not per-write retries: after one failed write the primary is
 * "down" and every later batch goes straight to the outbox (so a dead or slow
 * primary never stalls the writer behind its timeouts, and order is kept).
 * The replay thread probes by replaying the oldest records; once the outbox
 * is empty the primary is "up" again and writes go direct. Replays are
 * idempotent (samples are inserted with ignore-duplicates on their natural
 * key), so a record replayed twice after a crash adds nothing.
 *
 * A replay round copies its records out of the fallback store and sends them
 * with the store released, so a slow primary (HTTP retries) never keeps the
 * writer from storing; a refused record ends the round, and only records
 * before it are acknowledged.
 *
 * Batched replay: when the primary has append_sample_batches (ABI 1.1), a
 * run of consecutive "samples" records goes in ONE call (one bulk upsert
 * over PostgREST, one transaction in SQLite), all or nothing, in order; other
 * records (run outcomes) keep their place between the runs. A 1.0 primary
 * is replayed one record per call, as before.
 */
#ifndef ALD_ENGINE_OUTBOX_H
#define ALD_ENGINE_OUTBOX_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ports/storage_port.h"

/* Records the first replay round copies out of the fallback store. Later
 * rounds size themselves from the largest record of the round before, so
 * that a round is one full group (below): about 75 records of 1000 tags or
 * 750 of 100 per request instead of 100 records in one and a half requests
 * (an hour of 100 tags: 6 round trips instead of 36). */
#define OUTBOX_REPLAY_BATCH 100
#define OUTBOX_REPLAY_MAX 2000 /* records of one round, at most */
/* Payload bytes of consecutive samples records replayed in ONE call of the
 * primary's append_sample_batches (about 75 records of 1000 tags). */
#define OUTBOX_GROUP_MAX_BYTES (4u * 1024u * 1024u)
#define OUTBOX_BACKOFF_MAX_MS 30000

/* Applies one replayed record to the primary (storage_port_replay). */
typedef ald_status (*outbox_apply_fn)(plugin_instance *store, const ald_outbox_record *r,
                                      port_error *err);

typedef struct outbox {
    plugin_instance *primary;
    plugin_instance *fallback; /* has the outbox operations */
    outbox_apply_fn apply;
    atomic_int primary_down;
    atomic_int push_failing; /* a failing push already said (one ERROR per episode) */
    pthread_t thread;
    int running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop_requested;
    unsigned backoff_ms;
    unsigned round_limit; /* records the next round copies out; 0 = OUTBOX_REPLAY_BATCH */
} outbox;

/* The outbox's metric families. Registered even without an outbox (they
 * then read 0), so dashboards and alerts see the same names everywhere.
 * Idempotent: the registry returns existing series and keeps one collector. */
void outbox_register_metrics(void);

/* NULL fallback or one without outbox operations: returns -1 (no outbox).
 * The replay thread hands each record to apply(primary, record). */
int outbox_start(outbox *o, plugin_instance *primary, plugin_instance *fallback,
                 outbox_apply_fn apply);
void outbox_stop(outbox *o);

/* Whether writes should go to the outbox now (the primary is down). */
int outbox_primary_down(outbox *o);
/* Mark the primary down after a failed write; wakes the replay thread. */
void outbox_mark_down(outbox *o, ald_status why);

/* Durably store a sample batch for replay. ALD_OK once fsync'd. */
ald_status outbox_store_samples(outbox *o, const ald_sample_batch *batch);

/* Durably store a run-outcome record for replay, in order with the samples:
 * kind "finish_process" {id, status, error, end_ms}, "machine_state"
 * {machine_id, status, process_id, operator_id, failure}, or "finish_command"
 * {id, status, error}; json is the payload text. ALD_OK once fsync'd. */
ald_status outbox_store_record(outbox *o, const char *kind, const char *json);

/* Encode/decode a batch (exposed for tests). encode returns malloc'd JSON. */
char *outbox_encode_samples(const ald_sample_batch *batch);
/* Decoded batch owns its strings; free with outbox_free_decoded. */
int outbox_decode_samples(const char *json, size_t len, ald_sample_batch *out);
void outbox_free_decoded(ald_sample_batch *b);

/* One replay round (tests): replays up to OUTBOX_REPLAY_BATCH records (the
 * first round; later ones as sized above).
 * Returns records replayed, or -1 when the primary refused. */
int outbox_replay_once(outbox *o);

#endif
