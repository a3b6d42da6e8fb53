/* kernels.c - dot products, matmuls and attention (see kernels.h for the canonical summation order all follow).
 * The 4-lane kernel (arch/vec4.h: SSE2 on x86-64, NEON on AArch64) keeps the 8 lanes in two accumulators, AVX in
 * one ymm; reductions are written so the bits match.
 * Everything that is not a dot product (softmax, weighted sums) is element-wise or shared, so it matches too. */
#include "kernels.h"
#include "ecmath.h"
#if defined(__x86_64__)
#include <cpuid.h>
#endif

enum { K_SSE2 = 0, K_AVX = 1 };

EC_INLINE float hsum_4(v4f t) { return v4f_hsum(t); } /* (t0 + t2) + (t1 + t3) */

EC_INLINE float tail_dot(const float *a, const float *b, int from, int n)
{
    float t = 0.0f;
    for (int i = from; i < n; i++)
        t += a[i] * b[i];
    return t;
}

// ----------------------------------------------------------------------------
// 4 lanes (SSE2 or NEON): K_SSE2, the kernel every CPU runs

static float dot_sse2(const float *a, const float *b, int n)
{
    v4f lo = v4f_zero(), hi = v4f_zero();
    int n8 = n & ~7;
    for (int i = 0; i < n8; i += 8) {
        lo = v4f_add(lo, v4f_mul(v4f_load(a + i), v4f_load(b + i)));
        hi = v4f_add(hi, v4f_mul(v4f_load(a + i + 4), v4f_load(b + i + 4)));
    }
    return hsum_4(v4f_add(lo, hi)) + tail_dot(a, b, n8, n);
}

/* Four rows of w (rows `ws` floats apart) against x: four independent chains share the loads of x. */
static void dot4_sse2(float out[4], const float *x, const float *w, int I, size_t ws)
{
    const float *w0 = w, *w1 = w + ws, *w2 = w + 2 * ws, *w3 = w + 3 * ws;
    v4f l0 = v4f_zero(), h0 = v4f_zero(), l1 = v4f_zero(), h1 = v4f_zero();
    v4f l2 = v4f_zero(), h2 = v4f_zero(), l3 = v4f_zero(), h3 = v4f_zero();
    int n8 = I & ~7;
    for (int i = 0; i < n8; i += 8) {
        v4f xl = v4f_load(x + i), xh = v4f_load(x + i + 4);
        l0 = v4f_add(l0, v4f_mul(xl, v4f_load(w0 + i)));
        h0 = v4f_add(h0, v4f_mul(xh, v4f_load(w0 + i + 4)));
        l1 = v4f_add(l1, v4f_mul(xl, v4f_load(w1 + i)));
        h1 = v4f_add(h1, v4f_mul(xh, v4f_load(w1 + i + 4)));
        l2 = v4f_add(l2, v4f_mul(xl, v4f_load(w2 + i)));
        h2 = v4f_add(h2, v4f_mul(xh, v4f_load(w2 + i + 4)));
        l3 = v4f_add(l3, v4f_mul(xl, v4f_load(w3 + i)));
        h3 = v4f_add(h3, v4f_mul(xh, v4f_load(w3 + i + 4)));
    }
    /* products commute exactly; the tail keeps a[i]*b[i] with a = w row, b = x, as kern_dot(w, x) does */
    out[0] = hsum_4(v4f_add(l0, h0)) + tail_dot(w0, x, n8, I);
    out[1] = hsum_4(v4f_add(l1, h1)) + tail_dot(w1, x, n8, I);
    out[2] = hsum_4(v4f_add(l2, h2)) + tail_dot(w2, x, n8, I);
    out[3] = hsum_4(v4f_add(l3, h3)) + tail_dot(w3, x, n8, I);
}

// ----------------------------------------------------------------------------
// AVX (no FMA: a fused multiply-add would round differently from SSE2)

#if defined(__x86_64__)

