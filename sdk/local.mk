# Public ABI headers: installed under $(includedir)/ald/, with ald-sdk.pc.
aldincludedir = $(includedir)/ald
aldinclude_HEADERS = sdk/include/ald/abi.h sdk/include/ald/host.h \
	sdk/include/ald/plc.h sdk/include/ald/storage.h sdk/include/ald/plugin.h \
	sdk/include/ald/settings.h sdk/include/ald/number.h sdk/include/ald/testhost.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = sdk/ald-sdk.pc
EXTRA_DIST += sdk/ald-sdk.pc.in sdk/README.md

# ald-plugin-check: the plugin author's checker (issue 12). Links the
# engine's own loader, host table and config code, so it sees a plugin
# exactly as the engine does.
bin_PROGRAMS += ald-plugin-check
ald_plugin_check_SOURCES = sdk/tools/ald_plugin_check.c sdk/tools/plugin_check.h \
	sdk/tools/plugin_check.c sdk/tools/plugin_check_caps.c sdk/tools/plugin_check_thread.c
ald_plugin_check_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
ald_plugin_check_LDADD = engine/libaldcore.la $(LIBCONFIG_LIBS) -lpthread

# storage-jsonl: the SDK's storage example (built from the public headers
# only, -pedantic), installed as a real plugin: the JSON-lines archive sink
# with daily rotation (issue 12). Lives under plugins/ so the engine finds it
# in a build tree like the other plugins.
pkglib_LTLIBRARIES += plugins/storage-jsonl/storage-jsonl.la
plugins_storage_jsonl_storage_jsonl_la_SOURCES = sdk/example/storage_jsonl.c
plugins_storage_jsonl_storage_jsonl_la_CPPFLAGS = -I$(top_srcdir)/sdk/include
plugins_storage_jsonl_storage_jsonl_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS) -pedantic
plugins_storage_jsonl_storage_jsonl_la_LDFLAGS = $(ALD_PLUGIN_LD_FLAGS)
plugins_storage_jsonl_storage_jsonl_la_LIBADD = -lm
