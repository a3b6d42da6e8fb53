/* kernels.h - the core's dot products and matrix multiplies, one SSE2 and one AVX version of each.
 * The canonical sum (both versions compute exactly this): 8 lanes, lane j accumulating a[i]*b[i] for i % 8 == j over
 * the first n & ~7 elements (multiply, then add: never fused); lanes reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7));
 * plus a sequential scalar sum of the tail. So the AVX kernel is bit-identical to the SSE2 one. */
#ifndef EFICHAT_KERNELS_H
#define EFICHAT_KERNELS_H

#include "platform.h"

float kern_dot(int kernel, const float *a, const float *b, int n);
/* out (N, O) = in (N, I) . w (O, I)^T + bias (O), bias may be NULL; out rows are ldo floats apart (>= O), so a
 * caller can compute a range of output rows: pass w, bias and out advanced to the first one. Every output element
 * is one canonical sum (above) whatever the range: splitting O anywhere gives the same bits. */
void kern_matmul(int kernel, float *out, size_t ldo, const float *in, const float *w, const float *bias, int N, int I,
                 int O);
/* One head of causal attention: out (hs) = softmax(scale * q . k_t) weighted sum of v_t over t < len, where key and
 * value rows are `stride` floats apart. sc (len) is scratch. kernel may also be KERN_ATTEND_AVX2 (AVX, and AVX2
 * runs too): the element-wise steps (scaling, exponentials) then take 8 lanes at a time, the same bits. */
#define KERN_ATTEND_AVX2 2
/* Softmax numerators in place: sc[t] = exp(sc[t] - max sc) for t < n (kern_attend's own step); returns their sum
 * in the canonical order. avx2: 1, the exponentials 8 lanes at a time; 2, 16 (AVX-512F: only where the Q8 path
 * is VNNI); the same bits. */
float kern_softmax_exp(float *sc, int n, int avx2);
/* GPT-2's LayerNorm of one row of C (eps 1e-5): the mean and the variance summed in index order (the canonical
 * order), then out = (x - mean) * rstd * w + b element by element (four lanes: the same operations). */
void kern_layernorm(float *out, const float *x, const float *w, const float *b, int C);
void kern_attend(int kernel, float *out, const float *q, const float *keys, const float *values, size_t stride,
                 int hs, int len, float scale, float *sc);
int kern_cpu_has_avx(void);
int kern_cpu_has_avx2(void); /* AVX usable (as above) and CPUID says AVX2 */
/* AVX2 usable, CPUID says AVX-512 F, BW and VNNI, and XCR0 has the opmask and ZMM state enabled */
int kern_cpu_has_avx512vnni(void);

/* Asks for every cache line of [p, p + bytes) to be this core's own, to write (another core's copies go now, not
 * when the writes come). */
void kern_prefetch_write(const void *p, size_t bytes);

#endif
