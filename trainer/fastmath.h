/* fastmath.h - exp and tanh that GCC vectorizes (plain arithmetic, no libm calls), for the trainer's softmax,
 * cross-entropy and GELU. expf: Cephes' range reduction and polynomial, within ~2 ulp of libm on [-87, 88];
 * tanhf via exp, absolute error below 1e-7. Never used by the inference core. */
#ifndef EFICHAT_TRAINER_FASTMATH_H
#define EFICHAT_TRAINER_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float fm_expf(float x)
{
    /* NaN fails both comparisons, so it is clamped too: converting NaN to int is undefined behaviour. It comes
     * back as NaN at the end, so a diverged run still shows as one. */
    float in = x;
    x = x > -87.3f ? x : -87.3f;
    x = x < 88.3f ? x : 88.3f;
    /* n = nearest integer to x / ln 2, by truncation of +-0.5 (vectorizes, unlike floorf) */
    float t = x * 1.44269504088896341f;
    float n = (float)(int32_t)(t + (t >= 0.0f ? 0.5f : -0.5f));
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return in == in ? y * scale : in;
}

static inline float fm_tanhf(float x)
{
    float e = fm_expf(2.0f * x);
    return 1.0f - 2.0f / (e + 1.0f);
}

#ifdef __AVX512F__
#include <immintrin.h>

/* 16 lanes of fm_expf (round-to-nearest-even reduction, scalef for the power of two) */
static inline __m512 fm_expf16(__m512 in)
{
    /* max/min return their second operand for a NaN lane: clamped like fm_expf, and NaN put back at the end */
    __m512 x = _mm512_min_ps(_mm512_max_ps(in, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(in, in, _CMP_UNORD_Q), _mm512_scalef_ps(y, n), in);
}

static inline __m512 fm_tanhf16(__m512 x)
{
    __m512 e = fm_expf16(_mm512_add_ps(x, x));
    return _mm512_sub_ps(_mm512_set1_ps(1.0f),
                         _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
}
#endif

#endif
