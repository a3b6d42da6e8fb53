/* layers.c - the trainer's layer kernels, forward and backward (see layers.h). Arguments come in a fixed order:
 * outputs, saved stats, inputs, weights, dims. Gradients carry a d prefix and accumulate with += unless a comment says
 * otherwise. Loops are split over rows, columns or (batch, head) so that every sum runs in a fixed order. */
#include "layers.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "fastmath.h"

#define LN_EPS 1e-5f
#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

/* out (N, C) = wte[token] + wpe[position] */
void encoder_forward(float *out, const uint8_t *inp, const float *wte, const float *wpe, int b, int t, int C)
{
    for (int n = 0; n < b * t; n++) {
        const float *we = wte + (size_t)inp[n] * C, *pe = wpe + (size_t)(n % t) * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = we[c] + pe[c];
    }
}

/* in forward each row was wte[token] + wpe[position], so both receive the row's gradient */
void encoder_backward(float *dwte, float *dwpe, const float *dout, const uint8_t *inp, int b, int t, int C)
{
    for (int n = 0; n < b * t; n++) {
        float *dwe = dwte + (size_t)inp[n] * C, *dpe = dwpe + (size_t)(n % t) * C;
        const float *d = dout + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            dwe[c] += d[c];
            dpe[c] += d[c];
        }
    }
}

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                              const float *bias, int N, int C, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float s = 0.0f;
        for (int c = 0; c < C; c++)
            s += x[c];
        float m = s / C, var = 0.0f;
        for (int c = 0; c < C; c++)
            var += (x[c] - m) * (x[c] - m);
        float rs = 1.0f / sqrtf(var / C + LN_EPS);
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = (x[c] - m) * rs * w[c] + bias[c];
        mean[n] = m;
        rstd[n] = rs;
    }
}

void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                               const float *w, const float *mean, const float *rstd, int N, int C, int nthreads)
{
#pragma omp parallel num_threads(nthreads)
    {
        /* input gradient, row by row: dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm)) */
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
            float m = mean[n], rs = rstd[n], sum_dn = 0.0f, sum_dnn = 0.0f;
            for (int c = 0; c < C; c++) {
                float dn = d[c] * w[c];
                sum_dn += dn;
                sum_dnn += dn * (x[c] - m) * rs;
            }
            sum_dn /= C;
            sum_dnn /= C;
            float *dx = dinp + (size_t)n * C;
            for (int c = 0; c < C; c++)
                dx[c] += rs * (d[c] * w[c] - sum_dn - (x[c] - m) * rs * sum_dnn);
        }
        /* weight and bias gradients, column chunk by chunk so each sum runs in row order */
#pragma omp for schedule(static)
        for (int c0 = 0; c0 < C; c0 += 32) {
            int c1 = c0 + 32 < C ? c0 + 32 : C;
            for (int n = 0; n < N; n++) {
                const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
                for (int c = c0; c < c1; c++) {
                    dw[c] += d[c] * (x[c] - mean[n]) * rstd[n];
                    db[c] += d[c];
                }
            }
        }
    }
}

/* out (N, OC) = [resid +] inp (N, IC) w (OC, IC)^T + bias */
void matmul_forward(const Gemm *g, float *out, const float *inp, const float *w, const float *bias,
                           const float *resid, int N, int IC, int OC)
{
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * OC;
        const float *r = resid ? resid + (size_t)n * OC : NULL;
        for (int c = 0; c < OC; c++)
            o[c] = bias[c] + (r ? r[c] : 0.0f);
    }
    gemm(g, N, OC, IC, inp, IC, 1, w, 1, IC, out, OC, 1);
}

/* in forward out = inp w^T + bias, so now dw += dout^T inp, dbias += column sums of dout, dinp = dout w */
void matmul_backward(const Gemm *g, float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int IC, int OC, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int c0 = 0; c0 < OC; c0 += 64) {
        int c1 = c0 + 64 < OC ? c0 + 64 : OC;
        for (int n = 0; n < N; n++)
            for (int c = c0; c < c1; c++)
                dbias[c] += dout[(size_t)n * OC + c];
    }
    gemm(g, OC, IC, N, dout, 1, OC, inp, IC, 1, dw, IC, 1);
    gemm(g, N, IC, OC, dout, OC, 1, w, IC, 1, dinp, IC, 0);
}