EC_TARGET_AVX EC_INLINE float hsum_8(__m256 v)
{
    return hsum_4(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

EC_TARGET_AVX static float dot_avx(const float *a, const float *b, int n)
{
    __m256 acc = _mm256_setzero_ps();
    int n8 = n & ~7;
    for (int i = 0; i < n8; i += 8)
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    return hsum_8(acc) + tail_dot(a, b, n8, n);
}

EC_TARGET_AVX static void dot4_avx(float out[4], const float *x, const float *w, int I, size_t ws)
{
    const float *w0 = w, *w1 = w + ws, *w2 = w + 2 * ws, *w3 = w + 3 * ws;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int n8 = I & ~7;
    for (int i = 0; i < n8; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(xv, _mm256_loadu_ps(w0 + i)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(xv, _mm256_loadu_ps(w1 + i)));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(xv, _mm256_loadu_ps(w2 + i)));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(xv, _mm256_loadu_ps(w3 + i)));
    }
    out[0] = hsum_8(a0) + tail_dot(w0, x, n8, I);
    out[1] = hsum_8(a1) + tail_dot(w1, x, n8, I);
    out[2] = hsum_8(a2) + tail_dot(w2, x, n8, I);
    out[3] = hsum_8(a3) + tail_dot(w3, x, n8, I);
}

/* Eight rows against x, each finished in the canonical order but eight at a time: lanes l and l+4 of row k meet in
 * 128-bit half k of a pair (rows k and k+4 share one ymm), an in-lane 4x4 transpose puts lane j of every row in
 * vector j, and ((v0 + v2) + (v1 + v3)) is then ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)) for all eight rows at once. */
EC_TARGET_AVX static void dot8t_avx(float *out, const float *x, const float *w, int I, size_t ws)
{
    const float *w0 = w, *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws, *w4 = w3 + ws, *w5 = w4 + ws, *w6 = w5 + ws,
                *w7 = w6 + ws;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    int n8 = I & ~7;
    for (int i = 0; i < n8; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(xv, _mm256_loadu_ps(w0 + i)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(xv, _mm256_loadu_ps(w1 + i)));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(xv, _mm256_loadu_ps(w2 + i)));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(xv, _mm256_loadu_ps(w3 + i)));
        a4 = _mm256_add_ps(a4, _mm256_mul_ps(xv, _mm256_loadu_ps(w4 + i)));
        a5 = _mm256_add_ps(a5, _mm256_mul_ps(xv, _mm256_loadu_ps(w5 + i)));
        a6 = _mm256_add_ps(a6, _mm256_mul_ps(xv, _mm256_loadu_ps(w6 + i)));
        a7 = _mm256_add_ps(a7, _mm256_mul_ps(xv, _mm256_loadu_ps(w7 + i)));
    }
#define PAIR(a, b) _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31))
    __m256 p0 = PAIR(a0, a4), p1 = PAIR(a1, a5), p2 = PAIR(a2, a6), p3 = PAIR(a3, a7);
#undef PAIR
    __m256 t0 = _mm256_unpacklo_ps(p0, p1), t1 = _mm256_unpackhi_ps(p0, p1); /* [r0j0 r1j0 r0j1 r1j1], [.. j2 j3] */
    __m256 t2 = _mm256_unpacklo_ps(p2, p3), t3 = _mm256_unpackhi_ps(p2, p3);
    __m256 v0 = _mm256_shuffle_ps(t0, t2, 0x44), v1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 v2 = _mm256_shuffle_ps(t1, t3, 0x44), v3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 r = _mm256_add_ps(_mm256_add_ps(v0, v2), _mm256_add_ps(v1, v3)); /* rows 0 1 2 3 | 4 5 6 7 */
    float tail[8];
    for (int j = 0; j < 8; j++) /* always added, as in the SSE2 kernel: hsum + 0.0f can turn -0 into +0 */
        tail[j] = tail_dot(w + (size_t)j * ws, x, n8, I);
    _mm256_storeu_ps(out, _mm256_add_ps(r, _mm256_loadu_ps(tail)));
}

/* Eight rows of the mat-vec: the eight sums above (named accumulators there: an array would live in memory), then
 * the bias, added after the whole sum as every kernel does. */
EC_TARGET_AVX static void dot8_avx(float *out, const float *x, const float *w, int I, const float *bias)
{
    float r[8];
    dot8t_avx(r, x, w, I, (size_t)I);
    for (int j = 0; j < 8; j++)
        out[j] = bias ? r[j] + bias[j] : r[j];
}

