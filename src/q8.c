/* q8.c - int8 weights (one float scale per row) times int8 activations (one float scale per input row), summed
 * exactly in int32, scaled once in float: y = float(acc) * sw * sx + b (see q8.h for the exact definition).
 * Three paths compute the same integer sums: SSE2 (every x86-64), AVX2 and AVX-512 VNNI, picked at run time; on
 * AArch64 one NEON path (its own section at the end) computes them too. */
#include "q8.h"
#include "ecmath.h"
#include "kernels.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

/* Rows padded with zero columns to a multiple of 64: every path reads whole 16-, 32- or 64-byte blocks. */
static uint32_t padded(uint32_t cols) { return (cols + 63u) & ~63u; }

#if defined(__aarch64__)
/* SDOT: ID_AA64ISAR0_EL1 bits 47:44 (DP) >= 1. Readable at EL1/EL2 (UEFI); Linux (and qemu-user) emulate the read
 * for user space. */
static int cpu_has_dotprod(void)
{
    uint64_t isar0;
    __asm__ volatile("mrs %0, ID_AA64ISAR0_EL1" : "=r"(isar0));
    return ((isar0 >> 44) & 0xF) >= 1;
}

int q8_best_path(void) { return cpu_has_dotprod() ? Q8_PATH_DOT : Q8_PATH_SSE2; }
int q8_path_available(int path) { return path == Q8_PATH_SSE2 || (path == Q8_PATH_DOT && cpu_has_dotprod()); }
const char *q8_path_name(int path) { return path == Q8_PATH_DOT ? "neon-dot" : "neon"; }
#else
int q8_best_path(void)
{
    return kern_cpu_has_avx512vnni() ? Q8_PATH_VNNI : kern_cpu_has_avx2() ? Q8_PATH_AVX2 : Q8_PATH_SSE2;
}

int q8_path_available(int path)
{
    return (path >= Q8_PATH_SSE2 && path <= q8_best_path()) || (path == Q8_PATH_AVX2M && kern_cpu_has_avx2());
}

const char *q8_path_name(int path)
{
    return path == Q8_PATH_VNNI ? "avx512-vnni" : path == Q8_PATH_AVX2 ? "avx2" : path == Q8_PATH_AVX2M ? "avx2-mullo"
                                                                                                          : "sse2";
}
#endif

// ----------------------------------------------------------------------------
// weights

