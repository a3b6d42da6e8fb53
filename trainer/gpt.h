/* gpt.h - the trainable GPT of docs/model-format.md: parameters (laid out exactly as the model file payload),
 * activations, gradients and AdamW state in a few allocations made by gpt_build; forward, backward and the
 * optimizer step allocate nothing. Shapes: B batch, T time, C channels, NH heads, HD hidden (MLP), V = 256. */
#ifndef EFICHAT_TRAINER_GPT_H
#define EFICHAT_TRAINER_GPT_H

#include <stdint.h>

#include "../src/modelfile.h"
#include "dropout.h"
#include "gemm.h"

typedef struct {
    float *wte;      /* (V, C) */
    float *wpe;      /* (T, C) */
    float *lnf_w;    /* (C) */
    float *lnf_b;    /* (C) */
} GptGlobals;

/* One layer's tensors inside a flat parameter (or gradient) array. */
typedef struct {
    float *ln1_w, *ln1_b;       /* (C), (C) */
    float *qkv_w, *qkv_b;       /* (3C, C), (3C) */
    float *proj_w, *proj_b;     /* (C, C), (C) */
    float *ln2_w, *ln2_b;       /* (C), (C) */
    float *fc_w, *fc_b;         /* (HD, C), (HD) */
    float *fcproj_w, *fcproj_b; /* (C, HD), (C) */
} GptLayer;

/* Activations one layer keeps for its backward pass. */
typedef struct {
    float *ln1;                  /* (B, T, C) */
    float *ln1_mean, *ln1_rstd;  /* (B, T) */
    float *qkv;                  /* (B, T, 3C) */
    float *att;                  /* (B, NH, T, T) softmax probabilities, zero above the diagonal */
    float *atty;                 /* (B, T, C) heads concatenated */
    float *res2;                 /* (B, T, C) residual after attention */
    float *ln2;                  /* (B, T, C) */
    float *ln2_mean, *ln2_rstd;  /* (B, T) */
    float *fch;                  /* (B, T, HD) pre-GELU */
    float *fch_gelu;             /* (B, T, HD) */
    float *res3;                 /* (B, T, C) residual after the MLP: the layer's output */
} GptActs;

typedef struct {
    ModelConfig cfg;
    int B, T;              /* the batch shape the buffers were built for (T <= cfg.ctx) */
    int nthreads;
    uint64_t nparams;
    float *params;         /* (nparams) in model file order */
    float *grads;          /* (nparams) */
    float *m, *v;          /* (nparams) AdamW moments */
    GptGlobals p, g;       /* views into params / grads */
    GptLayer *lp, *lg;     /* (L) views into params / grads */
    float *act_mem;
    float *x0;             /* (B, T, C) embeddings */
    GptActs *acts;         /* (L) */
    float *lnf, *lnf_mean, *lnf_rstd; /* (B, T, C), (B, T), (B, T) */
    float *logits;         /* (B, T, V) logits, then probabilities, then their gradient */
    float *losses;         /* (B, T) */
    float *dres, *dln, *dqkv, *dh; /* (B,T,C), (B,T,C), (B,T,3C), (B,T,HD): one layer's gradients, reused */
    float *ddrop;          /* (B, T, C) a residual branch's gradient through its dropout mask */
    float *scratch;        /* (nthreads, 2*hs*T + 2*T) per-thread attention scratch */
    Gemm gemm;
    Dropout drop;          /* what the last forward dropped (p = 0: nothing), for backward */
} Gpt;

/* Checks dims (the model file limits, heads | dim, B >= 1, 1 <= T <= ctx) and allocates everything.
 * Returns 0, or -1 with a message in err (out of memory or an impossible shape). Parameters start at zero. */
int gpt_build(Gpt *m, const ModelConfig *cfg, int B, int T, int nthreads, char *err, int errlen);
void gpt_free(Gpt *m);

/* GPT-2 initialisation from a seed: N(0, 0.02) matrices and embeddings, residual projections scaled by
 * 1/sqrt(2L), zero biases, unit norm weights. */
void gpt_init_params(Gpt *m, uint64_t seed);

/* Forward over inputs (b, t) with batch b <= B and t <= T; with targets, fills losses and returns the mean loss,
 * else returns 0 and leaves the logits (b, t, V) in m->logits. drop: the training step's dropout, NULL (or p = 0)
 * for none, as evaluation and sampling want; with p = 0 the forward is bit for bit the one without dropout. */
float gpt_forward(Gpt *m, const uint8_t *inputs, const uint8_t *targets, int b, int t, const Dropout *drop);
/* Backward of the last forward (which must have had targets), under the same dropout masks; gradients are
 * overwritten, not accumulated. */
void gpt_backward(Gpt *m, const uint8_t *inputs, const uint8_t *targets, int b, int t);

/* Clips the gradient to max global norm `clip` (no clipping when clip <= 0); returns the norm before clipping. */
float gpt_clip_grads(Gpt *m, float clip);
/* One AdamW step (torch semantics); step counts from 1. Decay applies to the four weight matrices only. */
void gpt_adamw(Gpt *m, float lr, float beta1, float beta2, float eps, float weight_decay, int step);

#endif
