/* llama2c.c - llama2.c model and tokenizer files (llama2c.h). The tensor order of each kind, from llama2.c's
 * export.py (legacy_export, version1_export, version2_export) and run.c/runq.c's memory_map_weights; per-layer
 * tensors are stored all layers of one kind together:
 *   legacy: tok, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_real, freq_imag, [wcls]
 *   v1:     rms_att, rms_ffn, rms_final, tok, wq, wk, wv, wo, w1, w2, w3, [wcls]           (all float32)
 *   v2:     rms_att, rms_ffn, rms_final (float32); tok, wq, wk, wv, wo, w1, w2, w3, [wcls] (each copy: int8
 *           values then float32 scales, one per group_size values)
 * The v1/v2 header: u32 magic, i32 version, 7 x i32, u8 shared classifier, (v2) i32 group size, zeros to 256. */
#include "llama2c.h"
#include "../ecmath.h"

static const char *const error_strings[L2C_ERR_COUNT] = {
    "ok",
    "no llama2.c bytes given",
    "llama2.c file shorter than its header",
    "unsupported llama2.c export version",
    "bad llama2.c dimensions",
    "bad llama2.c head counts",
    "bad llama2.c header",
    "bad llama2.c group size",
    "llama2.c file cut short",
    "llama2.c file has trailing bytes",
    "NaN or Inf in a llama2.c tensor",
    "bad llama2.c int8 data",
    "bad llama2.c tokenizer",
};

static const char *const tensor_names[L2C_TENSOR_COUNT] = {
    "token_embedding_table", "rms_att_weight", "wq", "wk", "wv", "wo", "rms_ffn_weight", "w1", "w2", "w3",
    "rms_final_weight", "freq_cis_real", "freq_cis_imag", "wcls",
};

const char *l2c_error_string(L2cError err)
{
    return (err >= 0 && err < L2C_ERR_COUNT) ? error_strings[err] : "unknown llama2.c error";
}

const char *l2c_tensor_name(int which) { return which >= 0 && which < L2C_TENSOR_COUNT ? tensor_names[which] : "?"; }

typedef struct {
    char *buf;
    size_t cap;
} Msg;

static void say(Msg *m, const char *s) { ec_str_append(m->buf, m->cap, s); }
static void say_u64(Msg *m, uint64_t v) { ec_str_append_u64(m->buf, m->cap, v); }

static L2cError fail(Msg *m, L2cError e, const char *detail)
{
    if (m->buf && m->cap) {
        m->buf[0] = 0;
        say(m, l2c_error_string(e));
        if (detail)
            say(m, detail);
    }
    return e;
}

