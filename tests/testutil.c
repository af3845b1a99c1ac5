/* testutil.c - shared helpers for the Check programs (see testutil.h). */
#include "testutil.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports/host_services.h"

int run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_set_tap(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const ald_host *test_host(void)
{
    static ald_host *host;
    if (!host)
        host = host_new("test");
    return host;
}

/* What test_keep() holds; released in reverse order at exit. */
typedef struct kept_item {
    void *p;
    void (*release)(void *);
    struct kept_item *next;
} kept_item;
static kept_item *kept;

static void release_kept(void)
{
    while (kept) {
        kept_item *k = kept;
        kept = k->next;
        k->release(k->p);
        free(k);
    }
}

void *test_keep(void *p, void (*release)(void *))
{
    static int registered;
    kept_item *k = malloc(sizeof *k);
    ck_assert_ptr_nonnull(k);
    if (!registered)
        registered = atexit(release_kept) == 0;
    *k = (kept_item){p, release, kept};
    kept = k;
    return p;
}

static void config_release(void *p)
{
    config_destroy(p);
    free(p);
}

const ald_config *test_config(const char *text)
{
    config_t *cfg = malloc(sizeof *cfg);
    ck_assert_ptr_nonnull(cfg);
    config_init(cfg);
    if (!config_read_string(cfg, text))
        ck_abort_msg("test config line %d: %s", config_error_line(cfg),
                     config_error_text(cfg));
    test_keep(cfg, config_release);
    return (const ald_config *)config_root_setting(cfg);
}

const ald_config *test_config_file(const char *path)
{
    config_t *cfg = malloc(sizeof *cfg);
    ck_assert_ptr_nonnull(cfg);
    config_init(cfg);
    if (!config_read_file(cfg, path))
        ck_abort_msg("%s:%d: %s", path, config_error_line(cfg), config_error_text(cfg));
    test_keep(cfg, config_release);
    return (const ald_config *)config_root_setting(cfg);
}

const char *test_tmpdir(const char *tag)
{
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/ald-test-%s-XXXXXX", base ? base : "/tmp", tag);
    ck_assert_ptr_nonnull(mkdtemp(path));
    return path;
}

static const char *tree_path(const char *env, const char *relative)
{
    static char path[1024];
    const char *top = getenv(env);
    snprintf(path, sizeof path, "%s/%s", top ? top : ".", relative);
    return path;
}

const char *test_srcpath(const char *relative)
{
    return tree_path("ALD_TOP_SRCDIR", relative);
}

const char *test_buildpath(const char *relative)
{
    return tree_path("ALD_TOP_BUILDDIR", relative);
}

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}
