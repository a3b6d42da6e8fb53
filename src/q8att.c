/* q8att.c - the Q8 kernel's attention (q8.h defines the numbers): keys and values cached as int8 values in int16
 * slots with one float scale per position and head, the query quantised the same way, q . k and the weighted sum of
 * values as exact int32 sums, float only for the scales and the softmax. Under QEMU's software CPU a float operation
 * costs a library call per lane; integer vectors are translated inline, so this is where attention's time goes. */
#include "q8.h"
#include "ecmath.h"
#include "kernels.h"

#define FLT_BIG 3.40282347e38f

/* Lanes of a v4f mask to "any set". */
static int any_lane(v4f mask)
{
    float l[4];
    v4f_store(l, mask);
    uint32_t u[4];
    ec_memcpy(u, l, sizeof u);
    return (u[0] | u[1] | u[2] | u[3]) != 0;
}

float q8_absmax(const float *x, uint32_t n, int *bad)
{
    const v4f absmask = v4i_as_v4f(v4i_set1(0x7fffffff));
    v4f m4 = v4f_zero(), bad4 = v4f_zero();
    uint32_t i = 0, n4 = n & ~3u;
    for (; i < n4; i += 4) { /* without a NaN, max is exact in any order */
        v4f v = v4f_load(x + i);
        bad4 = v4f_or(bad4, v4f_isnan(v));
        m4 = v4f_max(m4, v4f_and(v, absmask));
    }
    float lane[4];
    v4f_store(lane, m4);
    int b = any_lane(bad4);
    float m = 0.0f;
    for (int j = 0; j < 4; j++)
        m = lane[j] > m ? lane[j] : m;
    for (; i < n; i++) {
        float a = x[i] < 0 ? -x[i] : x[i];
        b |= a != a;
        m = a > m ? a : m;
    }
    *bad = b;
    return m;
}

float q8_quantize_head(int32_t *dst, size_t step, const float *x, int n)
{
    int bad, i, n4 = n & ~3;
    float m = q8_absmax(x, (uint32_t)n, &bad);
    if (bad || !(m <= FLT_BIG) || !(m > 0.0f)) {
        for (i = 0; i < n; i++)
            dst[(size_t)i * step] = 0;
        return bad || !(m <= FLT_BIG) ? __builtin_nanf("") : 0.0f;
    }
    float inv = (float)Q8_XMAX / m;
    v4f inv4 = v4f_set1(inv);
    for (i = 0; i < n4; i += 4) {
        v4i r = v4f_round_s32(v4f_mul(v4f_load(x + i), inv4));
        if (step == 1) {
            v4i_store(dst + i, r);
        } else {
            int32_t t[4];
            v4i_store(t, r);
            for (int j = 0; j < 4; j++)
                dst[(size_t)(i + j) * step] = t[j];
        }
    }
    for (; i < n; i++)
        dst[(size_t)i * step] = ec_round_s32(x[i] * inv);
    return m / (float)Q8_XMAX;
}

static size_t up8(size_t n) { return (n + 7u) & ~(size_t)7u; }

size_t q8_attend_scratch_bytes(uint32_t ctx, uint32_t hs)
{
    return up8(ctx) * sizeof(float) + up8(ctx) * sizeof(int32_t) + up8(hs) * sizeof(int32_t) * 2;
}

// ----------------------------------------------------------------------------
// the two integer sums: scores acc[t] = sum_d q[d] * k[d][t]; values acc[d] = sum_t w[t] * v[t][d]. Both exact in
// int32 whatever the order, so every path below gives the same numbers.

/* Plain C: AArch64 (the compiler vectorises it) and every path's tail. */
static void scores_c(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int t0, int len)
{
    for (int t = t0; t < len; t++) {
        int32_t s = 0;
        for (int d = 0; d < hs; d++)
            s += q[d] * c->k[(size_t)d * c->kstride + t];
        acc[t] = s;
    }
}

static void values_c(int32_t *acc, const int32_t *w, const Q8Head *c, int d0, int hs, int len)
{
    if (d0 >= hs) /* the vector path did every column: no empty pass over the positions */
        return;
    for (int d = d0; d < hs; d++)
        acc[d] = 0;
    for (int t = 0; t < len; t++)
        for (int d = d0; d < hs; d++)
            acc[d] += w[t] * c->v[(size_t)t * c->vstride + d];
}

