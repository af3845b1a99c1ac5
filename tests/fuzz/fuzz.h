/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz share. Each harness is
 * one LLVMFuzzerTestOneInput(); built with -fsanitize=fuzzer it is a fuzzer
 * (make fuzz), linked with replay.c it is an ordinary test that replays the
 * kept inputs (make check).
 *
 * A harness checks invariants with FUZZ_EXPECT: a broken one aborts, so the
 * fuzzer keeps the input as a crash, exactly like a sanitizer report.
 */
#ifndef ALD_FUZZ_H
#define ALD_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_EXPECT(cond, ...)                                                                \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* The input as a NUL-terminated string (parsers take C strings); an embedded
 * NUL simply ends the text early, as it would when read from a file. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif
