/* ecmath.h - the core's own math and memory helpers, so host and UEFI builds compute the same bits.
 * Vector forms process 4 lanes with SSE2; scalar forms run the same operations in lane 0. No libm, no libc. */
#ifndef EFICHAT_ECMATH_H
#define EFICHAT_ECMATH_H

#include "platform.h"

__m128 ec_expf4(__m128 x);
__m128 ec_tanhf4(__m128 x);
float ec_expf(float x);
float ec_tanhf(float x);
float ec_sqrtf(float x);

void *ec_memcpy(void *dst, const void *src, size_t n);
void *ec_memset(void *dst, int c, size_t n);
size_t ec_strlen(const char *s);
/* Appends to a NUL-terminated buffer of `cap` bytes, truncating safely. */
void ec_str_append(char *buf, size_t cap, const char *s);
void ec_str_append_u64(char *buf, size_t cap, uint64_t v);

#endif
