/*
 * mb_read.c - one read cycle: run the plan on the logger connection, decode
 * each tag, fall back to per-tag reads for blocks the PLC refuses.
 */
#include <math.h>
#include <stdio.h>

#include "mb_instance.h"

ald_status mb_worse_status(ald_status a, ald_status b)
{
    /* Rank: a dead link hides everything, then timeouts, then the rest. */
    static const int rank[] = {
        [ALD_OK] = 0,           [ALD_ERR_UNSUPPORTED] = 1, [ALD_ERR_NOT_FOUND] = 1,
        [ALD_ERR_INVALID] = 2,  [ALD_ERR_PROTOCOL] = 3,    [ALD_ERR_TRANSIENT] = 3,
        [ALD_ERR_CONFLICT] = 3, [ALD_ERR_AUTH] = 3,        [ALD_ERR_IO] = 3,
        [ALD_ERR_TIMEOUT] = 4,  [ALD_ERR_DISCONNECTED] = 5, [ALD_ERR_NOMEM] = 6,
        [ALD_ERR_INTERNAL] = 6,
    };
    int ra = (unsigned)a <= ALD_ERR_INTERNAL ? rank[a] : 6;
    int rb = (unsigned)b <= ALD_ERR_INTERNAL ? rank[b] : 6;
    return rb > ra ? b : a;
}

/* Record a failed tag; the error text names it (and the exception, if any). */
static void tag_failed(mb_instance *in, size_t idx, ald_status st, int exc, size_t others)
{
    const mb_tag *t = &in->tags[idx];
    in->values[idx] = (ald_tag_value){NAN, st};
    if (exc != 0)
        mb_set_error(in, -1,
                     "plc-modbus: tag \"%s\" (%s:%u, function %02d) on %s: Modbus exception %d "
                     "(%s); check the tag's address and type",
                     t->name, codec_area_prefix(t->read_at.area), t->read_at.addr,
                     (int)in->items[idx].fn, in->set.device_label, exc, mb_exception_name(exc));
    else if (others > 0)
        mb_set_error(in, -1, "%s (tag \"%s\" and %zu more)", in->reader.error, t->name, others);
    else
        mb_set_error(in, -1, "%s (tag \"%s\")", in->reader.error, t->name);
}

/* Read one tag alone (per-tag fallback, read_tags). */
static ald_status read_one(mb_instance *in, size_t idx, unsigned *requests)
{
    const mb_read_item *item = &in->items[idx];
    int exc;
    ald_status st = mb_conn_read(&in->reader, item->fn, item->addr, item->count, in->scratch,
                                 &exc);
    *requests += 1;
    if (st == ALD_OK)
        in->values[idx] = (ald_tag_value){mb_tag_decode(&in->tags[idx], in->scratch), ALD_OK};
    else
        tag_failed(in, idx, st, exc, 0);
    return st;
}

static ald_status read_members_alone(mb_instance *in, const mb_block *b, unsigned *requests)
{
    ald_status worst = ALD_OK;
    for (size_t m = 0; m < b->member_count; m++)
        worst = mb_worse_status(worst, read_one(in, in->plan.members[b->first + m], requests));
    return worst;
}

static ald_status read_block(mb_instance *in, mb_block *b, unsigned *requests)
{
    if (b->per_tag)
        return read_members_alone(in, b, requests);
    int exc;
    ald_status st = mb_conn_read(&in->reader, b->fn, b->addr, b->count, in->scratch, &exc);
    *requests += 1;
    if (st == ALD_OK) {
        for (size_t m = 0; m < b->member_count; m++) {
            size_t idx = in->plan.members[b->first + m];
            const uint16_t *regs = in->scratch + (in->items[idx].addr - b->addr);
            in->values[idx] = (ald_tag_value){mb_tag_decode(&in->tags[idx], regs), ALD_OK};
        }
        return ALD_OK;
    }
    if (exc == MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS && b->member_count > 1) {
        /* A hole inside the merged range: remember it, so later cycles do not
         * send a request that is sure to fail. */
        b->per_tag = 1;
        in->host->log(in->host, ALD_LOG_WARNING,
                      "plc-modbus: %s refused the block read (function %02d) of %u at %u "
                      "(illegal data address); reading its %zu tags one by one from now on",
                      in->set.device_label, (int)b->fn, b->count, b->addr, b->member_count);
        return read_members_alone(in, b, requests);
    }
    for (size_t m = b->member_count; m-- > 0;) /* the error names the block's first tag */
        tag_failed(in, in->plan.members[b->first + m], st, exc, m == 0 ? b->member_count - 1 : 0);
    return st;
}

static ald_status check_running(mb_instance *in)
{
    if (atomic_load(&in->running))
        return ALD_OK;
    mb_set_error(in, -1, "plc-modbus: %s: not started (or stopped)", in->set.device_label);
    return ALD_ERR_DISCONNECTED;
}

/* Copy the cycle's values out; tags the caller did not ask for are dropped,
 * entries past the set are NOT_FOUND. */
static void copy_out(const mb_instance *in, ald_tag_value *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = i < in->tag_count ? in->values[i] : (ald_tag_value){NAN, ALD_ERR_NOT_FOUND};
}

ald_status mb_read_all(mb_instance *in, ald_tag_value *out, size_t count)
{
    pthread_mutex_lock(&in->read_lock);
    for (size_t i = 0; i < in->tag_count; i++)
        in->values[i] = (ald_tag_value){NAN, in->items[i].count ? ALD_ERR_DISCONNECTED
                                                                : ALD_ERR_UNSUPPORTED};
    ald_status worst = check_running(in);
    unsigned requests = 0;
    if (worst == ALD_OK) {
        /* A lost link ends the cycle: the remaining tags are already marked
         * disconnected, and their blocks would only overwrite the error text
         * of the request that actually failed. */
        for (size_t b = 0; b < in->plan.block_count && worst != ALD_ERR_DISCONNECTED; b++)
            worst = mb_worse_status(worst, read_block(in, &in->plan.blocks[b], &requests));
        if (in->set.close_after_cycle)
            mb_conn_close(&in->reader);
    }
    mb_metrics_cycle(&in->metrics, requests);
    copy_out(in, out, count);
    if (worst == ALD_OK)
        mb_clear_error(in);
    pthread_mutex_unlock(&in->read_lock);
    return worst;
}

ald_status mb_read_tags(mb_instance *in, const size_t *indexes, size_t n, ald_tag_value *out)
{
    pthread_mutex_lock(&in->read_lock);
    ald_status worst = check_running(in);
    unsigned requests = 0;
    for (size_t i = 0; i < n; i++) {
        size_t idx = indexes[i];
        if (idx >= in->tag_count || in->items[idx].count == 0) {
            out[i] = (ald_tag_value){NAN, idx >= in->tag_count ? ALD_ERR_NOT_FOUND
                                                               : ALD_ERR_UNSUPPORTED};
            mb_set_error(in, -1, "plc-modbus: read_tags: index %zu is %s", idx,
                         idx >= in->tag_count ? "not in the tag set" : "not readable");
            worst = mb_worse_status(worst, ALD_ERR_INVALID);
            continue;
        }
        ald_status st = worst == ALD_ERR_DISCONNECTED ? worst : read_one(in, idx, &requests);
        out[i] = st == ALD_OK ? in->values[idx] : (ald_tag_value){NAN, st};
        worst = mb_worse_status(worst, st);
    }
    if (in->set.close_after_cycle)
        mb_conn_close(&in->reader);
    pthread_mutex_unlock(&in->read_lock);
    return worst;
}
