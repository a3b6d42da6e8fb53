/* gpt.c - forward and backward of the efichat GPT for training, layer by layer, plus AdamW (see gpt.h).
 * Every function takes (outputs, saved stats, inputs, weights, dims); gradients carry a d prefix and accumulate
 * with +=. Loops are parallel over rows, columns or (batch, head) with a fixed split, so results are
 * reproducible for a given thread count. */
#include "gpt.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "rng.h"

#define GPT_V 256
#define LN_EPS 1e-5f
#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

// ----------------------------------------------------------------------------------------------------------------
// layers

/* out (N, C) = wte[token] + wpe[position] */
static void encoder_forward(float *out, const uint8_t *inp, const float *wte, const float *wpe, int b, int t, int C)
{
    for (int n = 0; n < b * t; n++) {
        const float *we = wte + (size_t)inp[n] * C, *pe = wpe + (size_t)(n % t) * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = we[c] + pe[c];
    }
}

/* in forward each row was wte[token] + wpe[position], so both receive the row's gradient */
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const uint8_t *inp, int b, int t, int C)
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

static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
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

static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
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
static void matmul_forward(const Gemm *g, float *out, const float *inp, const float *w, const float *bias,
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
static void matmul_backward(const Gemm *g, float *dinp, float *dw, float *dbias, const float *dout,
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

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/* out[j] = sum_d x[d] mt[d*tp + j] for j < jn rounded up to 16 (tp, the row stride of mt, is a multiple of 16) */
static void row_times_transposed(float *restrict out, const float *x, const float *mt, int hs, int tp, int jn)
{
    int jb = 0;
    for (; jb + 64 <= jn || (jb + 64 <= tp && jb < jn && jn - jb > 48); jb += 64) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int d = 0; d < hs; d++) {
            const float *p = mt + (size_t)d * tp + jb;
            float xd = x[d];
            a0 += xd * *(const v16u *)p;
            a1 += xd * *(const v16u *)(p + 16);
            a2 += xd * *(const v16u *)(p + 32);
            a3 += xd * *(const v16u *)(p + 48);
        }
        *(v16u *)(out + jb) = a0;
        *(v16u *)(out + jb + 16) = a1;
        *(v16u *)(out + jb + 32) = a2;
        *(v16u *)(out + jb + 48) = a3;
    }
    for (; jb < jn; jb += 16) {
        v16 a0 = {0};
        for (int d = 0; d < hs; d++)
            a0 += x[d] * *(const v16u *)(mt + (size_t)d * tp + jb);
        *(v16u *)(out + jb) = a0;
    }
}

