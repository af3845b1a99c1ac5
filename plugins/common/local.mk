# plugins/common: code shared by the Modbus-family plugins, compiled into each
# of them (never into the engine). Use $(MODBUS_CODEC_SOURCES) in a _SOURCES
# list and -I$(top_srcdir)/plugins/common in its CFLAGS.
MODBUS_CODEC_SOURCES = plugins/common/modbus_codec.c plugins/common/modbus_codec.h
# The per-thread error text a PLC plugin's last_error() prefers (thread_error.h).
THREAD_ERROR_SOURCES = plugins/common/thread_error.c plugins/common/thread_error.h
EXTRA_DIST += $(MODBUS_CODEC_SOURCES) $(THREAD_ERROR_SOURCES)
