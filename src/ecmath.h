/* ecmath.h - the core's own math and memory helpers, so host and UEFI builds compute the same bits.
 * Vector forms process 4 lanes (arch/vec4.h: SSE2 or NEON, same bits); scalars run the same operations in lane 0.
 * No libm, no libc. */
#ifndef EFICHAT_ECMATH_H
#define EFICHAT_ECMATH_H

#include "platform.h"

/* The two are written once, as macros over a vector vocabulary (arch/vec4.h: v4f/v4i; arch/vec8.h: v8f/v8i for
 * AVX2), so every width runs the very same IEEE operations lane by lane and gives the same bits. */

/* exp(x): x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by a degree-7 minimax-style polynomial
 * (Cephes' single-precision coefficients), then scaled by 2^n in two steps so results near the overflow and
 * underflow edges (including subnormals) stay right. NaN propagates; > 88.72 gives +inf; < -103.97 gives 0. */
#define EC_DEFINE_EXPF(NAME, V, I, ATTR)                                                              \
ATTR V NAME(V x)                                                                                                    \
{                                                                                                                   \
    const V hi_lim = V##_set1(88.72283935546875f);                                                                  \
    const V lo_lim = V##_set1(-103.97208404541015625f);                                                             \
    V is_nan = V##_isnan(x);                                                                                        \
    V too_big = V##_gt(x, hi_lim);                                                                                  \
    V too_small = V##_lt(x, lo_lim);                                                                                \
    V xc = V##_min(V##_max(x, lo_lim), hi_lim);                                                                     \
                                                                                                                    \
    I n = V##_round_s32(V##_mul(xc, V##_set1(1.44269504088896341f))); /* round to nearest */                        \
    V nf = I##_to_##V(n);                                                                                           \
    V r = V##_sub(xc, V##_mul(nf, V##_set1(0.693359375f)));                                                         \
    r = V##_sub(r, V##_mul(nf, V##_set1(-2.12194440e-4f)));                                                         \
                                                                                                                    \
    V z = V##_mul(r, r);                                                                                            \
    V p = V##_set1(1.9875691500e-4f);                                                                               \
    p = V##_add(V##_mul(p, r), V##_set1(1.3981999507e-3f));                                                         \
    p = V##_add(V##_mul(p, r), V##_set1(8.3334519073e-3f));                                                         \
    p = V##_add(V##_mul(p, r), V##_set1(4.1665795894e-2f));                                                         \
    p = V##_add(V##_mul(p, r), V##_set1(1.6666665459e-1f));                                                         \
    p = V##_add(V##_mul(p, r), V##_set1(5.0000001201e-1f));                                                         \
    p = V##_add(V##_add(V##_mul(p, z), r), V##_set1(1.0f));                                                         \
                                                                                                                    \
    /* 2^n = 2^(n>>1) * 2^(n - (n>>1)); each half stays a normal float for n in [-150, 128]. */                     \
    I n1 = I##_sra(n, 1);                                                                                           \
    I n2 = I##_sub(n, n1);                                                                                          \
    I bias = I##_set1(127);                                                                                         \
    V s1 = I##_as_##V(I##_sll(I##_add(n1, bias), 23));                                                              \
    V s2 = I##_as_##V(I##_sll(I##_add(n2, bias), 23));                                                              \
    V y = V##_mul(V##_mul(p, s1), s2);                                                                              \
                                                                                                                    \
    const V inf = I##_as_##V(I##_set1(0x7F800000));                                                                 \
    y = V##_or(V##_andnot(too_big, y), V##_and(too_big, inf));                                                      \
    y = V##_andnot(too_small, y);                                                                                   \
    y = V##_or(V##_andnot(is_nan, y), V##_and(is_nan, x));                                                          \
    return y;                                                                                                       \
}

/* tanh(x): for |x| < 0.625 an odd polynomial (Cephes' coefficients) avoids the cancellation of the exp form;
 * above, 1 - 2/(exp(2|x|) + 1) with |x| clamped at 9.5 (tanh rounds to 1 there); the sign is copied back. */
#define EC_DEFINE_TANHF(NAME, EXPF, V, I, ATTR)                                                  \
ATTR V NAME(V x)                                                                                                    \
{                                                                                                                   \
    const V sign_mask = I##_as_##V(I##_set1(INT32_MIN));                                                            \
    V sign = V##_and(x, sign_mask);                                                                                 \
    V a = V##_andnot(sign_mask, x);                                                                                 \
                                                                                                                    \
    V z = V##_mul(x, x);                                                                                            \
    V p = V##_set1(-5.70498872745e-3f);                                                                             \
    p = V##_add(V##_mul(p, z), V##_set1(2.06390887954e-2f));                                                        \
    p = V##_add(V##_mul(p, z), V##_set1(-5.37397155531e-2f));                                                       \
    p = V##_add(V##_mul(p, z), V##_set1(1.33314422036e-1f));                                                        \
    p = V##_add(V##_mul(p, z), V##_set1(-3.33332819422e-1f));                                                       \
    V small = V##_add(V##_mul(V##_mul(p, z), x), x);                                                                \
                                                                                                                    \
    V ac = V##_min(a, V##_set1(9.5f));                                                                              \
    V e = EXPF(V##_add(ac, ac));                                                                                    \
    V big = V##_sub(V##_set1(1.0f), V##_div(V##_set1(2.0f), V##_add(e, V##_set1(1.0f))));                           \
    big = V##_or(big, sign);                                                                                        \
                                                                                                                    \
    V use_small = V##_lt(a, V##_set1(0.625f));                                                                      \
    V y = V##_or(V##_and(use_small, small), V##_andnot(use_small, big));                                            \
    V is_nan = V##_isnan(x);                                                                                        \
    return V##_or(V##_andnot(is_nan, y), V##_and(is_nan, x));                                                       \
}

EC_DEFINE_EXPF(ec_expf4, v4f, v4i, EC_INLINE)
EC_DEFINE_TANHF(ec_tanhf4, ec_expf4, v4f, v4i, EC_INLINE)
#if defined(__x86_64__)
#include "arch/vec8.h"
EC_DEFINE_EXPF(ec_expf8, v8f, v8i, EC_V8)
EC_DEFINE_TANHF(ec_tanhf8, ec_expf8, v8f, v8i, EC_V8)
#include "arch/vec16.h"
EC_DEFINE_EXPF(ec_expf16, v16f, v16i, EC_V16)
#endif

float ec_expf(float x);
float ec_tanhf(float x);
float ec_sqrtf(float x);

/* Double precision, for set-up numbers (rotary frequencies and angles) that must not depend on a libm: each is a
 * fixed sequence of IEEE double operations, good to a few ulp of double (far below the float results' rounding).
 * ec_log_d: x > 0 and finite. ec_exp_d: |x| < 700. ec_sincos_d: |x| < 2^30 (Cody-Waite reduction by pi/2). */
double ec_log_d(double x);
double ec_exp_d(double x);
void ec_sincos_d(double x, double *s, double *c);

void *ec_memcpy(void *dst, const void *src, size_t n);
void *ec_memset(void *dst, int c, size_t n);
size_t ec_strlen(const char *s);
/* Appends to a NUL-terminated buffer of `cap` bytes, truncating safely. */
void ec_str_append(char *buf, size_t cap, const char *s);
void ec_str_append_u64(char *buf, size_t cap, uint64_t v);

#endif
