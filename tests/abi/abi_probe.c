/*
 * abi_probe.c - a shared object whose one exported function takes every
 * public struct of the SDK, so libabigail's abidw records the whole ABI
 * (types reachable from exported symbols) for tests/abi/check-abi.test.
 */
#include "ald/plugin.h"

ALD_EXPORT void ald_abi_probe(const ald_plugin_descriptor *d, const ald_host *h,
                              const ald_metric_desc *md, const ald_plc_vtable *pv,
                              const ald_tag *t, const ald_tag_value *tv,
                              const ald_valve_event *ve, const ald_storage_vtable *sv,
                              const ald_parameter *p, const ald_parameter_value *pvl,
                              const ald_sample *s, const ald_sample_batch *sb,
                              const ald_recipe_info *ri, const ald_recipe_step *rs,
                              const ald_recipe_reader *rr, const ald_command *c,
                              const ald_machine *m, const ald_machine_update *mu,
                              const ald_process_start *ps, const ald_process *pr,
                              const ald_process_state *pst, const ald_setpoint_command *sc,
                              const ald_health_report *hr, const ald_outbox_record *ob);

ALD_EXPORT void ald_abi_probe(const ald_plugin_descriptor *d, const ald_host *h,
                              const ald_metric_desc *md, const ald_plc_vtable *pv,
                              const ald_tag *t, const ald_tag_value *tv,
                              const ald_valve_event *ve, const ald_storage_vtable *sv,
                              const ald_parameter *p, const ald_parameter_value *pvl,
                              const ald_sample *s, const ald_sample_batch *sb,
                              const ald_recipe_info *ri, const ald_recipe_step *rs,
                              const ald_recipe_reader *rr, const ald_command *c,
                              const ald_machine *m, const ald_machine_update *mu,
                              const ald_process_start *ps, const ald_process *pr,
                              const ald_process_state *pst, const ald_setpoint_command *sc,
                              const ald_health_report *hr, const ald_outbox_record *ob)
{
    (void)d, (void)h, (void)md, (void)pv, (void)t, (void)tv, (void)ve, (void)sv, (void)p;
    (void)pvl, (void)s, (void)sb, (void)ri, (void)rs, (void)rr, (void)c, (void)m, (void)mu;
    (void)ps, (void)pr, (void)pst, (void)sc, (void)hr, (void)ob;
}
