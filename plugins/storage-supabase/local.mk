# plugins/storage-supabase: the Supabase (PostgREST over HTTPS) store. One
# module, one exported symbol; libcurl + jansson. See docs/supabase.md.
pkglib_LTLIBRARIES += plugins/storage-supabase/storage-supabase.la
plugins_storage_supabase_storage_supabase_la_SOURCES = \
	plugins/storage-supabase/sb_store.h \
	plugins/storage-supabase/sb_plugin.c \
	plugins/storage-supabase/sb_buf.c \
	plugins/storage-supabase/sb_json.c \
	plugins/storage-supabase/sb_errors.c \
	plugins/storage-supabase/sb_http.c \
	plugins/storage-supabase/sb_samples.c \
	plugins/storage-supabase/sb_recipes.c \
	plugins/storage-supabase/sb_commands.c \
	plugins/storage-supabase/sb_machines.c \
	plugins/storage-supabase/sb_process.c \
	plugins/storage-supabase/sb_schema.c
plugins_storage_supabase_storage_supabase_la_CFLAGS = \
	$(ALD_PLUGIN_CC_FLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
plugins_storage_supabase_storage_supabase_la_LDFLAGS = $(ALD_PLUGIN_LD_FLAGS)
plugins_storage_supabase_storage_supabase_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)

# The SQL migrations for a Supabase project ship with the plugin.
EXTRA_DIST += \
	deploy/supabase/README.md \
	deploy/supabase/migrations/0001_ald_schema.sql \
	deploy/supabase/migrations/0002_ald_functions.sql \
	deploy/supabase/migrations/0003_site_schema.sql \
	deploy/supabase/migrations/0004_step_history.sql \
	deploy/supabase/migrations/0100_demo_seed.sql
