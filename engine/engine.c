/* engine.c - start/stop order and periodic work (see engine.h). */
#include "engine.h"
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_id.h"
#include "log.h"
#include "procstat.h"
#include "realtime.h"
#include "state.h"

int engine_create_plugins(engine *e, const engine_config *cfg, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    tagmap_init(&e->tags);
    const plugin_conf *plc = config_active(cfg, ROLE_PLC);
    const plugin_conf *storage = config_active(cfg, ROLE_STORAGE);
    const plugin_conf *fallback = config_active(cfg, ROLE_FALLBACK);
    if (!plc || !storage) {
        snprintf(err, errlen, "no active %s instance configured in %s",
                 plc ? "storage" : "plc", cfg->config_dir);
        return -1;
    }
    if (plugin_instance_create(&e->storage, storage, cfg->plugin_dir, err, errlen) != 0)
        return -1;
    if (fallback) {
        if (plugin_instance_create(&e->fallback, fallback, cfg->plugin_dir, err, errlen) != 0)
            return -1;
        e->have_fallback = 1;
    }
    if (sink_set_create(&e->sinks, cfg, err, errlen) != 0)
        return -1;
    return plugin_instance_create(&e->plc, plc, cfg->plugin_dir, err, errlen);
}

/* While loading from the primary, keep deep copies of the rows so the
 * fallback can cache them (it serves them when the primary is down at start). */
typedef struct map_capture {
    tagmap *tags;
    ald_parameter *rows;
    size_t count, capacity;
} map_capture;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void capture_parameter(void *ctx, const ald_parameter *p)
{
    map_capture *c = ctx;
    tagmap_add_parameter(c->tags, p);
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? c->capacity * 2 : 64;
        ald_parameter *rows = realloc(c->rows, cap * sizeof *rows);
        if (!rows)
            return; /* caching is best effort; the map itself is complete */
        c->rows = rows;
        c->capacity = cap;
    }
    ald_parameter *d = &c->rows[c->count++];
    *d = *p;
    d->id = dup_or_null(p->id);
    d->component_id = dup_or_null(p->component_id);
    d->component_name = dup_or_null(p->component_name);
    d->name = dup_or_null(p->name);
    d->unit = dup_or_null(p->unit);
    d->data_type = dup_or_null(p->data_type);
    d->read_type = dup_or_null(p->read_type);
    d->write_type = dup_or_null(p->write_type);
}

static void free_capture(map_capture *c)
{
    for (size_t i = 0; i < c->count; i++) {
        ald_parameter *p = &c->rows[i];
        free((char *)p->id);
        free((char *)p->component_id);
        free((char *)p->component_name);
        free((char *)p->name);
        free((char *)p->unit);
        free((char *)p->data_type);
        free((char *)p->read_type);
        free((char *)p->write_type);
    }
    free(c->rows);
}

/* Read the machine's parameter map from one store. */
static ald_status load_map_from(engine *e, plugin_instance *store, map_capture *capture)
{
    tagmap_free(&e->tags);
    port_error why;
    ald_status st = capture
                        ? storage_port_load_parameters(store, e->cfg->machine_id,
                                                       capture_parameter, capture, &why)
                        : storage_port_load_parameters(store, e->cfg->machine_id,
                                                       tagmap_add_parameter, &e->tags, &why);
    if (st != ALD_OK && st != ALD_ERR_UNSUPPORTED)
        log_warning("engine", "loading the parameter map from '%s' failed: %s: %s",
                    store->name, ald_status_name(st), why.text);
    return st;
}

/* Give the fallback the map the primary just served. */
static void cache_map(engine *e, map_capture *c)
{
    if (!storage_port_has(&e->fallback, STORAGE_PARAMETER_CACHE) || c->count == 0)
        return;
    const ald_parameter **ptrs = malloc(c->count * sizeof *ptrs);
    if (!ptrs)
        return;
    for (size_t i = 0; i < c->count; i++)
        ptrs[i] = &c->rows[i];
    port_error why;
    if (storage_port_save_parameters(&e->fallback, e->cfg->machine_id, ptrs, c->count,
                                     &why) != ALD_OK)
        log_warning("engine", "could not cache the parameter map in '%s': %s",
                    e->fallback.name, why.text);
    free(ptrs);
}

