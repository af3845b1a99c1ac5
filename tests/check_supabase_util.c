/* check_supabase_util.c - helpers of the storage-supabase tests (see the header). */
#include "check_supabase_util.h"

#include <check.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define PLUGIN_SO "plugins/storage-supabase/.libs/storage-supabase.so"
#define PG_SH "tests/fixtures/postgrest/pg.sh"

static char state_dir[600];
static pid_t owner; /* the process that started the servers stops them (not test children) */

static int run_pg_sh(const char *cmd)
{
    char line[2048];
    snprintf(line, sizeof line, "ALD_FIXTURE_KEY='%s' '%s' %s '%s'", SBT_KEY,
             test_srcpath(PG_SH), cmd, state_dir);
    int rc = system(line);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Exports FIXTURE_URL and PSQL_DSN from the env file pg.sh wrote. */
static void load_env_file(void)
{
    char path[700], line[512];
    snprintf(path, sizeof path, "%s/env", state_dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s: pg.sh start failed", path);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *value = eq + 1;
        size_t len = strlen(value);
        if (len >= 2 && value[0] == '\'' && value[len - 1] == '\'') {
            value[len - 1] = '\0';
            value++;
        }
        setenv(line, value, 1);
    }
    fclose(f);
}

void sbt_servers_start(void)
{
    snprintf(state_dir, sizeof state_dir, "%s", test_tmpdir("supabase"));
    setenv("SBT_STATE_DIR", state_dir, 1);
    int rc = run_pg_sh("start");
    owner = getpid();
    ck_assert_msg(rc == 0, "pg.sh start %s failed (exit %d)", state_dir, rc);
    load_env_file();
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void sbt_servers_stop(void)
{
    if (state_dir[0] && owner == getpid())
        run_pg_sh("stop");
}

int sbt_migrate_again(void)
{
    snprintf(state_dir, sizeof state_dir, "%s", getenv("SBT_STATE_DIR"));
    return run_pg_sh("migrate");
}

const ald_storage_vtable *sbt_vt(void)
{
    static const ald_plugin_descriptor *desc;
    if (!desc) {
        void *dl = dlopen(test_buildpath(PLUGIN_SO), RTLD_NOW | RTLD_LOCAL);
        ck_assert_msg(dl != NULL, "dlopen %s: %s", test_buildpath(PLUGIN_SO), dlerror());
        ald_plugin_entry_fn entry;
        *(void **)&entry = dlsym(dl, ALD_PLUGIN_ENTRY_SYMBOL);
        ck_assert_msg(entry != NULL, "no %s in the plugin", ALD_PLUGIN_ENTRY_SYMBOL);
        desc = entry();
    }
    return desc->vtable;
}

const char *sbt_url(void)
{
    const char *url = getenv("FIXTURE_URL");
    ck_assert_msg(url != NULL, "FIXTURE_URL not set: the servers did not start");
    return url;
}

ald_status sbt_create(const char *settings, void **instance, char *err, size_t errlen)
{
    err[0] = '\0';
    *instance = NULL;
    return sbt_vt()->create(test_host(), test_config(settings), instance, err, errlen);
}

void *sbt_open(const char *extra_settings)
{
    char text[2048], err[512];
    snprintf(text, sizeof text,
             "url = \"%s\"; key = \"%s\"; backoff_initial_ms = 10; backoff_max_ms = 50; %s",
             sbt_url(), SBT_KEY, extra_settings);
    void *inst;
    ald_status rc = sbt_create(text, &inst, err, sizeof err);
    ck_assert_msg(rc == ALD_OK, "create: %s: %s", ald_status_name(rc), err);
    rc = sbt_vt()->start(inst);
    ck_assert_msg(rc == ALD_OK, "start: %s: %s", ald_status_name(rc),
                  sbt_vt()->last_error(inst));
    return inst;
}

void sbt_close(void *instance)
{
    sbt_vt()->stop(instance);
    sbt_vt()->destroy(instance);
}

__attribute__((format(printf, 1, 0))) static char *vsql(const char *fmt, va_list ap)
{
    char path[] = "/tmp/ald-sbt-sql-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    vfprintf(f, fmt, ap);
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "psql '%s' -X -A -t -q -v ON_ERROR_STOP=1 -f %s",
             getenv("PSQL_DSN"), path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[8192] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    unlink(path);
    ck_assert_msg(rc == 0, "psql failed (exit %d) for: %s", rc, cmd);
    out[strcspn(out, "\n")] = '\0';
    return strdup(out);
}

char *sbt_sql(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = vsql(fmt, ap);
    va_end(ap);
    return out;
}

void sbt_exec(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(vsql(fmt, ap));
    va_end(ap);
}

int64_t sbt_sql_int(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = vsql(fmt, ap);
    va_end(ap);
    int64_t v = strtoll(out, NULL, 10);
    free(out);
    return v;
}

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    *buf = realloc(*buf, old + add + 1);
    memcpy(*buf + old, ptr, add);
    (*buf)[old + add] = '\0';
    return add;
}

char *sbt_knob(const char *knob)
{
    char url[512];
    snprintf(url, sizeof url, "%s/_test/%s", sbt_url(), knob);
    CURL *c = curl_easy_init();
    char *body = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    ck_assert_msg(cc == CURLE_OK, "fixture knob %s: %s", knob, curl_easy_strerror(cc));
    return body ? body : strdup("");
}

int64_t sbt_requests(void)
{
    char *body = sbt_knob("stats");
    json_t *stats = json_loads(body, 0, NULL);
    ck_assert_msg(stats != NULL, "fixture stats not JSON: %s", body);
    int64_t n = json_integer_value(json_object_get(stats, "requests"));
    json_decref(stats);
    free(body);
    return n;
}

char *sbt_new_machine(void)
{
    return sbt_sql("INSERT INTO machines (name, status) VALUES ('test tool', 'idle') "
                   "RETURNING id;");
}
