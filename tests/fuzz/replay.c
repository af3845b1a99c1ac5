/*
 * replay.c - runs a fuzz harness's LLVMFuzzerTestOneInput() on every kept
 * input, as an ordinary test with any compiler: the seed corpus
 * (tests/fuzz/corpus/<name>/) and the inputs of crashes found and fixed
 * (tests/fuzz/regressions/<name>/), one TAP case per file.
 *
 * The harness name comes from the program name: replay_recipe_json runs
 * the recipe_json inputs. A crash or sanitizer report ends the program, and
 * the "# input" line before it names the file that did it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_INPUTS 4096

/* "…/lt-replay_recipe_json" -> "recipe_json". */
static const char *harness_name(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    if (strncmp(base, "lt-", 3) == 0)
        base += 3;
    if (strncmp(base, "replay_", 7) == 0)
        base += 7;
    return base;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "<dir>/<file>" for each regular file of dir; a missing dir adds none. */
static size_t list_inputs(const char *dir, char **out, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return n;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_INPUTS) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        out[n] = malloc(len);
        if (!out[n])
            break;
        snprintf(out[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    /* An exact-size copy, so reading one byte past the input is caught. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact)
        memcpy(exact, buf, len);
    free(buf);
    *data = exact;
    *size = len;
    return exact ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *name = harness_name(argv[0]);
    const char *top = getenv("ALD_TOP_SRCDIR");
    char corpus[1024], regressions[1024];
    snprintf(corpus, sizeof corpus, "%s/tests/fuzz/corpus/%s", top ? top : ".", name);
    snprintf(regressions, sizeof regressions, "%s/tests/fuzz/regressions/%s", top ? top : ".",
             name);
    static char *inputs[MAX_INPUTS];
    size_t first_regression = list_inputs(corpus, inputs, 0);
    size_t n = list_inputs(regressions, inputs, first_regression);
    qsort(inputs, first_regression, sizeof *inputs, by_name);
    qsort(inputs + first_regression, n - first_regression, sizeof *inputs, by_name);
    if (n == 0) {
        printf("1..0 # SKIP no inputs in %s or %s\n", corpus, regressions);
        return 0;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    printf("1..%zu\n", n);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *shown = inputs[i] + strlen(top ? top : ".") + 1;
        printf("# input %s\n", shown);
        fflush(stdout);
        uint8_t *data;
        size_t size;
        if (read_file(inputs[i], &data, &size) != 0) {
            printf("not ok %zu - %s: cannot read it (%s)\n", i + 1, shown, strerror(errno));
            failed = 1;
        } else {
            LLVMFuzzerTestOneInput(data, size);
            free(data);
            printf("ok %zu - %s %s (%zu bytes)\n", i + 1, name,
                   i < first_regression ? "seed" : "regression", size);
        }
        fflush(stdout);
        free(inputs[i]);
    }
    return failed;
}
