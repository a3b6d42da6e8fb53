/* platform.h - the one header the freestanding core sees besides <stddef.h> and <stdint.h>.
 * It promises: fixed-width types, an inline/restrict vocabulary, the CPU's SIMD intrinsics (x86-64 or AArch64)
 * and arch/vec4.h, the 4-lane vector operations that give the same bits on both.
 * It must never pull in libc or UEFI headers. */
#ifndef EFICHAT_PLATFORM_H
#define EFICHAT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#define EC_INLINE static inline __attribute__((always_inline))
#define EC_RESTRICT __restrict__

#if defined(__x86_64__)
/* xmmintrin.h drags in mm_malloc.h, which includes <stdlib.h>: pretend it is already in. */
#define _MM_MALLOC_H_INCLUDED
#include <immintrin.h>
#define EC_TARGET_AVX __attribute__((target("avx")))
#define EC_TARGET_AVX2 __attribute__((target("avx2")))
#elif defined(__aarch64__)
#include <arm_neon.h> /* NEON is part of the AArch64 baseline (and of the UEFI AArch64 binding) */
#else
#error "efichat's core targets x86-64 (SSE2 baseline, AVX as a run-time choice) and AArch64 (NEON)"
#endif

#include "arch/vec4.h"

/* Asks for every cache line of [p, p + bytes) at once (reads that would miss one after another overlap instead). */
EC_INLINE void ec_prefetch(const void *p, size_t bytes)
{
    for (size_t b = 0; b < bytes; b += 64)
        __builtin_prefetch((const char *)p + b, 0, 3);
}

#endif
