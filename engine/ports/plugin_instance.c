/* plugin_instance.c - lifecycle of configured plugin instances (see plugin_instance.h). */
#include "ports/plugin_instance.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "pulse_trace.h"
#include "ports/host_services.h"
#include "ports/settings_use.h"

static ald_plugin_kind kind_of_role(plugin_role role)
{
    return role == ROLE_PLC ? ALD_PLUGIN_PLC : ALD_PLUGIN_STORAGE; /* storage, fallback, sink */
}

static int wants_serialising(const loaded_plugin *lib)
{
    uint64_t safe_bit = lib->desc.kind == ALD_PLUGIN_PLC ? ALD_CAP_PLC_THREAD_SAFE
                                                          : ALD_CAP_STORAGE_THREAD_SAFE;
    return (lib->desc.capabilities & safe_bit) == 0;
}

/* Calls the plugin's create(); both vtable kinds share its signature. */
static ald_status call_create(plugin_instance *pi, const plugin_conf *conf, char *msg,
                              size_t len)
{
    if (pi->lib.desc.kind == ALD_PLUGIN_PLC)
        return plc_ops(pi)->create(pi->host, conf->settings, &pi->inst, msg, len);
    return storage_ops(pi)->create(pi->host, conf->settings, &pi->inst, msg, len);
}

static void destroy_created(plugin_instance *pi)
{
    if (pi->lib.desc.kind == ALD_PLUGIN_PLC)
        plc_ops(pi)->destroy(pi->inst);
    else
        storage_ops(pi)->destroy(pi->inst);
    pi->inst = NULL;
}

/* create(), then refuse settings the plugin did not read (unknown settings
 * are errors: a misspelt key must not silently keep a default). */
static ald_status create_strict(plugin_instance *pi, const plugin_conf *conf, char *msg,
                                size_t len)
{
    settings_use use;
    settings_use_begin(&use, conf->settings);
    ald_status st = call_create(pi, conf, msg, len);
    settings_use_end();
    if (st == ALD_OK && settings_use_check(&use, msg, len) != 0) {
        destroy_created(pi);
        st = ALD_ERR_INVALID;
    }
    settings_use_free(&use);
    return st;
}