size_t q8_matrix_bytes(uint32_t rows, uint32_t cols)
{
    return ALIGN64((size_t)rows * padded(cols)) + ALIGN64((size_t)rows * sizeof(float)) +
           ALIGN64((size_t)rows * sizeof(int32_t));
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

/* Points q at mem's three pieces: (rows, stride) int8 values, (rows) scales, (rows) row sums. */
static void q8_layout(QMatrix *q, uint32_t rows, uint32_t cols, void *mem)
{
    uint32_t stride = padded(cols);
    uint8_t *p = mem;
    q->w = (const int8_t *)p;
    p += ALIGN64((size_t)rows * stride);
    q->scale = (const float *)(const void *)p;
    p += ALIGN64((size_t)rows * sizeof(float));
    q->wsum = (const int32_t *)(const void *)p;
    q->rows = rows;
    q->cols = cols;
    q->stride = stride;
}

/* Zero padding and the row sums (the VNNI path's correction) once the values are in. */
static void q8_finish(QMatrix *q)
{
    int8_t *w = (int8_t *)(uintptr_t)q->w;
    int32_t *sum = (int32_t *)(uintptr_t)q->wsum;
    for (uint32_t r = 0; r < q->rows; r++) {
        int8_t *row = w + (size_t)r * q->stride;
        ec_memset(row + q->cols, 0, q->stride - q->cols);
        int32_t s = 0;
        for (uint32_t c = 0; c < q->cols; c++)
            s += row[c];
        sum[r] = s;
    }
}

size_t q8_matrix_build(QMatrix *q, const float *w, uint32_t rows, uint32_t cols, void *mem)
{
    q8_matrix_begin(q, rows, cols, mem);
    for (uint32_t r = 0; r < rows; r++)
        q8_matrix_set_row(q, r, w + (size_t)r * cols);
    q8_matrix_end(q);
    return q8_matrix_bytes(rows, cols);
}

void q8_matrix_begin(QMatrix *q, uint32_t rows, uint32_t cols, void *mem) { q8_layout(q, rows, cols, mem); }

void q8_matrix_set_row(QMatrix *q, uint32_t r, const float *row)
{
    float *sc = (float *)(uintptr_t)q->scale;
    sc[r] = q8_quantize_row((int8_t *)(uintptr_t)q->w + (size_t)r * q->stride, row, q->cols);
}

void q8_matrix_end(QMatrix *q) { q8_finish(q); }

void q8_matrix_row_floats(const QMatrix *q, uint32_t r, float *out)
{
    const int8_t *v = q->w + (size_t)r * q->stride;
    for (uint32_t c = 0; c < q->cols; c++)
        out[c] = (float)v[c] * q->scale[r];
}

size_t q8_matrix_from_int8(QMatrix *q, const int8_t *v, const float *scale, uint32_t rows, uint32_t cols, void *mem)
{
    q8_layout(q, rows, cols, mem);
    float *sc = (float *)(uintptr_t)q->scale;
    for (uint32_t r = 0; r < rows; r++) {
        ec_memcpy((int8_t *)(uintptr_t)q->w + (size_t)r * q->stride, v + (size_t)r * cols, cols);
        sc[r] = scale[r];
    }
    q8_finish(q);
    return q8_matrix_bytes(rows, cols);
}

// ----------------------------------------------------------------------------
// activations: one int8 row (S bytes) and the path's form of it (2S bytes) per input row

size_t q8_scratch_bytes(uint32_t max_cols, int N)
{
    return (size_t)N * 3 * padded(max_cols) + ALIGN64((size_t)N * sizeof(float));
}

#if defined(__x86_64__)
/* x (cols) to xb (S int8, zero padded); returns the scale (0: a zero row; NaN: the row holds a NaN or an infinity,
 * then xb is zero and every output of the row becomes NaN, so the caller's finiteness check sees it). */
static float quantize_act(int8_t *xb, const float *x, uint32_t cols, uint32_t S)
{
    int bad;
    float m = q8_absmax(x, cols, &bad);
    uint32_t c;
    if (bad || !(m <= 3.40282347e38f) || !(m > 0.0f)) {
        ec_memset(xb, 0, S);
        return bad || !(m <= 3.40282347e38f) ? __builtin_nanf("") : 0.0f;
    }
    __m128 inv = _mm_set1_ps((float)Q8_XMAX / m);
    for (c = 0; c + 16 <= cols; c += 16) {
        __m128i a = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c), inv));
        __m128i b = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c + 4), inv));
        __m128i d = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c + 8), inv));
        __m128i e = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + c + 12), inv));
        /* every value is within -127..127, so neither pack saturates */
        _mm_storeu_si128((__m128i *)(void *)(xb + c), _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(d, e)));
    }
    for (; c < S; c++)
        xb[c] = c < cols ? (int8_t)_mm_cvtss_si32(_mm_mul_ss(_mm_set_ss(x[c]), inv)) : 0;
    return m / (float)Q8_XMAX;
}

/* SSE2's form: each block of 16 values as int16, its even elements first, then its odd ones. Shifts split the
 * bytes (as int16 lanes: the low byte is the even element, the high byte the odd one), no unpacking: under QEMU's
 * software CPU a shift by a constant is translated inline while unpacks are calls. */
EC_INLINE __m128i even_bytes(__m128i v) { return _mm_srai_epi16(_mm_slli_epi16(v, 8), 8); }
EC_INLINE __m128i odd_bytes(__m128i v) { return _mm_srai_epi16(v, 8); }

static void widen_sse2(int16_t *x16, const int8_t *xb, uint32_t S)
{
    for (uint32_t c = 0; c < S; c += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(xb + c));
        _mm_storeu_si128((__m128i *)(void *)(x16 + c), even_bytes(v));
        _mm_storeu_si128((__m128i *)(void *)(x16 + c + 8), odd_bytes(v));
    }
}

/* AVX2's form: |x| as unsigned bytes (the sign goes onto the weights with vpsignb). */
EC_TARGET_AVX2 static void abs_avx2(uint8_t *xa, const int8_t *xb, uint32_t S)
{
    for (uint32_t c = 0; c < S; c += 32)
        _mm256_storeu_si256((__m256i *)(void *)(xa + c),
                            _mm256_abs_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(xb + c))));
}

/* quantize_act's bytes in 8 lanes (the maximum is exact in any order, the products and cvtps2dq's roundings are
 * element-wise); the AVX2 path's first step, where 4 lanes cost ~5% of a token at 128 columns. */