/* out = [resid +] out * factor: each element on its own, so any split over threads gives the same bytes */
void dropout_forward(float *out, const float *resid, const DropMask *dm, size_t n, int nthreads)
{
    if (resid) {
#pragma omp parallel for num_threads(nthreads) schedule(static)
        for (size_t i = 0; i < n; i++)
            out[i] = resid[i] + out[i] * dropmask_factor(dm, i);
    } else {
#pragma omp parallel for num_threads(nthreads) schedule(static)
        for (size_t i = 0; i < n; i++)
            out[i] *= dropmask_factor(dm, i);
    }
}

/* in forward out = [resid +] y * factor, so dy = dout * factor (the residual's share passes by unchanged) */
void dropout_backward(float *dinp, const float *dout, const DropMask *dm, size_t n, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (size_t i = 0; i < n; i++)
        dinp[i] = dout[i] * dropmask_factor(dm, i);
}

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/* Attention works on blocks of 4 query rows (or 4 key columns) so that every vector it loads feeds 4 FMAs. */
#define ATT_RB 4

/* out[k*tp + j] = sum_d x[k][d] mt[d*tp + j] for k < 4 and j < jn rounded up to 16. mt is (hs, tp), tp a
 * multiple of 16, zero past the sequence; out is (4, tp). */
static void rows_times_transposed4(float *restrict out, const float *const x[ATT_RB], const float *mt, int hs,
                                   int tp, int jn)
{
    int jend = (jn + 15) & ~15, jb = 0;
#if defined(__AVX512F__) || !defined(__AVX2__) /* AVX2: 16 blocks of 16 would take 32 of its 16 registers */
    for (; jb + 64 <= jend; jb += 64) {
        v16 a[ATT_RB][4];
        for (int k = 0; k < ATT_RB; k++)
            for (int v = 0; v < 4; v++)
                a[k][v] = (v16){0};
        for (int d = 0; d < hs; d++) {
            const float *p = mt + (size_t)d * tp + jb;
            v16 b0 = *(const v16u *)p, b1 = *(const v16u *)(p + 16), b2 = *(const v16u *)(p + 32),
                b3 = *(const v16u *)(p + 48);
            for (int k = 0; k < ATT_RB; k++) {
                float xk = x[k][d];
                a[k][0] += xk * b0;
                a[k][1] += xk * b1;
                a[k][2] += xk * b2;
                a[k][3] += xk * b3;
            }
        }
        for (int k = 0; k < ATT_RB; k++)
            for (int v = 0; v < 4; v++)
                *(v16u *)(out + (size_t)k * tp + jb + 16 * v) = a[k][v];
    }
#endif
    for (; jb < jend; jb += 16) {
        v16 a[ATT_RB];
        for (int k = 0; k < ATT_RB; k++)
            a[k] = (v16){0};
        for (int d = 0; d < hs; d++) {
            v16 b = *(const v16u *)(mt + (size_t)d * tp + jb);
            for (int k = 0; k < ATT_RB; k++)
                a[k] += x[k][d] * b;
        }
        for (int k = 0; k < ATT_RB; k++)
            *(v16u *)(out + (size_t)k * tp + jb) = a[k];
    }
}

/* out[k][d] += sum_{r0 <= r < r1} w[k][r*ws] rows[r*rs + d] for k < 4, d < n: register accumulators over (k, d),
 * streaming over r, each loaded row vector shared by the 4 outputs */
