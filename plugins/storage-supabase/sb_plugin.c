/*
 * sb_plugin.c - the storage-supabase plugin: descriptor, vtable, settings and
 * lifecycle. The domain operations live in the other sb_*.c files.
 *
 * Settings (the instance's `settings` group; SUPABASE_URL / SUPABASE_KEY are
 * overlaid by the host):
 *   url                   the project URL (https://<ref>.supabase.co); /rest/v1 is appended
 *   key | key_file        the API key, or a file holding it (read in start())
 *   timeout_ms            whole-request timeout (default 5000)
 *   connect_timeout_ms    TCP + TLS connect timeout (default 2000)
 *   retries               extra attempts for transient failures (default 3)
 *   backoff_initial_ms    first retry wait (default 200), doubling ...
 *   backoff_max_ms        ... up to this (default 5000)
 *   ca_file               CA bundle for TLS verification (default: the system's)
 *   insecure_skip_verify  turn TLS verification off (tests only; logged as a warning)
 *   machine_id, data_dir  injected by the host
 *
 * create() validates without network I/O; start() loads key_file, checks
 * that the project answers (and accepts the key) with one cheap read, then
 * reads the schema root once (sb_schema.c: missing migrations are named).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ald/settings.h"
#include "sb_store.h"

typedef struct int_setting {
    const char *name;
    int64_t def, min, max;
    size_t offset; /* of the int64_t field in sb_store */
} int_setting;

static const int_setting INT_SETTINGS[] = {
    {"timeout_ms", 5000, 100, 600000, offsetof(sb_store, timeout_ms)},
    {"connect_timeout_ms", 2000, 50, 600000, offsetof(sb_store, connect_timeout_ms)},
    {"retries", 3, 0, 10, offsetof(sb_store, retries)},
    {"backoff_initial_ms", 200, 1, 60000, offsetof(sb_store, backoff_initial_ms)},
    {"backoff_max_ms", 5000, 1, 600000, offsetof(sb_store, backoff_max_ms)},
};

/* "file:line: setting NAME: problem", the SDK's one format (ald/settings.h);
 * the engine names the instance and plugin around it. */
static ald_status setting_error(const ald_host *host, const ald_config *cfg, const char *name,
                                char *err, size_t errlen, const char *problem)
{
    const ald_settings s = {host, cfg, err, errlen};
    return ald_setting_fail(&s, name, "%s", problem);
}

/* Optional string setting; an empty string counts as absent. */
static ald_status read_string(const ald_host *host, const ald_config *cfg, const char *name,
                              char **out, char *err, size_t errlen)
{
    const ald_settings s = {host, cfg, err, errlen};
    const char *v = NULL;
    if (ald_setting_string(&s, name, &v) != ALD_OK)
        return ALD_ERR_INVALID;
    if (v && v[0] && !(*out = strdup(v)))
        return ALD_ERR_NOMEM;
    return ALD_OK;
}

static ald_status read_ints(const ald_host *host, const ald_config *cfg, sb_store *sb,
                            char *err, size_t errlen)
{
    const ald_settings set = {host, cfg, err, errlen};
    for (size_t i = 0; i < sizeof INT_SETTINGS / sizeof INT_SETTINGS[0]; i++) {
        const int_setting *s = &INT_SETTINGS[i];
        int64_t *field = (int64_t *)((char *)sb + s->offset);
        *field = s->def;
        if (ald_setting_int(&set, s->name, s->min, s->max, field) != ALD_OK)
            return ALD_ERR_INVALID;
    }
    if (sb->backoff_max_ms < sb->backoff_initial_ms)
        return setting_error(host, cfg, "backoff_max_ms", err, errlen,
                             "must not be below backoff_initial_ms");
    return ALD_OK;
}

/* url: http(s), no credentials or query in it; base_url = url + "/rest/v1". */
static ald_status check_url(const ald_host *host, const ald_config *cfg, sb_store *sb,
                            const char *url, char *err, size_t errlen)
{
    if (!url)
        return setting_error(host, cfg, "url", err, errlen,
                             "not set: set url = \"https://<project>.supabase.co\" or the "
                             "SUPABASE_URL environment variable");
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return setting_error(host, cfg, "url", err, errlen,
                             "must start with https:// (or http:// for a local gateway)");
    const char *authority = strstr(url, "//") + 2;
    size_t auth_len = strcspn(authority, "/");
    if (memchr(authority, '@', auth_len) || strpbrk(url, "?# \t\r\n"))
        return setting_error(host, cfg, "url", err, errlen,
                             "must be a plain base URL without credentials, query or spaces "
                             "(the key goes in key or key_file)");
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    int has_rest = len >= 8 && strncmp(url + len - 8, "/rest/v1", 8) == 0;
    sb_buf base = {0};
    sb_buf_add(&base, url, len);
    if (!has_rest)
        sb_buf_puts(&base, "/rest/v1");
    if (base.oom)
        return ALD_ERR_NOMEM;
    sb->base_url = base.data;
    return ALD_OK;
}

