/* test_loader - model_load on a valid image and on every kind of bad file: each must come back with its own error
 * code and a message, with no sanitizer report. Every image sits in a buffer of exactly its length, so ASan sees
 * any read past the end. Format versions 1 (float) and 2 (int8 matrices) go through the same list of bad files;
 * version 2 adds its own (scales, -128, padding, a payload of the other version). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "quantize.h"

static ModelConfig base_cfg(void)
{
    ModelConfig c;
    memset(&c, 0, sizeof c);
    c.version = MF_VERSION;
    c.vocab = 256;
    c.ctx = 16;
    c.dim = 24;
    c.layers = 2;
    c.heads = 3;
    c.hidden = 40;
    strcpy(c.name, "loader-test");
    return c;
}

/* A valid image: header + small deterministic weights. Returns malloc'd bytes (length in *len). */
static uint8_t *make_image(const ModelConfig *cfg, size_t *len)
{
    ModelConfig c = *cfg;
    uint64_t n = mf_param_count(&c);
    *len = MF_HEADER_BYTES + n * 4;
    uint8_t *img = malloc(*len);
    float *w = (float *)(void *)(img + MF_HEADER_BYTES);
    for (uint64_t i = 0; i < n; i++)
        w[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    c.payload_bytes = n * 4;
    c.payload_crc32 = mf_crc32(0, w, n * 4);
    mf_header_encode(&c, img);
    return img;
}

/* The version 2 image of a version 1 image (quantize_image). Returns malloc'd bytes (length in *len). */
static uint8_t *make_int8_image(const uint8_t *v1, size_t v1_len, size_t *len)
{
    Model m;
    if (model_load(&m, v1, v1_len, NULL, 0) != MODEL_OK)
        return NULL;
    *len = MF_HEADER_BYTES + (size_t)quantize_config(&m.cfg).payload_bytes;
    uint8_t *img = malloc(*len);
    quantize_image(&m, img);
    return img;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* x86-64 is little-endian */

static void refresh_crc(uint8_t *img, size_t len)
{
    put_u32(img + 48, mf_crc32(0, img + MF_HEADER_BYTES, len - MF_HEADER_BYTES));
}

/* Loads a copy of img[0..len) from an exact-size buffer and checks the error. */
static void expect(const char *name, const uint8_t *img, size_t len, ModelError want)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, img, len);
    Model m;
    char msg[160];
    ModelError got = model_load(&m, copy, len, msg, sizeof msg);
    check_case(got == want && (want == MODEL_OK || strlen(msg) > 10), name, "want error %d (%s), got %d: '%s'",
               want, model_error_string(want), got, msg);
    if (got != MODEL_OK)
        printf("   %s -> %s\n", name, msg);
    free(copy);
}

/* expect() with the version in the case name: "v2_" in front for version 2, as the version 1 names always were. */
static void expect_v(int v, const char *name, const uint8_t *img, size_t len, ModelError want)
{
    char full[96];
    snprintf(full, sizeof full, "%s%s", v == 1 ? "" : "v2_", name);
    expect(full, img, len, want);
}

/* Every bad file that both versions can be: the header, the sizes, the checksum, NaN and Inf floats. good must have
 * a float weight at byte 200 (wte) and in its last 40 bytes (lnf_b). */