static void weighted_rows4(float *const out[ATT_RB], const float *const w[ATT_RB], ptrdiff_t ws, const float *rows,
                           ptrdiff_t rs, int r0, int r1, int n)
{
    int d = 0;
#if defined(__AVX512F__) || !defined(__AVX2__) /* as rows_times_transposed4 */
    for (; d + 64 <= n; d += 64) {
        v16 a[ATT_RB][4];
        for (int k = 0; k < ATT_RB; k++)
            for (int v = 0; v < 4; v++)
                a[k][v] = (v16){0};
        for (int r = r0; r < r1; r++) {
            const float *p = rows + r * rs + d;
            v16 b0 = *(const v16u *)p, b1 = *(const v16u *)(p + 16), b2 = *(const v16u *)(p + 32),
                b3 = *(const v16u *)(p + 48);
            for (int k = 0; k < ATT_RB; k++) {
                float wk = w[k][r * ws];
                a[k][0] += wk * b0;
                a[k][1] += wk * b1;
                a[k][2] += wk * b2;
                a[k][3] += wk * b3;
            }
        }
        for (int k = 0; k < ATT_RB; k++)
            for (int v = 0; v < 4; v++)
                *(v16u *)(out[k] + d + 16 * v) += a[k][v];
    }
#endif
    for (; d + 16 <= n; d += 16) {
        v16 a[ATT_RB];
        for (int k = 0; k < ATT_RB; k++)
            a[k] = (v16){0};
        for (int r = r0; r < r1; r++) {
            v16 b = *(const v16u *)(rows + r * rs + d);
            for (int k = 0; k < ATT_RB; k++)
                a[k] += w[k][r * ws] * b;
        }
        for (int k = 0; k < ATT_RB; k++)
            *(v16u *)(out[k] + d) += a[k];
    }
    for (; d < n; d++)
        for (int k = 0; k < ATT_RB; k++) {
            float acc = 0.0f;
            for (int r = r0; r < r1; r++)
                acc += w[k][r * ws] * rows[r * rs + d];
            out[k][d] += acc;
        }
}

/* dst[j] = exp((src[j] - shift) * scale) for j < n */
static void exp_scaled(float *restrict dst, const float *src, float shift, float scale, int n)
{
    int j = 0;
#ifdef __AVX512F__
    const __m512 sh = _mm512_set1_ps(shift), sc = _mm512_set1_ps(scale);
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(dst + j, fm_expf16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(src + j), sh), sc)));
#endif
    for (; j < n; j++)
        dst[j] = fm_expf((src[j] - shift) * scale);
}

/* the per-thread attention scratch: a (hs, tp) transposed K or V, a (4, tp) block of rows, a (t, tp) block of
 * score gradients, a (t, tp) copy of the dropped probabilities (backward with dropout) and an (hs) sink for the
 * rows past the sequence end of the last block */
size_t attention_scratch_floats(int hs, int T)
{
    size_t tp = ((size_t)T + 15) & ~(size_t)15;
    return (size_t)hs * tp + ATT_RB * tp + 2 * (size_t)T * tp + (size_t)hs + 64;
}

/* Copies the (t, hs) slice at src (row stride rs) into dst as (hs, tp), zero-padded to tp columns. */
static void transpose_head(float *dst, const float *src, ptrdiff_t rs, int t, int hs, int tp)
{
    for (int d = 0; d < hs; d++)
        for (int j = 0; j < tp; j++)
            dst[(size_t)d * tp + j] = j < t ? src[j * rs + d] : 0.0f;
}

/* Row pointers of a block of ATT_RB rows starting at i0: rows past t repeat row i0 (their results are dropped). */
static void block_rows(const float *rows[ATT_RB], const float *base, ptrdiff_t rs, int i0, int t)
{
    for (int k = 0; k < ATT_RB; k++)
        rows[k] = base + (i0 + k < t ? i0 + k : i0) * rs;
}

/* Causal self-attention, one (batch, head) per task. qkv (b, t, 3C) -> out (b, t, C), att (b, NH, t, t). With
 * dropout, element (bh, i, j) of att is dropped by mask element (bh t + i) t + j. */