#if defined(__x86_64__)
#define LD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LD8(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
/* SSE2 has no 32-bit multiply: pmaddwd with one operand's high halves zero (q as a uint16 pattern; the weights are
 * 0..32767 already) gives lo * lo exactly, the other operand's sign-extension bits meeting zeros. */
static int scores_sse2(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int len)
{
    int t = 0;
    for (; t + 8 <= len; t += 8) {
        __m128i a0 = _mm_setzero_si128(), a1 = a0;
        for (int d = 0; d < hs; d++) {
            __m128i qd = _mm_set1_epi32(q[d] & 0xFFFF);
            const int32_t *k = c->k + (size_t)d * c->kstride + t;
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(qd, LD(k)));
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(qd, LD(k + 4)));
        }
        _mm_storeu_si128((__m128i *)(void *)(acc + t), a0);
        _mm_storeu_si128((__m128i *)(void *)(acc + t + 4), a1);
    }
    return t;
}

static int values_sse2(int32_t *acc, const int32_t *w, const Q8Head *c, int hs, int len)
{
    int d = 0;
    for (; d + 16 <= hs; d += 16) {
        __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < len; t++) {
            __m128i wt = _mm_set1_epi32(w[t]);
            const int32_t *v = c->v + (size_t)t * c->vstride + d;
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(wt, LD(v)));
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(wt, LD(v + 4)));
            a2 = _mm_add_epi32(a2, _mm_madd_epi16(wt, LD(v + 8)));
            a3 = _mm_add_epi32(a3, _mm_madd_epi16(wt, LD(v + 12)));
        }
        _mm_storeu_si128((__m128i *)(void *)(acc + d), a0);
        _mm_storeu_si128((__m128i *)(void *)(acc + d + 4), a1);
        _mm_storeu_si128((__m128i *)(void *)(acc + d + 8), a2);
        _mm_storeu_si128((__m128i *)(void *)(acc + d + 12), a3);
    }
    return d;
}

/* AVX2, two ways to the same exact products: vpmulld, which QEMU's TCG translates inline (vpmaddwd is a call there),
 * and vpmaddwd with the query or weight's high half zero, as SSE2 does (~2x vpmulld's throughput on a real CPU:
 * Q8_ATT_AVX2W). */
