/* q8.c - per-row int8 weights (stored as int16 for pmaddwd) and 14-bit activations: y = acc * sw * sx + b.
 * Everything here is SSE2 (NEON on AArch64) and exact integer arithmetic between two deterministic float roundings. */
#include "q8.h"
#include "ecmath.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

static uint32_t padded(uint32_t cols) { return (cols + 7u) & ~7u; }

size_t q8_matrix_bytes(uint32_t rows, uint32_t cols)
{
    return ALIGN64((size_t)rows * padded(cols) * sizeof(int16_t)) + ALIGN64((size_t)rows * sizeof(float));
}

#if defined(__x86_64__)
static int32_t round_to_int(float v) { return _mm_cvtss_si32(_mm_set_ss(v)); } /* nearest, ties to even */
#else
static int32_t round_to_int(float v) { return ec_round_s32(v); } /* the same rounding and out-of-range value */
#endif

static float max_abs(const float *x, uint32_t n)
{
    float m = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float a = x[i] < 0 ? -x[i] : x[i];
        m = a > m ? a : m;
    }
    return m;
}

float q8_quantize_row(int8_t *v, const float *row, uint32_t cols)
{
    float m = max_abs(row, cols);
    float inv = m > 0.0f ? (float)Q8_WMAX / m : 0.0f;
    for (uint32_t c = 0; c < cols; c++)
        v[c] = (int8_t)round_to_int(row[c] * inv); /* |row[c] * inv| <= 127 (rounded), never 128 */
    return m / (float)Q8_WMAX;
}

/* Points q at mem's two pieces: (rows, stride) int16 values, then (rows) scales. */
static void q8_layout(QMatrix *q, uint32_t rows, uint32_t cols, void *mem)
{
    uint32_t stride = padded(cols);
    q->w = mem;
    q->scale = (const float *)(const void *)((uint8_t *)mem + ALIGN64((size_t)rows * stride * sizeof(int16_t)));
    q->rows = rows;
    q->cols = cols;
    q->stride = stride;
}

/* A row's int8 values, lying in the first cols bytes of its own int16 row, widened in place from the end: element c
 * goes to bytes 2c and 2c+1, and the values still unread (those below c) lie below byte c. Padding becomes 0. */
static void widen_row(int16_t *dst, uint32_t cols, uint32_t stride)
{
    const int8_t *src = (const int8_t *)dst;
    for (uint32_t c = stride; c-- > 0;)
        dst[c] = c < cols ? (int16_t)src[c] : 0;
}

size_t q8_matrix_build(QMatrix *q, const float *w, uint32_t rows, uint32_t cols, void *mem)
{
    q8_layout(q, rows, cols, mem);
    int16_t *qw = (int16_t *)(void *)mem;
    float *sc = (float *)(void *)(uintptr_t)q->scale;
    for (uint32_t r = 0; r < rows; r++) {
        int16_t *dst = qw + (size_t)r * q->stride;
        sc[r] = q8_quantize_row((int8_t *)dst, w + (size_t)r * cols, cols);
        widen_row(dst, cols, q->stride);
    }
    return q8_matrix_bytes(rows, cols);
}

size_t q8_matrix_from_int8(QMatrix *q, const int8_t *v, const float *scale, uint32_t rows, uint32_t cols, void *mem)
{
    q8_layout(q, rows, cols, mem);
    int16_t *qw = (int16_t *)(void *)mem;
    float *sc = (float *)(void *)(uintptr_t)q->scale;
    for (uint32_t r = 0; r < rows; r++) {
        int16_t *dst = qw + (size_t)r * q->stride;
        ec_memcpy(dst, v + (size_t)r * cols, cols);
        widen_row(dst, cols, q->stride);
        sc[r] = scale[r];
    }
    return q8_matrix_bytes(rows, cols);
}

