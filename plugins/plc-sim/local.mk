# plugins/plc-sim: the simulated demo tool (docs/demo-tool.md), twice over:
# in-process as the plc-sim plugin, and over Modbus TCP as ald-plcsim. Both
# compile the same model (sim_model.c) and the shared Modbus codec.
PLC_SIM_MODEL_SOURCES = plugins/plc-sim/sim_model.c plugins/plc-sim/sim_model.h
PLC_SIM_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/plc-sim -DPLC_SIM_VERSION='"$(PACKAGE_VERSION)"'

pkglib_LTLIBRARIES += plugins/plc-sim/plc-sim.la
plugins_plc_sim_plc_sim_la_SOURCES = plugins/plc-sim/plc_sim.c \
	$(PLC_SIM_MODEL_SOURCES) $(MODBUS_CODEC_SOURCES) $(THREAD_ERROR_SOURCES)
plugins_plc_sim_plc_sim_la_CPPFLAGS = $(PLC_SIM_CPPFLAGS)
plugins_plc_sim_plc_sim_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS)
plugins_plc_sim_plc_sim_la_LDFLAGS = $(ALD_PLUGIN_LD_FLAGS)
plugins_plc_sim_plc_sim_la_LIBADD = -lm

bin_PROGRAMS += ald-plcsim
ald_plcsim_SOURCES = plugins/plc-sim/ald_plcsim.c \
	$(PLC_SIM_MODEL_SOURCES) $(MODBUS_CODEC_SOURCES)
ald_plcsim_CPPFLAGS = $(PLC_SIM_CPPFLAGS)
ald_plcsim_CFLAGS = $(AM_CFLAGS) $(MODBUS_CFLAGS)
ald_plcsim_LDADD = $(MODBUS_LIBS) -lm