/* "<sentence><detail><n>" */
static L2cError fail_n(Msg *m, L2cError e, const char *detail, uint64_t n)
{
    fail(m, e, detail);
    say_u64(m, n);
    return e;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int finite_at(const uint8_t *p) { return (le32(p) & 0x7F800000u) != 0x7F800000u; }

/* ---- layout */

static void shape(const Llama2cFile *f, int t, uint64_t *rows, uint64_t *cols)
{
    uint64_t C = f->dim, H = f->hidden, KV = (uint64_t)f->kv_heads * f->head_dim;
    switch (t) {
    case L2C_TOKEN_EMBD: case L2C_WCLS: *rows = f->vocab, *cols = C; return;
    case L2C_WQ: case L2C_WO: *rows = C, *cols = C; return;
    case L2C_WK: case L2C_WV: *rows = KV, *cols = C; return;
    case L2C_W1: case L2C_W3: *rows = H, *cols = C; return;
    case L2C_W2: *rows = C, *cols = H; return;
    case L2C_FREQ_REAL: case L2C_FREQ_IMAG: *rows = f->seq_len, *cols = f->head_dim / 2; return;
    default: *rows = 1, *cols = C; return; /* the norms */
    }
}

static int per_layer(int t) { return t >= L2C_RMS_ATT && t <= L2C_W3; }
static int is_int8(const Llama2cFile *f, int t)
{
    return f->version == 2 && t != L2C_RMS_ATT && t != L2C_RMS_FFN && t != L2C_RMS_FINAL;
}

/* Fills offset/stride in file order; returns the bytes the tensors take (dims are already within limits, so
 * every product stays far below 2^63). */
static uint64_t layout(Llama2cFile *f)
{
    static const int8_t legacy[] = {L2C_TOKEN_EMBD, L2C_RMS_ATT, L2C_WQ, L2C_WK, L2C_WV, L2C_WO, L2C_RMS_FFN,
                                    L2C_W1, L2C_W2, L2C_W3, L2C_RMS_FINAL, L2C_FREQ_REAL, L2C_FREQ_IMAG, L2C_WCLS, -1};
    static const int8_t versioned[] = {L2C_RMS_ATT, L2C_RMS_FFN, L2C_RMS_FINAL, L2C_TOKEN_EMBD, L2C_WQ, L2C_WK,
                                       L2C_WV, L2C_WO, L2C_W1, L2C_W2, L2C_W3, L2C_WCLS, -1};
    const int8_t *order = f->version == 0 ? legacy : versioned;
    uint64_t pos = f->version == 0 ? L2C_LEGACY_HEADER : L2C_HEADER;
    for (int t = 0; t < L2C_TENSOR_COUNT; t++)
        f->offset[t] = UINT64_MAX, f->stride[t] = 0;
    for (; *order >= 0; order++) {
        int t = *order;
        if (t == L2C_WCLS && f->shared_classifier)
            continue;
        uint64_t rows, cols;
        shape(f, t, &rows, &cols);
        uint64_t n = rows * cols;
        f->offset[t] = pos;
        f->stride[t] = is_int8(f, t) ? n + n / f->group_size * 4 : 4 * n;
        pos += (per_layer(t) ? f->layers : 1) * f->stride[t];
    }
    return pos;
}

int l2c_tensor(const Llama2cFile *f, int which, uint32_t layer, L2cView *v)
{
    if (which < 0 || which >= L2C_TENSOR_COUNT || f->offset[which] == UINT64_MAX ||
        (per_layer(which) && layer >= f->layers))
        return 0;
    shape(f, which, &v->rows, &v->cols);
    v->data = f->image + f->offset[which] + (per_layer(which) ? layer * f->stride[which] : 0);
    v->scales = is_int8(f, which) ? v->data + v->rows * v->cols : NULL;
    return 1;
}

/* ---- validation */

static L2cError check_values(const Llama2cFile *f, Msg *m)
{
    for (int t = 0; t < L2C_TENSOR_COUNT; t++) {
        for (uint32_t l = 0; l < (per_layer(t) ? f->layers : 1); l++) {
            L2cView v;
            if (!l2c_tensor(f, t, l, &v))
                continue;
            uint64_t n = v.rows * v.cols, groups = v.scales ? n / f->group_size : 0;
            const uint8_t *floats = v.scales ? v.scales : v.data;
            uint64_t nf = v.scales ? groups : n;
            for (uint64_t i = 0; i < nf; i++) {
                const uint8_t *p = floats + 4 * i;
                int negative = (p[3] & 0x80) && le32(p) != 0x80000000u; /* -0.0 is a zero scale */
                L2cError e = !finite_at(p) ? L2C_ERR_NONFINITE : v.scales && negative ? L2C_ERR_INT8 : L2C_OK;
                if (e) {
                    fail(m, e, ": ");
                    say(m, tensor_names[t]);
                    say(m, v.scales ? (e == L2C_ERR_INT8 ? " negative scale " : " scale ") : " index ");
                    say_u64(m, i);
                    say(m, " layer ");
                    say_u64(m, l);
                    return e;
                }
            }
            for (uint64_t i = 0; v.scales && i < n; i++)
                if (v.data[i] == 0x80) {
                    fail(m, L2C_ERR_INT8, ": ");
                    say(m, tensor_names[t]);
                    say(m, " holds -128 at index ");
                    say_u64(m, i);
                    say(m, " layer ");
                    say_u64(m, l);
                    return L2C_ERR_INT8;
                }
        }
    }
    return L2C_OK;
}

static L2cError check_dims(Llama2cFile *f, const int32_t h[7], Msg *m)
{
    static const char *const names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                                         "seq_len"};
    static const uint32_t limits[7] = {L2C_MAX_DIM, L2C_MAX_HIDDEN, L2C_MAX_LAYERS, L2C_MAX_HEADS, L2C_MAX_HEADS,
                                       L2C_MAX_VOCAB, L2C_MAX_SEQ};
    uint32_t v[7];
    for (int i = 0; i < 7; i++) {
        int64_t x = h[i];
        if (i == 5 && f->version == 0 && x < 0) { /* legacy: a negative vocab size marks a separate classifier */
            x = -x;
            f->shared_classifier = 0;
        }
        if (x < 1 || x > limits[i]) {
            fail(m, L2C_ERR_DIMS, ": ");
            say(m, names[i]);
            say(m, " is ");
            if (h[i] < 0)
                say(m, "-");
            say_u64(m, (uint64_t)(x < 0 ? -x : x));
            say(m, ", outside 1..");
            say_u64(m, limits[i]);
            return L2C_ERR_DIMS;
        }
        v[i] = (uint32_t)x;
    }
    f->dim = v[0], f->hidden = v[1], f->layers = v[2], f->heads = v[3], f->kv_heads = v[4], f->vocab = v[5];
    f->seq_len = v[6];
    if (f->dim % f->heads || f->heads % f->kv_heads || (f->dim / f->heads) % 2) {
        fail(m, L2C_ERR_HEADS, ": dim ");
        say_u64(m, f->dim);
        say(m, ", n_heads ");
        say_u64(m, f->heads);
        say(m, ", n_kv_heads ");
        say_u64(m, f->kv_heads);
        say(m, " (n_heads must divide dim into an even head width, n_kv_heads divide n_heads)");
        return L2C_ERR_HEADS;
    }
    f->head_dim = f->dim / f->heads;
    return L2C_OK;
}

