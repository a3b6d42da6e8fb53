/* fuzz_tokenizer.c - the tokenizers (src/tokenizers/) on any bytes. The first byte picks what the rest is:
 *   0: a llama2.c tokenizer.bin; 1: a GGUF file with tokenizer.ggml.* keys; 2: text for the pre-tokenisers.
 * Promises checked: a refusal writes a NUL-terminated line; an accepted vocabulary encodes a few fixed texts and the
 * bytes of the input itself into ids inside the vocabulary, no more than tok_encode_cap allows, and decodes every id
 * into at most max_piece bytes; the pre-tokenisers cut any text into non-empty chunks that tile it. */
#include <string.h>

#include "fuzz.h"
#include "tokenizers/tok_internal.h"

static void encode_decode(const Tokenizer *t, const uint8_t *text, size_t len)
{
    size_t cap = tok_encode_cap(len), n;
    uint32_t *ids = malloc(cap * sizeof *ids), *work = malloc(TOK_WORK_PER_ID * cap * sizeof *work);
    uint8_t *piece = malloc(t->max_piece ? t->max_piece : 1);
    FUZZ_CHECK(ids && work && piece);
    FUZZ_CHECK(tok_encode(t, text, len, 1, ids, work, cap - 1, &n) == TOK_ERR_SPACE);
    FUZZ_CHECK(tok_encode(t, text, len, 1, ids, work, cap, &n) == TOK_OK && n <= cap);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ids[i] < t->vocab);
        FUZZ_CHECK(tok_decode(t, i ? ids[i - 1] : TOK_NONE, ids[i], piece, t->max_piece) <= t->max_piece);
    }
    free(piece);
    free(work);
    free(ids);
}

static void check_vocabulary(const Tokenizer *t, const uint8_t *data, size_t size)
{
    static const char *const texts[] = {"", " ", "Hello, world!", "  two  spaces\n\nand lines\r\n",
                                        "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x96\x81 <s> <0x41> 's 'LL 12345",
                                        "\xff\xfe\x80 broken \xe2\x82 utf-8 \xc0\xaf"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        encode_decode(t, (const uint8_t *)texts[i], strlen(texts[i]));
    encode_decode(t, data, size < 512 ? size : 512);
    FUZZ_CHECK(t->bos == TOK_NONE || t->bos < t->vocab);
    FUZZ_CHECK(t->eos == TOK_NONE || t->eos < t->vocab);
    FUZZ_CHECK(t->eot == TOK_NONE || t->eot < t->vocab);
}

static void check_l2c(const uint8_t *data, size_t size)
{
    Tokenizer t;
    char msg[200];
    memset(msg, 'x', sizeof msg);
    size_t need = tok_bytes_l2c(data, size, 0);
    void *mem = malloc(need ? need : 1);
    FUZZ_CHECK(mem != NULL);
    TokError e = tok_init_l2c(&t, data, size, 0, mem, need, msg, sizeof msg);
    FUZZ_CHECK(e >= TOK_OK && e < TOK_ERR_COUNT && memchr(msg, 0, sizeof msg));
    if (e == TOK_OK)
        check_vocabulary(&t, data, size);
    free(mem);
}

static void check_gguf(const uint8_t *data, size_t size)
{
    GgufFile f;
    char msg[200];
    size_t need = gguf_mem_bytes(data, size);
    void *gmem = malloc(need ? need : 1);
    FUZZ_CHECK(gmem != NULL);
    if (gguf_open(&f, data, size, gmem, need, NULL, 0) == GGUF_OK) {
        Tokenizer t;
        memset(msg, 'x', sizeof msg);
        size_t tneed = tok_bytes_gguf(&f);
        void *mem = malloc(tneed ? tneed : 1);
        FUZZ_CHECK(mem != NULL);
        FUZZ_CHECK(tneed == 0 || tok_init_gguf(&t, &f, mem, tneed - 1, NULL, 0) != TOK_OK);
        TokError e = tok_init_gguf(&t, &f, mem, tneed, msg, sizeof msg);
        FUZZ_CHECK(e >= TOK_OK && e < TOK_ERR_COUNT && memchr(msg, 0, sizeof msg));
        if (e == TOK_OK)
            check_vocabulary(&t, data, size);
        free(mem);
    }
    free(gmem);
}

static void check_pretok(const uint8_t *text, size_t len)
{
    for (uint32_t style = TOK_PRE_GPT2; style <= TOK_PRE_LLAMA3; style++)
        for (size_t i = 0; i < len;) {
            size_t end = tok_pretok_next(style, text, len, i);
            FUZZ_CHECK(end > i && end <= len);
            i = end;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1); /* exact size, so ASan sees one byte past the end */
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        check_l2c(copy, size - 1);
        break;
    case 1:
        check_gguf(copy, size - 1);
        break;
    default:
        check_pretok(copy, size - 1);
    }
    free(copy);
    return 0;
}
