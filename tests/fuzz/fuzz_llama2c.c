/* fuzz_llama2c.c - the llama2.c model and tokenizer readers on any bytes.
 * Promises checked: neither reads outside the image; a refusal writes a NUL-terminated line; an accepted model's
 * every tensor view (every layer) lies inside the image, and the views tile it exactly from the header to the end;
 * an accepted tokenizer's tokens lie inside the image, no longer than its max token length. */
#include <string.h>

#include "fuzz.h"
#include "formats/llama2c.h"

static void check_model(const uint8_t *data, size_t size)
{
    Llama2cFile f;
    char msg[160];
    memset(msg, 'x', sizeof msg);
    L2cError e = l2c_open(&f, data, size, msg, sizeof msg);
    FUZZ_CHECK(e >= L2C_OK && e < L2C_ERR_COUNT && memchr(msg, 0, sizeof msg));
    if (e != L2C_OK)
        return;
    uint64_t covered = f.version ? L2C_HEADER : L2C_LEGACY_HEADER;
    for (int t = 0; t < L2C_TENSOR_COUNT; t++)
        for (uint32_t l = 0; l < f.layers; l++) {
            L2cView v;
            if (!l2c_tensor(&f, t, l, &v))
                break;
            uint64_t n = v.rows * v.cols, bytes = v.scales ? n + n / f.group_size * 4 : 4 * n;
            FUZZ_CHECK(v.data >= data && bytes <= (uint64_t)(data + size - v.data));
            covered += bytes;
            if (t < L2C_RMS_ATT || t > L2C_W3)
                break; /* a global tensor: one copy */
        }
    FUZZ_CHECK(covered == size);
}

static void check_tokenizer(const uint8_t *data, size_t size)
{
    L2cTokenizer t;
    char msg[160];
    memset(msg, 'x', sizeof msg);
    L2cError e = l2c_tokenizer_open(&t, data, size, 0, NULL, msg, sizeof msg);
    FUZZ_CHECK(e >= L2C_OK && e < L2C_ERR_COUNT && memchr(msg, 0, sizeof msg));
    if (e != L2C_OK)
        return;
    uint32_t *offsets = malloc(t.vocab * sizeof(uint32_t));
    FUZZ_CHECK(offsets && l2c_tokenizer_open(&t, data, size, t.vocab, offsets, msg, sizeof msg) == L2C_OK);
    for (uint32_t i = 0; i < t.vocab; i++) {
        const uint8_t *b;
        uint32_t n;
        float score;
        FUZZ_CHECK(l2c_token(&t, i, &b, &n, &score));
        FUZZ_CHECK(n <= t.max_token_length && b >= data && n <= (uint64_t)(data + size - b));
    }
    free(offsets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exact size, so ASan sees one byte past the end */
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    check_model(copy, size);
    check_tokenizer(copy, size);
    free(copy);
    return 0;
}
