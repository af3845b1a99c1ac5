# conf.d: the shipped configuration (simulated tool on the embedded SQLite
# store), installed to $(sysconfdir)/ald/conf.d and read by the tests.
aldconfdir = $(sysconfdir)/ald/conf.d
aldconf_DATA = \
	conf.d/engine.conf \
	conf.d/plc-sim.conf \
	conf.d/plc-modbus.conf \
	conf.d/storage-sqlite.conf \
	conf.d/storage-supabase.conf \
	conf.d/sink-jsonl.conf
EXTRA_DIST += $(aldconf_DATA)
