/* model.h - the efichat transformer: GPT-2 style, bytes in, logits out, with a KV cache.
 * The core is handed memory, never files: model_load() checks a file image that lives in memory, the run state
 * lives in one caller-provided block. No libc, no globals, no exits: every failure is an error code. */
#ifndef EFICHAT_MODEL_H
#define EFICHAT_MODEL_H

#include "platform.h"
#include "modelfile.h"

typedef enum {
    MODEL_OK = 0,
    MODEL_ERR_NULL,          /* no bytes given */
    MODEL_ERR_ALIGN,         /* the file image is not 4-byte aligned in memory */
    MODEL_ERR_TOO_SHORT,     /* shorter than the 128-byte header */
    MODEL_ERR_MAGIC,         /* not an efichat model */
    MODEL_ERR_VERSION,       /* written by a newer (or unknown) format version */
    MODEL_ERR_HEADER_SIZE,   /* header length field is not 128 */
    MODEL_ERR_DTYPE,         /* tensor dtype unknown or not implemented */
    MODEL_ERR_VOCAB,         /* vocabulary is not 256 */
    MODEL_ERR_ZERO_DIM,      /* a dimension is zero */
    MODEL_ERR_DIM_TOO_LARGE, /* a dimension is past the format's limits */
    MODEL_ERR_HEADS,         /* heads do not divide the width */
    MODEL_ERR_NAME,          /* model name is not NUL-terminated */
    MODEL_ERR_RESERVED,      /* a reserved header field is not zero */
    MODEL_ERR_PAYLOAD_SIZE,  /* payload length does not match the dims */
    MODEL_ERR_NO_PAYLOAD,    /* header only */
    MODEL_ERR_TRUNCATED,     /* payload cut short */
    MODEL_ERR_TRAILING,      /* bytes after the payload */
    MODEL_ERR_CHECKSUM,      /* payload CRC-32 mismatch */
    MODEL_ERR_NONFINITE,     /* NaN or Inf in a weight */
    MODEL_ERR_NONFINITE_LOGITS, /* finite weights, but the forward pass overflowed to NaN or Inf (model_feed) */
    MODEL_ERR_INT8_VALUE,    /* version 2: an int8 weight is -128 or a row scale is negative */
    MODEL_ERR_PADDING,       /* version 2: a padding byte after an int8 matrix is not zero */
    MODEL_ERR_UNPREPARED,    /* model_feed on an int8 model whose kernel has no weights (model_dequantize/quantize) */
    MODEL_ERR_TOKEN,         /* a token id past the vocabulary (llama_feed) */
    MODEL_ERR_COUNT
} ModelError;

/* A short sentence for each error ("payload checksum mismatch: the file is corrupt"). */
const char *model_error_string(ModelError err);

/* Pointers into the caller's file image (and, for a version 2 file's float kernels, into the dequantised copy);
 * per-layer entries point at layer 0, layer l of tensor t starts l * w_stride[t] floats later. */
typedef struct {
    const float *w[MF_TENSOR_COUNT];      /* float tensors; NULL for a v2 int8 matrix until model_dequantize */
    uint64_t w_stride[MF_TENSOR_COUNT];   /* floats between layer l and l+1 of w[t] */
    const int8_t *q[MF_TENSOR_COUNT];     /* v2 only: int8 matrices (rows, cols) in the file, else NULL */
    const float *qscale[MF_TENSOR_COUNT]; /* v2 only: their row scales (rows) */
    uint64_t layer_stride;                /* 4-byte words between layer l and l+1 in the file (one float in v1) */
} ModelWeights;

/* A weight matrix quantised for the Q8 kernel (q8.h): int8 values (-127..127), one float scale per row, rows
 * padded with zero columns to a multiple of 64, and each row's sum of values. */
typedef struct {
    const int8_t *w;     /* (rows, stride) */
    const float *scale;  /* (rows) */
    const int32_t *wsum; /* (rows) */
    uint32_t rows, cols, stride;
} QMatrix;

enum { Q8_QKV, Q8_PROJ, Q8_FC, Q8_FCPROJ, Q8_PER_LAYER };

typedef struct {
    ModelConfig cfg;
    ModelWeights wt;
    const QMatrix *q8; /* (L * Q8_PER_LAYER + 1): per layer qkv, proj, fc, fcproj, then the head; NULL: none */
} Model;

/* Validates the whole image against `len` (header, sizes, checksum, finiteness, int8 ranges and padding) and
 * points `m` into it. Versions 1 (float32) and 2 (int8 matrices) load; see docs/model-format.md.
 * On failure writes a one-line reason (with numbers) into msg (msg_len bytes, NUL-terminated) when msg != NULL. */
ModelError model_load(Model *m, const void *bytes, size_t len, char *msg, size_t msg_len);

enum model_kernel { KERNEL_SCALAR_SSE2 = 0, KERNEL_AVX = 1, KERNEL_Q8 = 2 };
/* The fastest kernel this CPU runs right now (AVX needs CPUID AVX + OSXSAVE + XCR0 YMM state enabled).
 * The float kernels give bit-identical results: AVX only widens the SSE2 lanes, never reorders a sum or fuses.
 * KERNEL_Q8 is never picked here: it computes different (slightly less exact) numbers, so callers choose it. */
int model_best_kernel(void);

/* The Q8 kernel: matrices quantised once (per-row int8 weights), activations per row to int8, integer
 * dot products (exact, so every build agrees); attention on int8 keys and values cached per position and head, its
 * two sums in integers too (q8.h, q8_attend); float everywhere else. About 10x faster than float under QEMU's
 * software CPU and lighter on memory natively, at a small cost in accuracy (tests/core/test_q8.py measures it).
 * model_quantize() fills caller memory of model_q8_bytes() bytes and points m->q8 at it; it returns 0 when the
 * model is too wide for 32-bit integer sums (an input width above 4096), and then the float kernels stay in use. */
#define Q8_MAX_COLS 4096u
size_t model_q8_bytes(const ModelConfig *c);
int model_quantize(Model *m, void *mem);

/* The Q8 kernel's GELU, in place (gelu.c: the float GELU tabulated on a 1/512 grid over [-8, 8]); valid once any
 * model_quantize has run. */
void model_gelu_q8(float *h, int n);
/* The same numbers in 16 lanes (AVX-512 gathers from the table): only where the Q8 path is VNNI. */
void model_gelu_q8_avx512(float *h, int n);
/* And in 8 lanes (AVX2 gathers): where the Q8 path is AVX2 (a real CPU; under TCG a gather is a helper call). */
void model_gelu_q8_avx2(float *h, int n);

/* A version 2 file's matrices are int8: the Q8 kernel widens them straight from the file (model_quantize, no float
 * copy, the same bits as quantising the float file they came from); the float kernels need them as floats,
 * w = (float)q * scale rounded once, which model_dequantize() writes into caller memory of model_dequant_bytes()
 * bytes (0 for a version 1 file: nothing to do). Until one of the two ran, model_feed answers MODEL_ERR_UNPREPARED
 * for the kernels that lack weights. */
size_t model_dequant_bytes(const ModelConfig *c);
void model_dequantize(Model *m, void *mem);

#define MODEL_PREFILL_CHUNK 64 /* prompt tokens pushed through the weights together */

/* Work spread over workers (host threads, UEFI application processors), given by the platform: run(ctx, task, arg,
 * n) calls task(arg, w, n) exactly once for every part w < n and returns when all have returned; parts may run on
 * any worker, the caller's thread included, at the same time or one after another (part w uses scratch slot w, so
 * two parts never share one). The core splits each mat-vec by output rows (chunks of whole 8-row blocks), and the
 * q/k/v rows with attention by heads; every number is computed whole by one worker in the canonical order and no
 * sum ever crosses workers, so the logits are the same bits for any worker count. */
typedef void (*model_task)(void *arg, unsigned part, unsigned nparts);
/* A task in phases: phase k's parts may read what every part of phases before k wrote. */
typedef void (*model_phase_task)(void *arg, unsigned phase, unsigned part, unsigned nparts);
/* Optional beside a phase task: phase k reads bytes[k % period] bytes at at[k % period] that other parts wrote.
 * A worker waiting for phase k - 1 to end asks for those cache lines (a prefetch, which neither faults nor reads
 * them as numbers), so they come with the news that the phase ended instead of one round trip after it. Only
 * addresses: a worker late for a call may still be using a call's copy when the memory is gone, which is harmless. */
#define MODEL_PHASE_INPUTS 4
typedef struct {
    const void *at[MODEL_PHASE_INPUTS];
    uint32_t bytes[MODEL_PHASE_INPUTS];
    unsigned period; /* 1 .. MODEL_PHASE_INPUTS */
} ModelPhaseInputs;
typedef struct {
    void (*run)(void *ctx, model_task task, void *arg, unsigned n); /* NULL: everything on the caller */
    void *ctx;
    unsigned workers; /* n passed to run (one part per worker), >= 1 */
    /* Optional (NULL: one run per phase). For k = 0 .. phases - 1 in order, task(arg, k, w, n) exactly once for
     * every part w < n, every part of phase k returning before any part of phase k + 1 starts, on any worker as
     * with run. One call instead of one per phase: the workers stay in it, so a phase costs the barrier alone.
     * in (may be NULL): see ModelPhaseInputs. */
    void (*run_phases)(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                       const ModelPhaseInputs *in);
} ModelParallel;

/* Runs task's parts on p's workers, or on the caller alone as one part (p NULL, no run, or one worker). */
void model_parallel_run(const ModelParallel *p, model_task task, void *arg);
/* Runs phase `phase` alone of a phase task on p's workers, as model_parallel_run. */
void model_parallel_phase(const ModelParallel *p, model_phase_task task, void *arg, unsigned phase);
/* Runs task's phases on p's workers (run_phases, else one run per phase), or on the caller alone as one part. */
void model_parallel_phases(const ModelParallel *p, model_phase_task task, void *arg, unsigned phases,
                           const ModelPhaseInputs *in);
/* Part w's share [*lo, *hi) of n items in whole blocks of `block` (only the last block may be short). */
void model_share(unsigned w, unsigned nw, uint32_t n, uint32_t block, uint32_t *lo, uint32_t *hi);

/* The run state: KV cache, activations, the tokens in the cache. One block from the caller. */
typedef struct {
    int kernel;
    int q8_path;           /* how the Q8 kernel sums (enum q8_path: SSE2, AVX2, VNNI; same results) */
    int avx2;              /* AVX2 runs here: element-wise math (GELU) 8 lanes at a time beside AVX kernels */
    uint32_t pos;          /* tokens currently in the cache */
    uint32_t slides;       /* how often the context overflowed (for the UI and tests) */
    int32_t *tokens;       /* (T) the tokens in the cache, oldest first */
    float *key_cache;      /* (L, T, C); under Q8 layer l's block holds int8 keys in int32 slots, transposed (C, T) */
    float *value_cache;    /* (L, T, C); under Q8 layer l's block holds int8 values in int32 slots (T, C) (q8.h) */
    float *kscale, *vscale; /* (L, NH, T) under Q8: the cached keys' and values' scales, per head and position */
    float *x;              /* (P, C) residual stream, P = MODEL_PREFILL_CHUNK */
    float *xn;             /* (P, C) normalised input of a sublayer */
    float *qkv;            /* (P, 3C) */
    float *att_out;        /* (P, C) attention output before projection */
    float *hid;            /* (P, H) MLP hidden */
    float *scores;         /* (W, scores_stride) per part: attention weights of one query and head (T) */
    uint8_t *xq;           /* (W, xq_stride) per part: Q8's scratch for P activation rows (q8_scratch_bytes) */
    float *stage;          /* (W, stage_stride) per part when W > 1, else NULL: a one-token step's outputs, kept
                            * private until whole (model.c, "staged") */
    size_t scores_stride, xq_stride, stage_stride;
    size_t stage_xn;       /* floats from a stage row's start to its part's own normalised input row (C) */
    ModelPhaseInputs phase_in; /* what phase k of a one-token step (4 per layer) reads that other parts wrote */
    float *logits;         /* (V) logits after the last token fed */
    ModelParallel par;     /* workers = W; one worker (par.run NULL) after model_state_init */
} RunState;

/* Sets s->q8_path to the path that runs layer 0's MLP up-projection fastest by ticks() (q8_fastest_path; xn, hid
 * and xq serve as its buffers) and returns it. The numbers are the same on every path; only speed differs: under
 * QEMU's TCG the CPUID-best path is not the fastest. Needs m->q8 (model_quantize); without it nothing changes. */
int model_pick_q8_path(const Model *m, RunState *s, uint64_t (*ticks)(void));

/* Bytes the caller must hand to model_state_init for this config (includes 64 bytes of alignment slack). */
size_t model_state_bytes(const ModelConfig *c);
void model_state_init(RunState *s, const ModelConfig *c, void *mem, int kernel);
/* Spreads the work over p->workers workers from now on. Each needs its own scratch: mem holds
 * model_parallel_bytes(c, p->workers) bytes and must outlive the state's use (a NULL p, or one worker, goes back to
 * the state's own scratch, mem unused). */
size_t model_parallel_bytes(const ModelConfig *c, unsigned workers);
void model_state_set_parallel(RunState *s, const ModelConfig *c, const ModelParallel *p, void *mem);
/* Empty the context (new conversation). */
void model_state_reset(RunState *s);

/* Feeds n tokens (each < 256) after those already in the cache and leaves the logits of the last one in
 * s->logits. When the cache is full, the oldest tokens are dropped so that the newest T/2 stay; these are
 * re-encoded from position 0, and feeding goes on: generation never stops and never wipes the context.
 * If logits_all != NULL it receives (n, V) logits, one row per fed token (used by eval and tests).
 * Returns MODEL_ERR_NONFINITE_LOGITS when a logit it computed is NaN or Inf: finite weights can still be large
 * enough to overflow float32 (docs/model-format.md); the caller must not sample from them, and should stop. */
ModelError model_feed(const Model *m, RunState *s, const int32_t *tokens, size_t n, float *logits_all);

#endif
