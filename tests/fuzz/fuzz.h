/* fuzz.h - what every harness in tests/fuzz/ shares. A harness defines LLVMFuzzerTestOneInput and nothing else
 * global: `make fuzz` links it with libFuzzer (clang), `make test` with replay.c (gcc), both under ASan/UBSan.
 * FUZZ_CHECK states a property the code promises; breaking it is a crash like any sanitizer report. */
#ifndef EFICHAT_FUZZ_H
#define EFICHAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz check failed: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
