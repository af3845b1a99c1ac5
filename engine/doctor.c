/* doctor.c - the live check of `ald-engine --doctor` (see doctor.h). */
#include "doctor.h"

#include <stdio.h>

#include "engine.h"
#include "ports/host_services.h"
#include "ports/storage_port.h"

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
    engine_stop(&e);
    if (problems)
        printf("doctor: %d problem(s)\n", problems);
    else
        printf("doctor: OK\n");
    return problems;
}