/* The primary store's map, or the fallback's cached copy when it is down. */
static int load_parameter_map(engine *e, char *err, size_t errlen)
{
    map_capture capture = {.tags = &e->tags};
    ald_status st = load_map_from(e, &e->storage, e->have_fallback ? &capture : NULL);
    if (st == ALD_OK && e->have_fallback)
        cache_map(e, &capture);
    free_capture(&capture);
    if (st != ALD_OK && e->have_fallback) {
        log_warning("engine", "using the parameter map cached in '%s'", e->fallback.name);
        st = load_map_from(e, &e->fallback, NULL);
    }
    if (st != ALD_OK || tagmap_finish(&e->tags) != 0) {
        snprintf(err, errlen, "cannot load the parameter map of machine %s: %s",
                 e->cfg->machine_id, ald_status_name(st));
        return -1;
    }
    if (e->tags.error[0])
        log_warning("engine", "parameter map: %s", e->tags.error);
    if (e->tags.skipped)
        log_warning("engine", "%zu parameter(s) have no usable Modbus address and are not "
                    "logged", e->tags.skipped);
    if (e->tags.tag_count == 0)
        log_warning("engine", "machine %s has no readable parameters: nothing to log",
                    e->cfg->machine_id);
    log_info("engine", "parameter map: %zu parameters, %zu PLC tags", e->tags.param_count,
             e->tags.tag_count);
    atomic_store(&g_state.tag_count, e->tags.tag_count);
    return 0;
}

static int configure_plc(engine *e, char *err, size_t errlen)
{
    port_error why;
    if (plc_port_set_tags(&e->plc, &e->tags, &why) != ALD_OK) {
        snprintf(err, errlen, "PLC instance '%s' refused the tag map: %s", e->plc.name,
                 why.text);
        return -1;
    }
    plugin_instance_start(&e->plc); /* not connected yet is fine: it retries */
    return 0;
}

/* Open the fallback store. One that does not open keeps nothing during an
 * outage of the primary: said as an ERROR (health says it too, health.h),
 * retried from engine_housekeeping, and its return said as an INFO. */
static void open_fallback(engine *e, uint64_t now)
{
    int first = !atomic_load(&g_state.fallback_configured);
    atomic_store(&g_state.fallback_configured, 1);
    int open = plugin_instance_start(&e->fallback) == ALD_OK;
    atomic_store(&g_state.fallback_open, open);
    if (open && !first)
        log_info("engine", "fallback store '%s' is open now: samples the primary store "
                 "cannot take are kept there again", e->fallback.name);
    else if (!open && first)
        log_error("engine", "fallback store '%s' is not open: until it opens, samples the "
                  "primary store '%s' cannot take are NOT kept (retrying after %d s, then "
                  "less often)",
                  e->fallback.name, e->storage.name, ENGINE_FALLBACK_RETRY_S);
    e->fallback_retry_s = first ? ENGINE_FALLBACK_RETRY_S
                          : e->fallback_retry_s * 2 > ENGINE_FALLBACK_RETRY_MAX_S
                              ? ENGINE_FALLBACK_RETRY_MAX_S
                              : e->fallback_retry_s * 2;
    e->next_fallback_retry_ns = now + e->fallback_retry_s * 1000000000ull;
}

/* A second instance of the active store, for recipe loads only (the
 * starter thread, starter.h): a long load then never holds the lock the
 * command thread, the writer and the lease keeper take on the primary. Made
 * only once the primary started: the primary did any first-start work
 * (SQLite: migrations, the demo seed, moving a corrupt file aside), so the
 * second finds the file ready and does none of it, and what the plugin says
 * at start (Supabase: the schema check) is said once, by the primary.
 * Without it, loads use the primary (as before: the lock is held while one
 * loads), said in a warning. */
static void open_loader(engine *e)
{
    const plugin_conf *conf = config_active(e->cfg, ROLE_STORAGE);
    char err[768];
    if (!storage_port_has(&e->storage, STORAGE_COMMANDS))
        return; /* no commands, no starts */
    if (plugin_instance_create_second(&e->loader, conf, "loader", e->cfg->plugin_dir, err,
                                      sizeof err) != 0) {
        log_warning("engine", "no recipe loader instance (%s): recipes load through '%s', "
                    "which is busy meanwhile", err, e->storage.name);
        return;
    }
    e->have_loader = 1;
    if (plugin_instance_start(&e->loader) != ALD_OK)
        log_warning("engine", "recipe loader instance '%s' did not start: recipes load "
                    "through it anyway (its calls retry as the primary's do)", e->loader.name);
    plugin_instance_set_quiet(&e->loader, 0);
    log_info("engine", "recipes load through instance '%s' (a second instance of '%s'): a "
             "long load never holds up commands", e->loader.name, e->storage.name);
}

