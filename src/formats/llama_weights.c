/* llama_weights.c - llama2.c and GGUF files to the Llama family's shape and weights (llama_weights.h): float32
 * (in place when possible) or, for the Q8 kernel, int8 rows built straight from the file a row at a time. One walk
 * over the tensors both counts the bytes and fills them, so the two always agree. */
#include "llama_weights.h"
#include "dequant.h"
#include "../ecmath.h"
#include "../q8.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

/* A cursor over the caller's block: every piece starts on a 64-byte boundary. p NULL: only count. */
typedef struct {
    uint8_t *p;
    size_t used;
} Carve;

static void *carve(Carve *cv, size_t bytes)
{
    void *at = cv->p ? cv->p + cv->used : 0;
    cv->used += ALIGN64(bytes);
    return at;
}

// ----------------------------------------------------------------------------
// one tensor of either file, read a row at a time

typedef struct {
    const Llama2cFile *l2c; /* a llama2.c tensor: view v with its group size */
    L2cView v;
    const GgufTensor *t;    /* or a GGUF tensor */
    uint64_t rows, cols;    /* (rows, cols) row-major; 0 rows: absent */
} Ref;

static Ref ref_l2c(const Llama2cFile *f, int which, uint32_t layer)
{
    Ref r = {f, {0, 0, 0, 0}, 0, 0, 0};
    if (l2c_tensor(f, which, layer, &r.v)) {
        r.rows = r.v.rows;
        r.cols = r.v.cols;
    }
    return r;
}

static Ref ref_gguf(const GgufTensor *t)
{
    Ref r = {0, {0, 0, 0, 0}, t, 0, 0};
    if (t) {
        r.cols = t->ne[0];
        r.rows = t->nel / t->ne[0];
    }
    return r;
}

/* The tensor as floats where they already are: F32, 4-byte aligned; else NULL. */
static const float *ref_in_place(const Ref *r)
{
    const uint8_t *p = r->l2c ? (r->v.scales ? 0 : r->v.data) : r->t && r->t->type == GGML_F32 ? r->t->data : 0;
    return p && !((uintptr_t)p & 3u) ? (const float *)(const void *)p : 0;
}

/* Row i as floats: llama2.c int8 groups as runq.c dequantises them (value * scale, one rounding), GGUF blocks the
 * ggml way (dequant.c), float32 copied (any alignment). */
static void ref_row(const Ref *r, uint64_t i, float *out)
{
    if (r->l2c) {
        const uint8_t *d = r->v.data + i * r->cols * (r->v.scales ? 1 : 4);
        if (!r->v.scales) {
            ec_memcpy(out, d, r->cols * sizeof(float));
            return;
        }
        for (uint64_t c = 0; c < r->cols; c++) {
            float s;
            ec_memcpy(&s, r->v.scales + ((i * r->cols + c) / r->l2c->group_size) * sizeof(float), sizeof s);
            out[c] = (float)(int8_t)d[c] * s;
        }
        return;
    }
    uint64_t rb = dq_row_bytes(r->t->type, r->cols);
    dq_row(r->t->type, r->t->data + i * rb, out, r->cols);
}

/* Float weights: in place, or every row into the block. */
static const float *floats(const Ref *r, Carve *cv)
{
    if (!r->rows)
        return 0;
    const float *p = ref_in_place(r);
    if (p)
        return p;
    float *out = carve(cv, (size_t)(r->rows * r->cols) * sizeof(float));
    for (uint64_t i = 0; out && i < r->rows; i++)
        ref_row(r, i, out + i * r->cols);
    return out;
}

/* Q8 weights: each row dequantised into `row` (cols floats), then quantised to int8 (q8.h). */
static void qmatrix(const Ref *r, QMatrix *q, float *row, Carve *cv)
{
    void *mem = carve(cv, q8_matrix_bytes((uint32_t)r->rows, (uint32_t)r->cols));
    if (!mem)
        return;
    q8_matrix_begin(q, (uint32_t)r->rows, (uint32_t)r->cols, mem);
    for (uint64_t i = 0; i < r->rows; i++) {
        ref_row(r, i, row);
        q8_matrix_set_row(q, (uint32_t)i, row);
    }
    q8_matrix_end(q);
}

// ----------------------------------------------------------------------------
// the walk: the same order of pieces for counting and filling

enum { W_EMBED, W_OUT_NORM, W_OUTPUT, W_GLOBALS };
enum { W_ATTN_NORM, W_Q, W_K, W_V, W_O, W_FFN_NORM, W_GATE, W_UP, W_DOWN, W_BQ, W_BK, W_BV, W_PER_LAYER };
static const int8_t q8_slot[W_PER_LAYER] = {-1, LQ_Q, LQ_K, LQ_V, LQ_O, -1, LQ_GATE, LQ_UP, LQ_DOWN, -1, -1, -1};

typedef struct {
    const Llama2cFile *l2c;
    const GgufFile *gguf;
    const LlamaConfig *g;
} Source;

static Ref global_ref(const Source *s, int which)
{
    static const int l2c[W_GLOBALS] = {L2C_TOKEN_EMBD, L2C_RMS_FINAL, L2C_WCLS};
    if (s->l2c)
        return ref_l2c(s->l2c, l2c[which], 0);
    const GgufTensor *t[W_GLOBALS] = {s->g->token_embd, s->g->output_norm, s->g->output};
    return ref_gguf(t[which]);
}