/* out[d] += sum_{r0 <= r < r1} w[r*ws] rows[r*rs + d] for d < n: register accumulators over d, streaming over r */
static void weighted_row_sum(float *restrict out, const float *w, ptrdiff_t ws, const float *rows, ptrdiff_t rs,
                             int r0, int r1, int n)
{
    int d = 0;
    for (; d + 64 <= n; d += 64) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int r = r0; r < r1; r++) {
            const float *p = rows + r * rs + d;
            float x = w[r * ws];
            a0 += x * *(const v16u *)p;
            a1 += x * *(const v16u *)(p + 16);
            a2 += x * *(const v16u *)(p + 32);
            a3 += x * *(const v16u *)(p + 48);
        }
        *(v16u *)(out + d) += a0;
        *(v16u *)(out + d + 16) += a1;
        *(v16u *)(out + d + 32) += a2;
        *(v16u *)(out + d + 48) += a3;
    }
    for (; d + 16 <= n; d += 16) {
        v16 a0 = {0};
        for (int r = r0; r < r1; r++)
            a0 += w[r * ws] * *(const v16u *)(rows + r * rs + d);
        *(v16u *)(out + d) += a0;
    }
    for (; d < n; d++) {
        float a = 0.0f;
        for (int r = r0; r < r1; r++)
            a += w[r * ws] * rows[r * rs + d];
        out[d] += a;
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

/* the per-thread attention scratch: a (hs, tp) transposed K or V, a (tp) row and a (t, tp) score-gradient block */
static size_t attention_scratch_floats(int hs, int T)
{
    size_t tp = ((size_t)T + 15) & ~(size_t)15;
    return (size_t)hs * tp + tp + (size_t)T * tp + 64;
}

/* Copies the (t, hs) slice at src (row stride rs) into dst as (hs, tp), zero-padded to tp columns. */
static void transpose_head(float *dst, const float *src, ptrdiff_t rs, int t, int hs, int tp)
{
    for (int d = 0; d < hs; d++)
        for (int j = 0; j < tp; j++)
            dst[(size_t)d * tp + j] = j < t ? src[j * rs + d] : 0.0f;
}

/* Causal self-attention, one (batch, head) per task. qkv (b, t, 3C) -> out (b, t, C), att (b, NH, t, t). */
static void attention_forward(float *out, float *att, const float *qkv, float *scratch, size_t scratch_per_thread,
                              int b, int t, int C, int NH, int nthreads)
{
    int hs = C / NH, tp = (t + 15) & ~15;
    float scale = 1.0f / sqrtf((float)hs);
    ptrdiff_t C3 = 3 * (ptrdiff_t)C;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
    for (int bh = 0; bh < b * NH; bh++) {
        int bb = bh / NH, h = bh % NH;
        float *kt = scratch + (size_t)omp_get_thread_num() * scratch_per_thread; /* (hs, tp) keys transposed */
        float *srow = kt + (size_t)hs * tp;                                       /* (tp) raw scores */
        const float *base = qkv + (size_t)bb * t * C3 + (size_t)h * hs;
        transpose_head(kt, base + C, C3, t, hs, tp);
        for (int i = 0; i < t; i++) {
            float *row = att + ((size_t)bh * t + i) * t;
            // scores q_i . k_j for j <= i, then a softmax of the scaled scores
            row_times_transposed(srow, base + i * C3, kt, hs, tp, i + 1);
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
            // weighted sum of the values
            float *o = out + ((size_t)bb * t + i) * C + (size_t)h * hs;
            memset(o, 0, sizeof(float) * hs);
            weighted_row_sum(o, row, 1, base + 2 * C, C3, 0, i + 1, hs);
        }
    }
}

/* dqkv must be zero on entry. In forward out_i = sum_j att_ij v_j with att = softmax(scale q.k), so now
 * datt_ij = dout_i . v_j, ds = att (datt - sum_j att datt) scale, dq_i = sum_j ds_ij k_j, dk_j = sum_i ds_ij q_i,
 * dv_j = sum_i att_ij dout_i. Rows first (i outer), then columns (j outer) so every sum stays in registers. */
static void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att, float *scratch,
                               size_t scratch_per_thread, int b, int t, int C, int NH, int nthreads)
{
    int hs = C / NH, tp = (t + 15) & ~15;
    float scale = 1.0f / sqrtf((float)hs);
    ptrdiff_t C3 = 3 * (ptrdiff_t)C;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1)
    for (int bh = 0; bh < b * NH; bh++) {
        int bb = bh / NH, h = bh % NH;
        float *vt = scratch + (size_t)omp_get_thread_num() * scratch_per_thread; /* (hs, tp) values transposed */
        float *drow = vt + (size_t)hs * tp;                                       /* (tp) datt row */
        float *ds = drow + tp;                                                    /* (t, tp) score gradients */
        const float *base = qkv + (size_t)bb * t * C3 + (size_t)h * hs;
        const float *dbase_out = dout + (size_t)bb * t * C + (size_t)h * hs;
        float *dbase = dqkv + (size_t)bb * t * C3 + (size_t)h * hs;
        transpose_head(vt, base + 2 * C, C3, t, hs, tp);
        for (int i = 0; i < t; i++) {
            const float *row = att + ((size_t)bh * t + i) * t;
            float *dsi = ds + (size_t)i * tp;
            row_times_transposed(drow, dbase_out + i * C, vt, hs, tp, i + 1);
            float s = 0.0f;
            for (int j = 0; j <= i; j++)
                s += row[j] * drow[j];
            for (int j = 0; j <= i; j++)
                dsi[j] = row[j] * (drow[j] - s) * scale;
            weighted_row_sum(dbase + i * C3, dsi, 1, base + C, C3, 0, i + 1, hs);
        }
        for (int j = 0; j < t; j++) {
            const float *acol = att + (size_t)bh * t * t + j;
            weighted_row_sum(dbase + j * C3 + C, ds + j, tp, base, C3, j, t, hs);
            weighted_row_sum(dbase + j * C3 + 2 * C, acol, t, dbase_out, C, j, t, hs);
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

static void gelu_forward(float *out, const float *inp, size_t n, int nthreads)
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

static void gelu_backward(float *dinout, const float *inp, size_t n, int nthreads)
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
static float crossentropy_forward(float *losses, float *logits, const uint8_t *targets, int N, int nthreads)
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
static void crossentropy_backward(float *probs, const uint8_t *targets, int N, int nthreads)
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

// ----------------------------------------------------------------------------------------------------------------
// build / free

static void set_views(const Gpt *m, float *base, GptGlobals *gl, GptLayer *layers)
{
    const ModelConfig *c = &m->cfg;
    gl->wte = base + mf_tensor_offset(c, MF_WTE, 0);
    gl->wpe = base + mf_tensor_offset(c, MF_WPE, 0);
    gl->lnf_w = base + mf_tensor_offset(c, MF_LNF_W, 0);
    gl->lnf_b = base + mf_tensor_offset(c, MF_LNF_B, 0);
    for (uint32_t l = 0; l < c->layers; l++) {
        GptLayer *y = &layers[l];
        y->ln1_w = base + mf_tensor_offset(c, MF_LN1_W, l);
        y->ln1_b = base + mf_tensor_offset(c, MF_LN1_B, l);
        y->qkv_w = base + mf_tensor_offset(c, MF_QKV_W, l);
        y->qkv_b = base + mf_tensor_offset(c, MF_QKV_B, l);
        y->proj_w = base + mf_tensor_offset(c, MF_PROJ_W, l);
        y->proj_b = base + mf_tensor_offset(c, MF_PROJ_B, l);
        y->ln2_w = base + mf_tensor_offset(c, MF_LN2_W, l);
        y->ln2_b = base + mf_tensor_offset(c, MF_LN2_B, l);
        y->fc_w = base + mf_tensor_offset(c, MF_FC_W, l);
        y->fc_b = base + mf_tensor_offset(c, MF_FC_B, l);
        y->fcproj_w = base + mf_tensor_offset(c, MF_FCPROJ_W, l);
        y->fcproj_b = base + mf_tensor_offset(c, MF_FCPROJ_B, l);
    }
}

/* Walks the activation layout once: with base == NULL it only counts floats. */
static size_t carve_acts(Gpt *m, float *base)
{
    size_t N = (size_t)m->B * m->T, C = m->cfg.dim, HD = m->cfg.hidden, T = m->T;
    size_t off = 0;
#define TAKE(ptr, count)                        \
    do {                                        \
        if (base)                               \
            (ptr) = base + off;                 \
        off += ((size_t)(count) + 15) & ~(size_t)15; \
    } while (0)
    TAKE(m->x0, N * C);
    for (uint32_t l = 0; l < m->cfg.layers; l++) {
        GptActs *a = &m->acts[l];
        TAKE(a->ln1, N * C);
        TAKE(a->ln1_mean, N);
        TAKE(a->ln1_rstd, N);
        TAKE(a->qkv, N * 3 * C);
        TAKE(a->att, (size_t)m->B * m->cfg.heads * T * T);
        TAKE(a->atty, N * C);
        TAKE(a->res2, N * C);
        TAKE(a->ln2, N * C);
        TAKE(a->ln2_mean, N);
        TAKE(a->ln2_rstd, N);
        TAKE(a->fch, N * HD);
        TAKE(a->fch_gelu, N * HD);
        TAKE(a->res3, N * C);
    }
    TAKE(m->lnf, N * C);
    TAKE(m->lnf_mean, N);
    TAKE(m->lnf_rstd, N);
    TAKE(m->logits, N * GPT_V);
    TAKE(m->losses, N);
    TAKE(m->dres, N * C);
    TAKE(m->dln, N * C);
    TAKE(m->dqkv, N * 3 * C);
    TAKE(m->dh, N * HD);
    TAKE(m->scratch, (size_t)m->nthreads * attention_scratch_floats((int)(C / m->cfg.heads), (int)T));
#undef TAKE
    return off;
}

int gpt_build(Gpt *m, const ModelConfig *cfg, int B, int T, int nthreads, char *err, int errlen)
{
    memset(m, 0, sizeof *m);
    if (cfg->layers < 1 || cfg->layers > MF_MAX_LAYERS || cfg->dim < 1 || cfg->dim > MF_MAX_DIM ||
        cfg->heads < 1 || cfg->dim % cfg->heads != 0 || cfg->ctx < 1 || cfg->ctx > MF_MAX_CTX ||
        cfg->hidden < 1 || cfg->hidden > MF_MAX_HIDDEN || cfg->vocab != GPT_V) {
        snprintf(err, errlen,
                 "impossible model shape: layers %u (1..%u), dim %u (1..%u), heads %u (must divide dim), "
                 "ctx %u (1..%u), hidden %u (1..%u)",
                 cfg->layers, MF_MAX_LAYERS, cfg->dim, MF_MAX_DIM, cfg->heads, cfg->ctx, MF_MAX_CTX, cfg->hidden,
                 MF_MAX_HIDDEN);
        return -1;
    }
    if (B < 1 || B > 4096 || T < 1 || (uint32_t)T > cfg->ctx || nthreads < 1 || nthreads > 256) {
        snprintf(err, errlen, "impossible run shape: batch %d (1..4096), ctx %d (1..%u), threads %d (1..256)", B, T,
                 cfg->ctx, nthreads);
        return -1;
    }
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->nthreads = nthreads;
    m->nparams = mf_param_count(cfg);
    size_t np = (m->nparams + 15) & ~(uint64_t)15;
    m->params = aligned_alloc(64, 4 * np * sizeof(float));
    m->lp = calloc(cfg->layers, sizeof(GptLayer));
    m->lg = calloc(cfg->layers, sizeof(GptLayer));
    m->acts = calloc(cfg->layers, sizeof(GptActs));
    /* the largest K and N of any product: K up to B*T (weight gradients), N up to max(3C, HD, V) */
    size_t C = cfg->dim, HD = cfg->hidden, BT = (size_t)B * T;
    size_t max_n = 3 * C > HD ? 3 * C : HD, max_k = BT > max_n ? BT : max_n;
    max_n = max_n > GPT_V ? max_n : GPT_V;
    max_k = max_k > GPT_V ? max_k : GPT_V;
    size_t nact = 0;
    if (m->acts)
        nact = carve_acts(m, NULL);
    m->act_mem = aligned_alloc(64, nact * sizeof(float));
    if (!m->params || !m->lp || !m->lg || !m->acts || !m->act_mem || gemm_init(&m->gemm, nthreads, max_k, max_n) != 0) {
        snprintf(err, errlen, "out of memory: %.1f MiB of parameters and optimizer state, %.1f MiB of activations",
                 4.0 * np * 4 / 1048576.0, nact * 4.0 / 1048576.0);
        gpt_free(m);
        return -1;
    }
    memset(m->params, 0, 4 * np * sizeof(float));
    memset(m->act_mem, 0, nact * sizeof(float));
    m->grads = m->params + np;
    m->m = m->params + 2 * np;
    m->v = m->params + 3 * np;
    set_views(m, m->params, &m->p, m->lp);
    set_views(m, m->grads, &m->g, m->lg);
    carve_acts(m, m->act_mem);
    return 0;
}

void gpt_free(Gpt *m)
{
    free(m->params);
    free(m->lp);
    free(m->lg);
    free(m->acts);
    free(m->act_mem);
    gemm_free(&m->gemm);
    memset(m, 0, sizeof *m);
}

void gpt_init_params(Gpt *m, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed);
    const ModelConfig *c = &m->cfg;
    float std = 0.02f, res_std = 0.02f / sqrtf(2.0f * c->layers);
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        uint32_t copies = mf_is_per_layer(t) ? c->layers : 1;
        for (uint32_t l = 0; l < copies; l++) {
            float *p = m->params + mf_tensor_offset(c, t, l);
            uint64_t n = mf_tensor_numel(c, t);
            float s = 0.0f, fill = 0.0f;
            switch (t) {
            case MF_WTE: case MF_WPE: case MF_QKV_W: case MF_FC_W: s = std; break;
            case MF_PROJ_W: case MF_FCPROJ_W: s = res_std; break;
            case MF_LN1_W: case MF_LN2_W: case MF_LNF_W: fill = 1.0f; break;
            default: break;
            }
            for (uint64_t i = 0; i < n; i++)
                p[i] = s > 0.0f ? s * rng_normal(&r) : fill;
        }
    }
}

