/* model.c - loads and runs the efichat transformer (GPT-2 style, bytes in, logits out) with a KV cache.
 * Shapes: T context, C width, NH heads, hs = C/NH head size, H MLP width, V = 256, P prefill chunk.
 * It never allocates, never touches files, never exits: the caller hands in the file image and the state memory.
 * The int8 and float copies of the matrices the kernels run on are modelq8.c. */
#include "model.h"
#include "kernels.h"
#include "ecmath.h"
#include "q8.h"
#include "gelu.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

// ----------------------------------------------------------------------------
// loading and validation

static const char *const error_strings[MODEL_ERR_COUNT] = {
    [MODEL_OK] = "ok",
    [MODEL_ERR_NULL] = "no model data",
    [MODEL_ERR_ALIGN] = "model data is not 4-byte aligned in memory",
    [MODEL_ERR_TOO_SHORT] = "file is shorter than the 128-byte model header",
    [MODEL_ERR_MAGIC] = "not an efichat model (bad magic)",
    [MODEL_ERR_VERSION] = "model format version not supported",
    [MODEL_ERR_HEADER_SIZE] = "model header size is not 128",
    [MODEL_ERR_DTYPE] = "tensor type not supported",
    [MODEL_ERR_VOCAB] = "vocabulary size is not 256",
    [MODEL_ERR_ZERO_DIM] = "a model dimension is zero",
    [MODEL_ERR_DIM_TOO_LARGE] = "a model dimension is too large",
    [MODEL_ERR_HEADS] = "number of heads does not divide the model width",
    [MODEL_ERR_NAME] = "model name is not terminated",
    [MODEL_ERR_RESERVED] = "reserved header bytes are not zero",
    [MODEL_ERR_PAYLOAD_SIZE] = "payload length in the header does not match the dimensions",
    [MODEL_ERR_NO_PAYLOAD] = "file holds a header but no weights",
    [MODEL_ERR_TRUNCATED] = "file is truncated",
    [MODEL_ERR_TRAILING] = "unexpected bytes after the weights",
    [MODEL_ERR_CHECKSUM] = "payload checksum mismatch: the file is corrupt",
    [MODEL_ERR_NONFINITE] = "a weight is NaN or infinite",
    [MODEL_ERR_NONFINITE_LOGITS] = "the model computed a NaN or infinite logit: its weights are too large to use",
    [MODEL_ERR_INT8_VALUE] = "an int8 weight is -128 or a row scale is negative",
    [MODEL_ERR_PADDING] = "padding after an int8 matrix is not zero",
    [MODEL_ERR_UNPREPARED] = "int8 model: no weights for this kernel yet (model_dequantize or model_quantize first)",
    [MODEL_ERR_TOKEN] = "a token id is past the model's vocabulary",
};

const char *model_error_string(ModelError err)
{
    return (err >= 0 && err < MODEL_ERR_COUNT) ? error_strings[err] : "unknown model error";
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes "<error sentence><detail><number>" into msg. */
static ModelError fail(ModelError e, char *msg, size_t cap, const char *detail, uint64_t num, int with_num)
{
    if (msg && cap) {
        msg[0] = 0;
        ec_str_append(msg, cap, model_error_string(e));
        if (detail)
            ec_str_append(msg, cap, detail);
        if (with_num)
            ec_str_append_u64(msg, cap, num);
    }
    return e;
}

static int is_finite_bits(uint32_t bits) { return (bits & 0x7F800000u) != 0x7F800000u; }

/* "<error>: tensor <name> layer <l>" (or "index <i>" for a global tensor). */
static ModelError fail_at(ModelError e, char *msg, size_t cap, int t, const char *what, uint32_t l, uint64_t i)
{
    fail(e, msg, cap, ": tensor ", 0, 0);
    ec_str_append(msg, cap, mf_tensor_name(t));
    ec_str_append(msg, cap, what);
    ec_str_append(msg, cap, mf_is_per_layer(t) ? " layer " : " index ");
    ec_str_append_u64(msg, cap, mf_is_per_layer(t) ? l : i);
    return e;
}

/* Every value of a payload whose length is already checked: floats (and int8 row scales) finite, scales not
 * negative, int8 values never -128, the padding after each int8 matrix zero. */
static ModelError check_values(const ModelConfig *c, const uint8_t *payload, char *msg, size_t cap)
{
    const uint32_t *words = (const uint32_t *)(const void *)payload;
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        uint32_t nl = mf_is_per_layer(t) ? c->layers : 1, rows, cols;
        mf_tensor_shape(c, t, &rows, &cols);
        int q = mf_is_int8(c, t);
        uint64_t nfloat = q ? rows : mf_tensor_numel(c, t), nbyte = q ? (uint64_t)rows * cols : 0;
        for (uint32_t l = 0; l < nl; l++) {
            const uint32_t *at = words + mf_tensor_offset(c, t, l);
            for (uint64_t i = 0; i < nfloat; i++) {
                if (!is_finite_bits(at[i]))
                    return fail_at(MODEL_ERR_NONFINITE, msg, cap, t, q ? " (a row scale)" : "", l, i);
                if (q && (at[i] & 0x80000000u))
                    return fail_at(MODEL_ERR_INT8_VALUE, msg, cap, t, " (a negative row scale)", l, i);
            }
            const uint8_t *v = (const uint8_t *)(at + nfloat);
            for (uint64_t i = 0; i < nbyte; i++)
                if (v[i] == 0x80)
                    return fail_at(MODEL_ERR_INT8_VALUE, msg, cap, t, " (a -128)", l, i);
            for (uint64_t i = nbyte; i < (mf_tensor_words(c, t) - nfloat) * 4; i++)
                if (v[i])
                    return fail_at(MODEL_ERR_PADDING, msg, cap, t, "", l, i);
        }
    }
    return MODEL_OK;
}

