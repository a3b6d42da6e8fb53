/* gguf_llama.c - llama and qwen2 hyper-parameters and tensors from a GGUF file (gguf_llama.h). The keys and
 * tensor names are llama.cpp's (LLM_KV_* and LLM_TENSOR_* for LLM_ARCH_LLAMA / LLM_ARCH_QWEN2). */
#include "gguf_llama.h"
#include "dequant.h"
#include "../ecmath.h"

static const char *const layer_names[GL_COUNT] = {
    "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_norm.weight",
    "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
};

const char *gguf_layer_tensor_name(int which) { return which >= 0 && which < GL_COUNT ? layer_names[which] : "?"; }

const char *gguf_arch_name(uint32_t arch)
{
    return arch == GGUF_ARCH_LLAMA ? "llama" : arch == GGUF_ARCH_QWEN2 ? "qwen2" : "?";
}

const GgufTensor *gguf_layer_tensor(const GgufFile *f, uint32_t layer, int which)
{
    char name[96] = "blk.";
    ec_str_append_u64(name, sizeof name, layer);
    ec_str_append(name, sizeof name, ".");
    ec_str_append(name, sizeof name, gguf_layer_tensor_name(which));
    return gguf_find_tensor(f, name);
}

/* ---- the error line */

typedef struct {
    char *buf;
    size_t cap;
} Msg;

static GgufError fail(Msg *m, GgufError e, const char *detail)
{
    if (m->buf && m->cap) {
        m->buf[0] = 0;
        ec_str_append(m->buf, m->cap, gguf_error_string(e));
        ec_str_append(m->buf, m->cap, detail);
    }
    return e;
}

static void say(Msg *m, const char *s) { ec_str_append(m->buf, m->cap, s); }
static void say_u64(Msg *m, uint64_t v) { ec_str_append_u64(m->buf, m->cap, v); }

/* "<arch>.<suffix>" */
static void arch_key(char *out, size_t cap, uint32_t arch, const char *suffix)
{
    out[0] = 0;
    ec_str_append(out, cap, gguf_arch_name(arch));
    ec_str_append(out, cap, ".");
    ec_str_append(out, cap, suffix);
}

/* A u32 hyper-parameter in lo..hi. Absent: *v = def when optional (def != 0), else an error. */
static GgufError get_u32(const GgufFile *f, uint32_t arch, const char *suffix, uint32_t def, uint32_t lo,
                         uint32_t hi, uint32_t *v, Msg *m)
{
    char key[96];
    arch_key(key, sizeof key, arch, suffix);
    const GgufKV *kv = gguf_find_kv(f, key);
    if (!kv && def) {
        *v = def;
        return GGUF_OK;
    }
    if (!kv) {
        fail(m, GGUF_ERR_HPARAM, ": ");
        say(m, key);
        say(m, " is missing");
        return GGUF_ERR_HPARAM;
    }
    if (!gguf_get_u32(f, key, v)) {
        fail(m, GGUF_ERR_KEY_TYPE, ": ");
        say(m, key);
        say(m, " must be u32");
        return GGUF_ERR_KEY_TYPE;
    }
    if (*v < lo || *v > hi) {
        fail(m, GGUF_ERR_HPARAM, ": ");
        say(m, key);
        say(m, " is ");
        say_u64(m, *v);
        say(m, ", outside ");
        say_u64(m, lo);
        say(m, "..");
        say_u64(m, hi);
        return GGUF_ERR_HPARAM;
    }
    return GGUF_OK;
}

/* A positive finite f32 below `below`; absent: *v = def when def > 0, else an error. */
static GgufError get_f32(const GgufFile *f, uint32_t arch, const char *suffix, float def, float below, float *v,
                         Msg *m)
{
    char key[96];
    arch_key(key, sizeof key, arch, suffix);
    const GgufKV *kv = gguf_find_kv(f, key);
    if (!kv && def > 0) {
        *v = def;
        return GGUF_OK;
    }
    if (!kv || !gguf_get_f32(f, key, v)) {
        fail(m, kv ? GGUF_ERR_KEY_TYPE : GGUF_ERR_HPARAM, ": ");
        say(m, key);
        say(m, kv ? " must be f32" : " is missing");
        return kv ? GGUF_ERR_KEY_TYPE : GGUF_ERR_HPARAM;
    }
    if (!(*v > 0.0f && *v < below)) { /* also false for NaN */
        fail(m, GGUF_ERR_HPARAM, ": ");
        say(m, key);
        say(m, " must be positive and finite");
        return GGUF_ERR_HPARAM;
    }
    return GGUF_OK;
}

