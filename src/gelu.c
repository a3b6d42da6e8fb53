/* gelu.c - GPT-2's GELU (tanh form) for the model's MLP: the float kernels' version, written once for 4 and 8
 * lanes, and the Q8 kernel's table of it (model_gelu_q8, declared in model.h). */
#include "gelu.h"
#include "ecmath.h"
#include "model.h"

/* GELU, tanh form, four lanes at a time; the tail goes through a padded vector so every element sees the same ops. */
/* GELU written once for both widths, as ecmath.h writes tanh: the same operations in every lane. */
#define DEFINE_GELU(NAME, TANH, V, ATTR)                                                                   \
    ATTR V NAME(V x)                                                                                       \
    {                                                                                                      \
        const V k0 = V##_set1(0.7978845608028654f), k1 = V##_set1(0.044715f);                             \
        V x3 = V##_mul(V##_mul(x, x), x);                                                                  \
        V t = TANH(V##_mul(k0, V##_add(x, V##_mul(k1, x3))));                                              \
        return V##_mul(V##_mul(V##_set1(0.5f), x), V##_add(V##_set1(1.0f), t));                           \
    }
DEFINE_GELU(gelu4, ec_tanhf4, v4f, EC_INLINE)

static void gelu4_all(float *h, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        v4f_store(h + i, gelu4(v4f_load(h + i)));
    if (i < n) {
        float pad[4] = {0, 0, 0, 0};
        for (int j = i; j < n; j++)
            pad[j - i] = h[j];
        v4f_store(pad, gelu4(v4f_load(pad)));
        for (int j = i; j < n; j++)
            h[j] = pad[j - i];
    }
}

#if defined(__x86_64__)
DEFINE_GELU(gelu8, ec_tanhf8, v8f, EC_V8)

/* Eight lanes at a time where AVX2 runs (the same bits: element-wise), the rest through gelu4_all. */
EC_TARGET_AVX2 static void gelu_avx2(float *h, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        v8f_store(h + i, gelu8(v8f_load(h + i)));
    if (i < n)
        gelu4_all(h + i, n - i);
}
#else
static void gelu_avx2(float *h, int n) { gelu4_all(h, n); }
#endif

void gelu_tanh(float *h, int n, int avx2)
{
    if (avx2)
        gelu_avx2(h, n);
    else
        gelu4_all(h, n);
}

/* The Q8 kernel's GELU: the float GELU above at the nearest point of a 1/512 grid on [-8, 8] (|error| <= 0.0012,
 * well under the int8 step the down-projection's input is rounded to next), x itself from 8 up (where GELU(x) is x in
 * float), 0 from -8 down, NaN for NaN and -inf (as the float GELU gives). Under QEMU's software CPU the tanh form
 * costs ~40 library calls an element; this is one multiply, one rounding and a load. Filled by model_quantize. */
#define GELU_Q8_STEPS 512
#define GELU_Q8_N (16 * GELU_Q8_STEPS + 1)
static float gelu_q8_table[GELU_Q8_N];

void gelu_q8_fill(void)
{
    for (int i = 0; i < GELU_Q8_N; i++)
        gelu_q8_table[i] = (float)(i - 8 * GELU_Q8_STEPS) / (float)GELU_Q8_STEPS;
    gelu4_all(gelu_q8_table, GELU_Q8_N);
}

void model_gelu_q8(float *h, int n)
{
    for (int i = 0; i < n; i++) {
        float x = h[i];
        if (x >= -8.0f && x <= 8.0f)
            h[i] = gelu_q8_table[ec_round_s32(x * (float)GELU_Q8_STEPS) + 8 * GELU_Q8_STEPS];
        else if (x < -8.0f)
            h[i] = x >= -3.40282347e38f ? 0.0f : __builtin_nanf("");
        /* else: above 8 (x itself, +inf too) or NaN: unchanged */
    }
}

#if defined(__x86_64__) /* platform.h has the intrinsics */
/* model_gelu_q8, 16 lanes at a time: the in-range lanes gather their table entry (the index rounded as
 * ec_round_s32, cvtps2dq), those below -8 become 0 (NaN for -inf), the rest (above 8, NaN) stay. The tail is
 * masked: lanes past n are neither read nor stored. */
EC_TARGET_AVX512 void model_gelu_q8_avx512(float *h, int n)
{
    const __m512 lo = _mm512_set1_ps(-8.0f), hi = _mm512_set1_ps(8.0f), steps = _mm512_set1_ps((float)GELU_Q8_STEPS);
    const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
    const __m512i mid = _mm512_set1_epi32(8 * GELU_Q8_STEPS);
    for (int i = 0; i < n; i += 16) {
        __mmask16 k = v16_first(n - i);
        __m512 x = _mm512_maskz_loadu_ps(k, h + i);
        __mmask16 in = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ), x, hi, _CMP_LE_OQ) & k;
        __mmask16 below = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ) & k;
        __mmask16 minf = _mm512_cmp_ps_mask(x, ninf, _CMP_EQ_OQ) & k;
        __m512i idx = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x, steps)), mid);
        __m512 y = _mm512_mask_i32gather_ps(x, in, idx, gelu_q8_table, 4);
        y = _mm512_mask_mov_ps(y, below, _mm512_setzero_ps());
        y = _mm512_mask_mov_ps(y, minf, _mm512_set1_ps(__builtin_nanf("")));
        _mm512_mask_storeu_ps(h + i, k, y);
    }
}

/* The same in 8 lanes with AVX2's gather (Zen 3: ~3x the scalar loop); the last n % 8 elements one at a time. */
EC_TARGET_AVX2 void model_gelu_q8_avx2(float *h, int n)
{
    const __m256 lo = _mm256_set1_ps(-8.0f), hi = _mm256_set1_ps(8.0f), steps = _mm256_set1_ps((float)GELU_Q8_STEPS);
    const __m256 ninf = _mm256_set1_ps(-__builtin_inff()), nan = _mm256_set1_ps(__builtin_nanf(""));
    const __m256i mid = _mm256_set1_epi32(8 * GELU_Q8_STEPS);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(h + i);
        __m256 in = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ), _mm256_cmp_ps(x, hi, _CMP_LE_OQ));
        __m256i idx = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x, steps)), mid);
        __m256 y = _mm256_mask_i32gather_ps(x, gelu_q8_table, idx, in, 4); /* the other lanes keep x */
        y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
        y = _mm256_blendv_ps(y, nan, _mm256_cmp_ps(x, ninf, _CMP_EQ_OQ));
        _mm256_storeu_ps(h + i, y);
    }
    model_gelu_q8(h + i, n - i);
}
#else
void model_gelu_q8_avx512(float *h, int n) { model_gelu_q8(h, n); }
void model_gelu_q8_avx2(float *h, int n) { model_gelu_q8(h, n); }
#endif
