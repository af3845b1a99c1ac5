/*
 * fuzz_config.c - conf.d text: one fuzzed file as the only *.conf of a
 * configuration directory, through the entry point main() uses:
 * config_load_effective (libconfig parse, our tree walk, environment
 * overrides, validation, plugin defaults), then config_log_effective (secret
 * masking) and config_free.
 *
 * Not covered: @include (it reads other files by path; the harness skips
 * inputs that use it) and libconfig's own lexer, which is not instrumented.
 */
#include "fuzz.h"

#include <unistd.h>

#include "config.h"
#include "log.h"

static char conf_dir[256];
static char conf_file[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    const char *tmp = getenv("TMPDIR");
    snprintf(conf_dir, sizeof conf_dir, "%s/ald-fuzz-config-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(conf_dir)) {
        perror("fuzz_config: mkdtemp");
        exit(1);
    }
    snprintf(conf_file, sizeof conf_file, "%s/fuzz.conf", conf_dir);
    return 0;
}

static int write_conf(const uint8_t *data, size_t size)
{
    FILE *f = fopen(conf_file, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, size, f);
    return fclose(f) == 0 && put == size ? 0 : -1;
}

static int uses_include(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    int found = !text || strcasestr(text, "include") != NULL;
    free(text);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!conf_dir[0])
        LLVMFuzzerInitialize(NULL, NULL);
    if (uses_include(data, size) || write_conf(data, size) != 0)
        return 0;
    engine_config cfg;
    char err[1024] = "";
    if (config_load_effective(&cfg, conf_dir, err, sizeof err) == 0)
        config_log_effective(&cfg);
    else
        FUZZ_EXPECT(err[0] != '\0', "refused without a message");
    config_free(&cfg);
    unlink(conf_file);
    return 0;
}
