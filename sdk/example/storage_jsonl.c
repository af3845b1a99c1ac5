/*
 * storage_jsonl.c - a storage plugin that appends JSON lines: a sample
 * archive with daily rotation, and the SDK's storage example.
 *
 * Every sample batch becomes one line per sample in
 *     <dir>/<prefix>-YYYY-MM-DD.jsonl     (the batch's UTC date)
 *     {"t":1733300000000,"machine":"...","parameter":"...","value":1.5,"set_point":null}
 * and every process progress update one line in the same day's file
 *     {"t":...,"progress":"<execution id>","step":3,"of":12,"type":"valve","name":"..."}
 * A new UTC day starts a new file; old files are left for the lab's own
 * retention. Lines are written with one write() per batch and fsync'd when
 * `fsync = true`.
 *
 * It implements only append_samples and update_process_state: as the
 * engine's primary store it cannot serve a parameter map or commands, so it
 * is meant as a SINK (role = "sink": a write-only copy beside the primary;
 * the engine feeds sinks sample batches, update_process_state is for hosts
 * that also send progress).
 *
 * Settings: dir (default: the engine's data_dir + "/archive"), prefix
 * (default "samples"), fsync (default false).
 * Builds with nothing but the SDK headers:
 *     cc -std=c11 -pedantic -shared -fPIC -fvisibility=hidden \
 *        $(pkg-config --cflags ald-sdk) -o storage-jsonl.so storage_jsonl.c
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ald/plugin.h>
#include <ald/settings.h>

typedef struct jsonl {
    char dir[512];
    char prefix[64];
    int fsync;
    char err[1024];
    int ok; /* the last write reached the file */
} jsonl;

static ald_status jsonl_fail(jsonl *j, ald_status st, const char *what, const char *path)
{
    int n = snprintf(j->err, sizeof j->err, "%s %.700s: %s", what, path, strerror(errno));
    (void)n; /* a cut message is still a message */
    j->ok = 0;
    return st;
}

static ald_status jsonl_create(const ald_host *host, const ald_config *cfg, void **out,
                               char *err, size_t errlen)
{
    ald_settings s = {host, cfg, err, errlen};
    const char *data_dir = NULL, *dir = NULL, *prefix = "samples";
    int sync = 0;
    if (ald_setting_string(&s, "data_dir", &data_dir) || ald_setting_string(&s, "dir", &dir) ||
        ald_setting_string(&s, "prefix", &prefix) || ald_setting_bool(&s, "fsync", &sync))
        return ALD_ERR_INVALID;
    if (!dir && !data_dir)
        return ald_setting_fail(&s, "dir", "not set, and no data_dir to put archive/ in");
    if (!prefix[0] || strchr(prefix, '/'))
        return ald_setting_fail(&s, "prefix", "\"%s\" must be a non-empty file name part",
                                prefix);
    jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return ALD_ERR_NOMEM;
    if (dir)
        snprintf(j->dir, sizeof j->dir, "%s", dir);
    else
        snprintf(j->dir, sizeof j->dir, "%s/archive", data_dir);
    snprintf(j->prefix, sizeof j->prefix, "%s", prefix);
    j->fsync = sync;
    *out = j;
    return ALD_OK;
}

static void jsonl_destroy(void *inst)
{
    free(inst);
}

static ald_status jsonl_start(void *inst)
{
    jsonl *j = inst;
    if (mkdir(j->dir, 0750) != 0 && errno != EEXIST)
        return jsonl_fail(j, ALD_ERR_IO, "cannot create", j->dir);
    j->ok = 1;
    return ALD_OK;
}

static const char *jsonl_last_error(void *inst)
{
    return ((jsonl *)inst)->err;
}

static int jsonl_connected(void *inst)
{
    return ((jsonl *)inst)->ok;
}