/* Create one instance of conf under `name`; quiet: host_set_quiet from the start. */
static int create_named(plugin_instance *pi, const plugin_conf *conf, const char *name,
                        int quiet, const char *plugin_dir, char *err, size_t errlen)
{
    memset(pi, 0, sizeof *pi);
    snprintf(pi->name, sizeof pi->name, "%s", name);
    pi->role = conf->role;
    pthread_mutex_init(&pi->lock, NULL);
    pthread_mutex_init(&pi->control_lock, NULL);

    char path[1024], why[768];
    if (loader_resolve(conf->plugin, plugin_dir, path, sizeof path, why, sizeof why) != 0 ||
        loader_open(path, kind_of_role(conf->role), &pi->lib, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: instance '%s': %s", conf->where, conf->name, why);
        return -1;
    }
    pi->serialise = wants_serialising(&pi->lib);
    pi->host = host_new(pi->name);
    host_set_quiet(pi->host, quiet);
    char msg[512] = "";
    ald_status st = create_strict(pi, conf, msg, sizeof msg);
    if (st != ALD_OK) {
        snprintf(err, errlen, "instance '%s' (%s, declared at %s) rejected its settings: %s",
                 conf->name, pi->lib.desc.name, conf->where,
                 msg[0] ? msg : ald_status_name(st));
        host_free(pi->host);
        loader_close(&pi->lib);
        pi->host = NULL;
        return -1;
    }
    log_debug("plugins", "instance '%s': %s %s from %s", pi->name, pi->lib.desc.name,
              pi->lib.desc.version, pi->lib.path);
    return 0;
}

int plugin_instance_create(plugin_instance *pi, const plugin_conf *conf,
                           const char *plugin_dir, char *err, size_t errlen)
{
    return create_named(pi, conf, conf->name, 0, plugin_dir, err, errlen);
}

int plugin_instance_create_second(plugin_instance *pi, const plugin_conf *conf,
                                  const char *suffix, const char *plugin_dir, char *err,
                                  size_t errlen)
{
    char name[sizeof pi->name];
    snprintf(name, sizeof name, "%.40s:%.20s", conf->name, suffix);
    return create_named(pi, conf, name, 1, plugin_dir, err, errlen);
}

void plugin_instance_set_quiet(plugin_instance *pi, int quiet)
{
    host_set_quiet(pi->host, quiet);
}

ald_status plugin_instance_start(plugin_instance *pi)
{
    ald_status (*start)(void *) = pi->lib.desc.kind == ALD_PLUGIN_PLC ? plc_ops(pi)->start
                                                                       : storage_ops(pi)->start;
    ald_status st = ALD_OK;
    plugin_lock(pi);
    if (start)
        st = start(pi->inst);
    if (st != ALD_OK)
        log_warning("plugins", "instance '%s' did not start: %s: %s", pi->name,
                    ald_status_name(st), plugin_last_error(pi));
    pi->started = 1; /* stop() is idempotent, so always pair it */
    plugin_unlock(pi);
    return st;
}

void plugin_instance_destroy(plugin_instance *pi)
{
    if (!pi->inst && !pi->lib.handle)
        return;
    int plc = pi->lib.desc.kind == ALD_PLUGIN_PLC;
    void (*stop)(void *) = plc ? plc_ops(pi)->stop : storage_ops(pi)->stop;
    void (*destroy)(void *) = plc ? plc_ops(pi)->destroy : storage_ops(pi)->destroy;
    plugin_lock(pi);
    if (pi->started && stop)
        stop(pi->inst);
    if (pi->inst)
        destroy(pi->inst);
    pi->inst = NULL;
    plugin_unlock(pi);
    host_free(pi->host);
    pi->host = NULL;
    loader_close(&pi->lib);
    pthread_mutex_destroy(&pi->lock);
    pthread_mutex_destroy(&pi->control_lock);
}

const char *plugin_last_error(plugin_instance *pi)
{
    const char *(*last)(void *) = pi->lib.desc.kind == ALD_PLUGIN_PLC
                                      ? plc_ops(pi)->last_error
                                      : storage_ops(pi)->last_error;
    const char *text = pi->inst && last ? last(pi->inst) : NULL;
    return text ? text : "";
}

/* When this thread's current plugin call began (after its lock was taken:
 * the duration is the plugin's, not the wait for the lane). A thread makes
 * one plugin call at a time, so one stamp per thread suffices. */
static _Thread_local uint64_t call_started_ns;

void plugin_lock(plugin_instance *pi)
{
    if (pi->serialise)
        pthread_mutex_lock(&pi->lock);
    call_started_ns = clock_mono_ns();
}

void plugin_control_lock(plugin_instance *pi)
{
    pthread_mutex_lock(&pi->control_lock);
    call_started_ns = clock_mono_ns();
    pulse_trace_lane_taken();
}

void plugin_unlock(plugin_instance *pi)
{
    if (pi->serialise)
        pthread_mutex_unlock(&pi->lock);
}

/* Where every plugin call ends, whichever lane: the one place it is counted. */
static void call_finish(plugin_instance *pi, port_op op, ald_status st, port_error *err)
{
    port_metrics_record(&pi->calls, pi->name, op, st, clock_mono_ns() - call_started_ns);
    if (err)
        snprintf(err->text, sizeof err->text, "%s",
                 st == ALD_OK ? "" : plugin_last_error(pi));
}

ald_status plugin_call_done(plugin_instance *pi, port_op op, ald_status st, port_error *err)
{
    call_finish(pi, op, st, err);
    plugin_unlock(pi);
    return st;
}

ald_status plugin_control_done(plugin_instance *pi, port_op op, ald_status st,
                               port_error *err)
{
    call_finish(pi, op, st, err);
    pthread_mutex_unlock(&pi->control_lock);
    return st;
}

ald_status plugin_call_unsupported(const plugin_instance *pi, const char *op, port_error *err)
{
    if (err)
        snprintf(err->text, sizeof err->text, "instance '%s' (%s) does not implement %s",
                 pi->name, pi->lib.desc.name, op);
    return ALD_ERR_UNSUPPORTED;
}

const char *port_instance_name(const plugin_instance *pi)
{
    return pi ? pi->name : "(none)";
}