EC_TARGET_AVX2 static float quantize_act_avx2(int8_t *xb, const float *x, uint32_t cols, uint32_t S)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m8 = _mm256_setzero_ps(), nan8 = m8;
    uint32_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m256 v = _mm256_loadu_ps(x + c);
        nan8 = _mm256_or_ps(nan8, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m8 = _mm256_max_ps(m8, _mm256_and_ps(v, absmask));
    }
    int bad;
    float lane[8], m = q8_absmax(x + c, cols - c, &bad); /* the last cols % 8 */
    _mm256_storeu_ps(lane, m8);
    bad |= _mm256_movemask_ps(nan8) != 0;
    for (int j = 0; j < 8; j++)
        m = lane[j] > m ? lane[j] : m;
    if (bad || !(m <= 3.40282347e38f) || !(m > 0.0f)) {
        ec_memset(xb, 0, S);
        return bad || !(m <= 3.40282347e38f) ? __builtin_nanf("") : 0.0f;
    }
    __m256 inv = _mm256_set1_ps((float)Q8_XMAX / m);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7); /* undoes the packs' 128-bit lanes */
    for (c = 0; c + 32 <= cols; c += 32) {
        __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c), inv));
        __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c + 8), inv));
        __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c + 16), inv));
        __m256i e = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c + 24), inv));
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(d, e)); /* -127..127 */
        _mm256_storeu_si256((__m256i *)(void *)(xb + c), _mm256_permutevar8x32_epi32(p, order));
    }
    __m128 inv1 = _mm_set1_ps((float)Q8_XMAX / m);
    for (; c < S; c++)
        xb[c] = c < cols ? (int8_t)_mm_cvtss_si32(_mm_mul_ss(_mm_set_ss(x[c]), inv1)) : 0;
    return m / (float)Q8_XMAX;
}

/* AVX2-mullo's form: SSE2's, in blocks of 32 (16 even elements, then 16 odd ones). */
EC_TARGET_AVX2 EC_INLINE __m256i even_bytes256(__m256i v) { return _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8); }
EC_TARGET_AVX2 EC_INLINE __m256i odd_bytes256(__m256i v) { return _mm256_srai_epi16(v, 8); }

EC_TARGET_AVX2 static void widen_avx2m(int16_t *x16, const int8_t *xb, uint32_t S)
{
    for (uint32_t c = 0; c < S; c += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + c));
        _mm256_storeu_si256((__m256i *)(void *)(x16 + c), even_bytes256(v));
        _mm256_storeu_si256((__m256i *)(void *)(x16 + c + 16), odd_bytes256(v));
    }
}

/* VNNI's form, x + 128 as unsigned bytes (1..255; padding 128, which meets zero weights), straight from the floats:
 * quantize_act's bytes in 16 lanes (the maximum is exact in any order, the products and cvtps2dq's roundings are
 * element-wise), each xor 0x80. Masked loads read zeros past cols, which become the padding's 128. */
EC_TARGET_VNNI static float quantize_act_vnni(uint8_t *xu, const float *x, uint32_t cols, uint32_t S)
{
    __m512 m16 = _mm512_setzero_ps();
    __mmask16 nan = 0;
    for (uint32_t c = 0; c < cols; c += 16) {
        __mmask16 k = v16_first((int)(cols - c));
        __m512 v = _mm512_maskz_loadu_ps(k, x + c);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m16 = _mm512_max_ps(m16, _mm512_abs_ps(v));
    }
    float m = _mm512_reduce_max_ps(m16);
    if (nan || !(m <= 3.40282347e38f) || !(m > 0.0f)) {
        ec_memset(xu, 0x80, S);
        return nan || !(m <= 3.40282347e38f) ? __builtin_nanf("") : 0.0f;
    }
    __m512 inv = _mm512_set1_ps((float)Q8_XMAX / m);
    const __m128i flip = _mm_set1_epi8((char)0x80);
    for (uint32_t c = 0; c < S; c += 16) {
        __mmask16 k = v16_first((int)cols - (int)c);
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + c), inv));
        _mm_storeu_si128((__m128i *)(void *)(xu + c), _mm_xor_si128(_mm512_cvtepi32_epi8(q), flip));
    }
    return m / (float)Q8_XMAX;
}

// ----------------------------------------------------------------------------
// four rows' integer sums, one path each