#define AVX2_SUMS(scores, values, MUL, LO)                                                                       \
    EC_TARGET_AVX2 static int scores(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int len)           \
    {                                                                                                            \
        int t = 0;                                                                                               \
        for (; t + 32 <= len; t += 32) {                                                                         \
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;                                      \
            for (int d = 0; d < hs; d++) {                                                                       \
                __m256i qd = _mm256_set1_epi32(LO(q[d]));                                                        \
                const int32_t *k = c->k + (size_t)d * c->kstride + t;                                            \
                _mm_prefetch((const char *)(k + 32), _MM_HINT_T0); /* the next block's row: 32 rows, 1 stream */ \
                _mm_prefetch((const char *)(k + 48), _MM_HINT_T0);                                               \
                a0 = _mm256_add_epi32(a0, MUL(qd, LD8(k)));                                                      \
                a1 = _mm256_add_epi32(a1, MUL(qd, LD8(k + 8)));                                                  \
                a2 = _mm256_add_epi32(a2, MUL(qd, LD8(k + 16)));                                                 \
                a3 = _mm256_add_epi32(a3, MUL(qd, LD8(k + 24)));                                                 \
            }                                                                                                    \
            _mm256_storeu_si256((__m256i *)(void *)(acc + t), a0);                                               \
            _mm256_storeu_si256((__m256i *)(void *)(acc + t + 8), a1);                                           \
            _mm256_storeu_si256((__m256i *)(void *)(acc + t + 16), a2);                                          \
            _mm256_storeu_si256((__m256i *)(void *)(acc + t + 24), a3);                                          \
        }                                                                                                        \
        for (; t + 8 <= len; t += 8) {                                                                           \
            __m256i a = _mm256_setzero_si256();                                                                  \
            for (int d = 0; d < hs; d++)                                                                         \
                a = _mm256_add_epi32(a, MUL(_mm256_set1_epi32(LO(q[d])), LD8(c->k + (size_t)d * c->kstride + t))); \
            _mm256_storeu_si256((__m256i *)(void *)(acc + t), a);                                                \
        }                                                                                                        \
        if (t < len) { /* the last 1..7 positions: masked lanes are neither read nor stored */                 \
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(len - t), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); \
            __m256i a = _mm256_setzero_si256();                                                                  \
            for (int d = 0; d < hs; d++)                                                                         \
                a = _mm256_add_epi32(a, MUL(_mm256_set1_epi32(LO(q[d])),                                         \
                                            _mm256_maskload_epi32(c->k + (size_t)d * c->kstride + t, m)));        \
            _mm256_maskstore_epi32(acc + t, m, a);                                                               \
        }                                                                                                        \
        return len;                                                                                              \
    }                                                                                                            \
                                                                                                                 \
    EC_TARGET_AVX2 static int values(int32_t *acc, const int32_t *w, const Q8Head *c, int hs, int len)           \
    {                                                                                                            \
        int d = 0;                                                                                               \
        for (; d + 32 <= hs; d += 32) {                                                                          \
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;                                      \
            for (int t = 0; t < len; t++) {                                                                      \
                __m256i wt = _mm256_set1_epi32(w[t]);                                                            \
                const int32_t *v = c->v + (size_t)t * c->vstride + d;                                            \
                a0 = _mm256_add_epi32(a0, MUL(wt, LD8(v)));                                                      \
                a1 = _mm256_add_epi32(a1, MUL(wt, LD8(v + 8)));                                                  \
                a2 = _mm256_add_epi32(a2, MUL(wt, LD8(v + 16)));                                                 \
                a3 = _mm256_add_epi32(a3, MUL(wt, LD8(v + 24)));                                                 \
            }                                                                                                    \
            _mm256_storeu_si256((__m256i *)(void *)(acc + d), a0);                                               \
            _mm256_storeu_si256((__m256i *)(void *)(acc + d + 8), a1);                                           \
            _mm256_storeu_si256((__m256i *)(void *)(acc + d + 16), a2);                                          \
            _mm256_storeu_si256((__m256i *)(void *)(acc + d + 24), a3);                                          \
        }                                                                                                        \
        for (; d + 8 <= hs; d += 8) {                                                                            \
            __m256i a = _mm256_setzero_si256();                                                                  \
            for (int t = 0; t < len; t++)                                                                        \
                a = _mm256_add_epi32(a, MUL(_mm256_set1_epi32(w[t]), LD8(c->v + (size_t)t * c->vstride + d)));   \
            _mm256_storeu_si256((__m256i *)(void *)(acc + d), a);                                                \
        }                                                                                                        \
        return d;                                                                                                \
    }
#define AS_IS(x) (x)
#define LOW16(x) ((x) & 0xFFFF) /* the weights are 0..32767 already */
AVX2_SUMS(scores_avx2, values_avx2, _mm256_mullo_epi32, AS_IS)
AVX2_SUMS(scores_avx2w, values_avx2w, _mm256_madd_epi16, LOW16)
#undef AVX2_SUMS
#undef AS_IS
#undef LOW16
#undef LD
#undef LD8

/* AVX-512 VNNI (Q8_ATT_VNNI): vpdpwssd adds lo * lo + hi * hi of int16 pairs into int32 lanes. The query and the
 * weights have zero high halves (q & 0xFFFF as SSE2 does; weights are 0..32767), so each lane gains the exact
 * product, as pmaddwd gives it; on a real CPU it is ~3x vpmulld's throughput. Eight accumulators hide its latency;
 * ends are masked (the lanes past len or hs are neither read nor stored). */
