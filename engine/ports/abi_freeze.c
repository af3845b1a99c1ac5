/*
 * abi_freeze.c - ABI 1.0 of the plugin SDK, frozen: the offset of every
 * public struct member and the size of every public struct, as ABI 1.0
 * laid them out on LP64 (x86-64, aarch64). Compiling this file fails when a
 * header change moves, resizes, removes or reorders anything that 1.0
 * plugins rely on.
 *
 * Allowed (the versioning rules of ald/abi.h): appending a member at the END
 * of a struct that starts with struct_size, with ALD_ABI_MINOR bumped: such
 * a struct may grow (ALD_FREEZE_GROWS) only while ALD_ABI_MINOR > 0. Structs
 * passed in arrays without a struct_size never change size (ALD_FREEZE_EXACT).
 * A member inserted into a padding hole keeps every offset and size here;
 * the libabigail baseline (tests/abi/check-abi.sh, in make check) refuses it.
 *
 * Generated from the frozen 1.0 headers (tests/abi/1.0/include) by
 * tests/abi/gen_freeze.py; never edit the numbers by hand.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ald/plugin.h"

#if UINTPTR_MAX == UINT64_MAX && LONG_MAX == INT64_MAX /* LP64 */

#define ALD_FREEZE_OFFSET(type, member, offset)                                             \
    _Static_assert(offsetof(type, member) == (offset),                                      \
                   "ABI 1.0 frozen: " #type "." #member " moved (never reorder or resize)")
#define ALD_FREEZE_GROWS(type, size, last)                                                   \
    _Static_assert(sizeof(type) == (size) || (ALD_ABI_MINOR > 0 && sizeof(type) > (size)),  \
                   "ABI 1.0 frozen: " #type " changed size (append after " #last            \
                   " and bump ALD_ABI_MINOR)")
#define ALD_FREEZE_EXACT(type, size, last)                                                   \
    _Static_assert(sizeof(type) == (size),                                                   \
                   "ABI 1.0 frozen: " #type " is passed in arrays and never changes size")

/* ald_abi_knobs */
ALD_FREEZE_OFFSET(ald_abi_knobs, pointer_size, 0);
ALD_FREEZE_OFFSET(ald_abi_knobs, long_size, 1);
ALD_FREEZE_OFFSET(ald_abi_knobs, double_size, 2);
ALD_FREEZE_OFFSET(ald_abi_knobs, enum_size, 3);
ALD_FREEZE_EXACT(ald_abi_knobs, 4, enum_size);
/* ald_plugin_descriptor */
ALD_FREEZE_OFFSET(ald_plugin_descriptor, magic, 0);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, struct_size, 4);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, abi_major, 8);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, abi_minor, 10);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, knobs, 12);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, name, 16);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, version, 24);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, kind, 32);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, capabilities, 40);
ALD_FREEZE_OFFSET(ald_plugin_descriptor, vtable, 48);
ALD_FREEZE_GROWS(ald_plugin_descriptor, 56, vtable);
/* ald_metric_desc */
ALD_FREEZE_OFFSET(ald_metric_desc, struct_size, 0);
ALD_FREEZE_OFFSET(ald_metric_desc, name, 8);
ALD_FREEZE_OFFSET(ald_metric_desc, help, 16);
ALD_FREEZE_OFFSET(ald_metric_desc, type, 24);
ALD_FREEZE_OFFSET(ald_metric_desc, labels, 32);
ALD_FREEZE_OFFSET(ald_metric_desc, buckets, 40);
ALD_FREEZE_OFFSET(ald_metric_desc, bucket_count, 48);
ALD_FREEZE_GROWS(ald_metric_desc, 56, bucket_count);
/* ald_host */
ALD_FREEZE_OFFSET(struct ald_host, struct_size, 0);
ALD_FREEZE_OFFSET(struct ald_host, abi_major, 4);
ALD_FREEZE_OFFSET(struct ald_host, abi_minor, 6);
ALD_FREEZE_OFFSET(struct ald_host, host_ctx, 8);
ALD_FREEZE_OFFSET(struct ald_host, log, 16);
ALD_FREEZE_OFFSET(struct ald_host, vlog, 24);
ALD_FREEZE_OFFSET(struct ald_host, config_string, 32);
ALD_FREEZE_OFFSET(struct ald_host, config_int, 40);
ALD_FREEZE_OFFSET(struct ald_host, config_double, 48);
ALD_FREEZE_OFFSET(struct ald_host, config_bool, 56);
ALD_FREEZE_OFFSET(struct ald_host, config_count, 64);
ALD_FREEZE_OFFSET(struct ald_host, config_child, 72);
ALD_FREEZE_OFFSET(struct ald_host, config_where, 80);
ALD_FREEZE_OFFSET(struct ald_host, monotonic_ns, 88);
ALD_FREEZE_OFFSET(struct ald_host, realtime_ns, 96);
ALD_FREEZE_OFFSET(struct ald_host, metric_register, 104);
ALD_FREEZE_OFFSET(struct ald_host, metric_add, 112);
ALD_FREEZE_OFFSET(struct ald_host, metric_set, 120);
ALD_FREEZE_OFFSET(struct ald_host, metric_observe, 128);
ALD_FREEZE_GROWS(struct ald_host, 136, metric_observe);
/* ald_tag */
ALD_FREEZE_OFFSET(ald_tag, struct_size, 0);
ALD_FREEZE_OFFSET(ald_tag, name, 8);
ALD_FREEZE_OFFSET(ald_tag, read_address, 16);
ALD_FREEZE_OFFSET(ald_tag, write_address, 24);
ALD_FREEZE_OFFSET(ald_tag, type, 32);
ALD_FREEZE_OFFSET(ald_tag, byte_order, 36);
ALD_FREEZE_OFFSET(ald_tag, scale, 40);
ALD_FREEZE_OFFSET(ald_tag, offset, 48);
ALD_FREEZE_GROWS(ald_tag, 56, offset);
/* ald_tag_value */
ALD_FREEZE_OFFSET(ald_tag_value, value, 0);
ALD_FREEZE_OFFSET(ald_tag_value, quality, 8);
ALD_FREEZE_EXACT(ald_tag_value, 16, quality);
/* ald_valve_event */
ALD_FREEZE_OFFSET(ald_valve_event, struct_size, 0);
ALD_FREEZE_OFFSET(ald_valve_event, tag, 8);
ALD_FREEZE_OFFSET(ald_valve_event, open, 16);
ALD_FREEZE_OFFSET(ald_valve_event, mono_ns, 24);
ALD_FREEZE_GROWS(ald_valve_event, 32, mono_ns);
/* ald_plc_vtable */
ALD_FREEZE_OFFSET(ald_plc_vtable, struct_size, 0);
ALD_FREEZE_OFFSET(ald_plc_vtable, create, 8);
ALD_FREEZE_OFFSET(ald_plc_vtable, destroy, 16);
ALD_FREEZE_OFFSET(ald_plc_vtable, start, 24);
ALD_FREEZE_OFFSET(ald_plc_vtable, stop, 32);
ALD_FREEZE_OFFSET(ald_plc_vtable, last_error, 40);
ALD_FREEZE_OFFSET(ald_plc_vtable, set_tags, 48);
ALD_FREEZE_OFFSET(ald_plc_vtable, read_all, 56);
ALD_FREEZE_OFFSET(ald_plc_vtable, read_tags, 64);
ALD_FREEZE_OFFSET(ald_plc_vtable, write_tag, 72);
ALD_FREEZE_OFFSET(ald_plc_vtable, is_connected, 80);
ALD_FREEZE_OFFSET(ald_plc_vtable, pulse, 88);
ALD_FREEZE_OFFSET(ald_plc_vtable, valve_events, 96);
ALD_FREEZE_GROWS(ald_plc_vtable, 104, valve_events);
/* ald_parameter */
ALD_FREEZE_OFFSET(ald_parameter, struct_size, 0);
ALD_FREEZE_OFFSET(ald_parameter, id, 8);
ALD_FREEZE_OFFSET(ald_parameter, component_id, 16);
ALD_FREEZE_OFFSET(ald_parameter, component_name, 24);
ALD_FREEZE_OFFSET(ald_parameter, name, 32);
ALD_FREEZE_OFFSET(ald_parameter, unit, 40);
ALD_FREEZE_OFFSET(ald_parameter, data_type, 48);
ALD_FREEZE_OFFSET(ald_parameter, read_type, 56);
ALD_FREEZE_OFFSET(ald_parameter, read_address, 64);
ALD_FREEZE_OFFSET(ald_parameter, write_type, 72);
ALD_FREEZE_OFFSET(ald_parameter, write_address, 80);
ALD_FREEZE_OFFSET(ald_parameter, is_writable, 88);
ALD_FREEZE_OFFSET(ald_parameter, min_value, 96);
ALD_FREEZE_OFFSET(ald_parameter, max_value, 104);
ALD_FREEZE_OFFSET(ald_parameter, current_value, 112);
ALD_FREEZE_OFFSET(ald_parameter, set_value, 120);
ALD_FREEZE_GROWS(ald_parameter, 128, set_value);
/* ald_parameter_value */
ALD_FREEZE_OFFSET(ald_parameter_value, parameter_id, 0);
ALD_FREEZE_OFFSET(ald_parameter_value, current_value, 8);
ALD_FREEZE_OFFSET(ald_parameter_value, set_value, 16);
ALD_FREEZE_EXACT(ald_parameter_value, 24, set_value);
/* ald_sample */
ALD_FREEZE_OFFSET(ald_sample, parameter_id, 0);
ALD_FREEZE_OFFSET(ald_sample, value, 8);
ALD_FREEZE_OFFSET(ald_sample, set_point, 16);
ALD_FREEZE_EXACT(ald_sample, 24, set_point);
/* ald_sample_batch */
ALD_FREEZE_OFFSET(ald_sample_batch, struct_size, 0);
ALD_FREEZE_OFFSET(ald_sample_batch, machine_id, 8);
ALD_FREEZE_OFFSET(ald_sample_batch, process_id, 16);
ALD_FREEZE_OFFSET(ald_sample_batch, timestamp_ms, 24);
ALD_FREEZE_OFFSET(ald_sample_batch, samples, 32);
ALD_FREEZE_OFFSET(ald_sample_batch, count, 40);
ALD_FREEZE_OFFSET(ald_sample_batch, replay, 48);
ALD_FREEZE_GROWS(ald_sample_batch, 56, replay);
/* ald_recipe_info */
ALD_FREEZE_OFFSET(ald_recipe_info, struct_size, 0);
ALD_FREEZE_OFFSET(ald_recipe_info, id, 8);
ALD_FREEZE_OFFSET(ald_recipe_info, name, 16);
ALD_FREEZE_OFFSET(ald_recipe_info, description, 24);
ALD_FREEZE_OFFSET(ald_recipe_info, version, 32);
ALD_FREEZE_OFFSET(ald_recipe_info, chamber_temperature_set_point, 40);
ALD_FREEZE_OFFSET(ald_recipe_info, pressure_set_point, 48);
ALD_FREEZE_GROWS(ald_recipe_info, 56, pressure_set_point);
/* ald_recipe_step */
ALD_FREEZE_OFFSET(ald_recipe_step, struct_size, 0);
ALD_FREEZE_OFFSET(ald_recipe_step, id, 8);
ALD_FREEZE_OFFSET(ald_recipe_step, recipe_id, 16);
ALD_FREEZE_OFFSET(ald_recipe_step, parent_step_id, 24);
ALD_FREEZE_OFFSET(ald_recipe_step, sequence_number, 32);
ALD_FREEZE_OFFSET(ald_recipe_step, name, 40);
ALD_FREEZE_OFFSET(ald_recipe_step, type, 48);
ALD_FREEZE_OFFSET(ald_recipe_step, parameters_json, 56);
ALD_FREEZE_OFFSET(ald_recipe_step, has_valve_config, 64);
ALD_FREEZE_OFFSET(ald_recipe_step, valve_number, 72);
ALD_FREEZE_OFFSET(ald_recipe_step, valve_duration_ms, 80);
ALD_FREEZE_OFFSET(ald_recipe_step, has_purge_config, 88);
ALD_FREEZE_OFFSET(ald_recipe_step, purge_duration_ms, 96);
ALD_FREEZE_OFFSET(ald_recipe_step, gas_type, 104);
ALD_FREEZE_OFFSET(ald_recipe_step, flow_rate, 112);
ALD_FREEZE_OFFSET(ald_recipe_step, has_loop_config, 120);
ALD_FREEZE_OFFSET(ald_recipe_step, iteration_count, 128);
ALD_FREEZE_OFFSET(ald_recipe_step, has_parameter_config, 136);
ALD_FREEZE_OFFSET(ald_recipe_step, parameter_id, 144);
ALD_FREEZE_OFFSET(ald_recipe_step, target_value, 152);
ALD_FREEZE_OFFSET(ald_recipe_step, hold_duration_ms, 160);
ALD_FREEZE_GROWS(ald_recipe_step, 168, hold_duration_ms);
/* ald_recipe_reader */
ALD_FREEZE_OFFSET(ald_recipe_reader, struct_size, 0);
ALD_FREEZE_OFFSET(ald_recipe_reader, ctx, 8);
ALD_FREEZE_OFFSET(ald_recipe_reader, recipe, 16);
ALD_FREEZE_OFFSET(ald_recipe_reader, step, 24);
ALD_FREEZE_OFFSET(ald_recipe_reader, parameter, 32);
ALD_FREEZE_GROWS(ald_recipe_reader, 40, parameter);
/* ald_command */
ALD_FREEZE_OFFSET(ald_command, struct_size, 0);
ALD_FREEZE_OFFSET(ald_command, id, 8);
ALD_FREEZE_OFFSET(ald_command, type, 16);
ALD_FREEZE_OFFSET(ald_command, parameters_json, 24);
ALD_FREEZE_OFFSET(ald_command, machine_id, 32);
ALD_FREEZE_OFFSET(ald_command, status, 40);
ALD_FREEZE_OFFSET(ald_command, created_at, 48);
ALD_FREEZE_OFFSET(ald_command, error_message, 56);
ALD_FREEZE_GROWS(ald_command, 64, error_message);
/* ald_machine */
ALD_FREEZE_OFFSET(ald_machine, struct_size, 0);
ALD_FREEZE_OFFSET(ald_machine, id, 8);
ALD_FREEZE_OFFSET(ald_machine, status, 16);
ALD_FREEZE_OFFSET(ald_machine, current_process_id, 24);
ALD_FREEZE_OFFSET(ald_machine, current_operator_id, 32);
ALD_FREEZE_OFFSET(ald_machine, failure_description, 40);
ALD_FREEZE_GROWS(ald_machine, 48, failure_description);
/* ald_machine_update */
ALD_FREEZE_OFFSET(ald_machine_update, struct_size, 0);
ALD_FREEZE_OFFSET(ald_machine_update, machine_id, 8);
ALD_FREEZE_OFFSET(ald_machine_update, status, 16);
ALD_FREEZE_OFFSET(ald_machine_update, process_id, 24);
ALD_FREEZE_OFFSET(ald_machine_update, operator_id, 32);
ALD_FREEZE_OFFSET(ald_machine_update, failure_description, 40);
ALD_FREEZE_GROWS(ald_machine_update, 48, failure_description);
/* ald_process_start */
ALD_FREEZE_OFFSET(ald_process_start, struct_size, 0);
ALD_FREEZE_OFFSET(ald_process_start, machine_id, 8);
ALD_FREEZE_OFFSET(ald_process_start, recipe_id, 16);
ALD_FREEZE_OFFSET(ald_process_start, session_id, 24);
ALD_FREEZE_OFFSET(ald_process_start, operator_id, 32);
ALD_FREEZE_OFFSET(ald_process_start, recipe_version_json, 40);
ALD_FREEZE_OFFSET(ald_process_start, parameters_json, 48);
ALD_FREEZE_OFFSET(ald_process_start, start_time_ms, 56);
ALD_FREEZE_GROWS(ald_process_start, 64, start_time_ms);
/* ald_process */
ALD_FREEZE_OFFSET(ald_process, struct_size, 0);
ALD_FREEZE_OFFSET(ald_process, id, 8);
ALD_FREEZE_OFFSET(ald_process, machine_id, 16);
ALD_FREEZE_OFFSET(ald_process, recipe_id, 24);
ALD_FREEZE_OFFSET(ald_process, status, 32);
ALD_FREEZE_OFFSET(ald_process, start_time_ms, 40);
ALD_FREEZE_OFFSET(ald_process, end_time_ms, 48);
ALD_FREEZE_OFFSET(ald_process, error_message, 56);
ALD_FREEZE_OFFSET(ald_process, parameters_json, 64);
ALD_FREEZE_GROWS(ald_process, 72, parameters_json);
/* ald_process_state */
ALD_FREEZE_OFFSET(ald_process_state, struct_size, 0);
ALD_FREEZE_OFFSET(ald_process_state, execution_id, 8);
ALD_FREEZE_OFFSET(ald_process_state, current_step_index, 16);
ALD_FREEZE_OFFSET(ald_process_state, current_overall_step, 24);
ALD_FREEZE_OFFSET(ald_process_state, total_overall_steps, 32);
ALD_FREEZE_OFFSET(ald_process_state, current_step_type, 40);
ALD_FREEZE_OFFSET(ald_process_state, current_step_name, 48);
ALD_FREEZE_OFFSET(ald_process_state, current_valve_number, 56);
ALD_FREEZE_OFFSET(ald_process_state, current_valve_duration_ms, 64);
ALD_FREEZE_OFFSET(ald_process_state, current_purge_duration_ms, 72);
ALD_FREEZE_OFFSET(ald_process_state, current_parameter_id, 80);
ALD_FREEZE_OFFSET(ald_process_state, current_parameter_value, 88);
ALD_FREEZE_OFFSET(ald_process_state, current_loop_count, 96);
ALD_FREEZE_OFFSET(ald_process_state, current_loop_iteration, 104);
ALD_FREEZE_OFFSET(ald_process_state, progress_total_steps, 112);
ALD_FREEZE_OFFSET(ald_process_state, progress_completed_steps, 120);
ALD_FREEZE_OFFSET(ald_process_state, progress_total_cycles, 128);
ALD_FREEZE_OFFSET(ald_process_state, progress_completed_cycles, 136);
ALD_FREEZE_OFFSET(ald_process_state, last_updated_ms, 144);
ALD_FREEZE_GROWS(ald_process_state, 152, last_updated_ms);
/* ald_setpoint_command */
ALD_FREEZE_OFFSET(ald_setpoint_command, struct_size, 0);
ALD_FREEZE_OFFSET(ald_setpoint_command, id, 8);
ALD_FREEZE_OFFSET(ald_setpoint_command, parameter_name, 16);
ALD_FREEZE_OFFSET(ald_setpoint_command, component_parameter_id, 24);
ALD_FREEZE_OFFSET(ald_setpoint_command, target_value, 32);
ALD_FREEZE_OFFSET(ald_setpoint_command, machine_id, 40);
ALD_FREEZE_OFFSET(ald_setpoint_command, write_modbus_address, 48);
ALD_FREEZE_OFFSET(ald_setpoint_command, data_type, 56);
ALD_FREEZE_OFFSET(ald_setpoint_command, created_at, 64);
ALD_FREEZE_GROWS(ald_setpoint_command, 72, created_at);
/* ald_health_report */
ALD_FREEZE_OFFSET(ald_health_report, struct_size, 0);
ALD_FREEZE_OFFSET(ald_health_report, machine_id, 8);
ALD_FREEZE_OFFSET(ald_health_report, plc_connected, 16);
ALD_FREEZE_OFFSET(ald_health_report, plc_last_check_ms, 24);
ALD_FREEZE_OFFSET(ald_health_report, plc_last_connected_ms, 32);
ALD_FREEZE_OFFSET(ald_health_report, plc_reconnect_attempts, 40);
ALD_FREEZE_OFFSET(ald_health_report, plc_error, 48);
ALD_FREEZE_GROWS(ald_health_report, 56, plc_error);
/* ald_outbox_record */
ALD_FREEZE_OFFSET(ald_outbox_record, struct_size, 0);
ALD_FREEZE_OFFSET(ald_outbox_record, seq, 8);
ALD_FREEZE_OFFSET(ald_outbox_record, kind, 16);
ALD_FREEZE_OFFSET(ald_outbox_record, payload, 24);
ALD_FREEZE_OFFSET(ald_outbox_record, payload_len, 32);
ALD_FREEZE_OFFSET(ald_outbox_record, created_ms, 40);
ALD_FREEZE_GROWS(ald_outbox_record, 48, created_ms);
/* ald_storage_vtable */
ALD_FREEZE_OFFSET(ald_storage_vtable, struct_size, 0);
ALD_FREEZE_OFFSET(ald_storage_vtable, create, 8);
ALD_FREEZE_OFFSET(ald_storage_vtable, destroy, 16);
ALD_FREEZE_OFFSET(ald_storage_vtable, start, 24);
ALD_FREEZE_OFFSET(ald_storage_vtable, stop, 32);
ALD_FREEZE_OFFSET(ald_storage_vtable, last_error, 40);
ALD_FREEZE_OFFSET(ald_storage_vtable, is_connected, 48);
ALD_FREEZE_OFFSET(ald_storage_vtable, load_parameters, 56);
ALD_FREEZE_OFFSET(ald_storage_vtable, update_parameter_values, 64);
ALD_FREEZE_OFFSET(ald_storage_vtable, append_samples, 72);
ALD_FREEZE_OFFSET(ald_storage_vtable, load_recipe, 80);
ALD_FREEZE_OFFSET(ald_storage_vtable, list_recipes, 88);
ALD_FREEZE_OFFSET(ald_storage_vtable, fetch_pending_commands, 96);
ALD_FREEZE_OFFSET(ald_storage_vtable, claim_command, 104);
ALD_FREEZE_OFFSET(ald_storage_vtable, finish_command, 112);
ALD_FREEZE_OFFSET(ald_storage_vtable, get_machine, 120);
ALD_FREEZE_OFFSET(ald_storage_vtable, set_machine_state, 128);
ALD_FREEZE_OFFSET(ald_storage_vtable, get_or_create_session, 136);
ALD_FREEZE_OFFSET(ald_storage_vtable, create_process, 144);
ALD_FREEZE_OFFSET(ald_storage_vtable, update_process_state, 152);
ALD_FREEZE_OFFSET(ald_storage_vtable, finish_process, 160);
ALD_FREEZE_OFFSET(ald_storage_vtable, find_open_processes, 168);
ALD_FREEZE_OFFSET(ald_storage_vtable, get_process_state, 176);
ALD_FREEZE_OFFSET(ald_storage_vtable, fetch_setpoint_commands, 184);
ALD_FREEZE_OFFSET(ald_storage_vtable, claim_setpoint_command, 192);
ALD_FREEZE_OFFSET(ald_storage_vtable, finish_setpoint_command, 200);
ALD_FREEZE_OFFSET(ald_storage_vtable, write_health, 208);
ALD_FREEZE_OFFSET(ald_storage_vtable, acquire_lease, 216);
ALD_FREEZE_OFFSET(ald_storage_vtable, release_lease, 224);
ALD_FREEZE_OFFSET(ald_storage_vtable, insert_command, 232);
ALD_FREEZE_OFFSET(ald_storage_vtable, outbox_push, 240);
ALD_FREEZE_OFFSET(ald_storage_vtable, outbox_peek, 248);
ALD_FREEZE_OFFSET(ald_storage_vtable, outbox_ack, 256);
ALD_FREEZE_OFFSET(ald_storage_vtable, outbox_stats, 264);
ALD_FREEZE_OFFSET(ald_storage_vtable, save_recipe, 272);
ALD_FREEZE_OFFSET(ald_storage_vtable, get_command, 280);
ALD_FREEZE_OFFSET(ald_storage_vtable, save_parameters, 288);
ALD_FREEZE_GROWS(ald_storage_vtable, 296, save_parameters);

#endif

/* Something for the object file to hold (ISO C forbids an empty unit). */
const int ald_abi_frozen_major = ALD_ABI_MAJOR;
