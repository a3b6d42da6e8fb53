/* ecmath.h - the core's own math and memory helpers, so host and UEFI builds compute the same bits.
 * Vector forms process 4 lanes (arch/vec4.h: SSE2 or NEON, same bits); scalars run the same operations in lane 0.
 * No libm, no libc. */
#ifndef EFICHAT_ECMATH_H
#define EFICHAT_ECMATH_H

#include "platform.h"

/* exp(x): x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by a degree-7 minimax-style polynomial
 * (Cephes' single-precision coefficients), then scaled by 2^n in two steps so results near the overflow and
 * underflow edges (including subnormals) stay right. NaN propagates; > 88.72 gives +inf; < -103.97 gives 0. */
EC_INLINE v4f ec_expf4(v4f x)
{
    const v4f hi_lim = v4f_set1(88.72283935546875f);
    const v4f lo_lim = v4f_set1(-103.97208404541015625f);
    v4f is_nan = v4f_isnan(x);
    v4f too_big = v4f_gt(x, hi_lim);
    v4f too_small = v4f_lt(x, lo_lim);
    v4f xc = v4f_min(v4f_max(x, lo_lim), hi_lim);

    v4i n = v4f_round_s32(v4f_mul(xc, v4f_set1(1.44269504088896341f))); /* round to nearest */
    v4f nf = v4i_to_v4f(n);
    v4f r = v4f_sub(xc, v4f_mul(nf, v4f_set1(0.693359375f)));
    r = v4f_sub(r, v4f_mul(nf, v4f_set1(-2.12194440e-4f)));

    v4f z = v4f_mul(r, r);
    v4f p = v4f_set1(1.9875691500e-4f);
    p = v4f_add(v4f_mul(p, r), v4f_set1(1.3981999507e-3f));
    p = v4f_add(v4f_mul(p, r), v4f_set1(8.3334519073e-3f));
    p = v4f_add(v4f_mul(p, r), v4f_set1(4.1665795894e-2f));
    p = v4f_add(v4f_mul(p, r), v4f_set1(1.6666665459e-1f));
    p = v4f_add(v4f_mul(p, r), v4f_set1(5.0000001201e-1f));
    p = v4f_add(v4f_add(v4f_mul(p, z), r), v4f_set1(1.0f));

    /* 2^n = 2^(n>>1) * 2^(n - (n>>1)); each half stays a normal float for n in [-150, 128]. */
    v4i n1 = v4i_sra(n, 1);
    v4i n2 = v4i_sub(n, n1);
    v4i bias = v4i_set1(127);
    v4f s1 = v4i_as_v4f(v4i_sll(v4i_add(n1, bias), 23));
    v4f s2 = v4i_as_v4f(v4i_sll(v4i_add(n2, bias), 23));
    v4f y = v4f_mul(v4f_mul(p, s1), s2);

    const v4f inf = v4i_as_v4f(v4i_set1(0x7F800000));
    y = v4f_or(v4f_andnot(too_big, y), v4f_and(too_big, inf));
    y = v4f_andnot(too_small, y);
    y = v4f_or(v4f_andnot(is_nan, y), v4f_and(is_nan, x));
    return y;
}

/* tanh(x): for |x| < 0.625 an odd polynomial (Cephes' coefficients) avoids the cancellation of the exp form;
 * above, 1 - 2/(exp(2|x|) + 1) with |x| clamped at 9.5 (tanh rounds to 1 there); the sign is copied back. */
EC_INLINE v4f ec_tanhf4(v4f x)
{
    const v4f sign_mask = v4i_as_v4f(v4i_set1(INT32_MIN));
    v4f sign = v4f_and(x, sign_mask);
    v4f a = v4f_andnot(sign_mask, x);

    v4f z = v4f_mul(x, x);
    v4f p = v4f_set1(-5.70498872745e-3f);
    p = v4f_add(v4f_mul(p, z), v4f_set1(2.06390887954e-2f));
    p = v4f_add(v4f_mul(p, z), v4f_set1(-5.37397155531e-2f));
    p = v4f_add(v4f_mul(p, z), v4f_set1(1.33314422036e-1f));
    p = v4f_add(v4f_mul(p, z), v4f_set1(-3.33332819422e-1f));
    v4f small = v4f_add(v4f_mul(v4f_mul(p, z), x), x);

    v4f ac = v4f_min(a, v4f_set1(9.5f));
    v4f e = ec_expf4(v4f_add(ac, ac));
    v4f big = v4f_sub(v4f_set1(1.0f), v4f_div(v4f_set1(2.0f), v4f_add(e, v4f_set1(1.0f))));
    big = v4f_or(big, sign);

    v4f use_small = v4f_lt(a, v4f_set1(0.625f));
    v4f y = v4f_or(v4f_and(use_small, small), v4f_andnot(use_small, big));
    v4f is_nan = v4f_isnan(x);
    return v4f_or(v4f_andnot(is_nan, y), v4f_and(is_nan, x));
}

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