EC_TARGET_VNNI static int scores_vnni(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int len)
{
    const int32_t *kb = c->k;
    size_t ks = c->kstride;
    for (int t = 0; t < len; t += 64) { /* 64 positions: even d into a, odd d into b */
        __mmask16 m0 = v16_first(len - t), m1 = v16_first(len - t - 16), m2 = v16_first(len - t - 32),
                  m3 = v16_first(len - t - 48);
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int d = 0;
#define K(x0, x1, x2, x3, dd)                                                                                   \
        do {                                                                                                    \
            __m512i qd = _mm512_set1_epi32(q[dd] & 0xFFFF);                                                     \
            const int32_t *k = kb + (size_t)(dd) * ks + t;                                                      \
            x0 = _mm512_dpwssd_epi32(x0, qd, _mm512_maskz_loadu_epi32(m0, k));                                  \
            x1 = _mm512_dpwssd_epi32(x1, qd, _mm512_maskz_loadu_epi32(m1, k + 16));                             \
            x2 = _mm512_dpwssd_epi32(x2, qd, _mm512_maskz_loadu_epi32(m2, k + 32));                             \
            x3 = _mm512_dpwssd_epi32(x3, qd, _mm512_maskz_loadu_epi32(m3, k + 48));                             \
        } while (0)
        for (; d + 2 <= hs; d += 2) {
            K(a0, a1, a2, a3, d);
            K(b0, b1, b2, b3, d + 1);
        }
        if (d < hs)
            K(a0, a1, a2, a3, d);
#undef K
        _mm512_mask_storeu_epi32(acc + t, m0, _mm512_add_epi32(a0, b0));
        _mm512_mask_storeu_epi32(acc + t + 16, m1, _mm512_add_epi32(a1, b1));
        _mm512_mask_storeu_epi32(acc + t + 32, m2, _mm512_add_epi32(a2, b2));
        _mm512_mask_storeu_epi32(acc + t + 48, m3, _mm512_add_epi32(a3, b3));
    }
    return len;
}

EC_TARGET_VNNI static int values_vnni(int32_t *acc, const int32_t *w, const Q8Head *c, int hs, int len)
{
    for (int d = 0; d < hs; d += 32) { /* positions t mod 4 into their own accumulators, added at the end */
        __mmask16 m0 = v16_first(hs - d), m1 = v16_first(hs - d - 16);
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        const int32_t *v = c->v + d;
        size_t vs = c->vstride;
        int t = 0;
#define V(x, y, tt)                                                                                              \
        x = _mm512_dpwssd_epi32(x, _mm512_set1_epi32(w[tt]), _mm512_maskz_loadu_epi32(m0, v + (size_t)(tt) * vs)); \
        y = _mm512_dpwssd_epi32(y, _mm512_set1_epi32(w[tt]), _mm512_maskz_loadu_epi32(m1, v + (size_t)(tt) * vs + 16))
        for (; t + 4 <= len; t += 4) {
            V(a0, a1, t);
            V(a2, a3, t + 1);
            V(a4, a5, t + 2);
            V(a6, a7, t + 3);
        }
        for (; t < len; t++) {
            V(a0, a1, t);
        }
#undef V
        a0 = _mm512_add_epi32(_mm512_add_epi32(a0, a2), _mm512_add_epi32(a4, a6));
        a1 = _mm512_add_epi32(_mm512_add_epi32(a1, a3), _mm512_add_epi32(a5, a7));
        _mm512_mask_storeu_epi32(acc + d, m0, a0);
        _mm512_mask_storeu_epi32(acc + d + 16, m1, a1);
    }
    return hs;
}

/* q8_attend's element-wise steps in 16 lanes at Q8_ATT_VNNI: the same operations on each element as the 4-lane
 * loops (the maximum exact in any order), so the same bits; masked ends. */
EC_TARGET_VNNI static void scale16(float *sc, const int32_t *ia, const float *ks, float qs, int len)
{
    for (int t = 0; t < len; t += 16) {
        __mmask16 m = v16_first(len - t);
        __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, ia + t)),
                                 _mm512_maskz_loadu_ps(m, ks + t));
        _mm512_mask_storeu_ps(sc + t, m, _mm512_mul_ps(s, _mm512_set1_ps(qs)));
    }
}

/* sc[t] *= vs[t]; returns max |sc[t]|, *bad = 1 when one is NaN (as q8_absmax). */
EC_TARGET_VNNI static float weigh16(float *sc, const float *vs, int len, int *bad)
{
    __m512 mx = _mm512_setzero_ps();
    __mmask16 nan = 0;
    for (int t = 0; t < len; t += 16) {
        __mmask16 m = v16_first(len - t);
        __m512 w = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, sc + t), _mm512_maskz_loadu_ps(m, vs + t));
        nan |= _mm512_cmp_ps_mask(w, w, _CMP_UNORD_Q);
        mx = _mm512_max_ps(mx, _mm512_abs_ps(w));
        _mm512_mask_storeu_ps(sc + t, m, w);
    }
    *bad = nan != 0;
    return _mm512_reduce_max_ps(mx);
}