void attention_forward(float *out, float *att, const float *qkv, float *scratch, size_t scratch_per_thread,
                       const DropMask *dm, int b, int t, int C, int NH, int nthreads)
{
    int hs = C / NH, tp = (t + 15) & ~15;
    float scale = 1.0f / sqrtf((float)hs);
    ptrdiff_t C3 = 3 * (ptrdiff_t)C;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
    for (int bh = 0; bh < b * NH; bh++) {
        int bb = bh / NH, h = bh % NH;
        float *kt = scratch + (size_t)omp_get_thread_num() * scratch_per_thread; /* (hs, tp) keys transposed */
        float *sblk = kt + (size_t)hs * tp;                                       /* (4, tp) raw scores */
        float *sink = sblk + ATT_RB * (size_t)tp + 2 * (size_t)t * tp;            /* (hs) */
        const float *base = qkv + (size_t)bb * t * C3 + (size_t)h * hs;
        float *att_bh = att + (size_t)bh * t * t;
        transpose_head(kt, base + C, C3, t, hs, tp);
        for (int i0 = 0; i0 < t; i0 += ATT_RB) {
            // scores q_i . k_j for 4 rows at once, then each row's softmax of its scaled scores over j <= i
            const float *q[ATT_RB];
            block_rows(q, base, C3, i0, t);
            rows_times_transposed4(sblk, q, kt, hs, tp, i0 + ATT_RB < t ? i0 + ATT_RB : t);
            for (int i = i0; i < i0 + ATT_RB && i < t; i++) {
                const float *srow = sblk + (size_t)(i - i0) * tp;
                float *row = att_bh + (size_t)i * t;
                float mx = -INFINITY;
                for (int j = 0; j <= i; j++)
                    mx = srow[j] > mx ? srow[j] : mx;
                exp_scaled(row, srow, mx, scale, i + 1);
                float sum = 0.0f;
                for (int j = 0; j <= i; j++)
                    sum += row[j];
                float inv = 1.0f / sum;
                for (int j = 0; j <= i; j++)
                    row[j] *= inv;
                for (int j = i + 1; j < t; j++)
                    row[j] = 0.0f;
            }
        }
        // out_i = sum_j att_ij v_j, 4 rows at once (att is zero above the diagonal, so the block shares j's range);
        // with dropout the block's rows are first copied into sblk times their mask factors
        for (int i0 = 0; i0 < t; i0 += ATT_RB) {
            float *o[ATT_RB];
            const float *w[ATT_RB];
            int jend = i0 + ATT_RB < t ? i0 + ATT_RB : t;
            for (int k = 0; k < ATT_RB; k++) {
                int i = i0 + k < t ? i0 + k : i0;
                o[k] = i0 + k < t ? out + ((size_t)bb * t + i) * C + (size_t)h * hs : sink;
                w[k] = att_bh + (size_t)i * t;
                if (dm) {
                    float *drow = sblk + (size_t)k * tp;
                    uint64_t at = ((uint64_t)bh * t + i) * t;
                    for (int j = 0; j < jend; j++)
                        drow[j] = w[k][j] * dropmask_factor(dm, at + j);
                    w[k] = drow;
                }
                memset(o[k], 0, sizeof(float) * hs);
            }
            weighted_rows4(o, w, 1, base + 2 * C, C3, 0, jend, hs);
        }
    }
}

/* dqkv must be zero on entry. In forward out_i = sum_j att_ij v_j with att = softmax(scale q.k), so now
 * datt_ij = dout_i . v_j, ds = att (datt - sum_j att datt) scale, dq_i = sum_j ds_ij k_j, dk_j = sum_i ds_ij q_i,
 * dv_j = sum_i att_ij dout_i. Rows first (4 query rows at a time), then columns (4 keys at a time). With dropout
 * forward summed under att_ij f_ij (f the mask factors), so datt_ij picks up f_ij and dv_j sums under att_ij f_ij. */