L2cError l2c_open(Llama2cFile *f, const void *bytes, size_t len, char *msg, size_t cap)
{
    Msg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(f, 0, sizeof *f);
    if (!bytes)
        return fail(&m, L2C_ERR_NULL, NULL);
    const uint8_t *b = bytes;
    f->image = b;
    f->len = len;
    f->shared_classifier = 1;
    uint32_t header = L2C_LEGACY_HEADER;
    if (len >= 4 && le32(b) == L2C_MAGIC) {
        header = L2C_HEADER;
        if (len < 8)
            return fail_n(&m, L2C_ERR_TOO_SHORT, ": the header needs 256 bytes, the file has ", len);
        f->version = le32(b + 4);
        if (f->version != 1 && f->version != 2)
            return fail_n(&m, L2C_ERR_VERSION, ": this build reads versions 1 and 2 (and the legacy format), the "
                                               "file says ", f->version);
    }
    if (len < header)
        return fail_n(&m, L2C_ERR_TOO_SHORT, header == L2C_HEADER ? ": the header needs 256 bytes, the file has "
                                                                  : ": the header needs 28 bytes, the file has ", len);
    const uint8_t *p = b + (f->version ? 8 : 0);
    int32_t h[7];
    for (int i = 0; i < 7; i++)
        h[i] = (int32_t)le32(p + 4 * i);
    L2cError e = check_dims(f, h, &m);
    if (e)
        return e;
    if (f->version) {
        uint32_t pad_from = 37;
        if (b[36] > 1)
            return fail_n(&m, L2C_ERR_HEADER, ": the shared-classifier byte is ", b[36]);
        f->shared_classifier = b[36];
        if (f->version == 2) {
            int32_t gs = (int32_t)le32(b + 37);
            pad_from = 41;
            if (gs < 1 || f->dim % gs || f->hidden % gs) {
                fail(&m, L2C_ERR_GROUP, ": ");
                if (gs < 0)
                    say(&m, "-");
                say_u64(&m, (uint64_t)(gs < 0 ? -(int64_t)gs : gs));
                say(&m, " must be positive and divide dim and hidden_dim");
                return L2C_ERR_GROUP;
            }
            f->group_size = (uint32_t)gs;
        }
        for (uint32_t i = pad_from; i < L2C_HEADER; i++)
            if (b[i])
                return fail_n(&m, L2C_ERR_HEADER, ": the header's padding is not zero at byte ", i);
    }
    uint64_t need = layout(f);
    if (len < need)
        return fail_n(&m, L2C_ERR_TRUNCATED, ": the header's tensors need bytes: ", need);
    if (len > need) {
        fail_n(&m, L2C_ERR_TRAILING, ": the header's tensors need ", need);
        say(&m, " bytes, the file has ");
        say_u64(&m, len);
        if (f->version == 0 && f->shared_classifier && len - need == 4ull * f->vocab * f->dim)
            say(&m, " (a separate classifier without a negative vocab_size?)");
        return L2C_ERR_TRAILING;
    }
    return check_values(f, &m);
}

