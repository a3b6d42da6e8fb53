/* q8.h - the Q8 kernel's pieces: int8 weight matrices (one float scale per row), activations quantised to int8 per
 * row, and the integer mat-vec. Every sum is an exact integer, so the three instruction paths below (and any split of
 * the rows over workers) give the same bits; the one definition of the result is q8_matmul's comment. */
#ifndef EFICHAT_Q8_H
#define EFICHAT_Q8_H

#include "model.h"

#define Q8_WMAX 127 /* weights: -127..127, per-row scale max|w| / 127 */
#define Q8_XMAX 127 /* activations: -127..127, per-row scale max|x| / 127 */

/* How the integer dot products are computed; the numbers are the same whichever runs. */
enum q8_path {
    Q8_PATH_SSE2 = 0, /* int8 widened to int16, pmaddwd: every x86-64 CPU */
    Q8_PATH_AVX2 = 1, /* vpsignb + vpmaddubsw + vpmaddwd, 32 columns an instruction */
    Q8_PATH_VNNI = 2, /* AVX-512 VNNI vpdpbusd on (x + 128) with a per-row correction, 64 columns an instruction */
    Q8_PATH_DOT = 3,  /* AArch64 SDOT (ARMv8.2 dot product): four int8 products into each int32 lane */
    Q8_PATH_AVX2M = 4, /* AVX2 without helper-made instructions: vpmullw, vpaddw, shifts (QEMU's TCG runs it ~2x the
                        * others; a real CPU runs it ~3x slower than Q8_PATH_AVX2) */
    Q8_PATH_COUNT
};
/* The fastest path this CPU runs right now (AVX2/VNNI need their CPUID bits and the OS-enabled register state;
 * on AArch64 path 0 is plain NEON and Q8_PATH_DOT needs ID_AA64ISAR0_EL1.DP). */
int q8_best_path(void);
int q8_path_available(int path);
/* Whether the path runs AVX instructions (so the float parts beside it may use the AVX kernels too). */
#define Q8_PATH_USES_AVX(path) ((path) == Q8_PATH_AVX2 || (path) == Q8_PATH_VNNI || (path) == Q8_PATH_AVX2M)
const char *q8_path_name(int path);
/* The available path that runs one mat-vec of q fastest by ticks() (the least of `rounds` timed calls each, after
 * one untimed call: a software CPU translates code on first use). x: q->cols floats, out: q->rows floats, scratch:
 * q8_scratch_bytes(q->cols, 1). Every path gives the same numbers, so this only picks speed: under QEMU's TCG the
 * CPUID-best path is not the fastest (docs/performance.md). */
int q8_fastest_path(const QMatrix *q, const float *x, float *out, void *scratch, uint64_t (*ticks)(void), int rounds);

/* Bytes a quantised (rows, cols) matrix needs (values, scales, row sums; 64-byte aligned pieces). */
size_t q8_matrix_bytes(uint32_t rows, uint32_t cols);
/* Quantises w (rows, cols) into mem; fills q. Returns the bytes used. */
size_t q8_matrix_build(QMatrix *q, const float *w, uint32_t rows, uint32_t cols, void *mem);
/* The same, a row at a time (for weights that exist as floats one row at a time, e.g. dequantised from a file):
 * begin lays the matrix out in mem (q8_matrix_bytes), set_row quantises row r, end pads and sums the rows. */
void q8_matrix_begin(QMatrix *q, uint32_t rows, uint32_t cols, void *mem);
void q8_matrix_set_row(QMatrix *q, uint32_t r, const float *row);
void q8_matrix_end(QMatrix *q);
/* Row r as floats, value * scale (one rounding each): the Q8 kernel's embedding lookups. */
void q8_matrix_row_floats(const QMatrix *q, uint32_t r, float *out);
/* The same matrix from int8 rows already quantised by q8_quantize_row (a version 2 file): values and scales copied. */
size_t q8_matrix_from_int8(QMatrix *q, const int8_t *v, const float *scale, uint32_t rows, uint32_t cols, void *mem);
/* One weight row to int8 (-127..127, round to nearest even of w * 127/max|w|); returns its scale max|w|/127 (0 for
 * an all-zero row). The one definition of weight quantisation: the Q8 kernel and the version 2 writer both use it. */