// ----------------------------------------------------------------------------------------------------------------
// forward / backward

float gpt_forward(Gpt *m, const uint8_t *inputs, const uint8_t *targets, int b, int t)
{
    const int C = m->cfg.dim, NH = m->cfg.heads, HD = m->cfg.hidden, N = b * t, nt = m->nthreads;
    const Gemm *g = &m->gemm;
    size_t spt = attention_scratch_floats(C / NH, m->T);
    encoder_forward(m->x0, inputs, m->p.wte, m->p.wpe, b, t, C);
    const float *x = m->x0;
    for (uint32_t l = 0; l < m->cfg.layers; l++) {
        GptActs *a = &m->acts[l];
        const GptLayer *w = &m->lp[l];
        // attention block: x + proj(attention(ln1(x)))
        layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, N, C, nt);
        matmul_forward(g, a->qkv, a->ln1, w->qkv_w, w->qkv_b, NULL, N, C, 3 * C);
        attention_forward(a->atty, a->att, a->qkv, m->scratch, spt, b, t, C, NH, nt);
        matmul_forward(g, a->res2, a->atty, w->proj_w, w->proj_b, x, N, C, C);
        // MLP block: res2 + fcproj(gelu(fc(ln2(res2))))
        layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, w->ln2_w, w->ln2_b, N, C, nt);
        matmul_forward(g, a->fch, a->ln2, w->fc_w, w->fc_b, NULL, N, C, HD);
        gelu_forward(a->fch_gelu, a->fch, (size_t)N * HD, nt);
        matmul_forward(g, a->res3, a->fch_gelu, w->fcproj_w, w->fcproj_b, a->res2, N, HD, C);
        x = a->res3;
    }
    layernorm_forward(m->lnf, m->lnf_mean, m->lnf_rstd, x, m->p.lnf_w, m->p.lnf_b, N, C, nt);
    // tied head: logits = lnf wte^T
    gemm(g, N, GPT_V, C, m->lnf, C, 1, m->p.wte, 1, C, m->logits, GPT_V, 0);
    if (!targets)
        return 0.0f;
    return crossentropy_forward(m->losses, m->logits, targets, N, nt);
}