/* Four vectors of int32 lanes to their four totals [sum a0, sum a1, sum a2, sum a3]. */
EC_INLINE __m128i reduce4(__m128i a0, __m128i a1, __m128i a2, __m128i a3)
{
    __m128i s01 = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1), _mm_unpackhi_epi32(a0, a1));
    __m128i s23 = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3), _mm_unpackhi_epi32(a2, a3));
    return _mm_add_epi32(_mm_unpacklo_epi64(s01, s23), _mm_unpackhi_epi64(s01, s23));
}

#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

EC_INLINE __m128i dot4_sse2(const int16_t *x16, const int8_t *w0, const int8_t *w1, const int8_t *w2, const int8_t *w3,
                         uint32_t S)
{
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t c = 0; c < S; c += 16) {
        __m128i xe = LOAD128(x16 + c), xo = LOAD128(x16 + c + 8), w;
#define ROW(a, wr)                                                         \
        w = LOAD128(wr + c);                                               \
        a = _mm_add_epi32(a, _mm_madd_epi16(xe, even_bytes(w)));           \
        a = _mm_add_epi32(a, _mm_madd_epi16(xo, odd_bytes(w)))
        ROW(a0, w0);
        ROW(a1, w1);
        ROW(a2, w2);
        ROW(a3, w3);
#undef ROW
    }
    return reduce4(a0, a1, a2, a3);
}

/* |x| * (w with x's sign) = x * w, pairs summed in int16 (at most 2 * 127 * 127 = 32258: no saturation). */
EC_TARGET_AVX2 EC_INLINE __m128i dot4_avx2(const int8_t *xs, const uint8_t *xa, const int8_t *w0, const int8_t *w1,
                                        const int8_t *w2, const int8_t *w3, uint32_t S)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t c = 0; c < S; c += 32) {
        __m256i s = LOAD256(xs + c), u = LOAD256(xa + c);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(LOAD256(w0 + c), s)), ones));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(LOAD256(w1 + c), s)), ones));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(LOAD256(w2 + c), s)), ones));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(LOAD256(w3 + c), s)), ones));
    }
#define HALF(a) _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1))
    return reduce4(HALF(a0), HALF(a1), HALF(a2), HALF(a3));
}

/* The same sums from instructions QEMU's TCG translates inline (vpmaddwd, vpmaddubsw and vpsignb are calls there):
 * vpmullw's int16 products are exact (|x|, |w| <= 127), an even and an odd one add in int16 (at most 32258), and
 * shifts widen that pair sum into two int32 lanes. */
EC_TARGET_AVX2 EC_INLINE __m128i dot4_avx2m(const int16_t *x16, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                                         const int8_t *w3, uint32_t S)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t c = 0; c < S; c += 32) {
        __m256i xe = LOAD256(x16 + c), xo = LOAD256(x16 + c + 16), w, p;
#define ROW(a, wr)                                                                                                  \
        w = LOAD256(wr + c);                                                                                        \
        p = _mm256_add_epi16(_mm256_mullo_epi16(xe, even_bytes256(w)), _mm256_mullo_epi16(xo, odd_bytes256(w)));    \
        a = _mm256_add_epi32(a, _mm256_srai_epi32(_mm256_slli_epi32(p, 16), 16));                                   \
        a = _mm256_add_epi32(a, _mm256_srai_epi32(p, 16))
        ROW(a0, w0);
        ROW(a1, w1);
        ROW(a2, w2);
        ROW(a3, w3);
#undef ROW
    }
    return reduce4(HALF(a0), HALF(a1), HALF(a2), HALF(a3));
}

/* sum (x + 128) * w; the caller subtracts 128 * sum w. vpdpbusd adds four u8*s8 products per lane, no saturation. */
EC_TARGET_VNNI EC_INLINE __m128i dot4_vnni(const uint8_t *xu, const int8_t *w0, const int8_t *w1, const int8_t *w2,
                                        const int8_t *w3, uint32_t S)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t c = 0; c < S; c += 64) {
        __m512i u = _mm512_loadu_si512(xu + c);
        a0 = _mm512_dpbusd_epi32(a0, u, _mm512_loadu_si512(w0 + c));
        a1 = _mm512_dpbusd_epi32(a1, u, _mm512_loadu_si512(w1 + c));
        a2 = _mm512_dpbusd_epi32(a2, u, _mm512_loadu_si512(w2 + c));
        a3 = _mm512_dpbusd_epi32(a3, u, _mm512_loadu_si512(w3 + c));
    }
