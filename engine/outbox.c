/* outbox.c - store-and-forward to the fallback store (see outbox.h). */
#include "outbox.h"
#include "clock.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "state.h"
#include "thread_role.h"

static ald_metric *m_stored, *m_replayed, *m_depth, *m_oldest, *m_down, *m_failures;

/* ---- encoding ------------------------------------------------------------------ */

char *outbox_encode_samples(const ald_sample_batch *b)
{
    json_t *samples = json_array();
    for (size_t i = 0; i < b->count; i++) {
        const ald_sample *s = &b->samples[i];
        json_array_append_new(samples,
                              json_pack("[s, f, o]", s->parameter_id, s->value,
                                        isnan(s->set_point) ? json_null()
                                                            : json_real(s->set_point)));
    }
    json_t *root = json_pack("{s:I, s:s?, s:s?, s:o}", "t", (json_int_t)b->timestamp_ms, "m",
                             b->machine_id, "p", b->process_id, "s", samples);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

void outbox_free_decoded(ald_sample_batch *b)
{
    for (size_t i = 0; b->samples && i < b->count; i++)
        free((char *)b->samples[i].parameter_id);
    free((ald_sample *)b->samples);
    free((char *)b->machine_id);
    free((char *)b->process_id);
    memset(b, 0, sizeof *b);
}

static char *dup_json_string(json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

int outbox_decode_samples(const char *text, size_t len, ald_sample_batch *b)
{
    memset(b, 0, sizeof *b);
    json_t *root = json_loadb(text, len, 0, NULL);
    json_t *arr = root ? json_object_get(root, "s") : NULL;
    json_t *t = root ? json_object_get(root, "t") : NULL;
    if (!json_is_array(arr) || !json_is_integer(t)) {
        json_decref(root);
        return -1;
    }
    b->struct_size = sizeof *b;
    b->timestamp_ms = json_integer_value(t);
    b->machine_id = dup_json_string(json_object_get(root, "m"));
    b->process_id = dup_json_string(json_object_get(root, "p"));
    b->replay = 1;
    ald_sample *s = calloc(json_array_size(arr) + 1, sizeof *s);
    b->samples = s;
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        json_t *sp = json_array_get(item, 2);
        if (!s || !json_is_string(json_array_get(item, 0)) ||
            !json_is_number(json_array_get(item, 1))) {
            json_decref(root);
            outbox_free_decoded(b);
            return -1;
        }
        s[b->count++] = (ald_sample){dup_json_string(json_array_get(item, 0)),
                                     json_number_value(json_array_get(item, 1)),
                                     json_is_number(sp) ? json_number_value(sp) : NAN};
    }
    json_decref(root);
    return 0;
}

/* ---- storing ---------------------------------------------------------------------- */

int outbox_primary_down(outbox *o)
{
    return o && atomic_load(&o->primary_down);
}

void outbox_mark_down(outbox *o, ald_status why)
{
    if (!o || atomic_exchange(&o->primary_down, 1))
        return;
    metrics_set(m_down, 1);
    atomic_store(&g_state.db_connected, 0);
    log_warning("outbox",
                "primary store '%s' unavailable (%s): storing in '%s' until it "
                "answers again",
                port_instance_name(o->primary), ald_status_name(why),
                port_instance_name(o->fallback));
    pthread_mutex_lock(&o->lock);
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
}

/* Push one record durably; keeps the depth gauge current between replay
 * rounds (which may sleep in back-off for many seconds). */
static ald_status push_record(outbox *o, const char *kind, const char *payload,
                              int64_t created_ms)
{
    port_error why;
    ald_status st = storage_port_outbox_push(o->fallback, kind, payload, &why);
    /* One ERROR per episode (a full disk, a fallback that is not open), one
     * INFO when pushing works again: an outage of hours must not flood. */
    if (st != ALD_OK && !atomic_exchange(&o->push_failing, 1))
        log_error("outbox", "could not store a %s record durably in '%s': %s: %s (said once "
                  "until it works again)", kind, port_instance_name(o->fallback),
                  ald_status_name(st), why.text);
    if (st == ALD_OK && atomic_exchange(&o->push_failing, 0))
        log_info("outbox", "storing records in '%s' works again", port_instance_name(o->fallback));
    if (st == ALD_OK && atomic_fetch_add(&g_state.outbox_depth, 1) == 0)
        atomic_store(&g_state.outbox_oldest_ms, (uint64_t)created_ms);
    return st;
}

ald_status outbox_store_samples(outbox *o, const ald_sample_batch *batch)
{
    char *text = outbox_encode_samples(batch);
    if (!text)
        return ALD_ERR_NOMEM;
    ald_status st = push_record(o, "samples", text, batch->timestamp_ms);
    free(text);
    if (st == ALD_OK)
        metrics_add(m_stored, 1);
    return st;
}

/* ---- replaying ---------------------------------------------------------------------- */

/* A record copied out of the fallback store, so that the store is not held
 * while the primary takes its time (HTTP retries can last many seconds, and
 * the writer must keep storing into the outbox meanwhile). */
typedef struct held_record {
    int64_t seq;
    char *kind;
    char *payload;
    size_t payload_len;
} held_record;

typedef struct replay_round {
    outbox *o;
    held_record *records; /* limit of them */
    size_t limit;
    size_t count;
    size_t held_bytes, largest; /* payload bytes held; the largest record's */
    int copy_failed; /* out of memory: hold nothing after the gap */
    int64_t acked_upto;
    int replayed;
    int refused; /* the primary failed: stop this round */
    ald_status why;
    char why_text[PORT_ERROR_LEN];
} replay_round;

/* ---- run outcome records (finish_process, machine_state, finish_command) ---- */

ald_status outbox_store_record(outbox *o, const char *kind, const char *json)
{
    return push_record(o, kind, json, clock_realtime_ms());
}

/* The outbox_peek sink: copy the record; nothing is sent from inside the peek. */
static void hold_record(void *ctx, const ald_outbox_record *r)
{
    replay_round *round = ctx;
    if (round->copy_failed || round->count >= round->limit ||
        (round->count > 0 && round->held_bytes >= 2 * OUTBOX_GROUP_MAX_BYTES))
        return; /* the byte bound: records larger than the last round's */
    held_record *h = &round->records[round->count];
    h->seq = r->seq;
    h->kind = strdup(r->kind ? r->kind : "");
    h->payload = malloc(r->payload_len + 1);
    if (!h->kind || !h->payload) {
        free(h->kind);
        free(h->payload);
        round->copy_failed = 1; /* this round ends before the record */
        return;
    }
    memcpy(h->payload, r->payload, r->payload_len);
    h->payload[r->payload_len] = '\0';
    h->payload_len = r->payload_len;
    round->held_bytes += r->payload_len;
    if (r->payload_len > round->largest)
        round->largest = r->payload_len;
    round->count++;
}

static void release_records(replay_round *round)
{
    for (size_t i = 0; i < round->count; i++) {
        free(round->records[i].kind);
        free(round->records[i].payload);
    }
    round->count = 0;
}

/* One record; the callers stop at the first refusal (nothing after it may be
 * acknowledged, or the refused record would be lost). */
static void replay_record(replay_round *round, const ald_outbox_record *r)
{
    port_error err;
    ald_status st = round->o->apply(round->o->primary, r, &err);
    if (st == ALD_ERR_INVALID || st == ALD_ERR_UNSUPPORTED) {
        log_error("outbox", "record %lld (%s) cannot be replayed (%s); skipping it",
                  (long long)r->seq, r->kind, ald_status_name(st));
        round->acked_upto = r->seq;
    } else if (st == ALD_OK || st == ALD_ERR_CONFLICT || st == ALD_ERR_NOT_FOUND) {
        /* conflict = already applied; not found = a row the primary never had */
        round->acked_upto = r->seq;
        round->replayed++;
    } else {
        round->refused = 1;
        round->why = st;
        memcpy(round->why_text, err.text, sizeof round->why_text);
    }
}

static void update_gauges(outbox *o, int64_t *depth_out)
{
    int64_t depth = 0, oldest = 0;
    storage_port_outbox_stats(o->fallback, &depth, &oldest, NULL);
    atomic_store(&g_state.outbox_depth, (uint64_t)depth);
    atomic_store(&g_state.outbox_oldest_ms, depth > 0 && oldest > 0 ? (uint64_t)oldest : 0);
    *depth_out = depth;
}

/* Why the primary refused a replay: at once for the first, then once a
 * minute, so an operator can tell a 401 from a network outage. */
static void log_refusal(outbox *o, ald_status why, const char *text)
{
    static uint64_t last_ms;
    uint64_t now_ms = clock_mono_ms();
    if (last_ms && now_ms - last_ms < 60000u)
        return;
    last_ms = now_ms;
    log_warning("outbox", "replay refused by '%s': %s: %s (retrying with back-off)",
                port_instance_name(o->primary), ald_status_name(why), text);
}

/* Consecutive "samples" records from i that go to the primary in one call
 * (bounded in bytes, so one request stays a sensible size). */
static size_t samples_run(const ald_outbox_record *recs, size_t count, size_t i)
{
    size_t n = 0, bytes = 0;
    while (i + n < count && !strcmp(recs[i + n].kind, "samples") &&
           (n == 0 || bytes + recs[i + n].payload_len <= OUTBOX_GROUP_MAX_BYTES)) {
        bytes += recs[i + n].payload_len;
        n++;
    }
    return n;
}

/* Many samples records in one call, all or nothing. A record the batch
 * cannot carry (bad JSON, a batch the store calls invalid) sends the group
 * one by one instead, so only the bad record is named and skipped. */
static void replay_group(replay_round *round, const ald_outbox_record *recs, size_t n)
{
    port_error err; /* the caller stops at a refusal: no run starts after one */
    ald_status st = storage_port_replay_samples(round->o->primary, recs, n, &err);
    if (st == ALD_OK || st == ALD_ERR_CONFLICT) {
        round->acked_upto = recs[n - 1].seq;
        round->replayed += (int)n;
    } else if (st == ALD_ERR_INVALID || st == ALD_ERR_UNSUPPORTED) {
        log_warning("outbox", "records %lld..%lld could not be replayed together (%s); "
                    "replaying them one by one", (long long)recs[0].seq,
                    (long long)recs[n - 1].seq, err.text);
        for (size_t i = 0; i < n && !round->refused; i++)
            replay_record(round, &recs[i]);
    } else {
        round->refused = 1;
        round->why = st;
        memcpy(round->why_text, err.text, sizeof round->why_text);
    }
}

/* Replay the held records in order: runs of samples in one call each when
 * the primary has append_sample_batches, every other record on its own. */
static void replay_held(replay_round *round)
{
    ald_outbox_record *recs = calloc(round->count ? round->count : 1, sizeof *recs);
    if (!recs) {
        round->refused = 1; /* nothing sent, nothing acknowledged: retried */
        round->why = ALD_ERR_NOMEM;
        snprintf(round->why_text, sizeof round->why_text, "out of memory for %zu records",
                 round->count);
        return;
    }
    for (size_t i = 0; i < round->count; i++) {
        const held_record *h = &round->records[i];
        recs[i] = (ald_outbox_record){.struct_size = sizeof recs[i], .seq = h->seq,
                                      .kind = h->kind, .payload = h->payload,
                                      .payload_len = h->payload_len};
    }
    int batched = storage_port_has(round->o->primary, STORAGE_BATCHED_SAMPLES);
    for (size_t i = 0; i < round->count && !round->refused;) {
        size_t n = batched ? samples_run(recs, round->count, i) : 0;
        if (n > 1) {
            replay_group(round, &recs[i], n);
            i += n;
        } else {
            replay_record(round, &recs[i++]);
        }
    }
    free(recs);
}

/* Records the next round copies out: as many of the largest record seen as
 * fill one group, so each round is one request per table. */
static unsigned next_round_limit(const replay_round *round, unsigned current)
{
    if (round->count == 0 || round->largest == 0)
        return current;
    size_t n = OUTBOX_GROUP_MAX_BYTES / round->largest;
    return n < 1 ? 1 : n > OUTBOX_REPLAY_MAX ? OUTBOX_REPLAY_MAX : (unsigned)n;
}

/* Peek (fallback locked), replay in order (fallback NOT locked, so the
 * writer keeps storing), then acknowledge what the primary took. Records
 * only leave the outbox up to the first one the primary refused. */
int outbox_replay_once(outbox *o)
{
    unsigned limit = o->round_limit ? o->round_limit : OUTBOX_REPLAY_BATCH;
    replay_round round = {.o = o, .acked_upto = -1, .limit = limit};
    round.records = calloc(limit, sizeof *round.records);
    if (!round.records) {
        log_error("outbox", "out of memory for a replay round of %u records", limit);
        return -1;
    }
    port_error err;
    ald_status st = storage_port_outbox_peek(o->fallback, limit, hold_record, &round, &err);
    if (st != ALD_OK)
        log_error("outbox", "reading the outbox failed: %s", err.text);
    replay_held(&round);
    o->round_limit = next_round_limit(&round, limit);
    release_records(&round);
    free(round.records);
    if (round.acked_upto >= 0 &&
        storage_port_outbox_ack(o->fallback, round.acked_upto, &err) != ALD_OK)
        log_error("outbox", "acknowledging replayed records failed: %s", err.text);
    metrics_add(m_replayed, round.replayed);
    if (round.refused) {
        metrics_add(m_failures, 1);
        log_refusal(o, round.why, round.why_text);
        return -1;
    }
    return round.replayed;
}

/* The outbox is empty: writes may go to the primary directly again. */
static void mark_up(outbox *o)
{
    if (atomic_exchange(&o->primary_down, 0)) {
        metrics_set(m_down, 0);
        atomic_store(&g_state.db_connected, 1);
        log_info("outbox", "primary store '%s' is back; the outbox is drained",
                 port_instance_name(o->primary));
    }
}

/* Wait up to ms or until woken; 1 = stop. */
static int pause_ms(outbox *o, unsigned ms)
{
    struct timespec ts = clock_mono_deadline(ms);
    pthread_mutex_lock(&o->lock);
    if (!o->stop_requested)
        pthread_cond_timedwait(&o->wake, &o->lock, &ts);
    int stop = o->stop_requested;
    pthread_mutex_unlock(&o->lock);
    return stop;
}

static void *replay_main(void *arg)
{
    outbox *o = arg;
    thread_role_enter("ald-outbox", THREAD_BACKGROUND);
    unsigned wait = 1000;
    do {
        int64_t depth;
        update_gauges(o, &depth);
        if (depth == 0) {
            mark_up(o); /* writers push before they mark down, so empty = caught up */
            wait = 1000;
            continue;
        }
        int n = outbox_replay_once(o);
        if (n < 0) {
            wait = o->backoff_ms;
            o->backoff_ms = o->backoff_ms * 2 > OUTBOX_BACKOFF_MAX_MS ? OUTBOX_BACKOFF_MAX_MS
                                                                      : o->backoff_ms * 2;
        } else {
            o->backoff_ms = 500;
            wait = 0; /* keep draining */
        }
    } while (!pause_ms(o, wait));
    return NULL;
}

/* Collector: depth and oldest age from g_state at scrape time. */
static void collect_outbox(void *ctx)
{
    (void)ctx;
    uint64_t depth = atomic_load(&g_state.outbox_depth);
    uint64_t oldest = atomic_load(&g_state.outbox_oldest_ms);
    double now_ms = (double)clock_realtime_ms();
    metrics_set(m_depth, (double)depth);
    metrics_set(m_oldest, depth && oldest && now_ms > (double)oldest
                              ? (now_ms - (double)oldest) / 1000.0
                              : 0);
}

void outbox_register_metrics(void)
{
    m_stored = metrics_counter("ald_outbox_stored_total",
                               "Sample batches stored in the outbox while the primary was down",
                               NULL);
    m_replayed = metrics_counter("ald_outbox_replayed_total",
                                 "Outbox records replayed into the primary store", NULL);
    m_failures = metrics_counter("ald_outbox_replay_failures_total",
                                 "Replay rounds the primary refused", NULL);
    m_depth = metrics_gauge("ald_outbox_depth", "Records waiting in the outbox", NULL);
    m_oldest = metrics_gauge("ald_outbox_oldest_age_seconds",
                             "Age of the oldest record waiting in the outbox (0 when empty)",
                             NULL);
    m_down = metrics_gauge("ald_primary_store_down",
                           "1 while writes go to the outbox instead of the primary store", NULL);
    metrics_add_collector(collect_outbox, NULL);
}

int outbox_start(outbox *o, plugin_instance *primary, plugin_instance *fallback,
                 outbox_apply_fn apply)
{
    memset(o, 0, sizeof *o);
    if (!fallback || !storage_port_has(fallback, STORAGE_OUTBOX))
        return -1;
    o->primary = primary;
    o->fallback = fallback;
    o->apply = apply;
    o->backoff_ms = 500;
    outbox_register_metrics();
    pthread_mutex_init(&o->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&o->wake, &attr);
    pthread_condattr_destroy(&attr);
    /* Records left from before a restart are replayed first. */
    int64_t depth;
    update_gauges(o, &depth);
    if (depth > 0) {
        atomic_store(&o->primary_down, 1);
        metrics_set(m_down, 1);
        log_info("outbox", "%lld record(s) from an earlier outage wait to be replayed",
                 (long long)depth);
    }
    if (pthread_create(&o->thread, NULL, replay_main, o) != 0)
        return -1;
    o->running = 1;
    return 0;
}

void outbox_stop(outbox *o)
{
    if (!o->running)
        return;
    pthread_mutex_lock(&o->lock);
    o->stop_requested = 1;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    o->running = 0;
}