#else
/* AArch64 has no 8-wide float vectors: kern_cpu_has_avx() is 0 there, so K_AVX is never chosen, and a caller that
 * forces it gets the 4-lane kernel (the same canonical sums, so the same bits). */
static float dot_avx(const float *a, const float *b, int n) { return dot_sse2(a, b, n); }
static void dot4_avx(float out[4], const float *x, const float *w, int I, size_t ws) { dot4_sse2(out, x, w, I, ws); }
static void dot8t_avx(float *out, const float *x, const float *w, int I, size_t ws)
{
    dot4_sse2(out, x, w, I, ws);
    dot4_sse2(out + 4, x, w + 4 * ws, I, ws);
}
static void dot8_avx(float *out, const float *x, const float *w, int I, const float *bias)
{
    float r[8];
    dot8t_avx(r, x, w, I, (size_t)I);
    for (int j = 0; j < 8; j++)
        out[j] = bias ? r[j] + bias[j] : r[j];
}
#endif

// ----------------------------------------------------------------------------
// dispatch

float kern_dot(int kernel, const float *a, const float *b, int n)
{
    return kernel == K_AVX ? dot_avx(a, b, n) : dot_sse2(a, b, n);
}

/* Loop order: a block of weight rows (small enough for L1) meets every input row before the next block, so a
 * prompt chunk reads the weights once; for one input row this is a plain mat-vec. Whether a row goes through
 * dot8, dot4 or a single dot, its sum is the canonical one, so any split into row ranges gives the same bits. */
void kern_matmul(int kernel, float *out, size_t ldo, const float *in, const float *w, const float *bias, int N, int I,
                 int O)
{
    int o = 0;
    if (kernel == K_AVX)
        for (; o + 8 <= O; o += 8)
            for (int n = 0; n < N; n++)
                dot8_avx(out + (size_t)n * ldo + o, in + (size_t)n * I, w + (size_t)o * I, I, bias ? bias + o : 0);
    for (; o + 4 <= O; o += 4) {
        const float *wr = w + (size_t)o * I;
        for (int n = 0; n < N; n++) {
            float r[4];
            if (kernel == K_AVX)
                dot4_avx(r, in + (size_t)n * I, wr, I, (size_t)I);
            else
                dot4_sse2(r, in + (size_t)n * I, wr, I, (size_t)I);
            float *dst = out + (size_t)n * ldo + o;
            for (int j = 0; j < 4; j++)
                dst[j] = bias ? r[j] + bias[o + j] : r[j];
        }
    }
    for (; o < O; o++)
        for (int n = 0; n < N; n++) {
            float r = kern_dot(kernel, w + (size_t)o * I, in + (size_t)n * I, I);
            out[(size_t)n * ldo + o] = bias ? r + bias[o] : r;
        }
}

/* 8-lane sum in the canonical order (shared by both kernels). */
static float sum_canonical(const float *s, int n)
{
    v4f lo = v4f_zero(), hi = v4f_zero();
    int n8 = n & ~7;
    for (int i = 0; i < n8; i += 8) {
        lo = v4f_add(lo, v4f_load(s + i));
        hi = v4f_add(hi, v4f_load(s + i + 4));
    }
    float t = 0.0f;
    for (int i = n8; i < n; i++)
        t += s[i];
    return hsum_4(v4f_add(lo, hi)) + t;
}

#if defined(__x86_64__)
/* sc[t] = exp(sc[t] - max) for t < n8 (a multiple of 8), ec_expf4's operations in 8 lanes. */
EC_TARGET_AVX2 static void exp_sub8(float *sc, int n8, float max)
{
    v8f mv = v8f_set1(max);
    for (int t = 0; t < n8; t += 8)
        v8f_store(sc + t, ec_expf8(v8f_sub(v8f_load(sc + t), mv)));
}
/* The same in 16 lanes (n16 a multiple of 16): beside the Q8 kernel's VNNI path. */
EC_TARGET_AVX512 static void exp_sub16(float *sc, int n16, float max)
{
    v16f mv = v16f_set1(max);
    for (int t = 0; t < n16; t += 16)
        v16f_store(sc + t, ec_expf16(v16f_sub(v16f_load(sc + t), mv)));
}
EC_TARGET_AVX static void scale8(float *sc, int n8, float scale)
{
    __m256 s = _mm256_set1_ps(scale);
    for (int t = 0; t < n8; t += 8)
        _mm256_storeu_ps(sc + t, _mm256_mul_ps(_mm256_loadu_ps(sc + t), s));
}
#else
static void exp_sub8(float *sc, int n8, float max) { (void)sc, (void)n8, (void)max; }
static void exp_sub16(float *sc, int n16, float max) { (void)sc, (void)n16, (void)max; }
static void scale8(float *sc, int n8, float scale) { (void)sc, (void)n8, (void)scale; }
#endif

