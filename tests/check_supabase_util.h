/*
 * check_supabase_util.h - what the storage-supabase tests share: a throwaway
 * PostgreSQL 15 with the migrations applied and the PostgREST fixture in front
 * of it (tests/fixtures/postgrest/pg.sh), the REAL built plugin loaded with
 * dlopen(), direct SQL through psql to check what the plugin wrote, and the
 * fixture's test knobs.
 *
 * sbt_servers_start()/sbt_servers_stop() run in the Check parent (unchecked
 * fixture); the ports reach the forked test children through the environment.
 * Every other helper asserts (ck_assert) on failure.
 */
#ifndef ALD_CHECK_SUPABASE_UTIL_H
#define ALD_CHECK_SUPABASE_UTIL_H

#include <stdint.h>

#include "ald/plugin.h"

/* JWT-shaped, so the plugin also sends it as a Bearer token (the fixture checks). */
#define SBT_KEY "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.dGVzdC1zaWduYXR1cmU"

void sbt_servers_start(void);
void sbt_servers_stop(void);
/* pg.sh migrate: applies the migrations again; returns its exit status. */
int sbt_migrate_again(void);

const ald_storage_vtable *sbt_vt(void);
/* The fixture's base URL ("http://127.0.0.1:<port>"). */
const char *sbt_url(void);

/* create() with url/key of the fixture plus extra settings text. */
ald_status sbt_create(const char *settings, void **instance, char *err, size_t errlen);
/* create() + start() against the fixture; extra settings may be "". */
void *sbt_open(const char *extra_settings);
void sbt_close(void *instance);

/* psql: first column of the first row (malloc'ed, "" when no row). */
char *sbt_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* psql for a statement whose output does not matter. */
void sbt_exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t sbt_sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* GET <fixture>/_test/<knob> (e.g. "fail?status=503&count=2"); returns the body. */
char *sbt_knob(const char *knob);
/* API requests the fixture has received since start or the last reset. */
int64_t sbt_requests(void);

/* A fresh machine row (uuid) with status idle. */
char *sbt_new_machine(void);

#endif
