# plugins/storage-sqlite: the embedded SQLite store (default storage and the
# durable local fallback with its outbox). One module, one exported symbol.
pkglib_LTLIBRARIES += plugins/storage-sqlite/storage-sqlite.la
plugins_storage_sqlite_storage_sqlite_la_SOURCES = \
	plugins/storage-sqlite/sqlite_store.h \
	plugins/storage-sqlite/sqlite_plugin.c \
	plugins/storage-sqlite/sqlite_db.c \
	plugins/storage-sqlite/sqlite_schema.c \
	plugins/storage-sqlite/sqlite_seed.c \
	plugins/storage-sqlite/sqlite_samples.c \
	plugins/storage-sqlite/sqlite_recipes.c \
	plugins/storage-sqlite/sqlite_commands.c \
	plugins/storage-sqlite/sqlite_machines.c \
	plugins/storage-sqlite/sqlite_process.c \
	plugins/storage-sqlite/sqlite_outbox.c \
	plugins/storage-sqlite/sqlite_import.c plugins/storage-sqlite/sqlite_cache.c
plugins_storage_sqlite_storage_sqlite_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS) $(SQLITE_CFLAGS)
plugins_storage_sqlite_storage_sqlite_la_LDFLAGS = $(ALD_PLUGIN_LD_FLAGS)
plugins_storage_sqlite_storage_sqlite_la_LIBADD = $(SQLITE_LIBS)