ModelError model_load(Model *m, const void *bytes, size_t len, char *msg, size_t cap)
{
    const uint8_t *b = bytes;
    if (msg && cap)
        msg[0] = 0;
    if (!m || !b)
        return fail(MODEL_ERR_NULL, msg, cap, 0, 0, 0);
    if ((uintptr_t)b & 3u)
        return fail(MODEL_ERR_ALIGN, msg, cap, 0, 0, 0);
    if (len < MF_HEADER_BYTES)
        return fail(MODEL_ERR_TOO_SHORT, msg, cap, ": bytes in file: ", len, 1);
    if (get_u32(b) != MF_MAGIC)
        return fail(MODEL_ERR_MAGIC, msg, cap, 0, 0, 0);
    uint32_t version = get_u32(b + 4);
    if (version != MF_VERSION && version != MF_VERSION_INT8) {
        fail(MODEL_ERR_VERSION, msg, cap, "; this build reads versions 1 and 2, the file says ", version, 1);
        /* only a larger number can come from a newer efichat; 0 never came from any */
        ec_str_append(msg, cap,
                      version > MF_VERSION_INT8 ? " (written by a newer efichat?)" : " (no efichat writes it)");
        return MODEL_ERR_VERSION;
    }
    if (get_u32(b + 8) != MF_HEADER_BYTES)
        return fail(MODEL_ERR_HEADER_SIZE, msg, cap, ": ", get_u32(b + 8), 1);

    ModelConfig c;
    ec_memset(&c, 0, sizeof c);
    c.version = version;
    c.dtype = get_u32(b + 12);
    c.vocab = get_u32(b + 16);
    c.ctx = get_u32(b + 20);
    c.dim = get_u32(b + 24);
    c.layers = get_u32(b + 28);
    c.heads = get_u32(b + 32);
    c.hidden = get_u32(b + 36);
    c.payload_bytes = (uint64_t)get_u32(b + 40) | (uint64_t)get_u32(b + 44) << 32;
    c.payload_crc32 = get_u32(b + 48);

    /* the version says how the payload is laid out, the dtype must agree with it */
    if (c.dtype == MF_DTYPE_Q8 && version == MF_VERSION)
        return fail(MODEL_ERR_DTYPE, msg, cap, ": int8 (dtype 1) needs format version 2, the file says 1", 0, 0);
    if (c.dtype == MF_DTYPE_F32 && version == MF_VERSION_INT8)
        return fail(MODEL_ERR_DTYPE, msg, cap, ": format version 2 holds int8 (dtype 1), the file says 0", 0, 0);
    if (c.dtype != MF_DTYPE_F32 && c.dtype != MF_DTYPE_Q8)
        return fail(MODEL_ERR_DTYPE, msg, cap, ": dtype ", c.dtype, 1);
    if (c.vocab != MF_VOCAB)
        return fail(MODEL_ERR_VOCAB, msg, cap, ": ", c.vocab, 1);
    if (!c.ctx || !c.dim || !c.layers || !c.heads || !c.hidden)
        return fail(MODEL_ERR_ZERO_DIM, msg, cap, " (ctx, dim, layers, heads and hidden must be >= 1)", 0, 0);
    if (c.ctx > MF_MAX_CTX)
        return fail(MODEL_ERR_DIM_TOO_LARGE, msg, cap, ": ctx ", c.ctx, 1);
    if (c.dim > MF_MAX_DIM)
        return fail(MODEL_ERR_DIM_TOO_LARGE, msg, cap, ": dim ", c.dim, 1);
    if (c.layers > MF_MAX_LAYERS)
        return fail(MODEL_ERR_DIM_TOO_LARGE, msg, cap, ": layers ", c.layers, 1);
    if (c.hidden > MF_MAX_HIDDEN)
        return fail(MODEL_ERR_DIM_TOO_LARGE, msg, cap, ": hidden ", c.hidden, 1);
    if (c.heads > c.dim || c.dim % c.heads)
        return fail(MODEL_ERR_HEADS, msg, cap, ": heads ", c.heads, 1);
    int has_nul = 0;
    for (uint32_t i = 0; i < MF_NAME_BYTES; i++) {
        c.name[i] = (char)b[64 + i];
        has_nul |= b[64 + i] == 0;
    }
    if (!has_nul)
        return fail(MODEL_ERR_NAME, msg, cap, 0, 0, 0);
    for (uint32_t i = 52; i < 64; i++)
        if (b[i])
            return fail(MODEL_ERR_RESERVED, msg, cap, ": byte ", i, 1);

    uint64_t need = mf_payload_bytes(&c);
    if (c.payload_bytes != need)
        return fail(MODEL_ERR_PAYLOAD_SIZE, msg, cap, ": the dimensions need bytes: ", need, 1);
    uint64_t have = (uint64_t)len - MF_HEADER_BYTES;
    if (have == 0)
        return fail(MODEL_ERR_NO_PAYLOAD, msg, cap, ": weight bytes expected: ", c.payload_bytes, 1);
    if (have < c.payload_bytes)
        return fail(MODEL_ERR_TRUNCATED, msg, cap, ": weight bytes missing: ", c.payload_bytes - have, 1);
    if (have > c.payload_bytes)
        return fail(MODEL_ERR_TRAILING, msg, cap, ": extra bytes: ", have - c.payload_bytes, 1);
    const uint8_t *payload = b + MF_HEADER_BYTES;
    if (mf_crc32(0, payload, (size_t)c.payload_bytes) != c.payload_crc32)
        return fail(MODEL_ERR_CHECKSUM, msg, cap, 0, 0, 0);

    ModelError e = check_values(&c, payload, msg, cap);
    if (e != MODEL_OK)
        return e;

    const uint32_t *words = (const uint32_t *)(const void *)payload;
    m->cfg = c;
    m->q8 = 0;
    m->wt.layer_stride = c.layers > 1 ? mf_tensor_offset(&c, MF_LN1_W, 1) - mf_tensor_offset(&c, MF_LN1_W, 0) : 0;
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        const uint32_t *at = words + mf_tensor_offset(&c, t, 0);
        int q = mf_is_int8(&c, t);
        uint32_t rows, cols;
        mf_tensor_shape(&c, t, &rows, &cols);
        m->wt.w[t] = q ? 0 : (const float *)(const void *)at;
        m->wt.w_stride[t] = q ? 0 : m->wt.layer_stride;
        m->wt.qscale[t] = q ? (const float *)(const void *)at : 0;
        m->wt.q[t] = q ? (const int8_t *)(const void *)(at + rows) : 0;
    }
    return MODEL_OK;
}

