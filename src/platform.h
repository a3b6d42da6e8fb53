/* platform.h - the one header the freestanding core sees besides <stddef.h> and <stdint.h>.
 * It promises: fixed-width types, an inline/restrict vocabulary, and the x86-64 SIMD intrinsics.
 * It must never pull in libc or UEFI headers. */
#ifndef EFICHAT_PLATFORM_H
#define EFICHAT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__x86_64__)
#error "efichat's core targets x86-64 (SSE2 baseline, AVX as a run-time choice)"
#endif

/* xmmintrin.h drags in mm_malloc.h, which includes <stdlib.h>: pretend it is already in. */
#define _MM_MALLOC_H_INCLUDED
#include <immintrin.h>

#define EC_INLINE static inline __attribute__((always_inline))
#define EC_RESTRICT __restrict__
#define EC_TARGET_AVX __attribute__((target("avx")))
#define EC_TARGET_AVX2 __attribute__((target("avx2")))

#endif
