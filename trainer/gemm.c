/* gemm.c - packed, cache-blocked SGEMM for the trainer (see gemm.h). All of B is packed once per call (threads
 * share the work), then threads take MC-row blocks of C dynamically and run them to the end with no barrier: for
 * each KC-deep slice, pack the A block once and sweep the 8x32 micro-kernel over every panel of B; the kernel keeps
 * its 16 accumulators in vector registers and the (MC, N) block of C stays in L2. Edges are zero-padded in the
 * packs and clipped on write-back. */
#include "gemm.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define GEMM_MR 8
#define GEMM_NR 32
#define GEMM_MC 64
#define GEMM_KC 256

typedef float v16 __attribute__((vector_size(64), aligned(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

int gemm_init(Gemm *g, int nthreads, size_t max_k, size_t max_n)
{
    g->nthreads = nthreads < 1 ? 1 : nthreads;
    g->max_k = max_k;
    g->max_n = max_n;
    size_t kp = (max_k + GEMM_KC - 1) / GEMM_KC * GEMM_KC, np = (max_n + GEMM_NR - 1) / GEMM_NR * GEMM_NR;
    g->bpack = aligned_alloc(64, sizeof(float) * kp * np);
    g->apack = aligned_alloc(64, sizeof(float) * GEMM_MC * GEMM_KC * (size_t)g->nthreads);
    if (!g->bpack || !g->apack) {
        gemm_free(g);
        return -1;
    }
    return 0;
}

void gemm_free(Gemm *g)
{
    free(g->bpack);
    free(g->apack);
    g->bpack = g->apack = NULL;
}

/* Packs rows [0,mc) x cols [0,kc) of A into strips of MR rows: strip s holds (kc, MR), zero past mc. */
static void pack_a(float *dst, const float *A, ptrdiff_t rs, ptrdiff_t cs, int mc, int kc)
{
    for (int s = 0; s < mc; s += GEMM_MR) {
        int rows = mc - s < GEMM_MR ? mc - s : GEMM_MR;
        if (cs == 1) {
            for (int k = 0; k < kc; k++)
                for (int i = 0; i < GEMM_MR; i++)
                    dst[k * GEMM_MR + i] = i < rows ? A[(s + i) * rs + k] : 0.0f;
        } else if (rs == 1 && rows == GEMM_MR) { /* a transposed operand: each k holds MR consecutive floats */
            for (int k = 0; k < kc; k++)
                memcpy(dst + k * GEMM_MR, A + s + k * cs, sizeof(float) * GEMM_MR);
        } else {
            for (int k = 0; k < kc; k++) {
                const float *a = A + s * rs + k * cs;
                for (int i = 0; i < GEMM_MR; i++)
                    dst[k * GEMM_MR + i] = i < rows ? a[i * rs] : 0.0f;
            }
        }
        dst += (size_t)kc * GEMM_MR;
    }
}

/* Packs one NR-wide panel (columns j0.. of B, kc deep) as (kc, NR), zero past nc. */
static void pack_b_panel(float *dst, const float *B, ptrdiff_t rs, ptrdiff_t cs, int cols, int kc)
{
    if (cs == 1 && cols == GEMM_NR) {
        for (int k = 0; k < kc; k++)
            memcpy(dst + k * GEMM_NR, B + k * rs, sizeof(float) * GEMM_NR);
        return;
    }
    for (int k = 0; k < kc; k++)
        for (int j = 0; j < GEMM_NR; j++)
            dst[k * GEMM_NR + j] = j < cols ? B[k * rs + j * cs] : 0.0f;
}

/* C[0..mr, 0..nr) (+)= A (MR, kc) times the (kc, NR) panel, where element (i, k) of A is a[i*ars + k*acs]:
 * a packed strip (ars 1, acs MR) or MR rows of A read in place (acs 1). */
static inline __attribute__((always_inline)) void kernel_body(int kc, const float *restrict a, ptrdiff_t ars,
                                                              ptrdiff_t acs, const float *restrict bp,
                                                              float *restrict c, ptrdiff_t ldc, int mr, int nr,
                                                              int accumulate)
{
#if defined(__AVX512F__) || !defined(__AVX2__)
    v16 lo[GEMM_MR], hi[GEMM_MR];
    for (int i = 0; i < GEMM_MR; i++) {
        lo[i] = (v16){0};
        hi[i] = (v16){0};
    }
    for (int k = 0; k < kc; k++) {
        v16 b0 = *(const v16 *)(bp);
        v16 b1 = *(const v16 *)(bp + 16);
        for (int i = 0; i < GEMM_MR; i++) {
            float ai = a[i * ars + k * acs];
            lo[i] += ai * b0;
            hi[i] += ai * b1;
        }
        bp += GEMM_NR;
    }
#else
    /* AVX2 has 16 ymm registers: the 8x32 tile's accumulators would take 32, and GCC's lowering of the 64-byte
     * vectors then ran ~10x slower (Zen 3: 177 tokens/s against PyTorch's 3,081). So the tile is four 8x8 column
     * strips of 8 accumulators each (a little faster than 4x16 quarters); every element is still summed over k in
     * order (the same bits). */
    typedef float v8 __attribute__((vector_size(32), aligned(32)));
    v16 lo[GEMM_MR], hi[GEMM_MR];
    for (int c0 = 0; c0 < GEMM_NR; c0 += 8) {
        v8 q[GEMM_MR];
        for (int i = 0; i < GEMM_MR; i++)
            q[i] = (v8){0};
        const float *b = bp + c0;
        for (int k = 0; k < kc; k++, b += GEMM_NR) {
            v8 b0 = *(const v8 *)b;
            for (int i = 0; i < GEMM_MR; i++)
                q[i] += a[i * ars + k * acs] * b0;
        }
        for (int i = 0; i < GEMM_MR; i++) {
            float *dst = (float *)(c0 < 16 ? &lo[i] : &hi[i]) + (c0 & 15);
            __builtin_memcpy(dst, &q[i], sizeof q[i]);
        }
    }
#endif
    if (mr == GEMM_MR && nr == GEMM_NR) {
        for (int i = 0; i < GEMM_MR; i++) {
            v16u *c0 = (v16u *)(c + i * ldc), *c1 = (v16u *)(c + i * ldc + 16);
            if (accumulate) {
                *c0 += lo[i];
                *c1 += hi[i];
            } else {
                *c0 = lo[i];
                *c1 = hi[i];
            }
        }
        return;
    }
    float tile[GEMM_MR][GEMM_NR] __attribute__((aligned(64)));
    for (int i = 0; i < GEMM_MR; i++) {
        *(v16 *)&tile[i][0] = lo[i];
        *(v16 *)&tile[i][16] = hi[i];
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i][j] : tile[i][j];
}

static void kernel_packed(int kc, const float *ap, const float *bp, float *c, ptrdiff_t ldc, int mr, int nr,
                          int accumulate)
{
    kernel_body(kc, ap, 1, GEMM_MR, bp, c, ldc, mr, nr, accumulate);
}

static void kernel_rows(int kc, const float *a, ptrdiff_t ars, const float *bp, float *c, ptrdiff_t ldc, int nr,
                        int accumulate)
{
    kernel_body(kc, a, ars, 1, bp, c, ldc, GEMM_MR, nr, accumulate);
}

void gemm(const Gemm *g, int M, int N, int K, const float *A, ptrdiff_t a_rs, ptrdiff_t a_cs, const float *B,
          ptrdiff_t b_rs, ptrdiff_t b_cs, float *C, ptrdiff_t ldc, int accumulate)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++)
                memset(C + i * ldc, 0, sizeof(float) * N);
        return;
    }
    int panels = (N + GEMM_NR - 1) / GEMM_NR, kblocks = (K + GEMM_KC - 1) / GEMM_KC;
    size_t np = (size_t)panels * GEMM_NR;
    int mblocks = (M + GEMM_MC - 1) / GEMM_MC;
    int nthreads = g->nthreads < mblocks ? g->nthreads : mblocks;
    if (nthreads < 1)
        nthreads = 1;
#pragma omp parallel num_threads(nthreads)
    {
        // all of B: slice pc (depth kc) starts at pc*np floats, its panel p at + p*kc*NR
#pragma omp for schedule(static) collapse(2)
        for (int kb = 0; kb < kblocks; kb++)
            for (int p = 0; p < panels; p++) {
                int pc = kb * GEMM_KC, kc = K - pc < GEMM_KC ? K - pc : GEMM_KC, j0 = p * GEMM_NR;
                int cols = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
                pack_b_panel(g->bpack + (size_t)pc * np + (size_t)p * kc * GEMM_NR, B + pc * b_rs + j0 * b_cs, b_rs,
                             b_cs, cols, kc);
            }
        float *apack = g->apack + (size_t)omp_get_thread_num() * GEMM_MC * GEMM_KC;
#pragma omp for schedule(dynamic, 1)
        for (int ib = 0; ib < mblocks; ib++) {
            int ic = ib * GEMM_MC, mc = M - ic < GEMM_MC ? M - ic : GEMM_MC;
            for (int pc = 0; pc < K; pc += GEMM_KC) {
                int kc = K - pc < GEMM_KC ? K - pc : GEMM_KC, acc = accumulate || pc > 0;
                /* rows of A with unit column stride are read in place; other layouts (and a ragged last
                 * strip) are packed first */
                int direct = a_cs == 1, full = direct ? mc / GEMM_MR * GEMM_MR : 0;
                if (full < mc)
                    pack_a(apack, A + (ic + full) * a_rs + pc * a_cs, a_rs, a_cs, mc - full, kc);
                for (int p = 0; p < panels; p++) {
                    int j0 = p * GEMM_NR, nr = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
                    const float *bp = g->bpack + (size_t)pc * np + (size_t)p * kc * GEMM_NR;
                    for (int s = 0; s < mc; s += GEMM_MR) {
                        int mr = mc - s < GEMM_MR ? mc - s : GEMM_MR;
                        float *c = C + (ic + s) * ldc + j0;
                        if (s < full)
                            kernel_rows(kc, A + (ic + s) * a_rs + pc, a_rs, bp, c, ldc, nr, acc);
                        else
                            kernel_packed(kc, apack + (size_t)(s - full) * kc, bp, c, ldc, mr, nr, acc);
                    }
                }
            }
        }
    }
}
