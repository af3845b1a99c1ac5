/* storage_route.c - the storage port's routing between the primary store and
 * the fallback's outbox, and the one mapping from run-outcome records to
 * storage operations (see storage_port.h). */
#include "ports/storage_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "ports/plugin_instance.h"
#include "state.h"

/* Samples and live values in one critical section on the primary; live
 * values are best effort. *connected is the store's link state after it. */
static ald_status append_to_primary(plugin_instance *p, const ald_sample_batch *batch,
                                    const ald_parameter_value *live, size_t live_count,
                                    int *connected, port_error *err)
{
    const ald_storage_vtable *ops = storage_ops(p);
    if (!ops->append_samples)
        return plugin_call_unsupported(p, "append_samples", err);
    plugin_lock(p);
    ald_status st = batch->count ? ops->append_samples(p->inst, batch) : ALD_OK;
    if (st == ALD_OK && live_count && ops->update_parameter_values &&
        ops->update_parameter_values(p->inst, live, live_count) != ALD_OK)
        log_debug("writer", "live values not updated: %s", plugin_last_error(p));
    *connected = ops->is_connected ? ops->is_connected(p->inst) : st == ALD_OK;
    return plugin_call_done(p, PORT_OP_append_samples, st, err);
}

ald_status storage_port_store_samples(plugin_instance *primary, outbox *ob,
                                      const ald_sample_batch *batch,
                                      const ald_parameter_value *live, size_t live_count,
                                      port_error *err)
{
    if (outbox_primary_down(ob))
        return outbox_store_samples(ob, batch);
    int connected = 0;
    ald_status st = append_to_primary(primary, batch, live, live_count, &connected, err);
    if (st != ALD_OK && st != ALD_ERR_INVALID && ob) {
        /* push first, then mark down: the replayer treats "empty" as caught up */
        ald_status stored = outbox_store_samples(ob, batch);
        if (stored == ALD_OK)
            outbox_mark_down(ob, st);
        return stored;
    }
    if (st != ALD_OK)
        state_record_error("storing samples failed: %s: %s", ald_status_name(st),
                           port_error_text(err));
    atomic_store(&g_state.db_connected, connected);
    return st;
}

static const char *str_or_null(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

ald_status storage_port_apply_outcome(plugin_instance *store, const char *kind, json_t *js,
                                      port_error *err)
{
    if (!strcmp(kind, "finish_process")) {
        json_t *end = json_object_get(js, "end_ms");
        return storage_port_finish_process(
            store, str_or_null(js, "id"), str_or_null(js, "status"), str_or_null(js, "error"),
            json_is_integer(end) ? json_integer_value(end) : -1, err);
    }
    if (!strcmp(kind, "machine_state")) {
        ald_machine_update mu = {.struct_size = sizeof mu,
                                 .machine_id = str_or_null(js, "machine_id"),
                                 .status = str_or_null(js, "status"),
                                 .process_id = str_or_null(js, "process_id"),
                                 .operator_id = str_or_null(js, "operator_id"),
                                 .failure_description = str_or_null(js, "failure")};
        return storage_port_set_machine_state(store, &mu, err);
    }
    if (!strcmp(kind, "finish_command"))
        return storage_port_finish_command(store, str_or_null(js, "id"),
                                           str_or_null(js, "status"),
                                           str_or_null(js, "error"), err);
    return plugin_call_unsupported(store, kind, err);
}

outcome_route storage_port_record_outcome(plugin_instance *primary, outbox *ob,
                                          const char *kind, json_t *js, ald_status *why)
{
    ald_status st = ALD_ERR_DISCONNECTED;
    port_error err;
    if (!outbox_primary_down(ob)) {
        st = storage_port_apply_outcome(primary, kind, js, &err);
        if (st != ALD_OK && st != ALD_ERR_UNSUPPORTED)
            log_warning("executor", "%s not written: %s: %s", kind, ald_status_name(st),
                        err.text);
    }
    *why = st;
    if (st == ALD_OK || st == ALD_ERR_UNSUPPORTED)
        return OUTCOME_STORED;
    char *text = json_dumps(js, JSON_COMPACT);
    outcome_route route = OUTCOME_LOST;
    if (ob && text && outbox_store_record(ob, kind, text) == ALD_OK) {
        route = OUTCOME_KEPT;
        if (!outbox_primary_down(ob))
            outbox_mark_down(ob, st);
    }
    free(text);
    return route;
}

static ald_status invalid_record(const ald_outbox_record *r, port_error *err)
{
    snprintf(err->text, sizeof err->text, "outbox record %lld (%s) is not valid JSON",
             (long long)r->seq, r->kind);
    return ALD_ERR_INVALID;
}

ald_status storage_port_replay(plugin_instance *store, const ald_outbox_record *r,
                               port_error *err)
{
    if (!strcmp(r->kind, "samples")) {
        ald_sample_batch b;
        if (outbox_decode_samples(r->payload, r->payload_len, &b) != 0)
            return invalid_record(r, err);
        int connected;
        ald_status st = append_to_primary(store, &b, NULL, 0, &connected, err);
        outbox_free_decoded(&b);
        return st;
    }
    json_t *js = json_loadb(r->payload, r->payload_len, 0, NULL);
    if (!json_is_object(js)) {
        json_decref(js);
        return invalid_record(r, err);
    }
    ald_status st = storage_port_apply_outcome(store, r->kind, js, err);
    json_decref(js);
    return st;
}

static void free_decoded_batches(ald_sample_batch *decoded, const ald_sample_batch **ptrs,
                                 size_t count)
{
    for (size_t i = 0; i < count; i++)
        outbox_free_decoded(&decoded[i]);
    free(decoded);
    free(ptrs);
}

ald_status storage_port_replay_samples(plugin_instance *store,
                                       const ald_outbox_record *records, size_t count,
                                       port_error *err)
{
    if (!storage_ops(store)->append_sample_batches)
        return plugin_call_unsupported(store, "append_sample_batches", err);
    ald_sample_batch *decoded = calloc(count ? count : 1, sizeof *decoded);
    const ald_sample_batch **ptrs = calloc(count ? count : 1, sizeof *ptrs);
    if (!decoded || !ptrs) {
        free(decoded);
        free(ptrs);
        snprintf(err->text, sizeof err->text, "out of memory decoding %zu records", count);
        return ALD_ERR_NOMEM;
    }
    size_t n = 0;
    for (; n < count; n++) {
        const ald_outbox_record *r = &records[n];
        if (outbox_decode_samples(r->payload, r->payload_len, &decoded[n]) != 0) {
            free_decoded_batches(decoded, ptrs, n);
            return invalid_record(r, err);
        }
        ptrs[n] = &decoded[n];
    }
    plugin_lock(store);
    ald_status st = storage_ops(store)->append_sample_batches(store->inst, ptrs, count);
    st = plugin_call_done(store, PORT_OP_append_sample_batches, st, err);
    free_decoded_batches(decoded, ptrs, count);
    return st;
}