static void bad_file_cases(int v, const uint8_t *good, size_t len)
{
    uint8_t *img = malloc(len + 8);
    expect_v(v, "empty_file", good, 0, MODEL_ERR_TOO_SHORT);
    expect_v(v, "truncated_in_header_10", good, 10, MODEL_ERR_TOO_SHORT);
    expect_v(v, "truncated_in_header_127", good, 127, MODEL_ERR_TOO_SHORT);
    expect_v(v, "header_only", good, 128, MODEL_ERR_NO_PAYLOAD);
    expect_v(v, "truncated_after_one_weight", good, 132, MODEL_ERR_TRUNCATED);
    expect_v(v, "truncated_by_one_byte", good, len - 1, MODEL_ERR_TRUNCATED);
    expect_v(v, "truncated_in_the_middle", good, len / 2, MODEL_ERR_TRUNCATED);

#define MUTATE(v, name, code, want)      \
    do {                                 \
        memcpy(img, good, len);          \
        code;                            \
        expect_v(v, name, img, len, want); \
    } while (0)
    MUTATE(v, "bad_magic", img[0] = 'X', MODEL_ERR_MAGIC);
    MUTATE(v, "future_version", put_u32(img + 4, 3), MODEL_ERR_VERSION);
    MUTATE(v, "version_zero", put_u32(img + 4, 0), MODEL_ERR_VERSION);
    MUTATE(v, "bad_header_size", put_u32(img + 8, 64), MODEL_ERR_HEADER_SIZE);
    /* only a larger version can come from a newer efichat: version 0's message must not send the user to one */
    {
        uint32_t versions[2] = {0, 3};
        int newer_hint[2];
        for (int i = 0; i < 2; i++) {
            memcpy(img, good, len);
            put_u32(img + 4, versions[i]);
            Model mv;
            char vmsg[160];
            model_load(&mv, img, len, vmsg, sizeof vmsg);
            newer_hint[i] = strstr(vmsg, "newer") != NULL;
        }
        check_case(!newer_hint[0] && newer_hint[1], v == 1 ? "version_message_mentions_newer_only_when_newer"
                                                           : "v2_version_message_mentions_newer_only_when_newer",
                   "version 0 hint %d, version 3 hint %d", newer_hint[0], newer_hint[1]);
    }
    MUTATE(v, "dtype_of_the_other_version", put_u32(img + 12, v == 1 ? MF_DTYPE_Q8 : MF_DTYPE_F32), MODEL_ERR_DTYPE);
    MUTATE(v, "unknown_dtype", put_u32(img + 12, 9), MODEL_ERR_DTYPE);
    MUTATE(v, "vocab_not_256", put_u32(img + 16, 255), MODEL_ERR_VOCAB);
    MUTATE(v, "zero_ctx", put_u32(img + 20, 0), MODEL_ERR_ZERO_DIM);
    MUTATE(v, "zero_dim", put_u32(img + 24, 0), MODEL_ERR_ZERO_DIM);
    MUTATE(v, "zero_layers", put_u32(img + 28, 0), MODEL_ERR_ZERO_DIM);
    MUTATE(v, "zero_heads", put_u32(img + 32, 0), MODEL_ERR_ZERO_DIM);
    MUTATE(v, "zero_hidden", put_u32(img + 36, 0), MODEL_ERR_ZERO_DIM);
    /* sizes that would overflow 32 or 64-bit arithmetic if multiplied unchecked */
    MUTATE(v, "huge_dim_overflow", put_u32(img + 24, 0xFFFFFFFFu), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE(v, "huge_ctx", put_u32(img + 20, 0x80000000u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE(v, "huge_layers", put_u32(img + 28, 0x10000001u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE(v, "huge_hidden", put_u32(img + 36, 0xFFFFFFF0u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE(v, "heads_do_not_divide_dim", put_u32(img + 32, 5), MODEL_ERR_HEADS);
    MUTATE(v, "heads_exceed_dim", put_u32(img + 32, 48), MODEL_ERR_HEADS);
    MUTATE(v, "name_without_nul", memset(img + 64, 'a', 64), MODEL_ERR_NAME);
    MUTATE(v, "reserved_bytes_set", img[60] = 1, MODEL_ERR_RESERVED);
    MUTATE(v, "payload_length_mismatch", put_u32(img + 40, (uint32_t)(len - 128 - 4)), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE(v, "payload_length_high_word", put_u32(img + 44, 1), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE(v, "dims_change_payload_size", put_u32(img + 36, 41), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE(v, "bad_checksum_flipped_bit", img[len - 3] ^= 0x10, MODEL_ERR_CHECKSUM);
    MUTATE(v, "bad_checksum_field", put_u32(img + 48, 0xDEADBEEF), MODEL_ERR_CHECKSUM);
    float nan = NAN, inf = INFINITY;
    MUTATE(v, "nan_weight", (memcpy(img + len - 40, &nan, 4), refresh_crc(img, len)), MODEL_ERR_NONFINITE);
    MUTATE(v, "inf_weight", (memcpy(img + 200, &inf, 4), refresh_crc(img, len)), MODEL_ERR_NONFINITE);

    memcpy(img, good, len);
    memset(img + len, 0, 8);
    expect_v(v, "trailing_bytes", img, len + 8, MODEL_ERR_TRAILING);
    free(img);
}

/* Byte offset in the image of word `word` of tensor t, layer l. */
static size_t at(const ModelConfig *c, int t, uint32_t l, uint64_t word)
{
    return MF_HEADER_BYTES + (size_t)(mf_tensor_offset(c, t, l) + word) * 4;
}

/* Version 2: the same bad files as version 1, then its own: scales NaN, Inf or negative, a -128, non-zero padding,
 * and a payload of the other version under each header. A good one loads, points into the image and runs only once
 * its kernel has weights. v1 is the float image the int8 one is made from. */
static void int8_cases(const uint8_t *v1, size_t v1_len)
{
    size_t len;
    uint8_t *good = make_int8_image(v1, v1_len, &len), *img = malloc(len);
    expect("v2_valid_model_loads", good, len, MODEL_OK);
    Model m;
    check_case(model_load(&m, good, len, NULL, 0) == MODEL_OK && m.cfg.version == 2 && m.cfg.dtype == MF_DTYPE_Q8 &&
                   m.cfg.dim == 24 && len < v1_len && !m.wt.w[MF_QKV_W] &&
                   m.wt.qscale[MF_FC_W] == (const float *)(const void *)(good + at(&m.cfg, MF_FC_W, 0, 0)) &&
                   m.wt.q[MF_FC_W] == (const int8_t *)(good + at(&m.cfg, MF_FC_W, 0, m.cfg.hidden)) &&
                   m.wt.w[MF_LNF_B] == (const float *)(const void *)(good + len - 24 * 4),
               "v2_valid_model_fields_and_tensor_pointers", "config or pointers wrong (len %zu of %zu)", len, v1_len);
    bad_file_cases(2, good, len);

    const ModelConfig *c = &m.cfg;
    float nan = NAN, inf = INFINITY, neg = -0.01f;
    int8_t minus128 = -128;
#define MUTATE_AT(name, off, value, want)                                  \
    do {                                                                   \
        memcpy(img, good, len);                                            \
        memcpy(img + (off), &(value), sizeof(value));                      \
        refresh_crc(img, len);                                             \
        expect(name, img, len, want);                                      \
    } while (0)
    MUTATE_AT("v2_nan_scale", at(c, MF_QKV_W, 1, 5), nan, MODEL_ERR_NONFINITE);
    MUTATE_AT("v2_inf_scale", at(c, MF_FCPROJ_W, 0, 0), inf, MODEL_ERR_NONFINITE);
    MUTATE_AT("v2_negative_scale", at(c, MF_PROJ_W, 1, 23), neg, MODEL_ERR_INT8_VALUE);
    MUTATE_AT("v2_minus_128", at(c, MF_FC_W, 1, c->hidden) + 7, minus128, MODEL_ERR_INT8_VALUE);
    MUTATE_AT("v2_minus_128_last_value", at(c, MF_FCPROJ_W, 1, c->dim) + (size_t)c->dim * c->hidden - 1, minus128,
              MODEL_ERR_INT8_VALUE);
    float negzero = -0.0f;
    MUTATE_AT("v2_negative_zero_scale", at(c, MF_FC_W, 0, 3), negzero, MODEL_ERR_INT8_VALUE);

    /* the other version's payload under each header: its length cannot match */
    memcpy(img, good, len);
    uint8_t *v1hdr = malloc(v1_len);
    memcpy(v1hdr, v1, v1_len);
    put_u32(v1hdr + 4, 2);
    put_u32(v1hdr + 12, MF_DTYPE_Q8);
    expect("v1_payload_under_v2_header", v1hdr, v1_len, MODEL_ERR_PAYLOAD_SIZE);
    put_u32(img + 4, 1);
    put_u32(img + 12, MF_DTYPE_F32);
    expect("v2_payload_under_v1_header", img, len, MODEL_ERR_PAYLOAD_SIZE);
    free(v1hdr);

    /* no kernel has weights until model_dequantize (float) or model_quantize (Q8) */
    RunState s;
    void *mem = malloc(model_state_bytes(c));
    model_state_init(&s, c, mem, KERNEL_SCALAR_SSE2);
    int32_t toks[40];
    for (int i = 0; i < 40; i++)
        toks[i] = (i * 53) & 255;
    ModelError e = model_feed(&m, &s, toks, 3, NULL);
    s.kernel = KERNEL_Q8;
    ModelError eq = model_feed(&m, &s, toks, 3, NULL);
    check_case(e == MODEL_ERR_UNPREPARED && eq == MODEL_ERR_UNPREPARED && model_dequant_bytes(c) > 0,
               "v2_feed_before_prepare_is_refused", "float %d, q8 %d", e, eq);
    void *dq = malloc(model_dequant_bytes(c));
    model_dequantize(&m, dq);
    /* dequantised weights are (float)q * scale, one rounding, computed here from the image bytes */
    int exact = 1;
    for (uint32_t l = 0; l < c->layers; l++) {
        const float *sc = (const float *)(const void *)(good + at(c, MF_FC_W, l, 0));
        const int8_t *q = (const int8_t *)(good + at(c, MF_FC_W, l, c->hidden));
        const float *w = m.wt.w[MF_FC_W] + l * m.wt.w_stride[MF_FC_W];
        for (uint32_t i = 0; i < c->hidden * c->dim; i++)
            exact &= w[i] == (float)q[i] * sc[i / c->dim];
    }
    check_case(exact, "v2_dequantised_is_value_times_scale", "a float copy differs");
    model_state_init(&s, c, mem, KERNEL_SCALAR_SSE2);
    e = model_feed(&m, &s, toks, 40, NULL);
    check_case(e == MODEL_OK && s.slides == 3 && s.pos == 16, "v2_feed_past_context_slides", "err %d slides %u", e,
               s.slides);
    free(dq);
    free(mem);
    free(img);
    free(good);
}

/* Version 2 with dims whose int8 matrices end off a 4-byte boundary: padding bytes follow, and must be zero. */
static void int8_padding_cases(void)
{
    ModelConfig c = base_cfg();
    c.dim = 15; /* qkv_w 45 x 15 = 675 bytes: 1 byte of padding; fc_w 25 x 15 = 375: 1 byte */
    c.hidden = 25;
    size_t v1_len, len;
    uint8_t *v1 = make_image(&c, &v1_len), *good = make_int8_image(v1, v1_len, &len), *img = malloc(len);
    expect("v2_padded_model_loads", good, len, MODEL_OK);
    Model m;
    model_load(&m, good, len, NULL, 0);
    uint8_t one = 1;
    size_t pad = at(&m.cfg, MF_QKV_W, 1, 45) + 675;
    check_case(pad % 4 == 3 && good[pad] == 0 && pad + 1 == at(&m.cfg, MF_QKV_B, 1, 0), "v2_padding_where_expected",
               "padding at %zu", pad);
    MUTATE_AT("v2_padding_not_zero", pad, one, MODEL_ERR_PADDING);
    MUTATE_AT("v2_padding_not_zero_fc", at(&m.cfg, MF_FC_W, 0, 25) + 375, one, MODEL_ERR_PADDING);
    /* it runs: the AVX/SSE2 float kernels read the dequantised rows, Q8 the widened ones */
    void *mem = malloc(model_state_bytes(&m.cfg)), *dq = malloc(model_dequant_bytes(&m.cfg));
    void *qm = malloc(model_q8_bytes(&m.cfg));
    model_dequantize(&m, dq);
    RunState s;
    int32_t toks[20];
    for (int i = 0; i < 20; i++)
        toks[i] = (i * 29) & 255;
    model_state_init(&s, &m.cfg, mem, KERNEL_SCALAR_SSE2);
    ModelError e = model_feed(&m, &s, toks, 20, NULL);
    int q = model_quantize(&m, qm);
    model_state_init(&s, &m.cfg, mem, KERNEL_Q8);
    ModelError eq = model_feed(&m, &s, toks, 20, NULL);
    check_case(e == MODEL_OK && q && eq == MODEL_OK, "v2_padded_model_runs", "float %d, q8 %d %d", e, q, eq);
    free(qm);
    free(dq);
    free(mem);
    free(img);
    free(good);
    free(v1);
}

int main(void)
{
    ModelConfig c = base_cfg();
    size_t len;
    uint8_t *good = make_image(&c, &len);

    expect("valid_model_loads", good, len, MODEL_OK);
    Model m;
    char msg[160];
    check_case(model_load(&m, good, len, msg, sizeof msg) == MODEL_OK && m.cfg.dim == 24 && m.cfg.heads == 3 &&
                   strcmp(m.cfg.name, "loader-test") == 0 && m.wt.w[MF_LNF_B] == (const float *)(const void *)
                   (good + MF_HEADER_BYTES) + mf_param_count(&m.cfg) - 24,
               "valid_model_fields_and_tensor_pointers", "config or pointers wrong");
    bad_file_cases(1, good, len);
    int8_cases(good, len);
    int8_padding_cases();

    /* misaligned: the same valid bytes one byte off a 4-byte boundary */
    uint8_t *raw = malloc(len + 1);
    memcpy(raw + 1, good, len);
    ModelError e = model_load(&m, raw + 1, len, msg, sizeof msg);
    check_case(e == MODEL_ERR_ALIGN, "misaligned_image", "got %d", e);
    e = model_load(&m, NULL, 100, msg, sizeof msg);
    check_case(e == MODEL_ERR_NULL, "null_image", "got %d", e);
    e = model_load(&m, good, 3, NULL, 0);
    check_case(e == MODEL_ERR_TOO_SHORT, "no_message_buffer_is_fine", "got %d", e);

    /* every error has its own sentence */
    int distinct = 1;
    for (int i = 0; i < MODEL_ERR_COUNT; i++)
        for (int j = i + 1; j < MODEL_ERR_COUNT; j++)
            distinct &= strcmp(model_error_string(i), model_error_string(j)) != 0;
    check_case(distinct, "error_strings_distinct", "two errors share a message");

    /* a model that loads also runs: feed a few tokens past the context (slides) without sanitizer reports */
    RunState s;
    model_load(&m, good, len, msg, sizeof msg);
    void *mem = malloc(model_state_bytes(&m.cfg));
    model_state_init(&s, &m.cfg, mem, KERNEL_SCALAR_SSE2);
    int32_t toks[40];
    for (int i = 0; i < 40; i++)
        toks[i] = (i * 37) & 255;
    model_feed(&m, &s, toks, 40, NULL);
    int finite = 1;
    for (int i = 0; i < 256; i++)
        finite &= isfinite(s.logits[i]);
    check_case(finite && s.slides == 3 && s.pos == 16, "feed_past_context_slides", "slides %u pos %u finite %d",
               s.slides, s.pos, finite);

    /* finite but huge weights load, and the forward pass overflows: model_feed must say so */
    uint8_t *huge = malloc(len);
    memcpy(huge, good, len);
    float *hw = (float *)(void *)(huge + MF_HEADER_BYTES);
    for (size_t i = 0; i < (len - MF_HEADER_BYTES) / 4; i++)
        hw[i] *= 1e30f;
    refresh_crc(huge, len);
    Model mh;
    e = model_load(&mh, huge, len, msg, sizeof msg);
    model_state_init(&s, &mh.cfg, mem, KERNEL_SCALAR_SSE2);
    ModelError one = model_feed(&mh, &s, toks, 1, NULL);
    float *all = malloc(40 * 256 * sizeof *all);
    model_state_reset(&s);
    ModelError batch = model_feed(&mh, &s, toks, 40, all);
    check_case(e == MODEL_OK && one == MODEL_ERR_NONFINITE_LOGITS && batch == MODEL_ERR_NONFINITE_LOGITS,
               "feed_reports_nonfinite_logits", "load %d, feed %d, batch %d", e, one, batch);
    model_state_init(&s, &m.cfg, mem, KERNEL_SCALAR_SSE2);
    one = model_feed(&m, &s, toks, 1, NULL);
    batch = model_feed(&m, &s, toks, 40, all);
    check_case(one == MODEL_OK && batch == MODEL_OK, "feed_ok_on_finite_logits", "feed %d, batch %d", one, batch);
    free(all);
    free(huge);
    free(mem);
    free(raw);
    free(good);
    return check_exit();
}
