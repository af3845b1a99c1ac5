/*
 * check_safety_lease.c - the PLC follows the lease: the engine tells its PLC
 * plugin whether it holds the machine's lease (ABI 1.2 set_active), so that
 * the plugin's own writes (the plc-modbus heartbeat) stop on a standby, whose
 * beat would keep the PLC's watchdog fed after the active engine died. Here:
 * the port's capability handling (a plugin with the operation is told, an
 * older one without it is skipped), and the lease keeper's call on every
 * change (standby, takeover, lost, released; a store without leases).
 */
#include <stdlib.h>
#include <time.h>

#include "lease.h"
#include "ports/plc_port.h"
#include "safety_rig.h"
#include "state.h"
#include "testutil.h"

#define FAR_FUTURE "2999-01-01T00:00:00.000Z"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What the fault PLC was told last: 1, 0, or -1 (never told). */
static int plc_told(void)
{
    return R.fault->active(R.plc.inst);
}

/* Poll until the fault PLC was last told `want` (the keeper renews every
 * 100 ms; bounded at 10 s so a broken keeper fails instead of hanging). */
static int plc_told_becomes(int want)
{
    for (int i = 0; i < 1000 && plc_told() != want; i++)
        sleep_ms(10);
    return plc_told() == want;
}

static void keeper_rig(void)
{
    rig_up();
    state_init(1000000000u);
    unsetenv("ALD_ENGINE_ID");
}

START_TEST(the_port_tells_a_plugin_that_has_set_active)
{
    rig_up();
    ck_assert_int_eq(plc_told(), -1); /* nothing is said before the lease is known */
    ck_assert_int_eq(plc_port_set_active(&R.plc, 1), 1);
    ck_assert_int_eq(plc_told(), 1);
    ck_assert_int_eq(plc_port_set_active(&R.plc, 0), 1);
    ck_assert_int_eq(plc_told(), 0);
}
END_TEST

/* A PLC plugin built for ABI 1.0 has no set_active: it is not called (its
 * vtable ends before it), and the port says so instead of failing. */
START_TEST(the_port_skips_a_plugin_without_set_active)
{
    plugin_instance old;
    rig_instance(&old, "old", "tests/fixtures/plugins/.libs/fx-abi10-plc.so", ROLE_PLC, "");
    ck_assert_int_eq(old.lib.desc.abi_minor, 0);
    ck_assert_int_eq(plc_port_set_active(&old, 1), 0);
    ck_assert_int_eq(plc_port_set_active(&old, 0), 0);
    plugin_instance_destroy(&old);
}
END_TEST

/* A standby is never told it is active; a takeover tells the PLC, losing
 * the lease to another engine untells it, and so does releasing it. */
START_TEST(the_plc_is_active_only_while_the_keeper_holds_the_lease)
{
    keeper_rig();
    rig_sql("INSERT INTO engine_leases VALUES('%s', 'other', '%s')", RIG_MACHINE, FAR_FUTURE);
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &R.store, &R.plc, RIG_MACHINE, 600, 100), 0);
    for (int i = 0; i < 1000 && atomic_load(&g_state.lease_state) != 0; i++)
        sleep_ms(10);
    ck_assert_int_eq(atomic_load(&g_state.lease_state), 0);
    sleep_ms(500); /* several standby rounds */
    ck_assert_int_ne(plc_told(), 1);

    rig_sql("DELETE FROM engine_leases"); /* the other engine released it */
    ck_assert_msg(plc_told_becomes(1), "a takeover did not tell the PLC (told %d)",
                  plc_told());

    rig_sql("UPDATE engine_leases SET holder = 'other', expires_at = '%s'", FAR_FUTURE);
    ck_assert_msg(plc_told_becomes(0), "a lost lease did not tell the PLC (told %d)",
                  plc_told());

    rig_sql("DELETE FROM engine_leases");
    ck_assert(plc_told_becomes(1));
    lease_stop(&k);
    ck_assert_int_eq(plc_told(), 0); /* told before the lease is released */
    ck_assert_str_eq(rig_query("SELECT count(*) FROM engine_leases"), "0");
}
END_TEST

/* A store without leases: the engine drives the tool alone, so the PLC is
 * active from the start (its heartbeat must run), until the engine stops. */
START_TEST(without_a_lease_store_the_plc_is_active_until_stop)
{
    keeper_rig();
    plugin_instance store;
    rig_instance(&store, "noleases", "tests/fixtures/plugins/.libs/storage-fault.so",
                 ROLE_STORAGE, "");
    lease_keeper k;
    ck_assert_int_eq(lease_start(&k, &store, &R.plc, RIG_MACHINE, 600, 100), 0);
    ck_assert_int_eq(plc_told(), 1);
    lease_stop(&k);
    ck_assert_int_eq(plc_told(), 0);
    plugin_instance_destroy(&store);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: the PLC follows the lease");
    TCase *tc = tcase_create("lease");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_port_tells_a_plugin_that_has_set_active);
    tcase_add_test(tc, the_port_skips_a_plugin_without_set_active);
    tcase_add_test(tc, the_plc_is_active_only_while_the_keeper_holds_the_lease);
    tcase_add_test(tc, without_a_lease_store_the_plc_is_active_until_stop);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