EC_TARGET_VNNI static void round16(int32_t *ia, const float *sc, float inv, int len)
{
    for (int t = 0; t < len; t += 16) {
        __mmask16 m = v16_first(len - t);
        _mm512_mask_storeu_epi32(ia + t, m, _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, sc + t),
                                                                             _mm512_set1_ps(inv))));
    }
}

/* The same three steps in 8 lanes at the AVX2 levels (whole blocks of 8; the caller finishes the rest 4 and 1 at a
 * time): half the instructions of 4 lanes, so half the helper calls under TCG too. */
EC_TARGET_AVX2 static int scale8(float *sc, const int32_t *ia, const float *ks, float qs, int len)
{
    int t = 0;
    for (; t + 8 <= len; t += 8) {
        __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(const void *)(ia + t))),
                                 _mm256_loadu_ps(ks + t));
        _mm256_storeu_ps(sc + t, _mm256_mul_ps(s, _mm256_set1_ps(qs)));
    }
    return t;
}

/* sc[t] *= vs[t] over whole blocks of 8; *mx = their max |sc[t]|, *bad = 1 when one is NaN. */
EC_TARGET_AVX2 static int weigh8(float *sc, const float *vs, int len, float *mx, int *bad)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps(), nan = m;
    int t = 0;
    for (; t + 8 <= len; t += 8) {
        __m256 w = _mm256_mul_ps(_mm256_loadu_ps(sc + t), _mm256_loadu_ps(vs + t));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(w, w, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, _mm256_and_ps(w, absmask));
        _mm256_storeu_ps(sc + t, w);
    }
    float lane[8], r = 0.0f;
    _mm256_storeu_ps(lane, m);
    for (int j = 0; j < 8; j++)
        r = lane[j] > r ? lane[j] : r;
    *mx = r, *bad = _mm256_movemask_ps(nan) != 0;
    return t;
}

EC_TARGET_AVX2 static int round8(int32_t *ia, const float *sc, float inv, int len)
{
    int t = 0;
    for (; t + 8 <= len; t += 8)
        _mm256_storeu_si256((__m256i *)(void *)(ia + t),
                            _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(sc + t), _mm256_set1_ps(inv))));
    return t;
}

static void scores_int(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int len, int level)
{
    int t = level == Q8_ATT_VNNI ? scores_vnni(acc, q, c, hs, len)
          : level == Q8_ATT_AVX2W ? scores_avx2w(acc, q, c, hs, len)
          : level == Q8_ATT_AVX2 ? scores_avx2(acc, q, c, hs, len)
                                 : scores_sse2(acc, q, c, hs, len);
    scores_c(acc, q, c, hs, t, len);
}

static void values_int(int32_t *acc, const int32_t *w, const Q8Head *c, int hs, int len, int level)
{
    int d = level == Q8_ATT_VNNI ? values_vnni(acc, w, c, hs, len)
          : level == Q8_ATT_AVX2W ? values_avx2w(acc, w, c, hs, len)
          : level == Q8_ATT_AVX2 ? values_avx2(acc, w, c, hs, len)
                                 : values_sse2(acc, w, c, hs, len);
    values_c(acc, w, c, d, hs, len);
}
#else
static void scale16(float *sc, const int32_t *ia, const float *ks, float qs, int len)
{
    (void)sc, (void)ia, (void)ks, (void)qs, (void)len; /* Q8_ATT_VNNI is x86-64's only */
}
static float weigh16(float *sc, const float *vs, int len, int *bad)
{
    return (void)sc, (void)vs, (void)len, *bad = 1, 0.0f;
}
static void round16(int32_t *ia, const float *sc, float inv, int len) { (void)ia, (void)sc, (void)inv, (void)len; }
static int scale8(float *sc, const int32_t *ia, const float *ks, float qs, int len)
{
    return (void)sc, (void)ia, (void)ks, (void)qs, (void)len, 0; /* the AVX2 levels are x86-64's only */
}
static int weigh8(float *sc, const float *vs, int len, float *mx, int *bad)
{
    return (void)sc, (void)vs, (void)len, *mx = 0.0f, *bad = 0, 0;
}
static int round8(int32_t *ia, const float *sc, float inv, int len) { return (void)ia, (void)sc, (void)inv, (void)len, 0; }

