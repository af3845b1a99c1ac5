# The engine: a convenience library with everything but main(), so the
# tests link exactly the code the daemon runs.
noinst_LTLIBRARIES += engine/libaldcore.la
engine_libaldcore_la_SOURCES = \
	engine/log.c engine/log.h engine/clock.h \
	engine/state.c engine/state.h \
	engine/config_parse.c engine/config_env.c engine/config_validate.c \
	engine/config_log.c engine/config_access.c engine/config_defaults.c \
	engine/config.h engine/config_impl.h \
	engine/recipe_json.c engine/recipe_json.h \
	engine/metrics.c engine/metrics.h \
	engine/stdmetrics.c engine/stdmetrics.h \
	engine/procstat.c engine/procstat.h \
	engine/health.c engine/health.h \
	engine/http.c engine/http.h \
	engine/tagmap.c engine/tagmap.h \
	engine/batchq.c engine/batchq.h \
	engine/ports/port.h \
	engine/ports/loader.c engine/ports/loader.h \
	engine/ports/host_services.c engine/ports/host_services.h \
	engine/ports/plugin_instance.c engine/ports/plugin_instance.h \
	engine/ports/port_metrics.c engine/ports/port_metrics.h \
	engine/ports/plc_port.c engine/ports/plc_port.h \
	engine/ports/storage_port.c engine/ports/storage_route.c engine/ports/storage_port.h \
	engine/ports/row_guard.c engine/ports/row_guard.h \
	engine/ports/settings_use.c engine/ports/settings_use.h \
	engine/ports/abi_freeze.c \
	engine/logger.c engine/logger.h \
	engine/writer.c engine/writer.h \
	engine/plausibility.c engine/plausibility.h \
	engine/sink.c engine/sink.h \
	engine/outbox.c engine/outbox.h \
	engine/recipe.c engine/recipe.h \
	engine/setpoint.c engine/setpoint.h \
	engine/executor.c engine/executor.h \
	engine/pulse_trace.c engine/pulse_trace.h \
	engine/realtime.c engine/realtime.h \
	engine/thread_role.c engine/thread_role.h \
	engine/valve_guard.c engine/valve_guard.h \
	engine/local_stop.c engine/local_stop.h \
	engine/commands.c engine/commands.h \
	engine/starter.c engine/starter.h \
	engine/command_age.c engine/command_age.h \
	engine/lease.c engine/lease.h \
	engine/engine_id.c engine/engine_id.h \
	engine/runtime_env.c engine/runtime_env.h \
	engine/env_secret.c engine/env_secret.h \
	engine/sdnotify.c engine/sdnotify.h \
	engine/engine.c engine/engine.h \
	engine/doctor.c engine/doctor.h
engine_libaldcore_la_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS)
engine_libaldcore_la_LIBADD = $(LIBCONFIG_LIBS) $(MHD_LIBS) $(JANSSON_LIBS)

sbin_PROGRAMS += ald-engine
ald_engine_SOURCES = engine/main.c
ald_engine_CFLAGS = $(AM_CFLAGS)
ald_engine_LDADD = engine/libaldcore.la
