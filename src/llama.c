/* llama.c - the Llama family's forward pass, one token at a time (see llama.h). Shapes: C dim, H hidden, L layers,
 * NH query heads, NKV key/value heads, HD head size, T context, V vocabulary. The mat-vecs, dot products and
 * attention are the shared kernels (kernels.h), so SSE2 and AVX give the same bits; what is new here is element-wise.
 * Never allocates, never touches a file. */
#include "llama.h"
#include "kernels.h"
#include "ecmath.h"
#include "q8.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

const char *llama_shape_problem(const LlamaShape *c)
{
    if (!c->dim || !c->hidden || !c->layers || !c->heads || !c->kv_heads || !c->head_dim || !c->vocab || !c->ctx)
        return "a dimension is zero";
    if (c->heads % c->kv_heads)
        return "the query heads are not a multiple of the key/value heads";
    if (c->head_dim & 1)
        return "the head size is odd (rotary positions turn pairs)";
    if (c->dim > 65536 || c->hidden > (1u << 20) || c->layers > 1024 || c->heads > 1024 || c->head_dim > 1024 ||
        c->vocab > (1u << 24) || c->ctx > (1u << 20))
        return "a dimension is past this build's limits";
    if (!(c->rope_base > 1.0f) || !(c->rope_base < 1e30f) || !(c->norm_eps >= 0.0f) || !(c->norm_eps < 1.0f))
        return "the rotary base or the norm epsilon is out of range";
    return 0;
}

// ----------------------------------------------------------------------------
// state

static uint32_t max_cols(const LlamaShape *c)
{
    uint32_t q = c->heads * c->head_dim, m = c->dim > c->hidden ? c->dim : c->hidden;
    return m > q ? m : q;
}

/* One part's scratch, each slot whole 64-byte lines and 512 bytes apart, so two workers never share a line or
 * prefetch each other's (model.c, stage_of). The stage is as wide as any output: queries, the MLP, the vocabulary. */
static size_t scores_floats(const LlamaShape *c)
{
    return (ALIGN64((c->ctx + 4) * sizeof(float)) + 512) / sizeof(float);
}
static size_t xq_bytes(const LlamaShape *c) { return ALIGN64(q8_scratch_bytes(max_cols(c), 1)) + 512; }
static size_t stage_out_floats(const LlamaShape *c)
{
    size_t m = max_cols(c) > c->vocab ? max_cols(c) : c->vocab;
    return ALIGN64(m * sizeof(float)) / sizeof(float);
}
/* a part's output row, then its own normalised input row (C) */
static size_t stage_floats(const LlamaShape *c)
{
    return stage_out_floats(c) + (ALIGN64(c->dim * sizeof(float)) + 512) / sizeof(float);
}

static size_t state_layout(const LlamaShape *c, LlamaState *s, uint8_t *base)
{
    size_t T = c->ctx, L = c->layers, C = c->dim, KV = (size_t)c->kv_heads * c->head_dim;
    size_t Q = (size_t)c->heads * c->head_dim, H = c->hidden, off = 0;
#define CARVE(field, type, count)                                  \
    do {                                                           \
        if (s)                                                     \
            s->field = (type *)(void *)(base + off);               \
        off += ALIGN64((count) * sizeof(type));                    \
    } while (0)
    CARVE(tokens, int32_t, T);
    CARVE(key_cache, float, L * T * KV);
    CARVE(value_cache, float, L * T * KV);
    CARVE(x, float, C);
    CARVE(xn, float, C);
    CARVE(q, float, Q);
    CARVE(att, float, Q);
    CARVE(gate, float, H);
    CARVE(up, float, H);
    CARVE(rope_cs, float, (size_t)c->head_dim);
    CARVE(scores, float, scores_floats(c));
    CARVE(logits, float, (size_t)c->vocab);
    CARVE(xq, uint8_t, xq_bytes(c));
#undef CARVE
    return off;
}

size_t llama_state_bytes(const LlamaShape *c) { return state_layout(c, 0, 0) + 64; }