static void scores_int(int32_t *acc, const int32_t *q, const Q8Head *c, int hs, int len, int level)
{
    (void)level;
    scores_c(acc, q, c, hs, 0, len);
}

static void values_int(int32_t *acc, const int32_t *w, const Q8Head *c, int hs, int len, int level)
{
    (void)level;
    values_c(acc, w, c, 0, hs, len);
}
#endif

// ----------------------------------------------------------------------------

void q8_attend(float *out, const float *q, const Q8Head *c, int hs, int len, float scale, void *scratch, int level)
{
    int avx2 = level >= Q8_ATT_AVX2; /* the float parts: AVX2's softmax from there up */
    float *sc = scratch;
    int32_t *ia = (int32_t *)(void *)(sc + up8((size_t)len)); /* the scores' sums, then the int weights */
    int32_t *q32 = ia + up8((size_t)len), *acc = q32 + up8((size_t)hs);
    float sq = q8_quantize_head(q32, 1, q, hs);
    if (sq != sq)
        goto nan;
    float qs = sq * scale;
    scores_int(ia, q32, c, hs, len, level);
    /* element-wise, so four lanes give the bits of one at a time */
    int t = 0, len4 = len & ~3, wide = level == Q8_ATT_VNNI, lanes8 = level == Q8_ATT_AVX2 || level == Q8_ATT_AVX2W;
    int bad;
    v4f qs4 = v4f_set1(qs);
    if (wide)
        scale16(sc, ia, c->ks, qs, len), t = len;
    else if (lanes8)
        t = scale8(sc, ia, c->ks, qs, len);
    for (; t < len4; t += 4)
        v4f_store(sc + t, v4f_mul(v4f_mul(v4i_to_v4f(v4i_load(ia + t)), v4f_load(c->ks + t)), qs4));
    for (; t < len; t++)
        sc[t] = (float)ia[t] * c->ks[t] * qs;
    float z = kern_softmax_exp(sc, len, wide ? 2 : avx2), mw;
    /* the value weights p_t * sv_t (never negative), then to integers against their largest (p is 1 at the top
     * score: never all zero unless every value row is zero) */
    if (wide) {
        mw = weigh16(sc, c->vs, len, &bad);
    } else {
        float m8 = 0.0f;
        int bad8 = 0, t8 = lanes8 ? weigh8(sc, c->vs, len, &m8, &bad8) : 0; /* max over [0, t8), then the rest */
        for (t = t8; t < len4; t += 4)
            v4f_store(sc + t, v4f_mul(v4f_load(sc + t), v4f_load(c->vs + t)));
        for (; t < len; t++)
            sc[t] *= c->vs[t];
        mw = q8_absmax(sc + t8, (uint32_t)(len - t8), &bad);
        mw = m8 > mw ? m8 : mw, bad |= bad8;
    }
    if (bad || z != z || !(mw <= FLT_BIG))
        goto nan;
    if (!(mw > 0.0f)) {
        for (int d = 0; d < hs; d++)
            out[d] = 0.0f;
        return;
    }
    int32_t wq = Q8_ATT_WMAX(len);
    float inv = (float)wq / mw;
    v4f inv4 = v4f_set1(inv);
    t = 0;
    if (wide)
        round16(ia, sc, inv, len), t = len;
    else if (lanes8)
        t = round8(ia, sc, inv, len);
    for (; t < len4; t += 4)
        v4i_store(ia + t, v4f_round_s32(v4f_mul(v4f_load(sc + t), inv4)));
    for (; t < len; t++)
        ia[t] = ec_round_s32(sc[t] * inv);
    values_int(acc, ia, c, hs, len, level);
    float f = mw / (float)wq / z;
    int d = 0;
    v4f f4 = v4f_set1(f);
    for (; d + 4 <= hs; d += 4)
        v4f_store(out + d, v4f_mul(v4i_to_v4f(v4i_load(acc + d)), f4));
    for (; d < hs; d++)
        out[d] = (float)acc[d] * f;
    return;
nan:
    for (d = 0; d < hs; d++)
        out[d] = __builtin_nanf("");
}