/* The day's file for a timestamp (UTC). */
static void day_path(const jsonl *j, int64_t ms, char *path, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(path, len, "%s/%s-%04d-%02d-%02d.jsonl", j->dir, j->prefix, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
}

/* Appends text (whole lines) to the day's file in one write. */
static ald_status append_text(jsonl *j, int64_t ms, const char *text, size_t len)
{
    char path[700];
    day_path(j, ms, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return jsonl_fail(j, ALD_ERR_IO, "cannot open", path);
    ssize_t n = write(fd, text, len);
    int synced = !j->fsync || fsync(fd) == 0;
    int closed = close(fd) == 0;
    if (n != (ssize_t)len || !synced || !closed)
        return jsonl_fail(j, ALD_ERR_IO, "cannot append to", path);
    j->ok = 1;
    j->err[0] = '\0';
    return ALD_OK;
}

/* A JSON string (ids and names: escape quotes, backslashes, control chars). */
static int put_string(char *out, size_t len, const char *s)
{
    size_t o = 0;
    if (!s)
        return snprintf(out, len, "null");
    out[o++] = '"';
    for (; *s && o + 8 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, len - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    o += (size_t)snprintf(out + o, len - o, "\"");
    return (int)o;
}

static int put_number(char *out, size_t len, double v)
{
    return isfinite(v) ? snprintf(out, len, "%.17g", v) : snprintf(out, len, "null");
}

static size_t sample_line(char *out, size_t len, const ald_sample_batch *b, const ald_sample *s)
{
    char machine[160], param[160], value[32], sp[32];
    put_string(machine, sizeof machine, b->machine_id);
    put_string(param, sizeof param, s->parameter_id);
    put_number(value, sizeof value, s->value);
    put_number(sp, sizeof sp, s->set_point);
    int n = snprintf(out, len, "{\"t\":%lld,\"machine\":%s,\"parameter\":%s,\"value\":%s,"
                               "\"set_point\":%s}\n",
                     (long long)b->timestamp_ms, machine, param, value, sp);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static ald_status jsonl_append_samples(void *inst, const ald_sample_batch *b)
{
    jsonl *j = inst;
    size_t cap = b->count * 512 + 1, used = 0;
    char *text = malloc(cap);
    if (!text)
        return ALD_ERR_NOMEM;
    for (size_t i = 0; i < b->count; i++)
        used += sample_line(text + used, cap - used, b, &b->samples[i]);
    ald_status st = used ? append_text(j, b->timestamp_ms, text, used) : ALD_OK;
    free(text);
    return st;
}

static ald_status jsonl_update_progress(void *inst, const ald_process_state *s)
{
    jsonl *j = inst;
    char id[160], type[160], name[300], line[1024];
    int64_t t = ALD_HAS_FIELD(s, ald_process_state, last_updated_ms) ? s->last_updated_ms : 0;
    put_string(id, sizeof id, s->execution_id);
    put_string(type, sizeof type, s->current_step_type);
    put_string(name, sizeof name, s->current_step_name);
    int n = snprintf(line, sizeof line,
                     "{\"t\":%lld,\"progress\":%s,\"step\":%lld,\"of\":%lld,\"type\":%s,"
                     "\"name\":%s}\n",
                     (long long)t, id, (long long)s->current_overall_step,
                     (long long)s->total_overall_steps, type, name);
    if (n <= 0 || (size_t)n >= sizeof line)
        return ALD_ERR_INTERNAL;
    return append_text(j, t, line, (size_t)n);
}

static const ald_storage_vtable vtable = {
    .struct_size = sizeof(ald_storage_vtable),
    .create = jsonl_create,
    .destroy = jsonl_destroy,
    .start = jsonl_start,
    .last_error = jsonl_last_error,
    .is_connected = jsonl_connected,
    .append_samples = jsonl_append_samples,
    .update_process_state = jsonl_update_progress,
};

static const ald_plugin_descriptor descriptor = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "storage-jsonl",
    .version = "1.0.0",
    .kind = ALD_PLUGIN_STORAGE,
    .capabilities = 0,
    .vtable = &vtable,
};

ALD_PLUGIN_ENTRY
{
    return &descriptor;
}