float q8_quantize_row(int8_t *v, const float *row, uint32_t cols);

/* Scratch bytes q8_matmul needs for N input rows of up to max_cols columns. */
size_t q8_scratch_bytes(uint32_t max_cols, int N);
/* out[:, r0..R) = in (N, cols) . q[r0..R)^T + bias[r0..R): output rows r0 <= r < R only, out rows ldo floats apart
 * (element r of row n at out[n * ldo + r]); scratch holds q8_scratch_bytes(q->cols, N), 64-byte aligned.
 * The result, whatever the path: each input row n gets sx = max|x| / 127 and xq = round_even(x * (127 / max|x|))
 * (all zero and sx = 0 for a zero row; sx = NaN, so every output is NaN, when the row holds a NaN or an infinity);
 * then out[n][r] = float(sum_c q[r][c] * xq[c]) * scale[r] * sx (+ bias[r]), the sum an exact int32, the float
 * products rounded left to right. So any split of the rows into ranges gives the same bits. */
void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, void *scratch, int path);

/* The Q8 kernel's attention. Keys and values enter the cache quantised per position and head like activations:
 * round_even(x * (127 / max|x|)) (-127..127) held in int32, scale max|x| / 127 (0 for a zero slice, NaN when it holds
 * a NaN or an infinity). Keys lie transposed, element (t, d) of a head at k[d * kstride + t]; values by position,
 * v[t * vstride + d]; scales ks[t], vs[t]. For a query q (hs floats), over positions t < len:
 *   q8, sq = q quantised the same way; qs = sq * scale
 *   s_t = float(sum_d q8[d] * k_t[d]) * sk_t * qs                          (exact int32 sum, rounded left to right)
 *   p_t = exp(s_t - max s), Z = sum p_t                                     (kern_softmax_exp)
 *   w_t = p_t * sv_t; W = max w_t; wi_t = round_even(w_t * (Q8_ATT_WMAX(len) / W))
 *   out[d] = float(sum_t wi_t * v_t[d]) * (W / Q8_ATT_WMAX(len) / Z)        (exact int32 sum)
 * (NaN everywhere when sq, a score or a weight is not finite; zero when W is 0). Q8_ATT_WMAX (at most 32767, so a
 * weight fits SSE2's 16-bit multiplies) keeps the value sum within int32: len * 127 * wmax < 2^31. */
#define Q8_ATT_WMAX(len)                                                                                         \
    ((int64_t)(len) * 127 * 32767 <= 2147483647 ? 32767 : (int32_t)(2147483647 / ((int64_t)(len) * 127)))
typedef struct {
    const int32_t *k, *v;  /* this head's key element (0, 0) and value element (0, 0) */
    const float *ks, *vs;  /* this head's scales, one per position */
    size_t kstride, vstride;
} Q8Head;
/* max |x[i]| over n floats, exact; *bad = 1 when one is NaN (the max then means nothing). Activations and heads. */
float q8_absmax(const float *x, uint32_t n, int *bad);
/* One head slice to int32 slots dst[i * step] as above; returns the scale. */
float q8_quantize_head(int32_t *dst, size_t step, const float *x, int n);
/* Scratch bytes q8_attend needs for up to ctx positions and head size hs. */
size_t q8_attend_scratch_bytes(uint32_t ctx, uint32_t hs);
/* How q8_attend runs (the same numbers at every level): SSE2; AVX2 (vpmulld, 8-lane exponentials: what QEMU's TCG
 * translates inline); AVX-512 VNNI sums (vpdpwssd) beside AVX2's exponentials, for a CPU that has them; AVX2 with
 * vpmaddwd sums (a real CPU's AVX2 without VNNI: ~2x vpmulld's throughput, a helper call each under TCG). */
enum { Q8_ATT_SSE2 = 0, Q8_ATT_AVX2 = 1, Q8_ATT_VNNI = 2, Q8_ATT_AVX2W = 3, Q8_ATT_COUNT };
/* out (hs) for query q over len cached positions (see above), at level Q8_ATT_*. */
void q8_attend(float *out, const float *q, const Q8Head *c, int hs, int len, float scale, void *scratch, int level);

#endif
