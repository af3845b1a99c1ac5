/* testutil.h - what every Check program here shares. */
#ifndef ALD_TESTUTIL_H
#define ALD_TESTUTIL_H

#include <check.h>

#include "ald/host.h"

/* Run a suite with TAP on stdout (the harness counts each test case) and
 * return the process exit status. */
int run_suite(Suite *suite);

/* A host-services table as the engine builds it, for plugin unit tests. */
const ald_host *test_host(void);

/* Parse libconfig text and return its root group as an ald_config (lives
 * until the process exits, then test_keep frees it). Aborts the test on a
 * syntax error. */
const ald_config *test_config(const char *libconfig_text);

/* The same for a libconfig file, so settings carry a real file:line. */
const ald_config *test_config_file(const char *path);

/* Keep `p` until the process (the forked test child) exits, then release it
 * with release(p): for things a test hands out that live as long as the test,
 * so the sanitizer build's leak check sees them freed. Returns p. */
void *test_keep(void *p, void (*release)(void *));

/* A fresh empty directory under $TMPDIR (or /tmp), removed by nobody: tests
 * run in forked children, so each gets its own. Returns a static buffer. */
const char *test_tmpdir(const char *tag);

/* Absolute path of a file in the source or build tree (from the harness's
 * ALD_TOP_SRCDIR / ALD_TOP_BUILDDIR, falling back to "."). Static buffer. */
const char *test_srcpath(const char *relative);
const char *test_buildpath(const char *relative);

/* A free TCP port on 127.0.0.1 (bound and released; racy but fine here). */
int test_free_port(void);

#endif