int engine_start(engine *e, char *err, size_t errlen)
{
    ald_status st = plugin_instance_start(&e->storage);
    atomic_store(&g_state.db_connected, st == ALD_OK);
    if (st == ALD_OK || !(e->storage.lib.desc.capabilities & ALD_CAP_STORAGE_LOCAL))
        open_loader(e); /* a remote store that did not start is an outage: both retry */
    else
        log_warning("engine", "storage '%s' did not start: no second instance for recipe "
                    "loads (it would repeat the first one's start on the same file); they "
                    "go through '%s' itself", e->storage.name, e->storage.name);
    if (e->have_fallback)
        open_fallback(e, clock_mono_ns());
    if (load_parameter_map(e, err, errlen) != 0 || configure_plc(e, err, errlen) != 0)
        return -1;
    if (valve_guard_start(&e->guard, &e->plc, &e->tags) != 0) {
        snprintf(err, errlen, "cannot start the valve guard thread (out of memory?)");
        return -1;
    }
    outbox_register_metrics();
    if (e->have_fallback &&
        outbox_start(&e->ob, &e->storage, &e->fallback, storage_port_replay) == 0)
        e->have_outbox = 1;
    else if (e->have_fallback)
        log_warning("engine", "fallback '%s' has no outbox: samples the primary cannot take "
                    "are retried in memory only", e->fallback.name);
    const engine_runtime *rt = &e->cfg->runtime;
    engine_id_claim(e->cfg->data_dir ? e->cfg->data_dir : config_default_data_dir());
    if (lease_start(&e->lease, &e->storage, &e->plc, e->cfg->machine_id, rt->lease_ttl_ms,
                    rt->lease_renew_ms) != 0) {
        snprintf(err, errlen, "cannot start the lease keeper thread (out of memory?)");
        return -1;
    }
    if (sink_set_start(&e->sinks, e->cfg->machine_id, err, errlen) != 0)
        return -1;
    realtime_configure(rt->executor_rt_priority); /* before any recipe thread */
    executor_set_start_clears_error(rt->start_clears_error);
    if (batchq_init(&e->queue, ENGINE_QUEUE_BATCHES, e->tags.tag_count) != 0 ||
        writer_start(&e->writer, &e->storage, &e->tags, &e->queue, e->cfg->machine_id,
                     e->have_outbox ? &e->ob : NULL) != 0 ||
        logger_start(&e->logger, &e->plc, &e->tags, &e->queue,
                     (uint64_t)(e->cfg->logging_interval_s * 1e9)) != 0 ||
        executor_init(&e->exec, &e->plc, &e->storage, &e->tags, &e->writer,
                      e->cfg->machine_id, e->have_outbox ? &e->ob : NULL) != 0 ||
        (e->exec_ready = 1,
         commands_start(&e->commands, &e->storage, e->have_loader ? &e->loader : NULL,
                        &e->plc, &e->tags, &e->exec,
                        e->cfg->machine_id, COMMANDS_POLL_MS, e->cfg->readiness,
                        e->cfg->command_max_age_s) != 0)) {
        snprintf(err, errlen, "cannot start the engine threads (out of memory?)");
        return -1;
    }
    e->next_status_ns = g_state.start_mono_ns + (uint64_t)e->cfg->status_log_interval_s * 1000000000u;
    atomic_store(&g_state.started, 1);
    log_info("engine", "logging %zu tags every %.3f s for machine %s", e->tags.tag_count,
             e->cfg->logging_interval_s, e->cfg->machine_id);
    return 0;
}