void gpt_backward(Gpt *m, const uint8_t *inputs, const uint8_t *targets, int b, int t)
{
    const int C = m->cfg.dim, NH = m->cfg.heads, HD = m->cfg.hidden, N = b * t, nt = m->nthreads;
    const int L = (int)m->cfg.layers;
    const Gemm *g = &m->gemm;
    size_t spt = attention_scratch_floats(C / NH, m->T);
    memset(m->grads, 0, m->nparams * sizeof(float));
    memset(m->dres, 0, (size_t)N * C * sizeof(float));
    // head: in forward logits = lnf wte^T, so dwte += dlogits^T lnf and dlnf = dlogits wte
    crossentropy_backward(m->logits, targets, N, nt);
    gemm(g, GPT_V, C, N, m->logits, 1, GPT_V, m->lnf, C, 1, m->g.wte, C, 1);
    gemm(g, N, C, GPT_V, m->logits, GPT_V, 1, m->p.wte, C, 1, m->dln, C, 0);
    const float *xl = L > 0 ? m->acts[L - 1].res3 : m->x0;
    layernorm_backward(m->dres, m->g.lnf_w, m->g.lnf_b, m->dln, xl, m->p.lnf_w, m->lnf_mean, m->lnf_rstd, N, C, nt);
    for (int l = L - 1; l >= 0; l--) {
        GptActs *a = &m->acts[l];
        const GptLayer *w = &m->lp[l];
        GptLayer *dw = &m->lg[l];
        const float *x = l > 0 ? m->acts[l - 1].res3 : m->x0;
        // dres holds d(res3); the residual passes it to res2 unchanged, the MLP adds its part
        matmul_backward(g, m->dh, dw->fcproj_w, dw->fcproj_b, m->dres, a->fch_gelu, w->fcproj_w, N, HD, C, nt);
        gelu_backward(m->dh, a->fch, (size_t)N * HD, nt);
        matmul_backward(g, m->dln, dw->fc_w, dw->fc_b, m->dh, a->ln2, w->fc_w, N, C, HD, nt);
        layernorm_backward(m->dres, dw->ln2_w, dw->ln2_b, m->dln, a->res2, w->ln2_w, a->ln2_mean, a->ln2_rstd, N,
                           C, nt);
        // dres holds d(res2); through the attention block to d(x)
        matmul_backward(g, m->dln, dw->proj_w, dw->proj_b, m->dres, a->atty, w->proj_w, N, C, C, nt);
        memset(m->dqkv, 0, (size_t)N * 3 * C * sizeof(float));
        attention_backward(m->dqkv, m->dln, a->qkv, a->att, m->scratch, spt, b, t, C, NH, nt);
        matmul_backward(g, m->dln, dw->qkv_w, dw->qkv_b, m->dqkv, a->ln1, w->qkv_w, N, C, 3 * C, nt);
        layernorm_backward(m->dres, dw->ln1_w, dw->ln1_b, m->dln, x, w->ln1_w, a->ln1_mean, a->ln1_rstd, N, C, nt);
    }
    encoder_backward(m->g.wte, m->g.wpe, m->dres, inputs, b, t, C);
}