static Ref layer_ref(const Source *s, int which, uint32_t l)
{
    static const int l2c[W_PER_LAYER] = {L2C_RMS_ATT, L2C_WQ, L2C_WK, L2C_WV, L2C_WO, L2C_RMS_FFN, L2C_W1, L2C_W3,
                                         L2C_W2, -1, -1, -1};
    static const int gl[W_PER_LAYER] = {GL_ATTN_NORM, GL_ATTN_Q, GL_ATTN_K, GL_ATTN_V, GL_ATTN_OUTPUT, GL_FFN_NORM,
                                        GL_FFN_GATE, GL_FFN_UP, GL_FFN_DOWN, GL_Q_BIAS, GL_K_BIAS, GL_V_BIAS};
    if (s->l2c)
        return l2c[which] < 0 ? ref_gguf(0) : ref_l2c(s->l2c, l2c[which], l);
    if (which >= W_BQ && !s->g->has_qkv_bias)
        return ref_gguf(0);
    return ref_gguf(gguf_layer_tensor(s->gguf, l, gl[which]));
}

static int tied(const Source *s) { return s->l2c ? s->l2c->shared_classifier : s->g->tied_output; }

/* q8: matrices become int8 rows (w->q8, w->embed_q8), only norms and biases stay float; else all float. */
static void walk(const Source *s, uint32_t layers, uint32_t max_cols, int q8, LlamaWeights *w, Carve *cv)
{
    size_t nq = (size_t)layers * LLAMA_Q8_PER_LAYER + 2; /* + output, + a separate embedding copy */
    QMatrix *mats = q8 ? carve(cv, nq * sizeof(QMatrix)) : 0;
    float *row = q8 ? carve(cv, (size_t)max_cols * sizeof(float)) : 0;
    LlamaLayer *t = carve(cv, (size_t)layers * sizeof(LlamaLayer));
    if (t)
        ec_memset(t, 0, (size_t)layers * sizeof(LlamaLayer));
    *w = (LlamaWeights){0, 0, 0, t, 0, 0};
    Ref embed = global_ref(s, W_EMBED), out_norm = global_ref(s, W_OUT_NORM), output = global_ref(s, W_OUTPUT);
    w->out_norm = floats(&out_norm, cv);
    if (!q8) {
        w->embed = floats(&embed, cv);
        w->output = tied(s) ? w->embed : floats(&output, cv);
    } else {
        QMatrix *head = mats ? &mats[(size_t)layers * LLAMA_Q8_PER_LAYER] : 0, *emb = mats ? head + 1 : 0;
        qmatrix(tied(s) ? &embed : &output, head, row, cv);
        if (!tied(s))
            qmatrix(&embed, emb, row, cv);
        w->q8 = mats;
        w->embed_q8 = tied(s) ? head : emb;
    }
    for (uint32_t l = 0; l < layers; l++) {
        const float *v[W_PER_LAYER] = {0};
        for (int i = 0; i < W_PER_LAYER; i++) {
            Ref r = layer_ref(s, i, l);
            if (q8 && q8_slot[i] >= 0)
                qmatrix(&r, mats ? &mats[(size_t)l * LLAMA_Q8_PER_LAYER + (size_t)q8_slot[i]] : 0, row, cv);
            else
                v[i] = floats(&r, cv);
        }
        if (t)
            t[l] = (LlamaLayer){v[W_ATTN_NORM], v[W_Q], v[W_K], v[W_V], v[W_BQ], v[W_BK], v[W_BV], v[W_O],
                                v[W_FFN_NORM], v[W_GATE], v[W_UP], v[W_DOWN]};
    }
}

static uint32_t widest(const LlamaShape *c)
{
    uint32_t m = c->dim > c->hidden ? c->dim : c->hidden, q = c->heads * c->head_dim;
    return m > q ? m : q;
}

static LlamaShape shape_l2c(const Llama2cFile *f)
{
    return (LlamaShape){f->dim, f->hidden, f->layers, f->heads, f->kv_heads, f->head_dim, f->vocab, f->seq_len,
                        10000.0f, 1e-5f, LLAMA_ROPE_ADJACENT, f->shared_classifier};
}

static LlamaShape shape_gguf(const LlamaConfig *g)
{
    return (LlamaShape){g->dim, g->hidden, g->layers, g->heads, g->kv_heads, g->head_dim, g->vocab, g->ctx,
                        g->rope_base, g->rms_eps, g->arch == GGUF_ARCH_QWEN2 ? LLAMA_ROPE_HALVES : LLAMA_ROPE_ADJACENT,
                        g->tied_output};
}

static size_t count(const Source *s, const LlamaShape *c, int q8)
{
    LlamaWeights w;
    Carve cv = {0, 0};
    walk(s, c->layers, widest(c), q8, &w, &cv);
    return cv.used + 64;
}

static void fill(const Source *s, const LlamaShape *c, int q8, LlamaWeights *w, void *mem)
{
    Carve cv = {(uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u), 0};
    walk(s, c->layers, widest(c), q8, w, &cv);
}

size_t llama_weights_bytes_l2c(const Llama2cFile *f, int q8)
{
    Source s = {f, 0, 0};
    LlamaShape c = shape_l2c(f);
    return count(&s, &c, q8);
}

size_t llama_weights_bytes_gguf(const GgufFile *f, const LlamaConfig *g, int q8)
{
    Source s = {0, f, g};
    LlamaShape c = shape_gguf(g);
    return count(&s, &c, q8);
}

void llama_weights_l2c(const Llama2cFile *f, int q8, LlamaShape *c, LlamaWeights *w, void *mem)
{
    Source s = {f, 0, 0};
    *c = shape_l2c(f);
    fill(&s, c, q8, w, mem);
}

void llama_weights_gguf(const GgufFile *f, const LlamaConfig *g, int q8, LlamaShape *c, LlamaWeights *w, void *mem)
{
    Source s = {0, f, g};
    *c = shape_gguf(g);
    fill(&s, c, q8, w, mem);
}
