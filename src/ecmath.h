/* ecmath.h - the core's own math and memory helpers, so host and UEFI builds compute the same bits.
 * Vector forms process 4 lanes with SSE2; scalar forms run the same operations in lane 0. No libm, no libc. */
#ifndef EFICHAT_ECMATH_H
#define EFICHAT_ECMATH_H

#include "platform.h"

/* exp(x): x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by a degree-7 minimax-style polynomial
 * (Cephes' single-precision coefficients), then scaled by 2^n in two steps so results near the overflow and
 * underflow edges (including subnormals) stay right. NaN propagates; > 88.72 gives +inf; < -103.97 gives 0. */
EC_INLINE __m128 ec_expf4(__m128 x)
{
    const __m128 hi_lim = _mm_set1_ps(88.72283935546875f);
    const __m128 lo_lim = _mm_set1_ps(-103.97208404541015625f);
    __m128 is_nan = _mm_cmpunord_ps(x, x);
    __m128 too_big = _mm_cmpgt_ps(x, hi_lim);
    __m128 too_small = _mm_cmplt_ps(x, lo_lim);
    __m128 xc = _mm_min_ps(_mm_max_ps(x, lo_lim), hi_lim);

    __m128i n = _mm_cvtps_epi32(_mm_mul_ps(xc, _mm_set1_ps(1.44269504088896341f))); /* round to nearest */
    __m128 nf = _mm_cvtepi32_ps(n);
    __m128 r = _mm_sub_ps(xc, _mm_mul_ps(nf, _mm_set1_ps(0.693359375f)));
    r = _mm_sub_ps(r, _mm_mul_ps(nf, _mm_set1_ps(-2.12194440e-4f)));

    __m128 z = _mm_mul_ps(r, r);
    __m128 p = _mm_set1_ps(1.9875691500e-4f);
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.3981999507e-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(8.3334519073e-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(4.1665795894e-2f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.6666665459e-1f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(5.0000001201e-1f));
    p = _mm_add_ps(_mm_add_ps(_mm_mul_ps(p, z), r), _mm_set1_ps(1.0f));

    /* 2^n = 2^(n>>1) * 2^(n - (n>>1)); each half stays a normal float for n in [-150, 128]. */
    __m128i n1 = _mm_srai_epi32(n, 1);
    __m128i n2 = _mm_sub_epi32(n, n1);
    __m128i bias = _mm_set1_epi32(127);
    __m128 s1 = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(n1, bias), 23));
    __m128 s2 = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(n2, bias), 23));
    __m128 y = _mm_mul_ps(_mm_mul_ps(p, s1), s2);

    const __m128 inf = _mm_castsi128_ps(_mm_set1_epi32(0x7F800000));
    y = _mm_or_ps(_mm_andnot_ps(too_big, y), _mm_and_ps(too_big, inf));
    y = _mm_andnot_ps(too_small, y);
    y = _mm_or_ps(_mm_andnot_ps(is_nan, y), _mm_and_ps(is_nan, x));
    return y;
}

/* tanh(x): for |x| < 0.625 an odd polynomial (Cephes' coefficients) avoids the cancellation of the exp form;
 * above, 1 - 2/(exp(2|x|) + 1) with |x| clamped at 9.5 (tanh rounds to 1 there); the sign is copied back. */
EC_INLINE __m128 ec_tanhf4(__m128 x)
{
    const __m128 sign_mask = _mm_castsi128_ps(_mm_set1_epi32((int)0x80000000u));
    __m128 sign = _mm_and_ps(x, sign_mask);
    __m128 a = _mm_andnot_ps(sign_mask, x);

    __m128 z = _mm_mul_ps(x, x);
    __m128 p = _mm_set1_ps(-5.70498872745e-3f);
    p = _mm_add_ps(_mm_mul_ps(p, z), _mm_set1_ps(2.06390887954e-2f));
    p = _mm_add_ps(_mm_mul_ps(p, z), _mm_set1_ps(-5.37397155531e-2f));
    p = _mm_add_ps(_mm_mul_ps(p, z), _mm_set1_ps(1.33314422036e-1f));
    p = _mm_add_ps(_mm_mul_ps(p, z), _mm_set1_ps(-3.33332819422e-1f));
    __m128 small = _mm_add_ps(_mm_mul_ps(_mm_mul_ps(p, z), x), x);

    __m128 ac = _mm_min_ps(a, _mm_set1_ps(9.5f));
    __m128 e = ec_expf4(_mm_add_ps(ac, ac));
    __m128 big = _mm_sub_ps(_mm_set1_ps(1.0f), _mm_div_ps(_mm_set1_ps(2.0f), _mm_add_ps(e, _mm_set1_ps(1.0f))));
    big = _mm_or_ps(big, sign);

    __m128 use_small = _mm_cmplt_ps(a, _mm_set1_ps(0.625f));
    __m128 y = _mm_or_ps(_mm_and_ps(use_small, small), _mm_andnot_ps(use_small, big));
    __m128 is_nan = _mm_cmpunord_ps(x, x);
    return _mm_or_ps(_mm_andnot_ps(is_nan, y), _mm_and_ps(is_nan, x));
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