#define QUARTER(a) HALF(_mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1)))
    return reduce4(QUARTER(a0), QUARTER(a1), QUARTER(a2), QUARTER(a3));
#undef QUARTER
#undef HALF
}

// ----------------------------------------------------------------------------
// the mat-vec

/* What a block of up to four rows needs besides the sums: their scales, biases and (VNNI) corrections. */
typedef struct {
    float sw[4], b[4];
    int32_t corr[4];
} RowBlock;

/* y = float(acc) * sw * sx (+ b), four rows at once (the same roundings as one at a time), nr of them stored. */
EC_INLINE void store_rows(float *dst, __m128i acc, const RowBlock *rb, float sx, int bias, uint32_t nr)
{
    __m128 y = _mm_mul_ps(_mm_mul_ps(_mm_cvtepi32_ps(acc), _mm_loadu_ps(rb->sw)), _mm_set1_ps(sx));
    if (bias)
        y = _mm_add_ps(y, _mm_loadu_ps(rb->b));
    if (nr == 4) {
        _mm_storeu_ps(dst, y);
        return;
    }
    float v[4];
    _mm_storeu_ps(v, y);
    for (uint32_t j = 0; j < nr; j++)
        dst[j] = v[j];
}

EC_INLINE uint32_t row_block(RowBlock *rb, const QMatrix *q, const float *bias, uint32_t r, uint32_t R,
                             const int8_t **w)
{
    uint32_t nr = R - r < 4 ? R - r : 4, S = q->stride;
    for (uint32_t j = 0; j < 4; j++) { /* missing rows repeat the first: computed, never stored */
        uint32_t k = j < nr ? r + j : r;
        w[j] = q->w + (size_t)k * S;
        rb->sw[j] = q->scale[k];
        rb->b[j] = bias ? bias[k] : 0.0f;
        rb->corr[j] = q->wsum[k] * 128;
    }
    return nr;
}

/* One driver per path, so each path's dot products inline into a loop compiled for its instructions: a block of
 * four weight rows (in L1) meets every input row before the next block. Row n's int8 form is at sb + n * 3S, the
 * path's form S bytes after it. */
#define Q8_DRIVER(name, target, DOT)                                                                          \
    target static void name(float *out, size_t ldo, const QMatrix *q, uint32_t r0, uint32_t R,                 \
                            const float *bias, int N, const uint8_t *sb, const float *sx)                       \
    {                                                                                                          \
        uint32_t S = q->stride;                                                                                \
        for (uint32_t r = r0; r < R; r += 4) {                                                                 \
            RowBlock rb;                                                                                       \
            const int8_t *w[4];                                                                                \
            uint32_t nr = row_block(&rb, q, bias, r, R, w);                                                    \
            for (int n = 0; n < N; n++) {                                                                      \
                const uint8_t *xb = sb + (size_t)n * 3 * S;                                                    \
                store_rows(out + (size_t)n * ldo + r, DOT, &rb, sx[n], bias != 0, nr);                         \
            }                                                                                                  \
        }                                                                                                      \
    }
Q8_DRIVER(rows_sse2, , dot4_sse2((const int16_t *)(const void *)(xb + S), w[0], w[1], w[2], w[3], S))
Q8_DRIVER(rows_avx2, EC_TARGET_AVX2, dot4_avx2((const int8_t *)xb, xb + S, w[0], w[1], w[2], w[3], S))
Q8_DRIVER(rows_avx2m, EC_TARGET_AVX2, dot4_avx2m((const int16_t *)(const void *)(xb + S), w[0], w[1], w[2], w[3], S))
Q8_DRIVER(rows_vnni4, EC_TARGET_VNNI,
          _mm_sub_epi32(dot4_vnni(xb + S, w[0], w[1], w[2], w[3], S), LOAD128(rb.corr)))
#undef Q8_DRIVER

/* Eight rows' sums |x| * (w with x's sign) in one vector, row j in lane j: the accumulators fold in a tree (pairs,
 * quads, then 128-bit halves) instead of four reduce4 folds, and the scales and biases are vector loads (row_block's
 * scalar stores read back as a vector stalled store forwarding: ~9% of rows_avx2 at 128 columns on Zen 3). */