/* ---- tokenizer.bin */

L2cError l2c_tokenizer_open(L2cTokenizer *t, const void *bytes, size_t len, uint32_t vocab, uint32_t *offsets,
                            char *msg, size_t cap)
{
    Msg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(t, 0, sizeof *t);
    if (!bytes)
        return fail(&m, L2C_ERR_NULL, NULL);
    const uint8_t *b = bytes;
    if (len < 4)
        return fail_n(&m, L2C_ERR_TOO_SHORT, ": the tokenizer header needs 4 bytes, the file has ", len);
    int32_t max = (int32_t)le32(b);
    if (max < 1 || max > (int32_t)L2C_MAX_TOKEN_BYTES) {
        fail(&m, L2C_ERR_TOKEN, ": max_token_length ");
        if (max < 0)
            say(&m, "-");
        say_u64(&m, (uint64_t)(max < 0 ? -(int64_t)max : max));
        say(&m, " is outside 1..4096");
        return L2C_ERR_TOKEN;
    }
    if (vocab > L2C_MAX_VOCAB)
        return fail_n(&m, L2C_ERR_DIMS, ": vocab_size above 16777216: ", vocab);
    uint64_t pos = 4;
    uint32_t i = 0;
    for (; vocab ? i < vocab : pos < len; i++) {
        if (len - pos < 8) {
            fail_n(&m, L2C_ERR_TRUNCATED, ": token ", i);
            say(&m, vocab ? " of " : "");
            if (vocab)
                say_u64(&m, vocab);
            say(&m, " has no score and length");
            return L2C_ERR_TRUNCATED;
        }
        if (!finite_at(b + pos))
            return fail_n(&m, L2C_ERR_NONFINITE, ": the score of token ", i);
        int32_t n = (int32_t)le32(b + pos + 4);
        if (n < 0 || n > max) {
            fail_n(&m, L2C_ERR_TOKEN, ": token ", i);
            say(&m, " has length ");
            if (n < 0)
                say(&m, "-");
            say_u64(&m, (uint64_t)(n < 0 ? -(int64_t)n : n));
            say(&m, ", outside 0..max_token_length ");
            say_u64(&m, (uint64_t)max);
            return L2C_ERR_TOKEN;
        }
        if ((uint64_t)n > len - pos - 8)
            return fail_n(&m, L2C_ERR_TRUNCATED, ": the bytes of token ", i);
        if (offsets)
            offsets[i] = (uint32_t)pos;
        if (i == L2C_MAX_VOCAB || pos > UINT32_MAX - 8 - (uint64_t)n)
            return fail_n(&m, L2C_ERR_DIMS, ": more tokens than 16777216 or bytes than 4 GiB, token ", i);
        pos += 8 + (uint64_t)n;
    }
    if (pos != len) {
        fail_n(&m, L2C_ERR_TRAILING, ": bytes after token ", i);
        say(&m, ": ");
        say_u64(&m, len - pos);
        return L2C_ERR_TRAILING;
    }
    if (i == 0)
        return fail(&m, L2C_ERR_TOKEN, ": no tokens");
    t->max_token_length = (uint32_t)max;
    t->vocab = i;
    t->image = b;
    t->len = len;
    t->offsets = offsets;
    return L2C_OK;
}

int l2c_token(const L2cTokenizer *t, uint32_t i, const uint8_t **bytes, uint32_t *len, float *score)
{
    if (!t->offsets || i >= t->vocab)
        return 0;
    const uint8_t *p = t->image + t->offsets[i];
    union { uint32_t u; float f; } s = {le32(p)};
    *score = s.f;
    *len = le32(p + 4);
    *bytes = p + 8;
    return 1;
}
