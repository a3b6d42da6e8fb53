/* llama.h - the Llama family (llama2.c checkpoints, GGUF `llama` and `qwen2`): RMSNorm, rotary positions, SwiGLU,
 * grouped-query attention, optional q/k/v biases, tied or separate output matrix, the same never-wipe sliding window
 * as the GPT-2 family. It runs a checked description that a file reader (src/formats/) fills; it never parses a file.
 * Weights are float32 here (readers dequantise); kernels and summation order are the shared ones of kernels.h. */
#ifndef EFICHAT_LLAMA_H
#define EFICHAT_LLAMA_H

#include "model.h"

enum llama_rope {
    LLAMA_ROPE_ADJACENT = 0, /* pairs (2i, 2i+1) of a head: llama2.c and GGUF `llama` */
    LLAMA_ROPE_HALVES = 1,   /* pairs (i, i + HD/2): GGUF `qwen2` (GPT-NeoX style) */
};

typedef struct {
    uint32_t dim;      /* C */
    uint32_t hidden;   /* H, SwiGLU width */
    uint32_t layers;   /* L */
    uint32_t heads;    /* NH query heads */
    uint32_t kv_heads; /* NKV key/value heads, NH % NKV == 0 (NKV == NH: plain multi-head attention) */
    uint32_t head_dim; /* HD, even */
    uint32_t vocab;    /* V */
    uint32_t ctx;      /* T, positions in the KV cache */
    float rope_base;   /* theta_i = pos * rope_base^(-2i/HD) */
    float norm_eps;    /* RMSNorm: x / sqrt(mean(x^2) + eps) * w */
    int rope;          /* enum llama_rope */
    int tied_output;   /* the output matrix is the embedding table */
} LlamaShape;

typedef struct {
    const float *attn_norm;          /* (C) */
    const float *wq, *wk, *wv;       /* (NH*HD, C), (NKV*HD, C), (NKV*HD, C) */
    const float *bq, *bk, *bv;       /* (NH*HD), (NKV*HD), (NKV*HD); all NULL or all given */
    const float *wo;                 /* (C, NH*HD) */
    const float *ffn_norm;           /* (C) */
    const float *w_gate, *w_up;      /* (H, C) */
    const float *w_down;             /* (C, H) */
} LlamaLayer;

typedef struct {
    const float *embed;      /* (V, C) */
    const float *out_norm;   /* (C) */
    const float *output;     /* (V, C); == embed for a tied model */
    const LlamaLayer *layer; /* (L) */
    const QMatrix *q8;       /* (L * LLAMA_Q8_PER_LAYER + 1) after llama_quantize: per layer q, k, v, o, gate, up,
                                down, then the output matrix; NULL: the float kernels only */
    const QMatrix *embed_q8; /* (V, C) the embedding rows Q8 reads (value * scale): the output's copy when tied */
} LlamaWeights;

enum { LQ_Q, LQ_K, LQ_V, LQ_O, LQ_GATE, LQ_UP, LQ_DOWN, LLAMA_Q8_PER_LAYER };

typedef struct {
    int kernel;         /* KERNEL_SCALAR_SSE2 or KERNEL_AVX (the same bits), or KERNEL_Q8 (after llama_quantize) */
    int q8_path;        /* enum q8_path, for KERNEL_Q8: the same bits on each */
    uint8_t *xq;        /* (W, xq_stride) per part: Q8's scratch for one activation row */
    uint32_t pos;       /* tokens in the cache */
    uint32_t slides;    /* context overflows so far */
    int32_t *tokens;    /* (T) the tokens in the cache, oldest first */
    float *key_cache;   /* (L, T, NKV*HD), rotated */
    float *value_cache; /* (L, T, NKV*HD) */
    float *x, *xn;      /* (C) residual stream, normalised copy */
    float *q, *att;     /* (NH*HD) queries, attention output */
    float *gate, *up;   /* (H) */
    float *rope_cs;     /* (HD) cos, sin of each pair's angle at the current position */
    float *scores;      /* (W, scores_stride) per part: one head's attention weights */
    float *logits;      /* (V) */
    float *stage;       /* (W, stage_stride) per part when W > 1, else NULL: a part's output rows, kept private until
                         * whole (model.c's "staged" step) */
    size_t scores_stride, xq_stride, stage_stride; /* floats, bytes, floats between the parts' slots */
    size_t stage_xn;    /* floats from a stage row's start to its part's own normalised input row (C) */
    ModelParallel par;  /* workers W (model.h); one worker after llama_state_init */
} LlamaState;

/* The Q8 kernel for this family: every matrix quantised per row to int8 (q8.h), the embedding rows read back from
 * their int8 copy, activations to int8 per row, exact integer sums; attention, norms and SwiGLU stay float.
 * llama_quantize fills caller memory of llama_q8_bytes() from float weights and points w->q8 and w->embed_q8 at it;
 * 0 when a row is wider than Q8_MAX_COLS (the float kernels stay). A reader can also build the int8 copy straight
 * from a file with no float copy (src/formats/llama_weights.h); both give the same bits. */
size_t llama_q8_bytes(const LlamaShape *c);
int llama_quantize(const LlamaShape *c, LlamaWeights *w, void *mem);

/* 0 when the shape is usable (every dimension non-zero, NH % NKV == 0, HD even, sizes within 64-bit arithmetic),
 * else a one-line reason. */
const char *llama_shape_problem(const LlamaShape *c);
size_t llama_state_bytes(const LlamaShape *c);
void llama_state_init(LlamaState *s, const LlamaShape *c, void *mem, int kernel);
void llama_state_reset(LlamaState *s);
/* Work spread over workers as in the GPT family (model.h): each mat-vec by output rows in 8-row blocks, attention by
 * heads, every number computed whole by one worker, so the logits are the same bits for any count. mem holds
 * llama_parallel_bytes() (the parts' scratch); p NULL or one worker: back to the caller alone. */
size_t llama_parallel_bytes(const LlamaShape *c, unsigned workers);
void llama_state_set_parallel(LlamaState *s, const LlamaShape *c, const ModelParallel *p, void *mem);
/* Feeds n tokens (ids < V) at the cache's next positions; when the cache is full the newest T/2 tokens are encoded
 * again from position 0 first. Logits of every fed row into logits_all (n, V) if given; of the last in s->logits.
 * MODEL_ERR_NONFINITE_LOGITS when they overflowed; MODEL_ERR_TOKEN (and nothing fed) for an id >= V or < 0;
 * MODEL_ERR_UNPREPARED when the state's kernel has no weights (float kernels on int8-only weights). */
ModelError llama_feed(const LlamaShape *c, const LlamaWeights *w, LlamaState *s, const int32_t *tokens, size_t n,
                      float *logits_all);

#endif
