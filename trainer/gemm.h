/* gemm.h - the trainer's one matrix multiply: C (M,N) = or += A (M,K) * B (K,N), cache-blocked and packed, with an
 * 8x32 register tile (AVX-512/AVX2 via -march=native) and OpenMP over row blocks. Any operand may be transposed by
 * its strides. It allocates only in gemm_init; every element of C is summed in a fixed order by one thread, so the
 * result does not depend on the thread count. */
#ifndef EFICHAT_TRAINER_GEMM_H
#define EFICHAT_TRAINER_GEMM_H

#include <stddef.h>

typedef struct {
    int nthreads;
    size_t max_k, max_n; /* the largest K and N a call may use */
    float *bpack;        /* (K/KC, N/NR, KC, NR) all of B, packed once per call and shared */
    float *apack;        /* (nthreads, MC, KC) one packed block of A per thread */
} Gemm;

/* 0 on success, -1 when out of memory. */
int gemm_init(Gemm *g, int nthreads, size_t max_k, size_t max_n);
void gemm_free(Gemm *g);

/* Element (i,k) of A is A[i*a_rs + k*a_cs], (k,j) of B is B[k*b_rs + j*b_cs]; C is row-major with row stride ldc.
 * accumulate = 0 overwrites C, 1 adds to it. K <= max_k and N <= max_n. */
void gemm(const Gemm *g, int M, int N, int K, const float *A, ptrdiff_t a_rs, ptrdiff_t a_cs, const float *B,
          ptrdiff_t b_rs, ptrdiff_t b_cs, float *C, ptrdiff_t ldc, int accumulate);

#endif
