/* gguf_llama.h - a Llama-family model (architectures llama and qwen2) described by a GGUF file: its
 * hyper-parameters checked against each other and every tensor the forward pass will need checked for presence,
 * shape and a type this build can dequantise. It reads a GgufFile that gguf_open accepted; it runs nothing. */
#ifndef EFICHAT_GGUF_LLAMA_H
#define EFICHAT_GGUF_LLAMA_H

#include "gguf.h"

enum gguf_arch { GGUF_ARCH_LLAMA = 1, GGUF_ARCH_QWEN2 = 2 };

/* Per-layer tensors, named blk.<layer>.<name> in the file. Shapes in ggml order (row length first). */
enum gguf_layer_tensor {
    GL_ATTN_NORM,   /* attn_norm.weight   (C) */
    GL_ATTN_Q,      /* attn_q.weight      (C, NH*HD) */
    GL_ATTN_K,      /* attn_k.weight      (C, NKV*HD) */
    GL_ATTN_V,      /* attn_v.weight      (C, NKV*HD) */
    GL_ATTN_OUTPUT, /* attn_output.weight (NH*HD, C) */
    GL_FFN_NORM,    /* ffn_norm.weight    (C) */
    GL_FFN_GATE,    /* ffn_gate.weight    (C, H) */
    GL_FFN_UP,      /* ffn_up.weight      (C, H) */
    GL_FFN_DOWN,    /* ffn_down.weight    (H, C) */
    GL_Q_BIAS,      /* attn_q.bias        (NH*HD), qwen2 only */
    GL_K_BIAS,      /* attn_k.bias        (NKV*HD), qwen2 only */
    GL_V_BIAS,      /* attn_v.bias        (NKV*HD), qwen2 only */
    GL_COUNT
};

typedef struct {
    uint32_t arch;      /* enum gguf_arch */
    uint32_t dim;       /* C, <arch>.embedding_length */
    uint32_t hidden;    /* H, <arch>.feed_forward_length */
    uint32_t layers;    /* L, <arch>.block_count */
    uint32_t heads;     /* NH, <arch>.attention.head_count */
    uint32_t kv_heads;  /* NKV, <arch>.attention.head_count_kv (default NH); NH % NKV == 0 */
    uint32_t head_dim;  /* HD, <arch>.attention.key_length, else C / NH; even (RoPE rotates pairs) */
    uint32_t vocab;     /* V, the length of tokenizer.ggml.tokens */
    uint32_t ctx;       /* <arch>.context_length, the longest context the model was trained for */
    float rope_base;    /* <arch>.rope.freq_base (default 10000) */
    float rms_eps;      /* <arch>.attention.layer_norm_rms_epsilon */
    int has_qkv_bias;   /* qwen2: q, k and v carry biases */
    int tied_output;    /* no output.weight: the logits reuse token_embd.weight */
    const GgufTensor *token_embd;  /* (C, V) */
    const GgufTensor *output_norm; /* (C) */
    const GgufTensor *output;      /* (C, V); token_embd when tied */
} LlamaConfig;

#define LLAMA_MAX_DIM 65536u
#define LLAMA_MAX_LAYERS 1024u
#define LLAMA_MAX_HEADS 1024u
#define LLAMA_MAX_HIDDEN (1u << 20)
#define LLAMA_MAX_VOCAB (1u << 24)

/* Fills c from f or says in msg why the file is not a model this build can run. */
GgufError gguf_llama_config(const GgufFile *f, LlamaConfig *c, char *msg, size_t cap);
/* blk.<layer>.<name>; NULL when absent (a checked config guarantees the ones its architecture needs). */
const GgufTensor *gguf_layer_tensor(const GgufFile *f, uint32_t layer, int which);
const char *gguf_layer_tensor_name(int which); /* "attn_q.weight" */
const char *gguf_arch_name(uint32_t arch);

#endif
