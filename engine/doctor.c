/* doctor.c - the live check of `ald-engine --doctor` (see doctor.h). */
#include "doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "engine.h"
#include "plausibility.h"
#include "ports/host_services.h"
#include "ports/plc_port.h"
#include "ports/storage_port.h"

/* How long the PLC check keeps trying to read (a plugin connects lazily and
 * retries with its back-off). */
#define DOCTOR_PLC_WAIT_MS 5000
#define DOCTOR_PLC_RETRY_MS 250
/* Implausible parameters named on the report, at most. */
#define DOCTOR_NAMED_MAX 3

static void count_parameter(void *ctx, const ald_parameter *p)
{
    (void)p;
    (*(size_t *)ctx)++;
}

/* One store: started and its own warnings. Problems found. */
static int check_start(plugin_instance *store)
{
    int problems = 0;
    ald_status st = plugin_instance_start(store);
    printf("%s: %s\n", store->name,
           st == ALD_OK ? "started" : "did not start (see the line above)");
    problems += st != ALD_OK;
    char first[1024];
    unsigned warned = host_warnings(store->host, first, sizeof first);
    if (warned) {
        printf("  PROBLEM: the plugin reported %u warning(s) at start; the first: %s\n", warned,
               first);
        problems++;
    }
    return problems;
}

/* The primary's rows the engine needs: the machine and its parameter map.
 * (The fallback is filled from the primary when the engine starts.) */
static int check_rows(plugin_instance *store, const char *machine_id)
{
    int problems = 0;
    storage_machine m;
    port_error err;
    ald_status st = storage_port_get_machine(store, machine_id, &m, &err);
    if (st == ALD_OK)
        printf("  machine %s: status %s\n", machine_id, m.status);
    else {
        printf("  PROBLEM: machine %s: %s: %s\n", machine_id, ald_status_name(st), err.text);
        problems++;
    }
    size_t params = 0;
    st = storage_port_load_parameters(store, machine_id, count_parameter, &params, &err);
    if (st == ALD_OK && params == 0) {
        printf("  PROBLEM: parameter map: no parameters for machine %s: nothing would be "
               "logged (component_parameters of its components)\n", machine_id);
        problems++;
    } else if (st == ALD_OK)
        printf("  parameter map: %zu parameter(s)\n", params);
    else {
        printf("  PROBLEM: parameter map: %s: %s\n", ald_status_name(st), err.text);
        problems++;
    }
    return problems;
}

/* One read of every tag, retried while the plugin connects. ALD_OK or the
 * last failure (its text in err). */
static ald_status read_plc_once(plugin_instance *plc, ald_tag_value *values, size_t count,
                                port_error *err)
{
    uint64_t deadline = clock_mono_ns() + DOCTOR_PLC_WAIT_MS * 1000000ull;
    const struct timespec pause = {0, DOCTOR_PLC_RETRY_MS * 1000000L};
    for (;;) {
        ald_status st = plc_port_read_all(plc, values, count, NULL, err);
        if (st == ALD_OK || clock_mono_ns() >= deadline)
            return st;
        nanosleep(&pause, NULL);
    }
}

/* Up to DOCTOR_NAMED_MAX implausible parameters, with value and range. */
static void name_implausible(const tagmap *tags, const ald_tag_value *values)
{
    int named = 0;
    for (size_t i = 0; i < tags->param_count && named < DOCTOR_NAMED_MAX; i++) {
        const tag_param *p = &tags->params[i];
        if (p->value_tag == SIZE_MAX || values[p->value_tag].quality != ALD_OK ||
            !plausibility_is_implausible(values[p->value_tag].value, p->min_value,
                                         p->max_value, tags->tags[p->value_tag].type))
            continue;
        printf("    %s %s reads %g (range %g..%g)\n", p->component_name ? p->component_name : "",
               p->name ? p->name : p->id, values[p->value_tag].value, p->min_value,
               p->max_value);
        named++;
    }
}

/* What one read says. A wrong byte order shows only as absurd floats: the
 * readings are re-read under the other orders, and a swap that makes more
 * of them plausible is named, with the setting to change. */
static int report_plausibility(const plugin_instance *plc, const tagmap *tags,
                               const ald_tag_value *values)
{
    plausibility_report r;
    plausibility_hint h;
    plausibility_scan(tags, values, tags->tag_count, &r);
    plausibility_order_hint(tags, values, tags->tag_count, &h);
    printf("  read %zu parameter(s): %zu implausible (%zu of %zu non-zero float)\n", r.checked,
           r.implausible, r.float_implausible, r.float_tags);
    int order_wrong = h.best != PLAUSIBILITY_SWAP_NONE && h.plausible_best > h.plausible_now;
    if (r.byte_order_suspect || order_wrong) {
        printf("  PROBLEM: the byte order is probably wrong: %zu of %zu float reading(s) look "
               "real as read, %zu %s\n", h.plausible_now, h.floats, h.plausible_best,
               plausibility_swap_text(h.best));
        printf("  check byte_order (or legacy_byte_order, PLC_BYTE_ORDER) of instance '%s' "
               "against the PLC\n", plc->name);
    } else if (r.implausible)
        printf("  PROBLEM: readings far outside their parameter's min..max (a wrong address "
               "or range?):\n");
    if (r.implausible)
        name_implausible(tags, values);
    return r.implausible || order_wrong ? 1 : 0;
}

/* The PLC: given the primary's map, read once and judge the values. */
static int check_plc(engine *e, const char *machine_id)
{
    port_error err;
    printf("%s:\n", e->plc.name);
    if (storage_port_load_parameters(&e->storage, machine_id, tagmap_add_parameter, &e->tags,
                                     &err) != ALD_OK ||
        tagmap_finish(&e->tags) != 0 || e->tags.tag_count == 0) {
        printf("  not read: no parameter map to read it with (see above)\n");
        return 0; /* counted above, as the map's problem */
    }
    ald_tag_value *values = calloc(e->tags.tag_count, sizeof *values);
    if (!values || plc_port_set_tags(&e->plc, &e->tags, &err) != ALD_OK) {
        printf("  PROBLEM: the plugin refused the parameter map: %s\n",
               values ? err.text : "out of memory");
        free(values);
        return 1;
    }
    plugin_instance_start(&e->plc);
    int problems = 0;
    ald_status st = read_plc_once(&e->plc, values, e->tags.tag_count, &err);
    if (st != ALD_OK) {
        printf("  PROBLEM: cannot read the PLC for %d s: %s: %s\n", DOCTOR_PLC_WAIT_MS / 1000,
               ald_status_name(st), err.text);
        problems = 1;
    } else
        problems = report_plausibility(&e->plc, &e->tags, values);
    free(values);
    return problems;
}

int doctor_run(const engine_config *cfg)
{
    engine e;
    char err[1024];
    if (engine_create_plugins(&e, cfg, err, sizeof err) != 0) {
        engine_stop(&e);
        fprintf(stderr, "ald-engine: configuration error: %s\n", err);
        return -1;
    }
    int problems = check_start(&e.storage) + check_rows(&e.storage, cfg->machine_id);
    if (e.have_fallback)
        problems += check_start(&e.fallback);
    problems += check_plc(&e, cfg->machine_id);
    engine_stop(&e);
    if (problems)
        printf("doctor: %d problem(s)\n", problems);
    else
        printf("doctor: OK\n");
    return problems;
}
