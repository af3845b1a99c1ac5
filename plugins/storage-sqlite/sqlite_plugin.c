/*
 * sqlite_plugin.c - the storage-sqlite plugin: descriptor, vtable, settings
 * and lifecycle. The domain operations live in the other sqlite_*.c files.
 *
 * Settings (the instance's `settings` group):
 *   path             database file (default "<data_dir>/ald.db")
 *   seed_demo        seed the demo tool into a NEW file (default true)
 *   busy_timeout_ms  how long to wait for another process's lock (default 5000)
 *   durable_samples  fsync every append_samples commit (default true); false
 *                    commits sample batches with synchronous=NORMAL: a crash of
 *                    the engine loses nothing, a power cut may lose the last
 *                    batches. Everything else, the outbox above all, stays FULL.
 *   data_dir, machine_id  injected by the host into every instance
 *
 * create() only validates; start() creates the directory, opens the file in
 * WAL mode with synchronous=FULL (an outbox push is on disk when it returns),
 * foreign keys on and the busy timeout set, then migrates. A file SQLite
 * reports as not a database or corrupt is moved aside, never deleted, to
 * "<path>.corrupt-<UTC time>" (with its -wal and -shm), one ERROR names both
 * paths, and a fresh store is created: the engine keeps logging and the old
 * data stays there for recovery.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ald/settings.h"
#include "sqlite_store.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define MAX_BUSY_TIMEOUT_MS 600000

/* An optional string that, when given, must not be empty. */
static ald_status read_string(const ald_host *host, const ald_config *cfg, const char *name,
                              const char **out, char *err, size_t errlen)
{
    const ald_settings s = {host, cfg, err, errlen};
    if (ald_setting_string(&s, name, out) != ALD_OK)
        return ALD_ERR_INVALID;
    if (*out && (*out)[0] == '\0')
        return ald_setting_fail(&s, name, "must not be empty");
    return ALD_OK;
}

static ald_status read_path(const ald_host *host, const ald_config *cfg, sq_store *sq,
                            char *err, size_t errlen)
{
    const char *path = NULL, *data_dir = NULL, *machine_id = NULL;
    ald_status rc = read_string(host, cfg, "path", &path, err, errlen);
    if (rc == ALD_OK)
        rc = read_string(host, cfg, "data_dir", &data_dir, err, errlen);
    if (rc == ALD_OK)
        rc = read_string(host, cfg, "machine_id", &machine_id, err, errlen);
    if (rc != ALD_OK)
        return rc;
    const ald_settings s = {host, cfg, err, errlen};
    if (!path && !data_dir)
        return ald_setting_fail(&s, "path",
                                "not set, and no data_dir to put ald.db in: set path = "
                                "\"/var/lib/ald/ald.db\" or the engine's data_dir");
    size_t len = path ? strlen(path) + 1 : strlen(data_dir) + sizeof "/ald.db";
    if (!(sq->path = malloc(len)))
        return ALD_ERR_NOMEM;
    if (path)
        memcpy(sq->path, path, len);
    else
        snprintf(sq->path, len, "%s/ald.db", data_dir);
    return ALD_OK;
}

static ald_status read_settings(const ald_host *host, const ald_config *cfg, sq_store *sq,
                                char *err, size_t errlen)
{
    ald_status rc = read_path(host, cfg, sq, err, errlen);
    if (rc != ALD_OK)
        return rc;
    const ald_settings s = {host, cfg, err, errlen};
    sq->seed_demo = 1;
    sq->durable_samples = 1;
    sq->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
    if (ald_setting_bool(&s, "seed_demo", &sq->seed_demo) != ALD_OK ||
        ald_setting_bool(&s, "durable_samples", &sq->durable_samples) != ALD_OK ||
        ald_setting_int(&s, "busy_timeout_ms", 0, MAX_BUSY_TIMEOUT_MS,
                        &sq->busy_timeout_ms) != ALD_OK)
        return ALD_ERR_INVALID;
    return ALD_OK;
}

static void free_store(sq_store *sq)
{
    if (!sq)
        return;
    pthread_mutex_destroy(&sq->lock);
    free(sq->path);
    free(sq);
}