int model_best_kernel(void) { return kern_cpu_has_avx() ? KERNEL_AVX : KERNEL_SCALAR_SSE2; }

// ----------------------------------------------------------------------------
// run state

/* One part's scratch, each slot a whole number of 64-byte lines so two workers never share a cache line. */
/* A layer in four phases (and the head, phase 4L, after the last layer): each phase's parts need what every part of
 * the phases before wrote (attention: all heads; the norms: all of x), nothing else. */
enum { PH_ATTEND, PH_PROJ, PH_UP, PH_DOWN, PH_PER_LAYER };

static size_t scores_floats(const ModelConfig *c)
{
    size_t f = (c->ctx + 4) * sizeof(float), q = q8_attend_scratch_bytes(c->ctx, c->dim / c->heads);
    return ALIGN64(f > q ? f : q) / sizeof(float);
}
static size_t xq_bytes(const ModelConfig *c)
{
    return ALIGN64(q8_scratch_bytes(c->dim > c->hidden ? c->dim : c->hidden, MODEL_PREFILL_CHUNK));
}
/* A part's private rows (workers > 1): an output row as wide as a full q/k/v row or any matrix's output, then its
 * own normalised input row (a step in phases), plus 512 bytes that keep two parts' rows out of each other's
 * prefetched lines. */
static size_t stage_out_floats(const ModelConfig *c)
{
    size_t n = 3 * (size_t)c->dim > c->hidden ? 3 * (size_t)c->dim : c->hidden;
    return ALIGN64((n > MF_VOCAB ? n : MF_VOCAB) * sizeof(float)) / sizeof(float);
}
static size_t stage_floats(const ModelConfig *c)
{
    return stage_out_floats(c) + (ALIGN64(c->dim * sizeof(float)) + 512) / sizeof(float);
}