/* A key goes into HTTP headers: no whitespace or control characters. */
static int key_is_clean(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return 0;
    return key[0] != '\0';
}

static ald_status read_key(const ald_host *host, const ald_config *cfg, sb_store *sb,
                           char *err, size_t errlen)
{
    ald_status rc = read_string(host, cfg, "key", &sb->key, err, errlen);
    if (rc == ALD_OK)
        rc = read_string(host, cfg, "key_file", &sb->key_file, err, errlen);
    if (rc != ALD_OK)
        return rc;
    if (!sb->key && !sb->key_file)
        return setting_error(host, cfg, "key", err, errlen,
                             "not set: set key_file = \"/run/secrets/supabase_key\", key, or "
                             "the SUPABASE_KEY environment variable");
    if (sb->key && !key_is_clean(sb->key))
        return setting_error(host, cfg, "key", err, errlen,
                             "contains spaces or control characters (a stray newline?)");
    if (!sb->key && access(sb->key_file, R_OK) != 0) {
        char problem[600];
        snprintf(problem, sizeof problem, "cannot read %s: %s", sb->key_file, strerror(errno));
        return setting_error(host, cfg, "key_file", err, errlen, problem);
    }
    return ALD_OK;
}

static ald_status read_settings(const ald_host *host, const ald_config *cfg, sb_store *sb,
                                char *err, size_t errlen)
{
    char *url = NULL;
    ald_status rc = read_string(host, cfg, "url", &url, err, errlen);
    if (rc == ALD_OK)
        rc = check_url(host, cfg, sb, url, err, errlen);
    free(url);
    if (rc == ALD_OK)
        rc = read_key(host, cfg, sb, err, errlen);
    if (rc == ALD_OK)
        rc = read_ints(host, cfg, sb, err, errlen);
    if (rc == ALD_OK)
        rc = read_string(host, cfg, "ca_file", &sb->ca_file, err, errlen);
    if (rc == ALD_OK)
        rc = read_string(host, cfg, "machine_id", &sb->machine_id, err, errlen);
    const ald_settings s = {host, cfg, err, errlen};
    if (rc == ALD_OK &&
        ald_setting_bool(&s, "insecure_skip_verify", &sb->insecure_skip_verify))
        rc = ALD_ERR_INVALID;
    return rc;
}

static void wipe_key(sb_store *sb)
{
    if (sb->key) {
        memset(sb->key, 0, strlen(sb->key));
        free(sb->key);
        sb->key = NULL;
    }
}

static void free_store(sb_store *sb)
{
    if (!sb)
        return;
    sb_pool_drain(sb);
    wipe_key(sb);
    free(sb->base_url);
    free(sb->key_file);
    free(sb->ca_file);
    free(sb->machine_id);
    pthread_mutex_destroy(&sb->lock);
    free(sb);
}

static ald_status sb_create(const ald_host *host, const ald_config *cfg, void **instance,
                            char *err, size_t errlen)
{
    sb_store *sb = calloc(1, sizeof *sb);
    if (!sb) {
        snprintf(err, errlen, "storage-supabase: out of memory");
        return ALD_ERR_NOMEM;
    }
    sb->host = host;
    pthread_mutex_init(&sb->lock, NULL);
    ald_status rc = read_settings(host, cfg, sb, err, errlen);
    if (rc != ALD_OK) {
        free_store(sb);
        return rc;
    }
    sb->send_bearer = sb->key && sb_key_is_jwt(sb->key);
    sb_http_global_init();
    sb_metrics_register(sb);
    if (sb->insecure_skip_verify)
        host->log(host, ALD_LOG_WARNING, "storage-supabase: insecure_skip_verify = true: TLS "
                  "certificates of %s are NOT verified; use this for tests only", sb->base_url);
    *instance = sb;
    return ALD_OK;
}