/* sc[t] = exp(sc[t] - max) for t < n; returns the sum. avx2: the first n & ~7 in 8 lanes. */
static float exp_shifted(float *sc, int n, int avx2)
{
    v4f mv = v4f_set1(sc[0]);
    int n4 = n & ~3;
    for (int t = 0; t < n4; t += 4)
        mv = v4f_max(mv, v4f_load(sc + t));
    float m4[4];
    v4f_store(m4, mv);
    float max = m4[0];
    for (int j = 1; j < 4; j++)
        max = m4[j] > max ? m4[j] : max;
    for (int t = n4; t < n; t++)
        max = sc[t] > max ? sc[t] : max;
    mv = v4f_set1(max);
    int t16 = avx2 >= 2 ? n & ~15 : 0, t0 = avx2 ? n & ~7 : 0;
    if (t16) /* 16 lanes first where asked (the same bits: each element on its own) */
        exp_sub16(sc, t16, max);
    if (t0 > t16) /* never call an AVX2 function on a CPU without it: its prologue alone may hold AVX instructions */
        exp_sub8(sc + t16, t0 - t16, max);
    for (int t = t0; t < n4; t += 4)
        v4f_store(sc + t, ec_expf4(v4f_sub(v4f_load(sc + t), mv)));
    for (int t = n4; t < n; t++)
        sc[t] = ec_expf(sc[t] - max);
    return sum_canonical(sc, n);
}

float kern_softmax_exp(float *sc, int n, int avx2) { return exp_shifted(sc, n, avx2); }

#if defined(__x86_64__)
/* The AVX part of the weighted sum: columns in groups of 8; returns how many columns it did. */
EC_TARGET_AVX static int wsum8_avx(float *out, const float *sc, const float *values, size_t stride, int hs, int len,
                                   v4f inv)
{
    __m256 inv8 = _mm256_set_m128(inv, inv);
    int j = 0;
    for (; j + 32 <= hs; j += 32) { /* four independent chains per position hide the add latency */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < len; t++) {
            __m256 s = _mm256_set1_ps(sc[t]);
            const float *v = values + (size_t)t * stride + j;
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(s, _mm256_loadu_ps(v)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(s, _mm256_loadu_ps(v + 8)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(s, _mm256_loadu_ps(v + 16)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(s, _mm256_loadu_ps(v + 24)));
        }
        _mm256_storeu_ps(out + j, _mm256_mul_ps(a0, inv8));
        _mm256_storeu_ps(out + j + 8, _mm256_mul_ps(a1, inv8));
        _mm256_storeu_ps(out + j + 16, _mm256_mul_ps(a2, inv8));
        _mm256_storeu_ps(out + j + 24, _mm256_mul_ps(a3, inv8));
    }
    for (; j + 8 <= hs; j += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int t = 0; t < len; t++)
            acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(sc[t]),
                                                   _mm256_loadu_ps(values + (size_t)t * stride + j)));
        _mm256_storeu_ps(out + j, _mm256_mul_ps(acc, inv8));
    }
    return j;
}
#else
static int wsum8_avx(float *out, const float *sc, const float *values, size_t stride, int hs, int len, v4f inv)
{
    (void)out, (void)sc, (void)values, (void)stride, (void)hs, (void)len, (void)inv;
    return 0; /* the 4-lane loop does every column */
}
#endif