static ald_status sq_create(const ald_host *host, const ald_config *cfg, void **instance,
                            char *err, size_t errlen)
{
    sq_store *sq = calloc(1, sizeof *sq);
    if (!sq) {
        snprintf(err, errlen, "storage-sqlite: out of memory");
        return ALD_ERR_NOMEM;
    }
    sq->host = host;
    pthread_mutex_init(&sq->lock, NULL);
    ald_status rc = read_settings(host, cfg, sq, err, errlen);
    if (rc != ALD_OK) {
        free_store(sq);
        return rc;
    }
    *instance = sq;
    return ALD_OK;
}

/* mkdir -p of the directory holding the database file. */
static ald_status make_parent_dirs(sq_store *sq)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sq->path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return ALD_OK;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST)
            return sq_error(sq, ALD_ERR_IO,
                            "creating directory %s for database %s: %s: "
                            "create it or set path to a writable place",
                            dir, sq->path, strerror(errno));
        *p = saved;
        if (saved == '\0')
            return ALD_OK;
    }
}

/* Connection settings; journal_mode and the sqlite_master read are the first
 * statements that touch the file, so a non-database file fails here with a
 * clear message (a full integrity check would scan gigabytes at startup). */
static ald_status configure_connection(sq_store *sq)
{
    sqlite3_busy_timeout(sq->db, (int)sq->busy_timeout_ms);
    sqlite3_extended_result_codes(sq->db, 1);
    ald_status rc = sq_exec(sq, "PRAGMA journal_mode=WAL", "switching to WAL mode");
    if (rc == ALD_OK)
        rc = sq_exec(sq, "PRAGMA synchronous=FULL", "setting synchronous=FULL");
    if (rc == ALD_OK)
        rc = sq_exec(sq, "PRAGMA foreign_keys=ON", "enabling foreign keys");
    if (rc == ALD_OK)
        rc = sq_exec(sq, "SELECT count(*) FROM sqlite_master", "reading the database file");
    return rc;
}

static void close_db(sq_store *sq)
{
    sq_finalize_all(sq);
    if (sq->db)
        sqlite3_close_v2(sq->db);
    sq->db = NULL;
    sq->connected = 0;
}

static ald_status open_and_migrate(sq_store *sq)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    int src = sqlite3_open_v2(sq->path, &sq->db, flags, NULL);
    ald_status rc = src == SQLITE_OK ? configure_connection(sq) : sq_fail(sq, src, "opening");
    if (rc == ALD_OK)
        rc = sq_migrate(sq);
    return rc;
}

/* Whether the last failure on db says the file is not a usable database. */
static int file_is_unusable(sqlite3 *db)
{
    int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_OK;
    return code == SQLITE_NOTADB || code == SQLITE_CORRUPT;
}

/* Renames path+suffix to aside+suffix; a missing -wal/-shm is fine. */
static int move_file(const char *path, const char *aside, const char *suffix)
{
    char from[4200], to[4300];
    snprintf(from, sizeof from, "%s%s", path, suffix);
    snprintf(to, sizeof to, "%s%s", aside, suffix);
    return rename(from, to) == 0 || (suffix[0] && errno == ENOENT) ? 0 : -1;
}

/* Moves the unusable file (and its WAL and shared memory) aside, keeping it
 * for recovery, and says so in one ERROR naming both paths. */
static ald_status set_aside(sq_store *sq, const char *why)
{
    char stamp[SQ_ISO_LEN], aside[4200];
    sq_iso_time(sq_now_ms(sq), stamp); /* 2026-12-04T16:04:49.861Z */
    snprintf(aside, sizeof aside, "%s.corrupt-%s", sq->path, stamp);
    if (move_file(sq->path, aside, "") != 0)
        return sq_error(sq, ALD_ERR_IO, "%s; moving it aside to %s failed too: %s", why, aside,
                        strerror(errno));
    if (move_file(sq->path, aside, "-wal") != 0 || move_file(sq->path, aside, "-shm") != 0)
        return sq_error(sq, ALD_ERR_IO, "%s; moving its -wal/-shm aside to %s failed: %s", why,
                        aside, strerror(errno));
    sq->host->log(sq->host, ALD_LOG_ERROR,
                  "storage-sqlite: database %s is not usable (%s): moved it to %s and "
                  "created a fresh store; what it held is in that file", sq->path, why, aside);
    return ALD_OK;
}