/* Reads key_file: its first line, surrounding whitespace trimmed. */
static ald_status load_key_file(sb_store *sb)
{
    FILE *f = fopen(sb->key_file, "r");
    if (!f)
        return sb_error(sb, ALD_ERR_IO, "storage-supabase: key_file %s: %s: create it "
                        "(mode 0600) with the project's service_role key", sb->key_file,
                        strerror(errno));
    char line[8192] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *start = line, *end = line + strlen(line);
    while (*start && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        *--end = '\0';
    ald_status rc = ALD_OK;
    if (!ok || !key_is_clean(start))
        rc = sb_error(sb, ALD_ERR_INVALID, "storage-supabase: key_file %s: the first line must "
                      "hold the key (no spaces inside)", sb->key_file);
    else if (!(sb->key = strdup(start)))
        rc = ALD_ERR_NOMEM;
    memset(line, 0, sizeof line);
    sb->send_bearer = sb->key && sb_key_is_jwt(sb->key);
    return rc;
}

/* One cheap read proves the URL, the key and the schema. */
static ald_status probe(sb_store *sb)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "machines", "start (probing the project)");
    sb_req_param(&req, "select", "id");
    sb_req_param(&req, "limit", "1");
    ald_status rc = sb_call(sb, &req, &resp);
    if (rc == ALD_OK && !json_is_array(resp.json))
        rc = sb_error(sb, ALD_ERR_PROTOCOL, "storage-supabase: %s/machines did not answer a "
                      "JSON array: is url the project's base URL?", sb->base_url);
    sb_response_free(&resp);
    sb_req_free(&req);
    return rc;
}

static ald_status sb_start(void *instance)
{
    sb_store *sb = instance;
    if (!sb->key && sb->key_file) {
        ald_status rc = load_key_file(sb);
        if (rc != ALD_OK)
            return rc;
    }
    ald_status rc = probe(sb);
    if (rc == ALD_OK)
        sb_schema_check(sb);
    return rc;
}

static void sb_stop(void *instance)
{
    sb_pool_drain(instance); /* closes the kept-alive connections */
}

static void sb_destroy(void *instance)
{
    free_store(instance);
}

static int sb_is_connected(void *instance)
{
    sb_store *sb = instance;
    pthread_mutex_lock(&sb->lock);
    int connected = sb->connected;
    pthread_mutex_unlock(&sb->lock);
    return connected;
}

static const ald_storage_vtable VTABLE = {
    .struct_size = sizeof(ald_storage_vtable),
    .create = sb_create,
    .destroy = sb_destroy,
    .start = sb_start,
    .stop = sb_stop,
    .last_error = sb_last_error,
    .is_connected = sb_is_connected,
    .load_parameters = sb_load_parameters,
    .update_parameter_values = sb_update_parameter_values,
    .append_samples = sb_append_samples,
    .load_recipe = sb_load_recipe,
    .list_recipes = sb_list_recipes,
    .fetch_pending_commands = sb_fetch_pending_commands,
    .claim_command = sb_claim_command,
    .finish_command = sb_finish_command,
    .get_machine = sb_get_machine,
    .set_machine_state = sb_set_machine_state,
    .get_or_create_session = sb_get_or_create_session,
    .create_process = sb_create_process,
    .update_process_state = sb_update_process_state,
    .finish_process = sb_finish_process,
    .find_open_processes = sb_find_open_processes,
    .get_process_state = sb_get_process_state,
    .fetch_setpoint_commands = sb_fetch_setpoint_commands,
    .claim_setpoint_command = sb_claim_setpoint_command,
    .finish_setpoint_command = sb_finish_setpoint_command,
    .write_health = sb_write_health,
    .acquire_lease = sb_acquire_lease,
    .release_lease = sb_release_lease,
    .insert_command = sb_insert_command,
    /* outbox_*: NULL. SQLite is the durable outbox; this store is the cloud primary. */
    .save_recipe = sb_save_recipe,
    .get_command = sb_get_command,
    .append_sample_batches = sb_append_sample_batches,
    .find_last_finished_process = sb_find_last_finished_process,
};

static const ald_plugin_descriptor DESCRIPTOR = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "storage-supabase",
    .version = "1.0.0",
    .kind = ALD_PLUGIN_STORAGE,
    .capabilities = ALD_CAP_STORAGE_THREAD_SAFE,
    .vtable = &VTABLE,
};

ALD_PLUGIN_ENTRY; /* a prototype, for -Wmissing-prototypes */
ALD_PLUGIN_ENTRY
{
    return &DESCRIPTOR;
}
