/* kernels.c - dot products and matmuls (see kernels.h for the canonical summation order both kernels follow).
 * SSE2 keeps the 8 lanes in two xmm accumulators, AVX in one ymm; the reductions are written so the bits match. */
#include "kernels.h"
#include <cpuid.h>

enum { K_SSE2 = 0, K_AVX = 1 };

EC_INLINE float hsum_4(__m128 t) /* (t0 + t2) + (t1 + t3) */
{
    __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}

EC_INLINE float tail_dot(const float *a, const float *b, int from, int n)
{
    float t = 0.0f;
    for (int i = from; i < n; i++)
        t += a[i] * b[i];
    return t;
}

/* ---- SSE2 */

static float dot_sse2(const float *a, const float *b, int n)
{
    __m128 lo = _mm_setzero_ps(), hi = _mm_setzero_ps();
    int n8 = n & ~7;
    for (int i = 0; i < n8; i += 8) {
        lo = _mm_add_ps(lo, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        hi = _mm_add_ps(hi, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
    }
    return hsum_4(_mm_add_ps(lo, hi)) + tail_dot(a, b, n8, n);
}

/* Four rows of w against one input row: four independent dependency chains share the input loads. */
static void dot4_sse2(float out[4], const float *x, const float *w, int I)
{
    const float *w0 = w, *w1 = w + I, *w2 = w + 2 * (size_t)I, *w3 = w + 3 * (size_t)I;
    __m128 l0 = _mm_setzero_ps(), h0 = _mm_setzero_ps(), l1 = _mm_setzero_ps(), h1 = _mm_setzero_ps();
    __m128 l2 = _mm_setzero_ps(), h2 = _mm_setzero_ps(), l3 = _mm_setzero_ps(), h3 = _mm_setzero_ps();
    int n8 = I & ~7;
    for (int i = 0; i < n8; i += 8) {
        __m128 xl = _mm_loadu_ps(x + i), xh = _mm_loadu_ps(x + i + 4);
        l0 = _mm_add_ps(l0, _mm_mul_ps(xl, _mm_loadu_ps(w0 + i)));
        h0 = _mm_add_ps(h0, _mm_mul_ps(xh, _mm_loadu_ps(w0 + i + 4)));
        l1 = _mm_add_ps(l1, _mm_mul_ps(xl, _mm_loadu_ps(w1 + i)));
        h1 = _mm_add_ps(h1, _mm_mul_ps(xh, _mm_loadu_ps(w1 + i + 4)));
        l2 = _mm_add_ps(l2, _mm_mul_ps(xl, _mm_loadu_ps(w2 + i)));
        h2 = _mm_add_ps(h2, _mm_mul_ps(xh, _mm_loadu_ps(w2 + i + 4)));
        l3 = _mm_add_ps(l3, _mm_mul_ps(xl, _mm_loadu_ps(w3 + i)));
        h3 = _mm_add_ps(h3, _mm_mul_ps(xh, _mm_loadu_ps(w3 + i + 4)));
    }
    /* x*w and w*x are the same product: the tail keeps the order a[i]*b[i] with a = w row, b = x. */
    out[0] = hsum_4(_mm_add_ps(l0, h0)) + tail_dot(w0, x, n8, I);
    out[1] = hsum_4(_mm_add_ps(l1, h1)) + tail_dot(w1, x, n8, I);
    out[2] = hsum_4(_mm_add_ps(l2, h2)) + tail_dot(w2, x, n8, I);
    out[3] = hsum_4(_mm_add_ps(l3, h3)) + tail_dot(w3, x, n8, I);
}

/* ---- AVX (no FMA: a fused multiply-add would round differently from SSE2) */

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

EC_TARGET_AVX static void dot4_avx(float out[4], const float *x, const float *w, int I)
{
    const float *w0 = w, *w1 = w + I, *w2 = w + 2 * (size_t)I, *w3 = w + 3 * (size_t)I;
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

/* ---- dispatch */

float kern_dot(int kernel, const float *a, const float *b, int n)
{
    return kernel == K_AVX ? dot_avx(a, b, n) : dot_sse2(a, b, n);
}

/* Loop order: a block of 4 weight rows (small enough for L1) meets every input row before the next block, so a
 * prompt chunk reads the weights once; for one input row this is a plain mat-vec. */
void kern_matmul(int kernel, float *out, const float *in, const float *w, const float *bias, int N, int I, int O)
{
    int o4 = O & ~3;
    for (int o = 0; o < o4; o += 4) {
        const float *wr = w + (size_t)o * I;
        for (int n = 0; n < N; n++) {
            float r[4];
            if (kernel == K_AVX)
                dot4_avx(r, in + (size_t)n * I, wr, I);
            else
                dot4_sse2(r, in + (size_t)n * I, wr, I);
            float *dst = out + (size_t)n * O + o;
            for (int j = 0; j < 4; j++)
                dst[j] = bias ? r[j] + bias[o + j] : r[j];
        }
    }
    for (int o = o4; o < O; o++)
        for (int n = 0; n < N; n++) {
            float r = kern_dot(kernel, w + (size_t)o * I, in + (size_t)n * I, I);
            out[(size_t)n * O + o] = bias ? r + bias[o] : r;
        }
}

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