// ----------------------------------------------------------------------------------------------------------------
// optimizer

float gpt_clip_grads(Gpt *m, float clip)
{
    double ss = 0.0;
    for (uint64_t i = 0; i < m->nparams; i++)
        ss += (double)m->grads[i] * m->grads[i];
    float norm = (float)sqrt(ss);
    if (clip > 0.0f) {
        float coef = clip / (norm + 1e-6f);
        if (coef < 1.0f)
            for (uint64_t i = 0; i < m->nparams; i++)
                m->grads[i] *= coef;
    }
    return norm;
}

static int is_decayed(int tensor)
{
    return tensor == MF_QKV_W || tensor == MF_PROJ_W || tensor == MF_FC_W || tensor == MF_FCPROJ_W;
}

void gpt_adamw(Gpt *m, float lr, float beta1, float beta2, float eps, float weight_decay, int step)
{
    const ModelConfig *c = &m->cfg;
    float bc1 = 1.0f - powf(beta1, (float)step), bc2_sqrt = sqrtf(1.0f - powf(beta2, (float)step));
    float step_size = lr / bc1;
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        uint32_t copies = mf_is_per_layer(t) ? c->layers : 1;
        float decay = is_decayed(t) ? 1.0f - lr * weight_decay : 1.0f;
        for (uint32_t l = 0; l < copies; l++) {
            uint64_t off = mf_tensor_offset(c, t, l);
            int64_t n = (int64_t)mf_tensor_numel(c, t);
            float *p = m->params + off, *gr = m->grads + off, *mm = m->m + off, *vv = m->v + off;
#pragma omp parallel for simd num_threads(m->nthreads) schedule(static)
            for (int64_t i = 0; i < n; i++) {
                float gi = gr[i];
                mm[i] = mm[i] * beta1 + (1.0f - beta1) * gi;
                vv[i] = vv[i] * beta2 + (1.0f - beta2) * gi * gi;
                float denom = sqrtf(vv[i]) / bc2_sqrt + eps;
                p[i] = p[i] * decay - step_size * mm[i] / denom;
            }
        }
    }
}