EC_TARGET_AVX2 EC_INLINE __m256i dot8_avx2(const int8_t *xs, const uint8_t *xa, const int8_t *w, uint32_t S)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (uint32_t c = 0; c < S; c += 32) {
        __m256i s = LOAD256(xs + c), u = LOAD256(xa + c);
        const int8_t *wc = w + c;
#define ROW(j) a##j = _mm256_add_epi32(a##j, _mm256_madd_epi16(                                                  \
                   _mm256_maddubs_epi16(u, _mm256_sign_epi8(LOAD256(wc + (size_t)(j) * S), s)), ones))
        ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7);
#undef ROW
    }
#define PAIR(x, y) _mm256_add_epi32(_mm256_unpacklo_epi32(x, y), _mm256_unpackhi_epi32(x, y))
#define QUAD(x, y) _mm256_add_epi32(_mm256_unpacklo_epi64(x, y), _mm256_unpackhi_epi64(x, y))
    /* each 128-bit half of q0 holds partial sums [r0 r1 r2 r3], of q1 [r4 r5 r6 r7] */
    __m256i q0 = QUAD(PAIR(a0, a1), PAIR(a2, a3)), q1 = QUAD(PAIR(a4, a5), PAIR(a6, a7));
#undef PAIR
#undef QUAD
    return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31));
}

/* Whole 8-row blocks by dot8_avx2 (y = float(acc) * sw * sx (+ b), the roundings of store_rows), the rest in blocks
 * of four. */
EC_TARGET_AVX2 static void rows_avx2_8(float *out, size_t ldo, const QMatrix *q, uint32_t r0, uint32_t R,
                                       const float *bias, int N, const uint8_t *sb, const float *sx)
{
    uint32_t S = q->stride, r = r0;
    for (; R - r >= 8; r += 8) {
        __m256 sw = _mm256_loadu_ps(q->scale + r), b = bias ? _mm256_loadu_ps(bias + r) : _mm256_setzero_ps();
        for (int n = 0; n < N; n++) {
            const uint8_t *xb = sb + (size_t)n * 3 * S;
            __m256i acc = dot8_avx2((const int8_t *)xb, xb + S, q->w + (size_t)r * S, S);
            __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), sw), _mm256_set1_ps(sx[n]));
            if (bias)
                y = _mm256_add_ps(y, b);
            _mm256_storeu_ps(out + (size_t)n * ldo + r, y);
        }
    }
    if (r < R)
        rows_avx2(out, ldo, q, r, R, bias, N, sb, sx);
}

/* Sixteen rows' sums (x + 128) * w in one vector, row j in lane j. At 128-512 columns the four-row block spent more
 * instructions folding its accumulators and loading its scales than in vpdpbusd; here 16 accumulators fold in a
 * tree (pairs of rows, then quads, then 128-bit quarters) and the scales, sums and biases are vector loads. */
EC_TARGET_VNNI EC_INLINE __m512i dot16_vnni(const uint8_t *xu, const int8_t *w, uint32_t S)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
            a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0; /* named: kept in registers */
    for (uint32_t c = 0; c < S; c += 64) {
        __m512i u = _mm512_loadu_si512(xu + c);
        const int8_t *wc = w + c;
#define ROW(j) a##j = _mm512_dpbusd_epi32(a##j, u, _mm512_loadu_si512(wc + (size_t)(j) * S))
        ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7);
        ROW(8), ROW(9), ROW(10), ROW(11), ROW(12), ROW(13), ROW(14), ROW(15);
#undef ROW
    }
    /* within each 128-bit quarter: pairs [r0 r1 r0 r1], then quads [r0 r1 r2 r3] */
#define PAIR(x, y) _mm512_add_epi32(_mm512_unpacklo_epi32(x, y), _mm512_unpackhi_epi32(x, y))
#define QUAD(x, y) _mm512_add_epi32(_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y))
    __m512i q0 = QUAD(PAIR(a0, a1), PAIR(a2, a3)), q1 = QUAD(PAIR(a4, a5), PAIR(a6, a7));
    __m512i q2 = QUAD(PAIR(a8, a9), PAIR(a10, a11)), q3 = QUAD(PAIR(a12, a13), PAIR(a14, a15));