void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att, float *scratch,
                        size_t scratch_per_thread, const DropMask *dm, int b, int t, int C, int NH, int nthreads)
{
    int hs = C / NH, tp = (t + 15) & ~15;
    float scale = 1.0f / sqrtf((float)hs);
    ptrdiff_t C3 = 3 * (ptrdiff_t)C;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
    for (int bh = 0; bh < b * NH; bh++) {
        int bb = bh / NH, h = bh % NH;
        float *vt = scratch + (size_t)omp_get_thread_num() * scratch_per_thread; /* (hs, tp) values transposed */
        float *dblk = vt + (size_t)hs * tp;                                       /* (4, tp) datt rows */
        float *ds = dblk + ATT_RB * (size_t)tp;                                   /* (t, tp) score gradients */
        float *attd = ds + (size_t)t * tp;                                        /* (t, tp) dropped att */
        float *sink = attd + (size_t)t * tp;                                      /* (hs) */
        const float *base = qkv + (size_t)bb * t * C3 + (size_t)h * hs;
        const float *dbase_out = dout + (size_t)bb * t * C + (size_t)h * hs;
        float *dbase = dqkv + (size_t)bb * t * C3 + (size_t)h * hs;
        const float *att_bh = att + (size_t)bh * t * t;
        const uint64_t at_bh = (uint64_t)bh * t * t; /* this head's first mask element */
        transpose_head(vt, base + 2 * C, C3, t, hs, tp);
        for (int i0 = 0; i0 < t; i0 += ATT_RB) {
            // datt_ij = dout_i . v_j for 4 rows, then the softmax backward of each row into ds (zero past i)
            const float *d_out[ATT_RB];
            block_rows(d_out, dbase_out, C, i0, t);
            rows_times_transposed4(dblk, d_out, vt, hs, tp, i0 + ATT_RB < t ? i0 + ATT_RB : t);
            for (int i = i0; i < i0 + ATT_RB && i < t; i++) {
                const float *row = att_bh + (size_t)i * t;
                float *drow = dblk + (size_t)(i - i0) * tp, *dsi = ds + (size_t)i * tp;
                if (dm)
                    for (int j = 0; j <= i; j++)
                        drow[j] *= dropmask_factor(dm, at_bh + (uint64_t)i * t + j);
                float s = 0.0f;
                for (int j = 0; j <= i; j++)
                    s += row[j] * drow[j];
                for (int j = 0; j <= i; j++)
                    dsi[j] = row[j] * (drow[j] - s) * scale;
                for (int j = i + 1; j < t; j++)
                    dsi[j] = 0.0f;
            }
        }
        // dv sums under the dropped probabilities: a (t, tp) copy, zero above the diagonal as att is
        const float *attv = att_bh;
        ptrdiff_t attv_stride = t;
        if (dm) {
            for (int i = 0; i < t; i++)
                for (int j = 0; j < tp; j++)
                    attd[(size_t)i * tp + j] =
                        j <= i ? att_bh[(size_t)i * t + j] * dropmask_factor(dm, at_bh + (uint64_t)i * t + j) : 0.0f;
            attv = attd;
            attv_stride = tp;
        }
        float *o[ATT_RB];
        const float *w[ATT_RB];
        for (int i0 = 0; i0 < t; i0 += ATT_RB) { // dq_i = sum_j ds_ij k_j
            for (int k = 0; k < ATT_RB; k++) {
                int i = i0 + k < t ? i0 + k : i0;
                o[k] = i0 + k < t ? dbase + i * C3 : sink;
                w[k] = ds + (size_t)i * tp;
            }
            weighted_rows4(o, w, 1, base + C, C3, 0, i0 + ATT_RB < t ? i0 + ATT_RB : t, hs);
        }
        for (int j0 = 0; j0 < t; j0 += ATT_RB) { // dk_j = sum_i ds_ij q_i and dv_j = sum_i att_ij dout_i, i >= j
            for (int k = 0; k < ATT_RB; k++) {
                int j = j0 + k < t ? j0 + k : j0;
                o[k] = j0 + k < t ? dbase + j * C3 + C : sink;
                w[k] = ds + j;
            }
            weighted_rows4(o, w, tp, base, C3, j0, t, hs);
            for (int k = 0; k < ATT_RB; k++) {
                int j = j0 + k < t ? j0 + k : j0;
                o[k] = j0 + k < t ? dbase + j * C3 + 2 * C : sink;
                w[k] = attv + j;
            }
            weighted_rows4(o, w, attv_stride, dbase_out, C, j0, t, hs);
        }
    }
}

static inline float gelu_scalar(float u)
{
    return 0.5f * u * (1.0f + fm_tanhf(GELU_K * (u + GELU_C * u * u * u)));
}