/* The tensor exists, has exactly the shape (ne0[, ne1]) and a type dq_row decodes. */
static GgufError need_tensor(const GgufTensor *t, const char *name, int layer, uint64_t ne0, uint64_t ne1,
                             const GgufTensor **out, Msg *m)
{
    GgufError e = GGUF_OK;
    if (!t)
        e = GGUF_ERR_TENSOR_MISSING;
    else if (t->n_dims != (ne1 ? 2u : 1u) || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1))
        e = GGUF_ERR_TENSOR_SHAPE;
    else if (!dq_type(t->type)->can_dequant)
        e = GGUF_ERR_UNSUPPORTED;
    if (e == GGUF_OK) {
        if (out)
            *out = t;
        return GGUF_OK;
    }
    fail(m, e, ": ");
    if (layer >= 0) {
        say(m, "blk.");
        say_u64(m, (uint64_t)layer);
        say(m, ".");
    }
    say(m, name);
    if (e == GGUF_ERR_UNSUPPORTED) {
        say(m, " is ");
        say(m, dq_type(t->type)->name);
        say(m, "; this build dequantises F32, F16, Q8_0, Q4_0, Q4_K and Q6_K");
    } else if (e == GGUF_ERR_TENSOR_SHAPE) {
        say(m, " has shape (");
        for (uint32_t d = 0; d < t->n_dims; d++) {
            if (d)
                say(m, ", ");
            say_u64(m, t->ne[d]);
        }
        say(m, "), the hyper-parameters say (");
        say_u64(m, ne0);
        if (ne1) {
            say(m, ", ");
            say_u64(m, ne1);
        }
        say(m, ")");
    }
    return e;
}

static GgufError check_tensors(const GgufFile *f, LlamaConfig *c, Msg *m)
{
    uint64_t C = c->dim, H = c->hidden, V = c->vocab, q = (uint64_t)c->heads * c->head_dim,
             kv = (uint64_t)c->kv_heads * c->head_dim;
    /* (ne0, ne1) of each per-layer tensor; ne1 == 0 for vectors */
    const uint64_t shape[GL_COUNT][2] = {
        [GL_ATTN_NORM] = {C, 0}, [GL_ATTN_Q] = {C, q},      [GL_ATTN_K] = {C, kv},   [GL_ATTN_V] = {C, kv},
        [GL_ATTN_OUTPUT] = {q, C}, [GL_FFN_NORM] = {C, 0}, [GL_FFN_GATE] = {C, H},  [GL_FFN_UP] = {C, H},
        [GL_FFN_DOWN] = {H, C},  [GL_Q_BIAS] = {q, 0},     [GL_K_BIAS] = {kv, 0},   [GL_V_BIAS] = {kv, 0},
    };
    GgufError e;
    if ((e = need_tensor(gguf_find_tensor(f, "token_embd.weight"), "token_embd.weight", -1, C, V,
                         &c->token_embd, m)) ||
        (e = need_tensor(gguf_find_tensor(f, "output_norm.weight"), "output_norm.weight", -1, C, 0,
                         &c->output_norm, m)))
        return e;
    const GgufTensor *out = gguf_find_tensor(f, "output.weight");
    c->tied_output = out == NULL;
    c->output = c->token_embd;
    if (out && (e = need_tensor(out, "output.weight", -1, C, V, &c->output, m)))
        return e;
    int n = c->has_qkv_bias ? GL_COUNT : GL_Q_BIAS;
    for (uint32_t l = 0; l < c->layers; l++)
        for (int w = 0; w < n; w++)
            if ((e = need_tensor(gguf_layer_tensor(f, l, w), layer_names[w], (int)l, shape[w][0], shape[w][1],
                                 NULL, m)))
                return e;
    return GGUF_OK;
}

