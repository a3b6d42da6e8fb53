/* test_loader - model_load on a valid image and on every kind of bad file: each must come back with its own error
 * code and a message, with no sanitizer report. Every image sits in a buffer of exactly its length, so ASan sees
 * any read past the end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"

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

int main(void)
{
    ModelConfig c = base_cfg();
    size_t len;
    uint8_t *good = make_image(&c, &len), *img = malloc(len + 8);

    expect("valid_model_loads", good, len, MODEL_OK);
    Model m;
    char msg[160];
    check_case(model_load(&m, good, len, msg, sizeof msg) == MODEL_OK && m.cfg.dim == 24 && m.cfg.heads == 3 &&
                   strcmp(m.cfg.name, "loader-test") == 0 && m.wt.w[MF_LNF_B] == (const float *)(const void *)
                   (good + MF_HEADER_BYTES) + mf_param_count(&m.cfg) - 24,
               "valid_model_fields_and_tensor_pointers", "config or pointers wrong");

    expect("empty_file", good, 0, MODEL_ERR_TOO_SHORT);
    expect("truncated_in_header_10", good, 10, MODEL_ERR_TOO_SHORT);
    expect("truncated_in_header_127", good, 127, MODEL_ERR_TOO_SHORT);
    expect("header_only", good, 128, MODEL_ERR_NO_PAYLOAD);
    expect("truncated_after_one_weight", good, 132, MODEL_ERR_TRUNCATED);
    expect("truncated_by_one_byte", good, len - 1, MODEL_ERR_TRUNCATED);
    expect("truncated_in_the_middle", good, len / 2, MODEL_ERR_TRUNCATED);

#define MUTATE(name, code, want)         \
    do {                                 \
        memcpy(img, good, len);          \
        code;                            \
        expect(name, img, len, want);    \
    } while (0)
    MUTATE("bad_magic", img[0] = 'X', MODEL_ERR_MAGIC);
    MUTATE("future_version", put_u32(img + 4, 2), MODEL_ERR_VERSION);
    MUTATE("version_zero", put_u32(img + 4, 0), MODEL_ERR_VERSION);
    MUTATE("bad_header_size", put_u32(img + 8, 64), MODEL_ERR_HEADER_SIZE);
    /* only a larger version can come from a newer efichat: version 0's message must not send the user to one */
    {
        uint32_t versions[2] = {0, 2};
        int newer_hint[2];
        for (int i = 0; i < 2; i++) {
            memcpy(img, good, len);
            put_u32(img + 4, versions[i]);
            Model mv;
            char vmsg[160];
            model_load(&mv, img, len, vmsg, sizeof vmsg);
            newer_hint[i] = strstr(vmsg, "newer") != NULL;
        }
        check_case(!newer_hint[0] && newer_hint[1], "version_message_mentions_newer_only_when_newer",
                   "version 0 hint %d, version 2 hint %d", newer_hint[0], newer_hint[1]);
    }
    MUTATE("int8_dtype_not_implemented", put_u32(img + 12, 1), MODEL_ERR_DTYPE);
    MUTATE("unknown_dtype", put_u32(img + 12, 9), MODEL_ERR_DTYPE);
    MUTATE("vocab_not_256", put_u32(img + 16, 255), MODEL_ERR_VOCAB);
    MUTATE("zero_ctx", put_u32(img + 20, 0), MODEL_ERR_ZERO_DIM);
    MUTATE("zero_dim", put_u32(img + 24, 0), MODEL_ERR_ZERO_DIM);
    MUTATE("zero_layers", put_u32(img + 28, 0), MODEL_ERR_ZERO_DIM);
    MUTATE("zero_heads", put_u32(img + 32, 0), MODEL_ERR_ZERO_DIM);
    MUTATE("zero_hidden", put_u32(img + 36, 0), MODEL_ERR_ZERO_DIM);
    /* sizes that would overflow 32 or 64-bit arithmetic if multiplied unchecked */
    MUTATE("huge_dim_overflow", put_u32(img + 24, 0xFFFFFFFFu), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE("huge_ctx", put_u32(img + 20, 0x80000000u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE("huge_layers", put_u32(img + 28, 0x10000001u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE("huge_hidden", put_u32(img + 36, 0xFFFFFFF0u), MODEL_ERR_DIM_TOO_LARGE);
    MUTATE("heads_do_not_divide_dim", put_u32(img + 32, 5), MODEL_ERR_HEADS);
    MUTATE("heads_exceed_dim", put_u32(img + 32, 48), MODEL_ERR_HEADS);
    MUTATE("name_without_nul", memset(img + 64, 'a', 64), MODEL_ERR_NAME);
    MUTATE("reserved_bytes_set", img[60] = 1, MODEL_ERR_RESERVED);
    MUTATE("payload_length_mismatch", put_u32(img + 40, (uint32_t)(len - 128 - 4)), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE("payload_length_high_word", put_u32(img + 44, 1), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE("dims_change_payload_size", put_u32(img + 36, 41), MODEL_ERR_PAYLOAD_SIZE);
    MUTATE("bad_checksum_flipped_bit", img[len - 3] ^= 0x10, MODEL_ERR_CHECKSUM);
    MUTATE("bad_checksum_field", put_u32(img + 48, 0xDEADBEEF), MODEL_ERR_CHECKSUM);
    float nan = NAN, inf = INFINITY;
    MUTATE("nan_weight", (memcpy(img + len - 40, &nan, 4), refresh_crc(img, len)), MODEL_ERR_NONFINITE);
    MUTATE("inf_weight", (memcpy(img + 200, &inf, 4), refresh_crc(img, len)), MODEL_ERR_NONFINITE);

    memcpy(img, good, len);
    memset(img + len, 0, 8);
    expect("trailing_bytes", img, len + 8, MODEL_ERR_TRAILING);

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
    free(img);
    free(good);
    return check_exit();
}