static size_t state_layout(const ModelConfig *c, RunState *s, uint8_t *base)
{
    size_t T = c->ctx, C = c->dim, L = c->layers, H = c->hidden, P = MODEL_PREFILL_CHUNK;
    size_t off = 0;
#define CARVE(field, type, count)                                  \
    do {                                                           \
        if (s)                                                     \
            s->field = (type *)(void *)(base + off);               \
        off += ALIGN64((count) * sizeof(type));                    \
    } while (0)
    CARVE(tokens, int32_t, T);
    CARVE(key_cache, float, L * T * C);
    CARVE(value_cache, float, L * T * C);
    CARVE(kscale, float, L * T * c->heads);
    CARVE(vscale, float, L * T * c->heads);
    CARVE(x, float, P * C);
    CARVE(xn, float, P * C);
    CARVE(qkv, float, P * 3 * C);
    CARVE(att_out, float, P * C);
    CARVE(hid, float, P * H);
    CARVE(scores, float, scores_floats(c));
    CARVE(logits, float, MF_VOCAB);
    CARVE(xq, uint8_t, xq_bytes(c));
#undef CARVE
    return off;
}

size_t model_state_bytes(const ModelConfig *c) { return state_layout(c, 0, 0) + 64; }

void model_state_init(RunState *s, const ModelConfig *c, void *mem, int kernel)
{
    uint8_t *base = (uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    size_t n = state_layout(c, s, base);
    ec_memset(base, 0, n);
    s->kernel = kernel;
    s->q8_path = q8_best_path();
    s->avx2 = kern_cpu_has_avx2();
    s->pos = 0;
    s->slides = 0;
    s->scores_stride = scores_floats(c);
    s->xq_stride = xq_bytes(c);
    s->stage = 0;
    s->stage_stride = stage_floats(c);
    s->stage_xn = stage_out_floats(c);
    s->par = (ModelParallel){0, 0, 1, 0};
    /* a one-token step's phase inputs (the head's, phase 4L, is x as attention's): its own norm reads all of x */
    ModelPhaseInputs *in = &s->phase_in;
    in->period = PH_PER_LAYER;
    in->at[PH_ATTEND] = in->at[PH_UP] = s->x;
    in->at[PH_PROJ] = s->att_out;
    in->at[PH_DOWN] = s->hid;
    in->bytes[PH_ATTEND] = in->bytes[PH_UP] = in->bytes[PH_PROJ] = c->dim * (uint32_t)sizeof(float);
    in->bytes[PH_DOWN] = c->hidden * (uint32_t)sizeof(float);
}

size_t model_parallel_bytes(const ModelConfig *c, unsigned workers)
{
    return (size_t)workers * ((scores_floats(c) + stage_floats(c)) * sizeof(float) + xq_bytes(c)) + 64;
}

void model_state_set_parallel(RunState *s, const ModelConfig *c, const ModelParallel *p, void *mem)
{
    if (!p || p->workers <= 1 || !p->run || !mem) { /* back to the state's own single slot */
        uint8_t *base = (uint8_t *)s->tokens; /* state_layout carves tokens first, at its base */
        state_layout(c, s, base);
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

void model_state_reset(RunState *s)
{
    s->pos = 0;
    s->slides = 0;
}

// ----------------------------------------------------------------------------
// the forward pass

#define LAYER_W(m, t, l) ((m)->wt.w[t] + (size_t)(l) * (m)->wt.w_stride[t])

// ----------------------------------------------------------------------------
// work split over workers: output rows of a mat-vec; q/k/v rows and attention by heads

static void parallel(RunState *s, model_task task, void *arg) { model_parallel_run(&s->par, task, arg); }
/* What a part does to its own output rows right after computing them (element-wise, so done where they are hot
 * and with the same bits as a pass over the whole matrix afterwards). AFTER_STAGE: nothing, and a staged part's rows
 * stay in its stage (its own q/k/v rows, which no other part reads). */
enum { AFTER_NONE, AFTER_GELU, AFTER_RESIDUAL /* x += out */, AFTER_STAGE };

typedef struct {
    const Model *m;
    RunState *s;
    float *out;
    const float *in, *w, *bias;
    const QMatrix *q; /* the Q8 kernel's matrix, else NULL: float kernel `kernel` on w */
    int kernel, n, I, O, after;
    float *x;         /* AFTER_RESIDUAL: the residual stream (n, O) */
} MatmulJob;

/* Part w's stage row when this step is staged: one token on more than one worker. A part then computes its rows
 * into a row of its own and afterwards stores each output others read once (or adds it into x), because parts
 * storing rows a few at a time next to each other's made both cores wait on the cache lines in between: on the
 * 2-vCPU host of docs/performance.md ("Two threads on the host") that cost more than the rows' arithmetic. */
static float *stage_of(const RunState *s, unsigned w, int n)
{
    return n == 1 && s->stage ? s->stage + w * s->stage_stride : 0;
}

/* Parts of whole 8-row blocks: the float kernels' dot8/dot4 and Q8's 4-row groups see the rows they see in one
 * part (the sums would match anyway, see kernels.h; this keeps even the instruction mix the same). */
static void matmul_rows(const MatmulJob *j, unsigned w, uint32_t lo, uint32_t hi)
{
    if (lo == hi)
        return;
    float *st = stage_of(j->s, w, j->n), *out = st ? st : j->out; /* a stage row is as wide as any output */
    if (j->q)
        q8_matmul(out, (size_t)j->O, j->in, j->q, lo, hi, j->bias, j->n, j->s->xq + w * j->s->xq_stride,
                  j->s->q8_path);
    else
        kern_matmul(j->kernel, out + lo, (size_t)j->O, j->in, j->w + (size_t)lo * j->I, j->bias ? j->bias + lo : 0,
                    j->n, j->I, (int)(hi - lo));
    for (int i = 0; i < j->n; i++) {
        float *o = out + (size_t)i * j->O;
        if (j->after == AFTER_GELU && j->q) /* 16 lanes beside VNNI, 8 beside AVX2: the same bits */
            (j->s->q8_path == Q8_PATH_VNNI ? model_gelu_q8_avx512
             : j->s->q8_path == Q8_PATH_AVX2 ? model_gelu_q8_avx2 : model_gelu_q8)(o + lo, (int)(hi - lo));
        else if (j->after == AFTER_GELU) /* 8 lanes beside the AVX kernels: the same bits */
            gelu_tanh(o + lo, (int)(hi - lo),
                      j->s->avx2 && (j->s->kernel == KERNEL_AVX ||
                                     (j->s->kernel == KERNEL_Q8 && Q8_PATH_USES_AVX(j->s->q8_path))));
        else if (j->after == AFTER_RESIDUAL)
            for (uint32_t r = lo; r < hi; r++)
                j->x[(size_t)i * j->O + r] += o[r];
        if (st && j->after != AFTER_RESIDUAL && j->after != AFTER_STAGE) /* the residual's out is never read */
            ec_memcpy(j->out + lo, o + lo, (hi - lo) * sizeof(float));
    }
}

/* A part works from its own copy of the job and the state's numbers: the originals share cache lines with the
 * caller's stack and state, which the caller keeps writing while the part runs. */
static void matmul_task(void *arg, unsigned w, unsigned nw)
{
    MatmulJob j = *(const MatmulJob *)arg;
    RunState s = *j.s;
    uint32_t lo, hi;
    j.s = &s;
    model_share(w, nw, (uint32_t)j.O, 8, &lo, &hi);
    matmul_rows(&j, w, lo, hi);
}

/* The job for matrix `which` of layer l (l == L: the head), by the state's kernel. */
static MatmulJob matmul_job(const Model *m, RunState *s, float *out, const float *in, uint32_t l, int which,
                            int tensor, const float *bias, int n, int I, int O, int after, float *x)
{
    MatmulJob j = {m, s, out, in, 0, bias, 0, s->kernel == KERNEL_AVX ? KERNEL_AVX : KERNEL_SCALAR_SSE2, n, I, O,
                   after, x};
    if (s->kernel == KERNEL_Q8 && m->q8)
        j.q = &m->q8[(size_t)l * Q8_PER_LAYER + (size_t)which];
    else
        j.w = l == m->cfg.layers ? m->wt.w[tensor] : LAYER_W(m, tensor, l);
    return j;
}

int model_pick_q8_path(const Model *m, RunState *s, uint64_t (*ticks)(void))
{
    if (!m->q8)
        return s->q8_path;
    const QMatrix *q = &m->q8[Q8_FC];
    for (uint32_t i = 0; i < q->cols; i++) /* any finite row: the time does not depend on the values */
        s->xn[i] = (float)((int)(i * 37u % 101u) - 50) * 0.02f;
    s->q8_path = q8_fastest_path(q, s->xn, s->hid, s->xq, ticks, 5);
    return s->q8_path;
}

typedef struct {
    MatmulJob qkv;        /* out (n, 3C) = xn . W_qkv^T + b */
    float *att;           /* (n, C) */
    float *kc, *vc;       /* (T, C) this layer's caches */
    float *ks, *vs;       /* (NH, T) this layer's cache scales (Q8) */
    int kernel, NH, hs, p0, T;
    float scale;
} AttendJob;

/* Part w owns a run of heads from start to end: their q, k and v rows (each row still one whole canonical sum),
 * their k and v into the cache rows, then every row's attention for them. No head needs another head's numbers,
 * so one call does all of it. */
static void attend_task(void *arg, unsigned w, unsigned nw)
{
    AttendJob jc = *(const AttendJob *)arg; /* copies, as matmul_task's */
    RunState s = *jc.qkv.s;
    jc.qkv.s = &s;
    const AttendJob *j = &jc;
    const MatmulJob *mj = &j->qkv;
    int n = mj->n, C = mj->I, hs = j->hs;
    uint32_t h0, h1;
    model_share(w, nw, (uint32_t)j->NH, 1, &h0, &h1);
    if (h0 == h1)
        return;
    uint32_t c0 = h0 * (uint32_t)hs, c1 = h1 * (uint32_t)hs;
    for (uint32_t sec = 0; sec < 3; sec++) /* q, k, v rows of these heads (AFTER_STAGE: in the stage if staged) */
        matmul_rows(mj, w, sec * (uint32_t)C + c0, sec * (uint32_t)C + c1);
    const float *st = stage_of(mj->s, w, n), *qkv = st ? st : mj->out;
    float *sc = mj->s->scores + w * mj->s->scores_stride;
    if (mj->s->kernel == KERNEL_Q8) { /* int8 keys (transposed) and values in int32 slots, integer sums (q8.h) */
        int32_t *kq = (int32_t *)(void *)j->kc, *vq = (int32_t *)(void *)j->vc;
        size_t T = j->T;
        for (int i = 0; i < n; i++) {
            const float *row = qkv + (size_t)i * 3 * C;
            size_t t = (size_t)(j->p0 + i);
            for (uint32_t h = h0; h < h1; h++) {
                j->ks[h * T + t] = q8_quantize_head(kq + (size_t)h * hs * T + t, T, row + C + h * hs, hs);
                j->vs[h * T + t] = q8_quantize_head(vq + t * C + h * hs, 1, row + 2 * C + h * hs, hs);
            }
        }
        int qp = mj->s->q8_path; /* VNNI sums where the mat-vec runs VNNI, vpmaddwd where it runs vpmaddubsw */
        int level = j->kernel != KERN_ATTEND_AVX2 ? Q8_ATT_SSE2
                    : qp == Q8_PATH_VNNI ? Q8_ATT_VNNI : qp == Q8_PATH_AVX2 ? Q8_ATT_AVX2W : Q8_ATT_AVX2;
        for (int i = 0; i < n; i++)
            for (uint32_t h = h0; h < h1; h++) {
                Q8Head qh = {kq + (size_t)h * hs * T, vq + h * hs, j->ks + h * T, j->vs + h * T, T, (size_t)C};
                q8_attend(j->att + (size_t)i * C + h * hs, qkv + (size_t)i * 3 * C + h * hs, &qh, hs,
                          j->p0 + i + 1, j->scale, sc, level);
            }
        return;
    }
    for (int i = 0; i < n; i++) {
        const float *row = qkv + (size_t)i * 3 * C;
        ec_memcpy(j->kc + (size_t)(j->p0 + i) * C + c0, row + C + c0, (c1 - c0) * sizeof(float));
        ec_memcpy(j->vc + (size_t)(j->p0 + i) * C + c0, row + 2 * C + c0, (c1 - c0) * sizeof(float));
    }
    for (int i = 0; i < n; i++)
        for (uint32_t h = h0; h < h1; h++)
            kern_attend(j->kernel, j->att + (size_t)i * C + h * hs, qkv + (size_t)i * 3 * C + h * hs,
                        j->kc + h * hs, j->vc + h * hs, (size_t)C, hs, j->p0 + i + 1, j->scale, sc);
}

typedef struct {
    const Model *m;
    RunState *s;
    int n, p0, k; /* rows, position of the first, attention kernel */
    float scale;
    int own_norm; /* each part normalises x into its own row (a one-token step in one call), else s->xn holds it */
} Step;

/* A one-token step's part takes its output's lines (which the other parts read last time, so hold copies of) into
 * its own cache while it computes: else its last stores wait a round trip for the other copies to go, and so does
 * the news that the part is done (x86 stores become visible in order). Output ranges as the tasks below share them:
 * logits, attention's heads, MLP rows, the residual's rows. */
static void own_output_early(const RunState *s, const ModelConfig *c, uint32_t l, int sub, unsigned w, unsigned nw)
{
    uint32_t lo, hi, hs = c->dim / c->heads;
    const float *o;
    if (l == c->layers)
        model_share(w, nw, MF_VOCAB, 8, &lo, &hi), o = s->logits;
    else if (sub == PH_ATTEND)
        model_share(w, nw, c->heads, 1, &lo, &hi), lo *= hs, hi *= hs, o = s->att_out;
    else if (sub == PH_UP)
        model_share(w, nw, c->hidden, 8, &lo, &hi), o = s->hid;
    else
        model_share(w, nw, c->dim, 8, &lo, &hi), o = s->x;
    kern_prefetch_write(o + lo, (hi - lo) * sizeof(float));
}

/* Part w of phase `phase` of a chunk's layers. */
static void step_part(const Step *st, unsigned phase, unsigned w, unsigned nw)
{
    const Model *m = st->m;
    const ModelConfig *c = &m->cfg;
    RunState *s = st->s;
    int C = (int)c->dim, T = (int)c->ctx, H = (int)c->hidden, NH = (int)c->heads, n = st->n;
    uint32_t l = phase / PH_PER_LAYER, L = c->layers;
    int sub = (int)(phase % PH_PER_LAYER);
    const float *xn = s->xn;
    if (st->own_norm) { /* the input, half of it written by the other core: ask for all its lines at once */
        ec_prefetch(s->phase_in.at[sub], s->phase_in.bytes[sub]);
        own_output_early(s, c, l, sub, w, nw);
    }
    if (st->own_norm && (sub == PH_ATTEND || sub == PH_UP)) { /* the same numbers in every part, so no sum crosses */
        float *own = s->stage + w * s->stage_stride + s->stage_xn;
        int t = l == L ? MF_LNF_W : sub == PH_ATTEND ? MF_LN1_W : MF_LN2_W; /* then its bias, t + 1 */
        if (l == L)
            kern_layernorm(own, s->x, m->wt.w[t], m->wt.w[t + 1], C);
        else
            kern_layernorm(own, s->x, LAYER_W(m, t, l), LAYER_W(m, t + 1, l), C);
        xn = own;
    }
    MatmulJob j;
    if (l == L) { // tied head: the last row's logits
        j = matmul_job(m, s, s->logits, xn, L, 0, MF_WTE, 0, 1, C, MF_VOCAB, AFTER_NONE, 0);
    } else if (sub == PH_ATTEND) { // q/k/v, k and v into their cache rows, each row attending up to its own position
        AttendJob aj = {matmul_job(m, s, s->qkv, xn, l, Q8_QKV, MF_QKV_W, LAYER_W(m, MF_QKV_B, l), n, C, 3 * C,
                                   AFTER_STAGE, 0),
                        s->att_out, s->key_cache + (size_t)l * T * C, s->value_cache + (size_t)l * T * C,
                        s->kscale + (size_t)l * T * NH, s->vscale + (size_t)l * T * NH, st->k, NH, C / NH, st->p0, T,
                        st->scale};
        attend_task(&aj, w, nw);
        return;
    } else if (sub == PH_PROJ) { // output projection and residual (its raw output goes to xn, free by then)
        j = matmul_job(m, s, s->xn, s->att_out, l, Q8_PROJ, MF_PROJ_W, LAYER_W(m, MF_PROJ_B, l), n, C, C,
                       AFTER_RESIDUAL, s->x);
    } else if (sub == PH_UP) { // MLP up and GELU
        j = matmul_job(m, s, s->hid, xn, l, Q8_FC, MF_FC_W, LAYER_W(m, MF_FC_B, l), n, C, H, AFTER_GELU, 0);
    } else { // MLP down and residual
        j = matmul_job(m, s, s->xn, s->hid, l, Q8_FCPROJ, MF_FCPROJ_W, LAYER_W(m, MF_FCPROJ_B, l), n, H, C,
                       AFTER_RESIDUAL, s->x);
    }
    matmul_task(&j, w, nw);
}

/* A part works from its own copy of the step (the caller's stack shares lines with what the caller keeps writing). */
static void step_task(void *arg, unsigned phase, unsigned w, unsigned nw)
{
    Step st = *(const Step *)arg;
    step_part(&st, phase, w, nw);
}

/* Pushes n <= P tokens at positions s->pos ... through the model; logits of every row into logits_all (n, V) if
 * given, and of the last row into s->logits. A one-token step on more than one worker is one call of 4L + 1 phases,
 * each part normalising x itself; otherwise the caller normalises every row between calls of one phase each. */
static void forward_chunk(const Model *m, RunState *s, const int32_t *tokens, int n, float *logits_all)
{
    const ModelConfig *c = &m->cfg;
    int C = (int)c->dim, hs = C / (int)c->heads, V = MF_VOCAB, p0 = (int)s->pos;
    /* the float kernels: AVX and SSE2 give the same bits, so take AVX wherever it runs (also beside Q8, whose own
     * integer attention takes the AVX2 flag from it) */
    int wide = s->kernel == KERNEL_AVX || (s->kernel == KERNEL_Q8 && Q8_PATH_USES_AVX(s->q8_path));
    int k = wide ? (s->avx2 ? KERN_ATTEND_AVX2 : KERNEL_AVX) : KERNEL_SCALAR_SSE2;
    float *x = s->x, *xn = s->xn;
    Step st = {m, s, n, p0, k, 1.0f / ec_sqrtf((float)hs), n == 1 && s->stage != 0};

    // token + position embeddings
    for (int i = 0; i < n; i++) {
        const float *te = m->wt.w[MF_WTE] + (size_t)(tokens[i] & 255) * C;
        const float *pe = m->wt.w[MF_WPE] + (size_t)(p0 + i) * C;
        for (int j = 0; j < C; j++)
            x[(size_t)i * C + j] = te[j] + pe[j];
        s->tokens[p0 + i] = tokens[i] & 255;
    }

    if (st.own_norm) { // every layer and the head in one call
        model_parallel_phases(&s->par, step_task, &st, c->layers * PH_PER_LAYER + 1, &s->phase_in);
        if (logits_all)
            ec_memcpy(logits_all, s->logits, V * sizeof(float));
        s->pos += 1;
        return;
    }
    for (uint32_t l = 0; l < c->layers; l++)
        for (unsigned sub = 0; sub < PH_PER_LAYER; sub++) {
            if (sub == PH_ATTEND || sub == PH_UP) // norm every row first
                for (int i = 0; i < n; i++)
                    kern_layernorm(xn + (size_t)i * C, x + (size_t)i * C, LAYER_W(m, sub ? MF_LN2_W : MF_LN1_W, l),
                                   LAYER_W(m, sub ? MF_LN2_B : MF_LN1_B, l), C);
            model_parallel_phase(&s->par, step_task, &st, l * PH_PER_LAYER + sub);
        }

    // final norm and tied head, for every row when asked, else for the last one only
    int first = logits_all ? 0 : n - 1;
    for (int i = first; i < n; i++) {
        kern_layernorm(xn, x + (size_t)i * C, m->wt.w[MF_LNF_W], m->wt.w[MF_LNF_B], C);
        MatmulJob j = matmul_job(m, s, s->logits, xn, c->layers, 0, MF_WTE, 0, 1, C, V, AFTER_NONE, 0);
        parallel(s, matmul_task, &j);
        if (logits_all)
            ec_memcpy(logits_all + (size_t)i * V, s->logits, V * sizeof(float));
    }
    s->pos += (uint32_t)n;
}

/* Feeds tokens in chunks of at most P, never past the end of the cache. */
static void feed_chunks(const Model *m, RunState *s, const int32_t *tokens, size_t n, float *logits_all)
{
    size_t done = 0;
    while (done < n) {
        size_t room = m->cfg.ctx - s->pos, chunk = n - done;
        chunk = chunk < room ? chunk : room;
        chunk = chunk < MODEL_PREFILL_CHUNK ? chunk : MODEL_PREFILL_CHUNK;
        forward_chunk(m, s, tokens + done, (int)chunk, logits_all ? logits_all + done * MF_VOCAB : 0);
        done += chunk;
    }
}

/* The cache is full: keep the newest T/2 tokens, re-encode them from position 0. */
static void slide(const Model *m, RunState *s)
{
    uint32_t T = m->cfg.ctx, keep = T / 2;
    for (uint32_t i = 0; i < keep; i++)
        s->tokens[i] = s->tokens[T - keep + i];
    s->pos = 0;
    s->slides++;
    /* forward_chunk rewrites s->tokens[pos + i] with the same value it reads: safe in place. */
    feed_chunks(m, s, s->tokens, keep, 0);
}

/* Whether all n floats are finite (bit test: the core never relies on libm or fast-math classification). */
static int all_finite(const float *x, size_t n)
{
    const uint32_t *bits = (const uint32_t *)(const void *)x;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= is_finite_bits(bits[i]) ? 0u : 1u;
    return !bad;
}

ModelError model_feed(const Model *m, RunState *s, const int32_t *tokens, size_t n, float *logits_all)
{
    /* a version 2 file's matrices exist as floats only after model_dequantize, for Q8 only after model_quantize */
    if (!m->wt.w[MF_QKV_W] && !(s->kernel == KERNEL_Q8 && m->q8))
        return MODEL_ERR_UNPREPARED;
    size_t done = 0;
    while (done < n) {
        if (s->pos == m->cfg.ctx)
            slide(m, s);
        size_t room = m->cfg.ctx - s->pos, chunk = n - done;
        chunk = chunk < room ? chunk : room;
        feed_chunks(m, s, tokens + done, chunk, logits_all ? logits_all + done * MF_VOCAB : 0);
        done += chunk;
    }
    /* An overflow anywhere reaches every later logit (LayerNorm spreads a NaN or Inf over the whole row, and
     * attention over every later position), so the rows computed here are enough to check. */
    int ok = logits_all ? all_finite(logits_all, n * MF_VOCAB) : all_finite(s->logits, MF_VOCAB);
    return ok ? MODEL_OK : MODEL_ERR_NONFINITE_LOGITS;
}
