# plugins/plc-modbus: the Modbus TCP/RTU PLC plugin (libmodbus).
pkglib_LTLIBRARIES += plugins/plc-modbus/plc-modbus.la
plugins_plc_modbus_plc_modbus_la_SOURCES = \
	plugins/plc-modbus/plugin.c \
	plugins/plc-modbus/mb_instance.c plugins/plc-modbus/mb_instance.h \
	plugins/plc-modbus/mb_settings.c plugins/plc-modbus/mb_settings.h \
	plugins/plc-modbus/mb_planner.c plugins/plc-modbus/mb_planner.h \
	plugins/plc-modbus/mb_conn.c plugins/plc-modbus/mb_conn.h \
	plugins/plc-modbus/mb_heartbeat.c plugins/plc-modbus/mb_heartbeat.h \
	plugins/plc-modbus/mb_metrics.c plugins/plc-modbus/mb_metrics.h \
	plugins/plc-modbus/mb_tags.c plugins/plc-modbus/mb_tags.h \
	plugins/plc-modbus/mb_read.c plugins/plc-modbus/mb_write.c \
	$(MODBUS_CODEC_SOURCES) $(THREAD_ERROR_SOURCES)
plugins_plc_modbus_plc_modbus_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS) $(MODBUS_CFLAGS) \
	-I$(top_srcdir)/plugins/common
plugins_plc_modbus_plc_modbus_la_LDFLAGS = $(ALD_PLUGIN_LD_FLAGS)
plugins_plc_modbus_plc_modbus_la_LIBADD = $(MODBUS_LIBS)