/* in forward y = 0.5 u (1 + tanh(k(u + c u^3))), so now dy/du = 0.5 (1 + th) + 0.5 u (1 - th^2) k (1 + 3c u^2) */
static inline float gelu_grad_scalar(float u)
{
    float th = fm_tanhf(GELU_K * (u + GELU_C * u * u * u));
    return 0.5f * (1.0f + th) + 0.5f * u * (1.0f - th * th) * GELU_K * (1.0f + 3.0f * GELU_C * u * u);
}

#define GELU_CHUNK 4096

void gelu_forward(float *out, const float *inp, size_t n, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (size_t c0 = 0; c0 < n; c0 += GELU_CHUNK) {
        size_t c1 = c0 + GELU_CHUNK < n ? c0 + GELU_CHUNK : n, i = c0;
#ifdef __AVX512F__
        const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), k = _mm512_set1_ps(GELU_K),
                     c = _mm512_set1_ps(GELU_C);
        for (; i + 16 <= c1; i += 16) {
            __m512 u = _mm512_loadu_ps(inp + i);
            __m512 inner = _mm512_mul_ps(k, _mm512_fmadd_ps(_mm512_mul_ps(c, u), _mm512_mul_ps(u, u), u));
            __m512 th = fm_tanhf16(inner);
            _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(half, u), _mm512_add_ps(one, th)));
        }
#endif
        for (; i < c1; i++)
            out[i] = gelu_scalar(inp[i]);
    }
}

void gelu_backward(float *dinout, const float *inp, size_t n, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (size_t c0 = 0; c0 < n; c0 += GELU_CHUNK) {
        size_t c1 = c0 + GELU_CHUNK < n ? c0 + GELU_CHUNK : n, i = c0;
#ifdef __AVX512F__
        const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), k = _mm512_set1_ps(GELU_K),
                     c = _mm512_set1_ps(GELU_C), c3 = _mm512_set1_ps(3.0f * GELU_C);
        for (; i + 16 <= c1; i += 16) {
            __m512 u = _mm512_loadu_ps(inp + i), u2 = _mm512_mul_ps(u, u);
            __m512 th = fm_tanhf16(_mm512_mul_ps(k, _mm512_fmadd_ps(_mm512_mul_ps(c, u), u2, u)));
            __m512 sech2 = _mm512_fnmadd_ps(th, th, one);
            __m512 dinner = _mm512_mul_ps(k, _mm512_fmadd_ps(c3, u2, one));
            __m512 grad = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(half, u), sech2), dinner,
                                          _mm512_mul_ps(half, _mm512_add_ps(one, th)));
            _mm512_storeu_ps(dinout + i, _mm512_mul_ps(_mm512_loadu_ps(dinout + i), grad));
        }
#endif
        for (; i < c1; i++)
            dinout[i] *= gelu_grad_scalar(inp[i]);
    }
}

/* logits (N, V) become probabilities; losses[n] = -log p[target]. Returns the mean loss. */
float crossentropy_forward(float *losses, float *logits, const uint8_t *targets, int N, int nthreads)
{
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int n = 0; n < N; n++) {
        float *l = logits + (size_t)n * GPT_V;
        float mx = l[0];
        for (int i = 1; i < GPT_V; i++)
            mx = l[i] > mx ? l[i] : mx;
        float target_logit = l[targets[n]];
        for (int i = 0; i < GPT_V; i++)
            l[i] = fm_expf(l[i] - mx);
        float sum = 0.0f;
        for (int i = 0; i < GPT_V; i++)
            sum += l[i];
        float inv = 1.0f / sum;
        for (int i = 0; i < GPT_V; i++)
            l[i] *= inv;
        losses[n] = logf(sum) - (target_logit - mx);
    }
    double total = 0.0;
    for (int n = 0; n < N; n++)
        total += losses[n];
    return (float)(total / N);
}

/* in forward loss = mean(-log softmax[target]), so now dlogits = (probs - onehot) / N, in place */
void crossentropy_backward(float *probs, const uint8_t *targets, int N, int nthreads)
{
    float inv = 1.0f / N;
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * GPT_V;
        p[targets[n]] -= 1.0f;
        for (int i = 0; i < GPT_V; i++)
            p[i] *= inv;
    }
}