#undef PAIR
#undef QUAD
    /* q_j's four quarters hold partial sums of rows 4j..4j+3: add quarters 0+1 and 2+3, then those */
    __m512i ab = _mm512_add_epi32(_mm512_shuffle_i32x4(q0, q1, 0x88), _mm512_shuffle_i32x4(q0, q1, 0xDD));
    __m512i cd = _mm512_add_epi32(_mm512_shuffle_i32x4(q2, q3, 0x88), _mm512_shuffle_i32x4(q2, q3, 0xDD));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(ab, cd, 0x88), _mm512_shuffle_i32x4(ab, cd, 0xDD));
}

/* Whole 16-row blocks by dot16_vnni (y = float(acc - 128 sum w) * sw * sx (+ b), the roundings of store_rows),
 * the rest in blocks of four. */
EC_TARGET_VNNI static void rows_vnni(float *out, size_t ldo, const QMatrix *q, uint32_t r0, uint32_t R,
                                     const float *bias, int N, const uint8_t *sb, const float *sx)
{
    uint32_t S = q->stride, r = r0;
    for (; R - r >= 16; r += 16) {
        __m512i corr = _mm512_slli_epi32(_mm512_loadu_si512(q->wsum + r), 7);
        __m512 sw = _mm512_loadu_ps(q->scale + r), b = bias ? _mm512_loadu_ps(bias + r) : _mm512_setzero_ps();
        for (int n = 0; n < N; n++) {
            __m512i acc = _mm512_sub_epi32(dot16_vnni(sb + (size_t)n * 3 * S + S, q->w + (size_t)r * S, S), corr);
            __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), sw), _mm512_set1_ps(sx[n]));
            if (bias)
                y = _mm512_add_ps(y, b);
            _mm512_storeu_ps(out + (size_t)n * ldo + r, y);
        }
    }
    if (r < R)
        rows_vnni4(out, ldo, q, r, R, bias, N, sb, sx);
}

void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, void *scratch, int path)
{
    if (r0 >= R || N <= 0)
        return;
    uint32_t S = q->stride, rowb = 3 * S;
    uint8_t *sb = scratch;
    float *sx = (float *)(void *)(sb + (size_t)N * rowb);
    for (int n = 0; n < N; n++) { /* each input row once: int8, then the path's form behind it */
        int8_t *xb = (int8_t *)(sb + (size_t)n * rowb);
        if (path == Q8_PATH_VNNI) { /* only its form: rows_vnni reads nothing else */
            sx[n] = quantize_act_vnni((uint8_t *)xb + S, in + (size_t)n * q->cols, q->cols, S);
            continue;
        }
        sx[n] = path == Q8_PATH_AVX2 ? quantize_act_avx2(xb, in + (size_t)n * q->cols, q->cols, S)
                                     : quantize_act(xb, in + (size_t)n * q->cols, q->cols, S);
        if (path == Q8_PATH_AVX2)
            abs_avx2((uint8_t *)xb + S, xb, S);
        else if (path == Q8_PATH_AVX2M)
            widen_avx2m((int16_t *)(void *)(xb + S), xb, S);
        else
            widen_sse2((int16_t *)(void *)(xb + S), xb, S);
    }
    if (path == Q8_PATH_VNNI)
        rows_vnni(out, ldo, q, r0, R, bias, N, sb, sx);
    else if (path == Q8_PATH_AVX2)
        rows_avx2_8(out, ldo, q, r0, R, bias, N, sb, sx);
    else if (path == Q8_PATH_AVX2M)
        rows_avx2m(out, ldo, q, r0, R, bias, N, sb, sx);
    else
        rows_sse2(out, ldo, q, r0, R, bias, N, sb, sx);
}
#elif defined(__aarch64__)
// ----------------------------------------------------------------------------
// AArch64 (NEON): the result q8.h defines, as the SSE2 path computes it. quantize_act rounds x * (127 / m) like
// cvtps2dq (|x * inv| <= 127, so the x86 packs never saturate and a plain int8 store is the same); the sums are
// exact int32 (vmull_s8: int16 products of at most 127 * 127, vpadalq_s16 into int32 lanes), so any lane grouping
// gives the SSE2 totals; y = float(acc) * sw * sx (+ b), rounded left to right as store_rows does.

static float quantize_act(int8_t *xb, const float *x, uint32_t cols, uint32_t S)
{
    int bad;
    float m = q8_absmax(x, cols, &bad);
    if (bad || !(m <= 3.40282347e38f) || !(m > 0.0f)) {
        ec_memset(xb, 0, S);
        return bad || !(m <= 3.40282347e38f) ? __builtin_nanf("") : 0.0f;
    }
    float inv = (float)Q8_XMAX / m;
    for (uint32_t c = 0; c < S; c++)
        xb[c] = c < cols ? (int8_t)ec_round_s32(x[c] * inv) : 0;
    return m / (float)Q8_XMAX;
}