#if defined(__x86_64__)
/* One activation row to int16 with a shared scale; returns the scale (0 for an all-zero row). */
static float quantize_row(int16_t *xq, const float *x, uint32_t cols, uint32_t stride)
{
    float m = max_abs(x, cols);
    if (!(m > 0.0f)) {
        ec_memset(xq, 0, stride * sizeof(int16_t));
        return 0.0f;
    }
    __m128 inv = _mm_set1_ps((float)Q8_XMAX / m);
    uint32_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m128i lo = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c), inv));
        __m128i hi = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c + 4), inv));
        _mm_storeu_si128((__m128i *)(void *)(xq + c), _mm_packs_epi32(lo, hi));
    }
    for (; c < stride; c++)
        xq[c] = c < cols ? (int16_t)_mm_cvtss_si32(_mm_mul_ss(_mm_set_ss(x[c]), inv)) : 0;
    return m / (float)Q8_XMAX;
}

/* The four int32 lanes summed in 64 bits: a row of 4096 columns can pass 2^31 in total, never per lane. */
EC_INLINE int64_t lanes_sum(__m128i v)
{
    int32_t l[4];
    _mm_storeu_si128((__m128i *)(void *)l, v);
    return (int64_t)l[0] + l[1] + l[2] + l[3];
}

/* Rows r..r+3 with 256-bit integer instructions; the last 8 columns of an odd count of 8s go through SSE2. */
EC_TARGET_AVX2 static void rows4_avx2(int64_t acc[4], const int16_t *xq, const int16_t *w0, uint32_t S)
{
    const int16_t *w1 = w0 + S, *w2 = w1 + S, *w3 = w2 + S;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    uint32_t c = 0;
    for (; c + 16 <= S; c += 16) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(xq + c));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(const void *)(w0 + c))));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(const void *)(w1 + c))));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(const void *)(w2 + c))));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xv, _mm256_loadu_si256((const __m256i *)(const void *)(w3 + c))));
    }
    __m128i b0 = _mm_add_epi32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
    __m128i b1 = _mm_add_epi32(_mm256_castsi256_si128(a1), _mm256_extracti128_si256(a1, 1));
    __m128i b2 = _mm_add_epi32(_mm256_castsi256_si128(a2), _mm256_extracti128_si256(a2, 1));
    __m128i b3 = _mm_add_epi32(_mm256_castsi256_si128(a3), _mm256_extracti128_si256(a3, 1));
    acc[0] = lanes_sum(b0);
    acc[1] = lanes_sum(b1);
    acc[2] = lanes_sum(b2);
    acc[3] = lanes_sum(b3);
    if (c < S) { /* one block of 8 left */
        __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)(xq + c));
        acc[0] += lanes_sum(_mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w0 + c))));
        acc[1] += lanes_sum(_mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w1 + c))));
        acc[2] += lanes_sum(_mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w2 + c))));
        acc[3] += lanes_sum(_mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w3 + c))));
    }
}

void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, int16_t *xq, int avx2)
{
    uint32_t S = q->stride;
    for (int n = 0; n < N; n++) {
        float sx = quantize_row(xq, in + (size_t)n * q->cols, q->cols, S);
        float *dst = out + (size_t)n * ldo;
        uint32_t r = r0;
        for (; avx2 && r + 4 <= R; r += 4) {
            int64_t acc[4];
            rows4_avx2(acc, xq, q->w + (size_t)r * S, S);
            for (int j = 0; j < 4; j++) {
                float y = (float)acc[j] * q->scale[r + j] * sx;
                dst[r + j] = bias ? y + bias[r + j] : y;
            }
        }
        for (; r + 4 <= R; r += 4) { /* four rows share the activation loads */
            const int16_t *w0 = q->w + (size_t)r * S, *w1 = w0 + S, *w2 = w1 + S, *w3 = w2 + S;
            __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
            for (uint32_t c = 0; c < S; c += 8) {
                __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)(xq + c));
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w0 + c))));
                a1 = _mm_add_epi32(a1, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w1 + c))));
                a2 = _mm_add_epi32(a2, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w2 + c))));
                a3 = _mm_add_epi32(a3, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w3 + c))));
            }
            int64_t acc[4] = {lanes_sum(a0), lanes_sum(a1), lanes_sum(a2), lanes_sum(a3)};
            for (int j = 0; j < 4; j++) {
                float y = (float)acc[j] * q->scale[r + j] * sx;
                dst[r + j] = bias ? y + bias[r + j] : y;
            }
        }
        for (; r < R; r++) {
            const int16_t *w0 = q->w + (size_t)r * S;
            __m128i a0 = _mm_setzero_si128();
            for (uint32_t c = 0; c < S; c += 8)
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xq + c)),
                                                      _mm_loadu_si128((const __m128i *)(const void *)(w0 + c))));
            float y = (float)lanes_sum(a0) * q->scale[r] * sx;
            dst[r] = bias ? y + bias[r] : y;
        }
    }
}
#elif defined(__aarch64__)
/* AArch64 (NEON): the same integer semantics as the SSE2 path above. Activations round and saturate exactly as
 * cvtps2dq + packssdw do (the tail truncates to int16 as the scalar x86 tail does); integer sums are exact, so the
 * different lane grouping (vmlal: columns c and c+4 share a lane, pmaddwd: c and c+1) gives the same totals. */