/* The vocabulary's companions agree with it: one score and one type per token, special ids inside it. */
static GgufError check_tokenizer(const GgufFile *f, uint32_t vocab, Msg *m)
{
    static const char *const arrays[] = {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"};
    static const char *const ids[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                      "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"};
    for (int i = 0; i < 2; i++) {
        uint32_t elem;
        uint64_t n;
        if (gguf_get_array(f, arrays[i], &elem, &n) && n != vocab) {
            fail(m, GGUF_ERR_HPARAM, ": ");
            say(m, arrays[i]);
            say(m, " holds ");
            say_u64(m, n);
            say(m, " entries for ");
            say_u64(m, vocab);
            say(m, " tokens");
            return GGUF_ERR_HPARAM;
        }
    }
    for (int i = 0; i < 4; i++) {
        uint32_t id;
        if (gguf_get_u32(f, ids[i], &id) && id >= vocab) {
            fail(m, GGUF_ERR_HPARAM, ": ");
            say(m, ids[i]);
            say(m, " is ");
            say_u64(m, id);
            say(m, ", past the vocabulary of ");
            say_u64(m, vocab);
            return GGUF_ERR_HPARAM;
        }
    }
    return GGUF_OK;
}

GgufError gguf_llama_config(const GgufFile *f, LlamaConfig *c, char *msg, size_t cap)
{
    Msg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(c, 0, sizeof *c);
    GgufStr arch;
    if (!gguf_get_str(f, "general.architecture", &arch))
        return fail(&m, GGUF_ERR_ARCH, ": general.architecture is missing");
    if (gguf_str_eq(arch, "llama")) {
        c->arch = GGUF_ARCH_LLAMA;
    } else if (gguf_str_eq(arch, "qwen2")) {
        c->arch = GGUF_ARCH_QWEN2;
        c->has_qkv_bias = 1;
    } else {
        fail(&m, GGUF_ERR_ARCH, ": this build runs llama and qwen2, the file is ");
        char tmp[40];
        uint64_t i = 0;
        for (; i < arch.len && i < sizeof tmp - 1; i++)
            tmp[i] = arch.ptr[i] >= 32 && arch.ptr[i] < 127 ? arch.ptr[i] : '?';
        tmp[i] = 0;
        say(&m, tmp);
        return GGUF_ERR_ARCH;
    }
    GgufError e;
    uint32_t a = c->arch, key_len = 0, rope_dims = 0;
    if ((e = get_u32(f, a, "embedding_length", 0, 1, LLAMA_MAX_DIM, &c->dim, &m)) ||
        (e = get_u32(f, a, "block_count", 0, 1, LLAMA_MAX_LAYERS, &c->layers, &m)) ||
        (e = get_u32(f, a, "feed_forward_length", 0, 1, LLAMA_MAX_HIDDEN, &c->hidden, &m)) ||
        (e = get_u32(f, a, "context_length", 0, 1, UINT32_MAX, &c->ctx, &m)) ||
        (e = get_u32(f, a, "attention.head_count", 0, 1, LLAMA_MAX_HEADS, &c->heads, &m)) ||
        (e = get_u32(f, a, "attention.head_count_kv", c->heads, 1, c->heads, &c->kv_heads, &m)) ||
        (e = get_u32(f, a, "attention.key_length", UINT32_MAX, 1, LLAMA_MAX_DIM, &key_len, &m)) ||
        (e = get_f32(f, a, "rope.freq_base", 10000.0f, 1e30f, &c->rope_base, &m)) ||
        (e = get_f32(f, a, "attention.layer_norm_rms_epsilon", 0.0f, 1.0f, &c->rms_eps, &m)))
        return e;
    if (c->heads % c->kv_heads) {
        fail(&m, GGUF_ERR_HPARAM, ": head_count ");
        say_u64(&m, c->heads);
        say(&m, " is not a multiple of head_count_kv ");
        say_u64(&m, c->kv_heads);
        return GGUF_ERR_HPARAM;
    }
    if (key_len == UINT32_MAX && c->dim % c->heads) {
        fail(&m, GGUF_ERR_HPARAM, ": embedding_length ");
        say_u64(&m, c->dim);
        say(&m, " is not a multiple of head_count ");
        say_u64(&m, c->heads);
        return GGUF_ERR_HPARAM;
    }
    c->head_dim = key_len != UINT32_MAX ? key_len : c->dim / c->heads;
    uint32_t value_len;
    if ((e = get_u32(f, a, "attention.value_length", c->head_dim, c->head_dim, c->head_dim, &value_len, &m)) ||
        (e = get_u32(f, a, "rope.dimension_count", c->head_dim, c->head_dim, c->head_dim, &rope_dims, &m)))
        return e; /* partial rotary embeddings and value heads of another width are not run yet */
    if (c->head_dim % 2 || (uint64_t)c->heads * c->head_dim > LLAMA_MAX_DIM * 4ull) {
        fail(&m, GGUF_ERR_HPARAM, ": the head width ");
        say_u64(&m, c->head_dim);
        say(&m, " must be even, and heads x width at most 262144");
        return GGUF_ERR_HPARAM;
    }
    uint32_t elem;
    uint64_t count;
    if (!gguf_get_array(f, "tokenizer.ggml.tokens", &elem, &count))
        return fail(&m, GGUF_ERR_HPARAM, ": tokenizer.ggml.tokens (the vocabulary) is missing");
    if (count < 1 || count > LLAMA_MAX_VOCAB) {
        fail(&m, GGUF_ERR_HPARAM, ": tokenizer.ggml.tokens holds ");
        say_u64(&m, count);
        say(&m, " tokens, outside 1..16777216");
        return GGUF_ERR_HPARAM;
    }
    c->vocab = (uint32_t)count;
    uint32_t vocab_key; /* some converters also write <arch>.vocab_size: it must agree */
    if ((e = get_u32(f, a, "vocab_size", c->vocab, c->vocab, c->vocab, &vocab_key, &m)) ||
        (e = check_tokenizer(f, c->vocab, &m)))
        return e;
    return check_tensors(f, c, &m);
}