EC_INLINE int32x4_t madd16(int32x4_t acc, int8x16_t x, const int8_t *w)
{
    int8x16_t wv = vld1q_s8(w);
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(wv)));
    return vpadalq_s16(acc, vmull_high_s8(x, wv));
}

/* Four rows' sums with SDOT: each int32 lane adds four int8 products per step (exact). */
__attribute__((target("arch=armv8.2-a+dotprod"))) static void dot4_sdot(int32_t acc[4], const int8_t *xb,
                                                                       const int8_t *const w[4], uint32_t S)
{
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t c = 0; c < S; c += 16) {
        int8x16_t xv = vld1q_s8(xb + c);
        a0 = vdotq_s32(a0, xv, vld1q_s8(w[0] + c));
        a1 = vdotq_s32(a1, xv, vld1q_s8(w[1] + c));
        a2 = vdotq_s32(a2, xv, vld1q_s8(w[2] + c));
        a3 = vdotq_s32(a3, xv, vld1q_s8(w[3] + c));
    }
    acc[0] = vaddvq_s32(a0);
    acc[1] = vaddvq_s32(a1);
    acc[2] = vaddvq_s32(a2);
    acc[3] = vaddvq_s32(a3);
}

void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, void *scratch, int path)
{
    if (r0 >= R || N <= 0)
        return;
    uint32_t S = q->stride, rowb = 3 * S; /* q8_scratch_bytes' layout; only the int8 row is used */
    uint8_t *sb = scratch;
    float *sx = (float *)(void *)(sb + (size_t)N * rowb);
    for (int n = 0; n < N; n++)
        sx[n] = quantize_act((int8_t *)(sb + (size_t)n * rowb), in + (size_t)n * q->cols, q->cols, S);
    for (uint32_t r = r0; r < R; r += 4) { /* a block of four weight rows meets every input row */
        uint32_t nr = R - r < 4 ? R - r : 4;
        const int8_t *w[4];
        for (uint32_t j = 0; j < 4; j++)
            w[j] = q->w + (size_t)(j < nr ? r + j : r) * S;
        for (int n = 0; n < N; n++) {
            const int8_t *xb = (const int8_t *)(sb + (size_t)n * rowb);
            int32_t acc[4];
            if (path == Q8_PATH_DOT) {
                dot4_sdot(acc, xb, w, S);
            } else {
                int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
                for (uint32_t c = 0; c < S; c += 16) {
                    int8x16_t xv = vld1q_s8(xb + c);
                    a0 = madd16(a0, xv, w[0] + c);
                    a1 = madd16(a1, xv, w[1] + c);
                    a2 = madd16(a2, xv, w[2] + c);
                    a3 = madd16(a3, xv, w[3] + c);
                }
                acc[0] = vaddvq_s32(a0);
                acc[1] = vaddvq_s32(a1);
                acc[2] = vaddvq_s32(a2);
                acc[3] = vaddvq_s32(a3);
            }
            float *dst = out + (size_t)n * ldo + r;
            for (uint32_t j = 0; j < nr; j++) {
                float y = (float)acc[j] * q->scale[r + j] * sx[n];
                dst[j] = bias ? y + bias[r + j] : y;
            }
        }
    }
}
#endif

int q8_fastest_path(const QMatrix *q, const float *x, float *out, void *scratch, uint64_t (*ticks)(void), int rounds)
{
    int best = q8_best_path();
    uint64_t best_t = ~(uint64_t)0;
    for (int i = -1; i < Q8_PATH_COUNT; i++) { /* the CPUID-best first: another path must beat it outright */
        int path = i < 0 ? best : i;
        if ((i >= 0 && path == best) || !q8_path_available(path))
            continue;
        q8_matmul(out, q->rows, x, q, 0, q->rows, 0, 1, scratch, path);
        uint64_t least = ~(uint64_t)0;
        for (int k = 0; k < rounds; k++) {
            uint64_t t0 = ticks();
            q8_matmul(out, q->rows, x, q, 0, q->rows, 0, 1, scratch, path);
            uint64_t t = ticks() - t0;
            least = t < least ? t : least;
        }
        if (least < best_t) {
            best_t = least;
            best = path;
        }
    }
    return best;
}