static ald_status open_db(sq_store *sq)
{
    ald_status rc = make_parent_dirs(sq);
    if (rc != ALD_OK)
        return rc;
    rc = open_and_migrate(sq);
    if (rc != ALD_OK && file_is_unusable(sq->db)) {
        char why[256];
        snprintf(why, sizeof why, "%s", sqlite3_errmsg(sq->db));
        close_db(sq);
        rc = set_aside(sq, why);
        if (rc == ALD_OK)
            rc = open_and_migrate(sq);
    }
    if (rc != ALD_OK)
        close_db(sq);
    return rc;
}

static ald_status sq_start(void *instance)
{
    sq_store *sq = instance;
    pthread_mutex_lock(&sq->lock);
    ald_status rc = sq->db ? ALD_OK : open_db(sq);
    sq->connected = rc == ALD_OK;
    pthread_mutex_unlock(&sq->lock);
    return rc;
}

static void sq_stop(void *instance)
{
    sq_store *sq = instance;
    pthread_mutex_lock(&sq->lock);
    close_db(sq);
    pthread_mutex_unlock(&sq->lock);
}

static void sq_destroy(void *instance)
{
    sq_store *sq = instance;
    if (!sq)
        return;
    sq_stop(sq);
    free_store(sq);
}

static const char *sq_last_error(void *instance)
{
    const sq_store *sq = instance;
    return sq->last_error;
}

static int sq_is_connected(void *instance)
{
    const sq_store *sq = instance;
    return sq->connected;
}

static const ald_storage_vtable VTABLE = {
    .struct_size = sizeof(ald_storage_vtable),
    .create = sq_create,
    .destroy = sq_destroy,
    .start = sq_start,
    .stop = sq_stop,
    .last_error = sq_last_error,
    .is_connected = sq_is_connected,
    .load_parameters = sq_load_parameters,
    .update_parameter_values = sq_update_parameter_values,
    .append_samples = sq_append_samples,
    .load_recipe = sq_load_recipe,
    .list_recipes = sq_list_recipes,
    .fetch_pending_commands = sq_fetch_pending_commands,
    .claim_command = sq_claim_command,
    .finish_command = sq_finish_command,
    .get_machine = sq_get_machine,
    .set_machine_state = sq_set_machine_state,
    .get_or_create_session = sq_get_or_create_session,
    .create_process = sq_create_process,
    .update_process_state = sq_update_process_state,
    .finish_process = sq_finish_process,
    .find_open_processes = sq_find_open_processes,
    .get_process_state = sq_get_process_state,
    .fetch_setpoint_commands = sq_fetch_setpoint_commands,
    .claim_setpoint_command = sq_claim_setpoint_command,
    .finish_setpoint_command = sq_finish_setpoint_command,
    .write_health = sq_write_health,
    .acquire_lease = sq_acquire_lease,
    .release_lease = sq_release_lease,
    .insert_command = sq_insert_command,
    .outbox_push = sq_outbox_push,
    .outbox_peek = sq_outbox_peek,
    .outbox_ack = sq_outbox_ack,
    .outbox_stats = sq_outbox_stats,
    .save_recipe = sq_save_recipe,
    .get_command = sq_get_command,
    .save_parameters = sq_save_parameters,
    .append_sample_batches = sq_append_sample_batches,
    .find_last_finished_process = sq_find_last_finished_process,
};

static const ald_plugin_descriptor DESCRIPTOR = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "storage-sqlite",
    .version = "1.0.0",
    .kind = ALD_PLUGIN_STORAGE,
    .capabilities = ALD_CAP_STORAGE_OUTBOX | ALD_CAP_STORAGE_LOCAL,
    .vtable = &VTABLE,
};

ALD_PLUGIN_ENTRY; /* a prototype, for -Wmissing-prototypes */
ALD_PLUGIN_ENTRY
{
    return &DESCRIPTOR;
}
