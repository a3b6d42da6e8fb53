/* q8.h - the Q8 kernel's pieces: quantising a float matrix once, and the integer mat-vec.
 * Integer sums are exact, so results do not depend on the order of the sum or on SSE2 vs anything wider. */
#ifndef EFICHAT_Q8_H
#define EFICHAT_Q8_H

#include "model.h"

#define Q8_WMAX 127  /* weights: int8 range, per-row scale */
#define Q8_XMAX 8191 /* activations: 14-bit, per-row scale; keeps every 32-bit lane sum below 2^31 */

/* Bytes a quantised (rows, cols) matrix needs (values and scales, 64-byte aligned pieces). */
size_t q8_matrix_bytes(uint32_t rows, uint32_t cols);
/* Quantises w (rows, cols) into mem; fills q. Returns the bytes used. */
size_t q8_matrix_build(QMatrix *q, const float *w, uint32_t rows, uint32_t cols, void *mem);
/* The same matrix from int8 rows already quantised by q8_quantize_row (a version 2 file): widened, scales copied. */
size_t q8_matrix_from_int8(QMatrix *q, const int8_t *v, const float *scale, uint32_t rows, uint32_t cols, void *mem);
/* One weight row to int8 (-127..127, round to nearest even of w * 127/max|w|); returns its scale max|w|/127 (0 for
 * an all-zero row). The one definition of weight quantisation: the Q8 kernel and the version 2 writer both use it. */
float q8_quantize_row(int8_t *v, const float *row, uint32_t cols);
/* out[:, r0..R) = in (N, cols) . q[r0..R)^T + bias[r0..R): output rows r0 <= r < R only, out rows ldo floats apart
 * (element r of row n at out[n * ldo + r]); xq holds q->stride int16s of scratch. avx2 != 0 uses 256-bit integer
 * instructions (only where the CPU has AVX2): integer sums are exact, so the results are the same bits, and so is
 * any split of the rows into ranges (each range quantises the same activations the same way). */
void q8_matmul(float *out, size_t ldo, const float *in, const QMatrix *q, uint32_t r0, uint32_t R, const float *bias,
               int N, int16_t *xq, int avx2);

#endif