void kern_attend(int kernel, float *out, const float *q, const float *keys, const float *values, size_t stride,
                 int hs, int len, float scale, float *sc)
{
    int avx2 = kernel == KERN_ATTEND_AVX2;
    kernel = avx2 ? K_AVX : kernel;
    // scores: q . k_t for every cached position, four keys at a time
    int t = 0;
    if (kernel == K_AVX)
        for (; t + 8 <= len; t += 8)
            dot8t_avx(sc + t, q, keys + (size_t)t * stride, hs, stride);
    for (; t + 4 <= len; t += 4) {
        if (kernel == K_AVX)
            dot4_avx(sc + t, q, keys + (size_t)t * stride, hs, stride);
        else
            dot4_sse2(sc + t, q, keys + (size_t)t * stride, hs, stride);
    }
    for (; t < len; t++)
        sc[t] = kern_dot(kernel, keys + (size_t)t * stride, q, hs);
    t = kernel == K_AVX ? len & ~7 : 0;
    if (t)
        scale8(sc, t, scale);
    for (; t + 4 <= len; t += 4)
        v4f_store(sc + t, v4f_mul(v4f_load(sc + t), v4f_set1(scale)));
    for (; t < len; t++)
        sc[t] *= scale;
    // softmax numerators, then the weighted sum of values, normalised once at the end. Each output element sums
    // a_t * v_t[j] over t in order, so SSE2 and AVX (wider, same element-wise operations) agree bit for bit.
    v4f inv = v4f_set1(1.0f / exp_shifted(sc, len, avx2));
    int j = 0;
    if (kernel == K_AVX)
        j = wsum8_avx(out, sc, values, stride, hs, len, inv);
    for (; j + 4 <= hs; j += 4) {
        v4f acc = v4f_zero();
        for (t = 0; t < len; t++)
            acc = v4f_add(acc, v4f_mul(v4f_set1(sc[t]), v4f_load(values + (size_t)t * stride + j)));
        v4f_store(out + j, v4f_mul(acc, inv));
    }
    for (; j < hs; j++) {
        float acc = 0.0f;
        for (t = 0; t < len; t++)
            acc += sc[t] * values[(size_t)t * stride + j];
        out[j] = acc * v4f_lane0(inv);
    }
}

#if defined(__x86_64__)
int kern_cpu_has_avx(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (!(c & (1u << 28)) || !(c & (1u << 27))) /* AVX, OSXSAVE */
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u; /* the OS (or efi_main) enabled SSE and YMM state */
}

int kern_cpu_has_avx2(void)
{
    unsigned a, b, c, d;
    if (!kern_cpu_has_avx() || __get_cpuid_max(0, 0) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1;
}

int kern_cpu_has_avx512vnni(void)
{
    unsigned a, b, c, d;
    if (!kern_cpu_has_avx2())
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((b >> 16) & 1) || !((b >> 30) & 1) || !((c >> 11) & 1)) /* AVX512F, AVX512BW, AVX512_VNNI */
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6u) == 0xE6u; /* SSE, YMM, opmask, ZMM_Hi256, Hi16_ZMM */
}
#else
int kern_cpu_has_avx(void) { return 0; }
int kern_cpu_has_avx2(void) { return 0; }
int kern_cpu_has_avx512vnni(void) { return 0; }
#endif

void kern_layernorm(float *out, const float *x, const float *w, const float *b, int C)
{
    float mean = 0.0f, var = 0.0f;
    for (int i = 0; i < C; i++)
        mean += x[i];
    mean /= (float)C;
    for (int i = 0; i < C; i++) {
        float d = x[i] - mean;
        var += d * d;
    }
    var /= (float)C;
    float rstd = 1.0f / ec_sqrtf(var + 1e-5f);
    v4f m4 = v4f_set1(mean), r4 = v4f_set1(rstd);
    int i = 0;
    for (; i + 4 <= C; i += 4)
        v4f_store(out + i, v4f_add(v4f_mul(v4f_mul(v4f_sub(v4f_load(x + i), m4), r4), v4f_load(w + i)),
                                   v4f_load(b + i)));
    for (; i < C; i++)
        out[i] = (x[i] - mean) * rstd * w[i] + b[i];
}

#if defined(__x86_64__)
__attribute__((target("prfchw"))) /* prefetchw: a hint-space NOP on x86-64 CPUs without it */
#endif
void kern_prefetch_write(const void *p, size_t bytes)
{
    for (size_t b = 0; b < bytes; b += 64)
        __builtin_prefetch((const char *)p + b, 1, 3);
}