static float quantize_row(int16_t *xq, const float *x, uint32_t cols, uint32_t stride)
{
    float m = max_abs(x, cols);
    if (!(m > 0.0f)) {
        ec_memset(xq, 0, stride * sizeof(int16_t));
        return 0.0f;
    }
    v4f inv = v4f_set1((float)Q8_XMAX / m);
    uint32_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        v4i lo = v4f_round_s32(v4f_mul(v4f_load(x + c), inv));
        v4i hi = v4f_round_s32(v4f_mul(v4f_load(x + c + 4), inv));
        vst1q_s16(xq + c, vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
    }
    for (; c < stride; c++)
        xq[c] = c < cols ? (int16_t)ec_round_s32(x[c] * v4f_lane0(inv)) : 0;
    return m / (float)Q8_XMAX;
}

EC_INLINE int64_t lanes_sum(int32x4_t v)
{
    return (int64_t)vgetq_lane_s32(v, 0) + vgetq_lane_s32(v, 1) + vgetq_lane_s32(v, 2) + vgetq_lane_s32(v, 3);
}

EC_INLINE int32x4_t madd8(int32x4_t acc, int16x8_t x, const int16_t *w)
{
    int16x8_t wv = vld1q_s16(w);
    acc = vmlal_s16(acc, vget_low_s16(x), vget_low_s16(wv));
    return vmlal_high_s16(acc, x, wv);
}

void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, int16_t *xq, int avx2)
{
    (void)avx2; /* an x86 choice */
    uint32_t S = q->stride;
    for (int n = 0; n < N; n++) {
        float sx = quantize_row(xq, in + (size_t)n * q->cols, q->cols, S);
        float *dst = out + (size_t)n * ldo;
        uint32_t r = r0;
        for (; r + 4 <= R; r += 4) { /* four rows share the activation loads */
            const int16_t *w0 = q->w + (size_t)r * S, *w1 = w0 + S, *w2 = w1 + S, *w3 = w2 + S;
            int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
            for (uint32_t c = 0; c < S; c += 8) {
                int16x8_t xv = vld1q_s16(xq + c);
                a0 = madd8(a0, xv, w0 + c);
                a1 = madd8(a1, xv, w1 + c);
                a2 = madd8(a2, xv, w2 + c);
                a3 = madd8(a3, xv, w3 + c);
            }
            int64_t acc[4] = {lanes_sum(a0), lanes_sum(a1), lanes_sum(a2), lanes_sum(a3)};
            for (int j = 0; j < 4; j++) {
                float y = (float)acc[j] * q->scale[r + j] * sx;
                dst[r + j] = bias ? y + bias[r + j] : y;
            }
        }
        for (; r < R; r++) {
            const int16_t *w0 = q->w + (size_t)r * S;
            int32x4_t a0 = vdupq_n_s32(0);
            for (uint32_t c = 0; c < S; c += 8)
                a0 = madd8(a0, vld1q_s16(xq + c), w0 + c);
            float y = (float)lanes_sum(a0) * q->scale[r] * sx;
            dst[r] = bias ? y + bias[r] : y;
        }
    }
}
#endif