static void log_status_line(void)
{
    procstat ps = {0};
    procstat_read(&ps);
    log_info("status", "plc %s, database %s, %" PRIuFAST64 " tags, cycles %" PRIuFAST64
             " (late %" PRIuFAST64 "), queue %" PRIuFAST64 ", errors plc %" PRIuFAST64
             " logging %" PRIuFAST64 ", memory %.1f MB, uptime %.0f s",
             atomic_load(&g_state.plc_connected) ? "connected" : "DISCONNECTED",
             atomic_load(&g_state.db_connected) ? "connected" : "DISCONNECTED",
             atomic_load(&g_state.tag_count), atomic_load(&g_state.cycles_total),
             atomic_load(&g_state.late_cycles_total), atomic_load(&g_state.writer_queue_depth),
             atomic_load(&g_state.plc_errors_total), atomic_load(&g_state.logging_errors_total),
             ps.resident_mb, state_uptime_seconds());
}

static void report_health(engine *e)
{
    if (!storage_port_has(&e->storage, STORAGE_HEALTH))
        return;
    int connected = atomic_load(&g_state.plc_connected);
    int64_t now = clock_realtime_ms();
    if (connected)
        e->plc_last_connected_ms = now;
    char plc_error[STATE_ERROR_LEN] = "";
    ald_health_report r = {.struct_size = sizeof r,
                           .machine_id = e->cfg->machine_id,
                           .plc_connected = connected,
                           .plc_last_check_ms = now,
                           .plc_last_connected_ms = e->plc_last_connected_ms
                                                        ? e->plc_last_connected_ms : -1,
                           /* each failed cycle is one attempt to reach the PLC (the
                            * plugin reconnects on the next read) */
                           .plc_reconnect_attempts = (int64_t)atomic_load(&g_state.plc_errors_total),
                           .plc_error = NULL};
    if (!connected) {
        plc_port_error_text(&e->plc, plc_error, sizeof plc_error);
        r.plc_error = plc_error;
    }
    port_error why;
    ald_status st = storage_port_write_health(&e->storage, &r, &why);
    if (st != ALD_OK)
        log_debug("engine", "machine_health not written: %s: %s", ald_status_name(st),
                  why.text);
}

void engine_housekeeping(engine *e, uint64_t now)
{
    if (e->cfg->status_log_interval_s > 0 && now >= e->next_status_ns) {
        log_status_line();
        e->next_status_ns = now + (uint64_t)e->cfg->status_log_interval_s * 1000000000u;
    }
    if (e->have_fallback && !atomic_load(&g_state.fallback_open) &&
        now >= e->next_fallback_retry_ns)
        open_fallback(e, now);
    if (now >= e->next_health_ns) {
        report_health(e);
        e->next_health_ns = now + ENGINE_HEALTH_REPORT_S * 1000000000ull;
    }
}

int engine_is_alive(const engine *e, uint64_t now)
{
    uint64_t interval = g_state.logging_interval_ns ? g_state.logging_interval_ns : 1000000000u;
    uint64_t last = atomic_load(&g_state.last_cycle_mono_ns);
    uint64_t since = last ? last : g_state.start_mono_ns;
    /* the logger's stall rule (health.h), with the start-up grace before cycle 1 */
    uint64_t limit = ENGINE_ALIVE_INTERVALS * interval + (last ? 0 : 5000000000ull);
    int logger_ok = atomic_load(&g_state.logging_running) && now - since <= limit;
    int executor_ok = !e->exec_ready ||
                      executor_is_alive(&e->exec, now, ENGINE_ALIVE_INTERVALS * 1000000000ull);
    return logger_ok && executor_ok;
}

void engine_stop(engine *e)
{
    atomic_store(&g_state.stopping, 1);
    commands_stop(&e->commands); /* joins the starter: nothing loads after this */
    if (e->have_loader)
        plugin_instance_destroy(&e->loader);
    e->have_loader = 0;
    if (e->exec_ready)
        executor_shutdown(&e->exec); /* aborts a run: valves close before we go on */
    e->exec_ready = 0;
    valve_guard_stop(&e->guard);
    logger_stop(&e->logger);
    writer_stop(&e->writer);
    sink_set_destroy(&e->sinks); /* after the writer: nothing more is offered */
    lease_stop(&e->lease); /* after the drain: the successor starts where we end */
    engine_id_release();
    if (e->have_outbox)
        outbox_stop(&e->ob);
    e->have_outbox = 0;
    if (e->queue.slots)
        batchq_destroy(&e->queue);
    plugin_instance_destroy(&e->plc);
    if (e->have_fallback)
        plugin_instance_destroy(&e->fallback);
    plugin_instance_destroy(&e->storage);
    tagmap_free(&e->tags);
}
