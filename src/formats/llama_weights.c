/* llama_weights.c - llama2.c and GGUF files to the Llama family's shape and float32 weights (llama_weights.h).
 * The byte count and the fill walk the tensors with the same decision (in place or dequantised), so they agree. */
#include "llama_weights.h"
#include "dequant.h"
#include "../ecmath.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

/* A cursor over the caller's block: every piece starts on a 64-byte boundary. */
typedef struct {
    uint8_t *p; /* NULL: only count */
    size_t used;
} Carve;

static void *carve(Carve *cv, size_t bytes)
{
    void *at = cv->p ? cv->p + cv->used : 0;
    cv->used += ALIGN64(bytes);
    return at;
}

static LlamaLayer *carve_layers(Carve *cv, uint32_t layers)
{
    LlamaLayer *t = carve(cv, (size_t)layers * sizeof(LlamaLayer));
    if (t)
        ec_memset(t, 0, (size_t)layers * sizeof(LlamaLayer));
    return t;
}

// ----------------------------------------------------------------------------
// llama2.c

/* One tensor as floats: in place when float32 and 4-byte aligned, else dequantised (value * scale of its group, one
 * rounding, as runq.c's dequantize) or copied into the block. NULL while counting. */
static const float *l2c_floats(const Llama2cFile *f, int which, uint32_t layer, Carve *cv)
{
    L2cView v;
    if (!l2c_tensor(f, which, layer, &v))
        return 0;
    size_t n = (size_t)(v.rows * v.cols);
    if (!v.scales && !((uintptr_t)v.data & 3u))
        return (const float *)(const void *)v.data;
    float *out = carve(cv, n * sizeof(float));
    if (!out)
        return 0;
    if (!v.scales) {
        ec_memcpy(out, v.data, n * sizeof(float));
        return out;
    }
    for (size_t i = 0; i < n; i++) {
        float s;
        ec_memcpy(&s, v.scales + (i / f->group_size) * sizeof(float), sizeof s);
        out[i] = (float)(int8_t)v.data[i] * s;
    }
    return out;
}

static void l2c_walk(const Llama2cFile *f, LlamaWeights *w, Carve *cv)
{
    LlamaLayer *t = carve_layers(cv, f->layers);
    w->layer = t;
    w->embed = l2c_floats(f, L2C_TOKEN_EMBD, 0, cv);
    w->out_norm = l2c_floats(f, L2C_RMS_FINAL, 0, cv);
    w->output = f->shared_classifier ? w->embed : l2c_floats(f, L2C_WCLS, 0, cv);
    for (uint32_t l = 0; l < f->layers; l++) {
        LlamaLayer y = {0};
        y.attn_norm = l2c_floats(f, L2C_RMS_ATT, l, cv);
        y.wq = l2c_floats(f, L2C_WQ, l, cv);
        y.wk = l2c_floats(f, L2C_WK, l, cv);
        y.wv = l2c_floats(f, L2C_WV, l, cv);
        y.wo = l2c_floats(f, L2C_WO, l, cv);
        y.ffn_norm = l2c_floats(f, L2C_RMS_FFN, l, cv);
        y.w_gate = l2c_floats(f, L2C_W1, l, cv);
        y.w_down = l2c_floats(f, L2C_W2, l, cv);
        y.w_up = l2c_floats(f, L2C_W3, l, cv);
        if (t)
            t[l] = y;
    }
}

size_t llama_weights_bytes_l2c(const Llama2cFile *f)
{
    LlamaWeights w;
    Carve cv = {0, 0};
    l2c_walk(f, &w, &cv);
    return cv.used + 64;
}

void llama_weights_l2c(const Llama2cFile *f, LlamaShape *c, LlamaWeights *w, void *mem)
{
    Carve cv = {(uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u), 0};
    *c = (LlamaShape){f->dim, f->hidden, f->layers, f->heads, f->kv_heads, f->head_dim, f->vocab, f->seq_len,
                      10000.0f, 1e-5f, LLAMA_ROPE_ADJACENT};
    l2c_walk(f, w, &cv);
}

// ----------------------------------------------------------------------------
// GGUF

/* A tensor as floats (rows of ne[0]): in place when F32 and aligned, else each row dequantised the ggml way. */
static const float *gguf_floats(const GgufTensor *t, Carve *cv)
{
    if (!t)
        return 0;
    if (t->type == GGML_F32 && !((uintptr_t)t->data & 3u))
        return (const float *)(const void *)t->data;
    float *out = carve(cv, (size_t)t->nel * sizeof(float));
    if (!out)
        return 0;
    uint64_t row = t->ne[0], rows = t->nel / row, rb = dq_row_bytes(t->type, row);
    for (uint64_t r = 0; r < rows; r++)
        dq_row(t->type, t->data + r * rb, out + r * row, row);
    return out;
}

static void gguf_walk(const GgufFile *f, const LlamaConfig *g, LlamaWeights *w, Carve *cv)
{
    LlamaLayer *t = carve_layers(cv, g->layers);
    w->layer = t;
    w->embed = gguf_floats(g->token_embd, cv);
    w->out_norm = gguf_floats(g->output_norm, cv);
    w->output = g->tied_output ? w->embed : gguf_floats(g->output, cv);
    for (uint32_t l = 0; l < g->layers; l++) {
        LlamaLayer y = {0};
        y.attn_norm = gguf_floats(gguf_layer_tensor(f, l, GL_ATTN_NORM), cv);
        y.wq = gguf_floats(gguf_layer_tensor(f, l, GL_ATTN_Q), cv);
        y.wk = gguf_floats(gguf_layer_tensor(f, l, GL_ATTN_K), cv);
        y.wv = gguf_floats(gguf_layer_tensor(f, l, GL_ATTN_V), cv);
        y.wo = gguf_floats(gguf_layer_tensor(f, l, GL_ATTN_OUTPUT), cv);
        y.ffn_norm = gguf_floats(gguf_layer_tensor(f, l, GL_FFN_NORM), cv);
        y.w_gate = gguf_floats(gguf_layer_tensor(f, l, GL_FFN_GATE), cv);
        y.w_up = gguf_floats(gguf_layer_tensor(f, l, GL_FFN_UP), cv);
        y.w_down = gguf_floats(gguf_layer_tensor(f, l, GL_FFN_DOWN), cv);
        if (g->has_qkv_bias) {
            y.bq = gguf_floats(gguf_layer_tensor(f, l, GL_Q_BIAS), cv);
            y.bk = gguf_floats(gguf_layer_tensor(f, l, GL_K_BIAS), cv);
            y.bv = gguf_floats(gguf_layer_tensor(f, l, GL_V_BIAS), cv);
        }
        if (t)
            t[l] = y;
    }
}

size_t llama_weights_bytes_gguf(const GgufFile *f, const LlamaConfig *c)
{
    LlamaWeights w;
    Carve cv = {0, 0};
    gguf_walk(f, c, &w, &cv);
    return cv.used + 64;
}

void llama_weights_gguf(const GgufFile *f, const LlamaConfig *g, LlamaShape *c, LlamaWeights *w, void *mem)
{
    Carve cv = {(uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u), 0};
    *c = (LlamaShape){g->dim, g->hidden, g->layers, g->heads, g->kv_heads, g->head_dim, g->vocab, g->ctx,
                      g->rope_base, g->rms_eps, g->arch == GGUF_ARCH_QWEN2 ? LLAMA_ROPE_HALVES : LLAMA_ROPE_ADJACENT};
    gguf_walk(f, g, w, &cv);
}
