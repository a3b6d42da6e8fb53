/* gpt.c - the trainable GPT put together from trainer/layers.c: one allocation carved into parameters, gradients,
 * AdamW moments and activations; the forward and backward passes over every layer; AdamW with clipping.
 * Nothing here allocates after gpt_build. */
#include "gpt.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "rng.h"

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
    TAKE(m->ddrop, N * C);
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

/* A residual branch: out = resid + inp w^T + bias, or with dropout out = resid + mask(inp w^T + bias). Without
 * dropout the residual is the GEMM's starting value, as it always was, so p = 0 keeps the old bytes. */
static void branch_forward(const Gpt *m, float *out, const float *inp, const float *w, const float *bias,
                           const float *resid, const DropMask *dm, int N, int IC, int OC)
{
    matmul_forward(&m->gemm, out, inp, w, bias, dm ? NULL : resid, N, IC, OC);
    if (dm)
        dropout_forward(out, resid, dm, (size_t)N * OC, m->nthreads);
}

/* in forward out = resid + mask(y): returns d(y), which is dout itself without dropout, else dout times the mask
 * factors in m->ddrop */
static const float *branch_backward_mask(Gpt *m, const float *dout, const DropMask *dm, int N, int C)
{
    if (!dm)
        return dout;
    dropout_backward(m->ddrop, dout, dm, (size_t)N * C, m->nthreads);
    return m->ddrop;
}

float gpt_forward(Gpt *m, const uint8_t *inputs, const uint8_t *targets, int b, int t, const Dropout *drop)
{
    const int C = m->cfg.dim, NH = m->cfg.heads, HD = m->cfg.hidden, N = b * t, nt = m->nthreads;
    const Gemm *g = &m->gemm;
    size_t spt = attention_scratch_floats(C / NH, m->T);
    m->drop = drop && drop->p > 0.0f ? *drop : (Dropout){0};
    const int on = m->drop.p > 0.0f;
    DropMask dm[4];
    encoder_forward(m->x0, inputs, m->p.wte, m->p.wpe, b, t, C);
    if (on) {
        dm[DROP_EMB] = dropmask_for(&m->drop, 0, DROP_EMB);
        dropout_forward(m->x0, NULL, &dm[DROP_EMB], (size_t)N * C, nt);
    }
    const float *x = m->x0;
    for (uint32_t l = 0; l < m->cfg.layers; l++) {
        GptActs *a = &m->acts[l];
        const GptLayer *w = &m->lp[l];
        for (int s = DROP_ATT; on && s <= DROP_MLP_RESID; s++)
            dm[s] = dropmask_for(&m->drop, l, s);
        // attention block: x + drop(proj(attention(ln1(x)))), the attention dropping its probabilities
        layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, N, C, nt);
        matmul_forward(g, a->qkv, a->ln1, w->qkv_w, w->qkv_b, NULL, N, C, 3 * C);
        attention_forward(a->atty, a->att, a->qkv, m->scratch, spt, on ? &dm[DROP_ATT] : NULL, b, t, C, NH, nt);
        branch_forward(m, a->res2, a->atty, w->proj_w, w->proj_b, x, on ? &dm[DROP_ATT_RESID] : NULL, N, C, C);
        // MLP block: res2 + drop(fcproj(gelu(fc(ln2(res2)))))
        layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, w->ln2_w, w->ln2_b, N, C, nt);
        matmul_forward(g, a->fch, a->ln2, w->fc_w, w->fc_b, NULL, N, C, HD);
        gelu_forward(a->fch_gelu, a->fch, (size_t)N * HD, nt);
        branch_forward(m, a->res3, a->fch_gelu, w->fcproj_w, w->fcproj_b, a->res2, on ? &dm[DROP_MLP_RESID] : NULL,
                       N, HD, C);
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
    const int on = m->drop.p > 0.0f;
    DropMask dm[4];
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
        for (int s = DROP_ATT; on && s <= DROP_MLP_RESID; s++)
            dm[s] = dropmask_for(&m->drop, (uint32_t)l, s);
        // dres holds d(res3); the residual passes it to res2 unchanged, the MLP (through its mask) adds its part
        const float *dy = branch_backward_mask(m, m->dres, on ? &dm[DROP_MLP_RESID] : NULL, N, C);
        matmul_backward(g, m->dh, dw->fcproj_w, dw->fcproj_b, dy, a->fch_gelu, w->fcproj_w, N, HD, C, nt);
        gelu_backward(m->dh, a->fch, (size_t)N * HD, nt);
        matmul_backward(g, m->dln, dw->fc_w, dw->fc_b, m->dh, a->ln2, w->fc_w, N, C, HD, nt);
        layernorm_backward(m->dres, dw->ln2_w, dw->ln2_b, m->dln, a->res2, w->ln2_w, a->ln2_mean, a->ln2_rstd, N,
                           C, nt);
        // dres holds d(res2); through the attention block to d(x)
        dy = branch_backward_mask(m, m->dres, on ? &dm[DROP_ATT_RESID] : NULL, N, C);
        matmul_backward(g, m->dln, dw->proj_w, dw->proj_b, dy, a->atty, w->proj_w, N, C, C, nt);
        memset(m->dqkv, 0, (size_t)N * 3 * C * sizeof(float));
        attention_backward(m->dqkv, m->dln, a->qkv, a->att, m->scratch, spt, on ? &dm[DROP_ATT] : NULL, b, t, C,
                           NH, nt);
        matmul_backward(g, m->dln, dw->qkv_w, dw->qkv_b, m->dqkv, a->ln1, w->qkv_w, N, C, 3 * C, nt);
        layernorm_backward(m->dres, dw->ln1_w, dw->ln1_b, m->dln, x, w->ln1_w, a->ln1_mean, a->ln1_rstd, N, C, nt);
    }
    // dres holds d(x0); in forward x0 was the embeddings times their mask
    if (on) {
        dm[DROP_EMB] = dropmask_for(&m->drop, 0, DROP_EMB);
        dropout_backward(m->dres, m->dres, &dm[DROP_EMB], (size_t)N * C, nt);
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