void llama_state_init(LlamaState *s, const LlamaShape *c, void *mem, int kernel)
{
    uint8_t *base = (uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    ec_memset(base, 0, state_layout(c, s, base));
    s->kernel = kernel == KERNEL_AVX || kernel == KERNEL_Q8 ? kernel : KERNEL_SCALAR_SSE2;
    s->q8_path = q8_best_path();
    s->pos = 0;
    s->slides = 0;
    s->scores_stride = scores_floats(c);
    s->xq_stride = xq_bytes(c);
    s->stage = 0;
    s->stage_stride = stage_floats(c);
    s->stage_xn = stage_out_floats(c);
    s->par = (ModelParallel){0, 0, 1, 0};
}

size_t llama_parallel_bytes(const LlamaShape *c, unsigned workers)
{
    return (size_t)workers * ((scores_floats(c) + stage_floats(c)) * sizeof(float) + xq_bytes(c)) + 64;
}

void llama_state_set_parallel(LlamaState *s, const LlamaShape *c, const ModelParallel *p, void *mem)
{
    if (!p || p->workers <= 1 || !p->run || !mem) { /* back to the state's own single slot */
        state_layout(c, s, (uint8_t *)s->tokens); /* tokens are carved first, at the base */
        s->par = (ModelParallel){0, 0, 1, 0};
        s->stage = 0;
        return;
    }
    float *sc = (float *)(void *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    s->scores = sc;
    s->stage = sc + (size_t)p->workers * s->scores_stride;
    s->xq = (uint8_t *)(void *)(s->stage + (size_t)p->workers * s->stage_stride);
    s->par = *p;
}

void llama_state_reset(LlamaState *s)
{
    s->pos = 0;
    s->slides = 0;
}

// ----------------------------------------------------------------------------
// the Q8 copy

/* (rows, cols) and float source of quantised matrix i of layer l, or of the output matrix when l == L. */
static const float *q8_source(const LlamaShape *c, const LlamaWeights *w, uint32_t l, int i, uint32_t *rows,
                              uint32_t *cols)
{
    uint32_t C = c->dim, H = c->hidden, Q = c->heads * c->head_dim, KV = c->kv_heads * c->head_dim;
    if (l == c->layers) {
        *rows = c->vocab;
        *cols = C;
        return w ? w->output : 0;
    }
    static const uint8_t in_h[LLAMA_Q8_PER_LAYER] = {0, 0, 0, 0, 0, 0, 1}, in_q[LLAMA_Q8_PER_LAYER] = {0, 0, 0, 1};
    uint32_t out[LLAMA_Q8_PER_LAYER] = {Q, KV, KV, C, H, H, C};
    *rows = out[i];
    *cols = in_h[i] ? H : in_q[i] ? Q : C;
    if (!w)
        return 0;
    const LlamaLayer *y = &w->layer[l];
    const float *src[LLAMA_Q8_PER_LAYER] = {y->wq, y->wk, y->wv, y->wo, y->w_gate, y->w_up, y->w_down};
    return src[i];
}

size_t llama_q8_bytes(const LlamaShape *c)
{
    size_t n = ALIGN64(((size_t)c->layers * LLAMA_Q8_PER_LAYER + 2) * sizeof(QMatrix)) + 64;
    if (!c->tied_output)
        n += q8_matrix_bytes(c->vocab, c->dim);
    for (uint32_t l = 0; l <= c->layers; l++)
        for (int i = 0; i < (l == c->layers ? 1 : LLAMA_Q8_PER_LAYER); i++) {
            uint32_t rows, cols;
            q8_source(c, 0, l, i, &rows, &cols);
            n += q8_matrix_bytes(rows, cols);
        }
    return n;
}

int llama_quantize(const LlamaShape *c, LlamaWeights *w, void *mem)
{
    if (max_cols(c) > Q8_MAX_COLS)
        return 0;
    uint8_t *base = (uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    QMatrix *mats = (QMatrix *)(void *)base, *head = &mats[(size_t)c->layers * LLAMA_Q8_PER_LAYER];
    uint8_t *p = base + ALIGN64(((size_t)c->layers * LLAMA_Q8_PER_LAYER + 2) * sizeof(QMatrix));
    for (uint32_t l = 0; l <= c->layers; l++)
        for (int i = 0; i < (l == c->layers ? 1 : LLAMA_Q8_PER_LAYER); i++) {
            uint32_t rows, cols;
            const float *src = q8_source(c, w, l, i, &rows, &cols);
            p += q8_matrix_build(&mats[(size_t)l * LLAMA_Q8_PER_LAYER + (size_t)i], src, rows, cols, p);
        }
    if (!c->tied_output)
        q8_matrix_build(head + 1, w->embed, c->vocab, c->dim, p);
    w->q8 = mats;
    w->embed_q8 = c->tied_output ? head : head + 1;
    return 1;
}

// ----------------------------------------------------------------------------
// the pieces

/* Rows [lo, hi) of out (O) = W in (I) + bias, with matrix i of layer l (l == L: the output) by the state's kernel,
 * for part w: computed into its stage when there is one (model.c, stage_of) and stored from there once, or added
 * into `add` (the residual stream), out then being only where they are computed without a stage. */
static void matvec_rows(const LlamaWeights *wt, const LlamaState *s, unsigned w, uint32_t l, int i, float *out,
                        float *add, const float *in, const float *W, const float *bias, int I, int O, uint32_t lo,
                        uint32_t hi)
{
    if (lo >= hi)
        return;
    const QMatrix *q = s->kernel == KERNEL_Q8 && wt->q8 ? &wt->q8[(size_t)l * LLAMA_Q8_PER_LAYER + (size_t)i] : 0;
    float *dst = s->stage ? s->stage + w * s->stage_stride : out;
    if (q)
        q8_matmul(dst, (size_t)O, in, q, lo, hi, bias, 1, s->xq + w * s->xq_stride, s->q8_path);
    else
        kern_matmul(s->kernel == KERNEL_AVX ? KERNEL_AVX : KERNEL_SCALAR_SSE2, dst + lo, (size_t)O, in,
                    W + (size_t)lo * I, bias ? bias + lo : 0, 1, I, (int)(hi - lo));
    if (add)
        for (uint32_t r = lo; r < hi; r++)
            add[r] += dst[r];
    else if (dst != out)
        ec_memcpy(out + lo, dst + lo, (hi - lo) * sizeof(float));
}

typedef struct {
    const LlamaShape *c;
    LlamaState *s;
    const float *kc, *vc;
    int kernel, pos;
    float scale;
} AttendJob;

/* Part w's run of query heads, each attending to its key/value head (grouped-query: NH / NKV share one). */
static void attend_task(void *arg, unsigned w, unsigned nw)
{
    AttendJob jc = *(const AttendJob *)arg; /* copies, as model.c's matmul_task: see there why */
    LlamaState s = *jc.s;
    jc.s = &s;
    const AttendJob *j = &jc;
    uint32_t HD = j->c->head_dim, KV = j->c->kv_heads * HD, group = j->c->heads / j->c->kv_heads, h0, h1;
    model_share(w, nw, j->c->heads, 1, &h0, &h1);
    float *sc = j->s->scores + w * j->s->scores_stride;
    for (uint32_t h = h0; h < h1; h++) {
        uint32_t kvh = h / group;
        kern_attend(j->kernel, j->s->att + (size_t)h * HD, j->s->q + (size_t)h * HD, j->kc + (size_t)kvh * HD,
                    j->vc + (size_t)kvh * HD, KV, (int)HD, j->pos + 1, j->scale, sc);
    }
}

/* out = x / sqrt(sum(x^2) / C + eps) * w; the sum of squares is the canonical dot product. */
static void rmsnorm(int kernel, float *out, const float *x, const float *w, int C, float eps)
{
    float ss = kern_dot(kernel, x, x, C);
    float r = 1.0f / ec_sqrtf(ss / (float)C + eps);
    for (int i = 0; i < C; i++)
        out[i] = x[i] * r * w[i];
}

/* cs[2i], cs[2i+1] = cos, sin of pos * base^(-2i/HD) for each pair i, in double, rounded once to float. */
static void rope_angles(float *cs, const LlamaShape *c, uint32_t pos)
{
    double ln_base = ec_log_d((double)c->rope_base);
    for (uint32_t i = 0; i < c->head_dim / 2; i++) {
        double freq = ec_exp_d(-(double)(2 * i) / (double)c->head_dim * ln_base), sn, cn;
        ec_sincos_d((double)pos * freq, &sn, &cn);
        cs[2 * i] = (float)cn;
        cs[2 * i + 1] = (float)sn;
    }
}

/* Rotates every pair of each of n heads (HD floats apiece) by its angle. */
static void rope_apply(float *v, int n, const LlamaShape *c, const float *cs)
{
    uint32_t HD = c->head_dim, half = HD / 2;
    for (int h = 0; h < n; h++, v += HD)
        for (uint32_t i = 0; i < half; i++) {
            uint32_t a = c->rope == LLAMA_ROPE_HALVES ? i : 2 * i, b = c->rope == LLAMA_ROPE_HALVES ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b], cn = cs[2 * i], sn = cs[2 * i + 1];
            v[a] = x0 * cn - x1 * sn;
            v[b] = x0 * sn + x1 * cn;
        }
}

/* gate = silu(gate) * up = gate / (1 + exp(-gate)) * up, four lanes at a time (the tail through a padded vector). */
static void swiglu(float *gate, const float *up, int n)
{
    const v4f one = v4f_set1(1.0f), sign = v4f_set1(-0.0f);
    for (int i = 0; i < n; i += 4) {
        float g[4] = {0, 0, 0, 0}, u[4] = {0, 0, 0, 0};
        int k = n - i < 4 ? n - i : 4;
        for (int j = 0; j < k; j++) {
            g[j] = gate[i + j];
            u[j] = up[i + j];
        }
        v4f gv = v4f_load(g);
        v4f y = v4f_mul(v4f_div(gv, v4f_add(one, ec_expf4(v4f_xor(gv, sign)))), v4f_load(u));
        v4f_store(g, y);
        for (int j = 0; j < k; j++)
            gate[i + j] = g[j];
    }
}

// ----------------------------------------------------------------------------
// one token: one call of 5L + 1 phases

/* A layer in five phases, then the output (phase 5L): a phase's parts need what every part of the phases before
 * wrote (attention: the new k and v rows of every head; the norms: all of x), nothing else. */
enum { LP_QKV, LP_ATTEND, LP_O, LP_UP, LP_DOWN, LP_PER_LAYER };

typedef struct {
    const LlamaShape *c;
    const LlamaWeights *w;
    LlamaState *s;
    int k; /* the float kernel of the norms and attention */
    float scale;
} LlamaStep;

/* Part w of phase `phase`. Each part normalises x itself (the same numbers in every part: no sum crosses parts),
 * into its stage's own row, or into xn on one worker. */
static void step_part(const LlamaStep *st, unsigned phase, unsigned w, unsigned nw)
{
    const LlamaShape *c = st->c;
    const LlamaWeights *wt = st->w;
    LlamaState s = *st->s; /* a copy, as attend_task's */
    int C = (int)c->dim, H = (int)c->hidden, HD = (int)c->head_dim, NH = (int)c->heads, NKV = (int)c->kv_heads;
    int KV = NKV * HD, Q = NH * HD, pos = (int)s.pos;
    uint32_t l = phase / LP_PER_LAYER, L = c->layers, lo, hi;
    int sub = (int)(phase % LP_PER_LAYER);
    size_t T = c->ctx;
    float *xn = s.stage ? s.stage + w * s.stage_stride + s.stage_xn : s.xn;
    if (l == L) { // the output: norm, logits
        rmsnorm(st->k, xn, s.x, wt->out_norm, C, c->norm_eps);
        model_share(w, nw, c->vocab, 8, &lo, &hi);
        matvec_rows(wt, &s, w, L, 0, s.logits, 0, xn, wt->output, 0, C, (int)c->vocab, lo, hi);
        return;
    }
    const LlamaLayer *ly = &wt->layer[l];
    float *kc = s.key_cache + (size_t)l * T * KV, *vc = s.value_cache + (size_t)l * T * KV;
    if (sub == LP_QKV) { // norm; this part's query heads and key/value heads (k and v into their cache rows), rotated
        float *krow = kc + (size_t)pos * KV, *vrow = vc + (size_t)pos * KV;
        rmsnorm(st->k, xn, s.x, ly->attn_norm, C, c->norm_eps);
        model_share(w, nw, (uint32_t)NH, 1, &lo, &hi);
        matvec_rows(wt, &s, w, l, LQ_Q, s.q, 0, xn, ly->wq, ly->bq, C, Q, lo * HD, hi * HD);
        rope_apply(s.q + lo * HD, (int)(hi - lo), c, s.rope_cs);
        model_share(w, nw, (uint32_t)NKV, 1, &lo, &hi);
        matvec_rows(wt, &s, w, l, LQ_K, krow, 0, xn, ly->wk, ly->bk, C, KV, lo * HD, hi * HD);
        matvec_rows(wt, &s, w, l, LQ_V, vrow, 0, xn, ly->wv, ly->bv, C, KV, lo * HD, hi * HD);
        rope_apply(krow + lo * HD, (int)(hi - lo), c, s.rope_cs);
    } else if (sub == LP_ATTEND) { // each query head attends to its key/value head
        AttendJob aj = {c, st->s, kc, vc, st->k, pos, st->scale};
        attend_task(&aj, w, nw);
    } else if (sub == LP_O) { // output projection and residual
        model_share(w, nw, (uint32_t)C, 8, &lo, &hi);
        matvec_rows(wt, &s, w, l, LQ_O, s.xn, s.x, s.att, ly->wo, 0, Q, C, lo, hi);
    } else if (sub == LP_UP) { // norm, gate and up, SwiGLU
        rmsnorm(st->k, xn, s.x, ly->ffn_norm, C, c->norm_eps);
        model_share(w, nw, (uint32_t)H, 8, &lo, &hi);
        matvec_rows(wt, &s, w, l, LQ_GATE, s.gate, 0, xn, ly->w_gate, 0, C, H, lo, hi);
        matvec_rows(wt, &s, w, l, LQ_UP, s.up, 0, xn, ly->w_up, 0, C, H, lo, hi);
        swiglu(s.gate + lo, s.up + lo, (int)(hi - lo));
    } else { // down projection and residual
        model_share(w, nw, (uint32_t)C, 8, &lo, &hi);
        matvec_rows(wt, &s, w, l, LQ_DOWN, s.xn, s.x, s.gate, ly->w_down, 0, H, C, lo, hi);
    }
}

/* A part works from its own copy of the step (the caller's stack shares lines with what the caller keeps writing). */
static void step_task(void *arg, unsigned phase, unsigned w, unsigned nw)
{
    LlamaStep st = *(const LlamaStep *)arg;
    step_part(&st, phase, w, nw);
}

static void forward(const LlamaShape *c, const LlamaWeights *w, LlamaState *s, int32_t token)
{
    int C = (int)c->dim, pos = (int)s->pos;
    /* norms and attention: the float kernels (AVX also under Q8 when the CPU runs its AVX2 path: the same bits) */
    int k = s->kernel == KERNEL_AVX || (s->kernel == KERNEL_Q8 && Q8_PATH_USES_AVX(s->q8_path)) ? KERNEL_AVX
                                                                                               : KERNEL_SCALAR_SSE2;
    if (s->kernel == KERNEL_Q8 && w->q8 && w->embed_q8)
        q8_matrix_row_floats(w->embed_q8, (uint32_t)token, s->x);
    else
        ec_memcpy(s->x, w->embed + (size_t)token * C, (size_t)C * sizeof(float));
    s->tokens[pos] = token;
    rope_angles(s->rope_cs, c, (uint32_t)pos);
    LlamaStep st = {c, w, s, k, 1.0f / ec_sqrtf((float)c->head_dim)};
    model_parallel_phases(&s->par, step_task, &st, c->layers * LP_PER_LAYER + 1, 0);
    s->pos++;
}

static int all_finite(const float *x, size_t n)
{
    const uint32_t *bits = (const uint32_t *)(const void *)x;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (bits[i] & 0x7F800000u) == 0x7F800000u;
    return !bad;
}

/* The cache is full: keep the newest T/2 tokens, encode them again from position 0. */
static void slide(const LlamaShape *c, const LlamaWeights *w, LlamaState *s)
{
    uint32_t T = c->ctx, keep = T / 2;
    for (uint32_t i = 0; i < keep; i++)
        s->tokens[i] = s->tokens[T - keep + i];
    s->pos = 0;
    s->slides++;
    for (uint32_t i = 0; i < keep; i++) /* forward rewrites tokens[pos] with the value it reads: safe in place */
        forward(c, w, s, s->tokens[i]);
}

ModelError llama_feed(const LlamaShape *c, const LlamaWeights *w, LlamaState *s, const int32_t *tokens, size_t n,
                      float *logits_all)
{
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= c->vocab)
            return MODEL_ERR_TOKEN; /* nothing fed */
    if (!(s->kernel == KERNEL_Q8 && w->q8) && !w->embed)
        return MODEL_ERR_UNPREPARED;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (s->pos == c->ctx)
            slide(c, w, s);
        forward(c, w, s, tokens[i]);
        if (logits_all)
            ec_memcpy(logits_all + i * c->vocab, s->logits, c->vocab * sizeof(float));
        ok &= all_finite(s->logits, c->vocab);
    }
    return ok ? MODEL_OK : MODEL_ERR_NONFINITE_LOGITS;
}
