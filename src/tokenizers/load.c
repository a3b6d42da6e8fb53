/* load.c - a Tokenizer (tokenizer.h) from llama2.c's tokenizer.bin or a GGUF file's tokenizer.ggml.* keys: the
 * pieces, scores and types gathered into the caller's block and checked (tokenizer.c), the special ids and the
 * byte-fallback tokens found, and for byte-level BPE the merges (bpe.c). It reads images the format readers accepted.
 * No libc, no allocation, one error line for every vocabulary it refuses. */
#include "tok_internal.h"
#include "../ecmath.h"
#include "../formats/llama2c.h"

// ----------------------------------------------------------------------------
// llama2.c tokenizer.bin

size_t tok_bytes_l2c(const void *bytes, size_t len, uint32_t vocab)
{
    L2cTokenizer lt;
    if (l2c_tokenizer_open(&lt, bytes, len, vocab, NULL, NULL, 0) != L2C_OK)
        return 0;
    return tok_table_bytes(lt.vocab) + (size_t)lt.vocab * sizeof(uint32_t); /* + the reader's offsets */
}

TokError tok_init_l2c(Tokenizer *t, const void *bytes, size_t len, uint32_t vocab, void *mem, size_t mem_len,
                      char *msg, size_t cap)
{
    TokMsg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(t, 0, sizeof *t);
    if (!bytes)
        return tok_fail(&m, TOK_ERR_NULL, NULL);
    L2cTokenizer lt;
    char why[200];
    if (l2c_tokenizer_open(&lt, bytes, len, vocab, NULL, why, sizeof why) != L2C_OK) {
        tok_fail(&m, TOK_ERR_FORMAT, ": ");
        tok_say(&m, why);
        return TOK_ERR_FORMAT;
    }
    size_t need = tok_table_bytes(lt.vocab) + (size_t)lt.vocab * sizeof(uint32_t);
    if (!mem || mem_len < need)
        return tok_fail(&m, TOK_ERR_MEMORY, NULL);
    TokPiece *pieces = mem;                          /* (V) */
    uint32_t *sorted = (uint32_t *)(pieces + lt.vocab); /* (V) */
    uint32_t *offsets = sorted + lt.vocab;            /* (V) the reader's, used only here */
    l2c_tokenizer_open(&lt, bytes, len, lt.vocab, offsets, NULL, 0);
    t->kind = TOK_KIND_LLAMA2C;
    t->vocab = lt.vocab;
    for (uint32_t i = 0; i < lt.vocab; i++) {
        l2c_token(&lt, i, &pieces[i].ptr, &pieces[i].len, &pieces[i].score);
        pieces[i].type = TOK_TYPE_NORMAL; /* run.c looks every piece up, BOS and EOS included */
    }
    TokError e = tok_index_pieces(t, pieces, sorted, &m);
    if (e)
        return e;
    /* run.c's fixed layout: 0 <unk>, 1 BOS, 2 EOS, then the 256 byte pieces as <0x00>..<0xFF>. */
    if (t->vocab < 259) {
        tok_fail(&m, TOK_ERR_BYTES, ": llama2.c puts byte b at token b + 3, but the vocabulary has only ");
        tok_say_u64(&m, t->vocab);
        tok_say(&m, " tokens");
        return TOK_ERR_BYTES;
    }
    for (uint32_t b = 0; b < 256; b++) {
        const TokPiece *p = &pieces[b + 3];
        if (tok_byte_piece_value(p->ptr, p->len) != (int)b) {
            tok_fail(&m, TOK_ERR_BYTES, ": token ");
            tok_say_u64(&m, b + 3);
            tok_say(&m, " should be the byte piece for ");
            tok_say_u64(&m, b);
            tok_say(&m, ", it is ");
            tok_say_piece(&m, p->ptr, p->len);
            return TOK_ERR_BYTES;
        }
        t->byte_id[b] = b + 3;
    }
    t->unk = 0;
    t->bos = 1;
    t->eos = 2;
    t->eot = tok_find_eot(t);
    t->add_bos = 1;
    t->space_prefix = 1;
    return TOK_OK;
}

// ----------------------------------------------------------------------------
// GGUF tokenizer.ggml.*

size_t tok_bytes_gguf(const GgufFile *f)
{
    uint32_t elem;
    uint64_t n;
    if (!gguf_get_array(f, "tokenizer.ggml.tokens", &elem, &n) || elem != GGUF_STRING || n == 0 || n >= TOK_NONE)
        return 0;
    return tok_table_bytes(n) + tok_bytes_bpe(f);
}

static int get_bool(const GgufFile *f, const char *key, int dflt)
{
    const GgufKV *kv = gguf_find_kv(f, key);
    return kv && kv->type == GGUF_BOOL ? kv->data[0] != 0 : dflt;
}

/* A u32 special id (some converters write i32); TOK_NONE when absent. */
static uint32_t get_id(const GgufFile *f, const char *key)
{
    const GgufKV *kv = gguf_find_kv(f, key);
    if (!kv || (kv->type != GGUF_U32 && kv->type != GGUF_I32))
        return TOK_NONE;
    return (uint32_t)kv->data[0] | (uint32_t)kv->data[1] << 8 | (uint32_t)kv->data[2] << 16 |
           (uint32_t)kv->data[3] << 24;
}

/* An array of exactly `vocab` 32-bit elements of type `want`, or NULL (with the error in m) when present but wrong. */
static TokError companion(const GgufFile *f, const char *key, uint32_t want, uint32_t vocab, const GgufKV **out,
                          TokMsg *m)
{
    *out = NULL;
    const GgufKV *kv = gguf_find_kv(f, key);
    if (!kv)
        return TOK_OK;
    if (kv->type != GGUF_ARRAY || kv->elem_type != want || kv->count != vocab) {
        tok_fail(m, TOK_ERR_SCORES, ": ");
        tok_say(m, key);
        if (kv->type != GGUF_ARRAY || kv->elem_type != want) {
            tok_say(m, want == GGUF_F32 ? " is not an array of f32" : " is not an array of i32");
            return TOK_ERR_SCORES;
        }
        tok_say(m, " holds ");
        tok_say_u64(m, kv->count);
        tok_say(m, " entries for ");
        tok_say_u64(m, vocab);
        tok_say(m, " tokens");
        return TOK_ERR_SCORES;
    }
    *out = kv;
    return TOK_OK;
}

TokError tok_init_gguf(Tokenizer *t, const GgufFile *f, void *mem, size_t mem_len, char *msg, size_t cap)
{
    TokMsg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(t, 0, sizeof *t);
    if (!f)
        return tok_fail(&m, TOK_ERR_NULL, NULL);
    GgufStr model;
    if (!gguf_get_str(f, "tokenizer.ggml.model", &model))
        return tok_fail(&m, TOK_ERR_FORMAT, ": tokenizer.ggml.model is missing");
    int bpe = gguf_str_eq(model, "gpt2");
    if (!bpe && !gguf_str_eq(model, "llama")) {
        tok_fail(&m, TOK_ERR_MODEL, ": tokenizer.ggml.model is ");
        tok_say_piece(&m, (const uint8_t *)model.ptr, model.len > 40 ? 41 : (uint32_t)model.len);
        tok_say(&m, ", not 'llama' (SentencePiece) or 'gpt2' (byte-level BPE)");
        return TOK_ERR_MODEL;
    }
    const GgufKV *tokens = gguf_find_kv(f, "tokenizer.ggml.tokens");
    size_t need = tok_bytes_gguf(f);
    if (!tokens || !need)
        return tok_fail(&m, TOK_ERR_FORMAT, ": tokenizer.ggml.tokens is missing, empty or not an array of strings");
    if (!mem || mem_len < need)
        return tok_fail(&m, TOK_ERR_MEMORY, NULL);
    t->kind = bpe ? TOK_KIND_BPE : TOK_KIND_SPM;
    t->vocab = (uint32_t)tokens->count;
    const GgufKV *scores, *types;
    TokError e;
    if ((e = companion(f, "tokenizer.ggml.scores", GGUF_F32, t->vocab, &scores, &m)) ||
        (e = companion(f, "tokenizer.ggml.token_type", GGUF_I32, t->vocab, &types, &m)))
        return e;
    if (!scores && !bpe)
        return tok_fail(&m, TOK_ERR_SCORES, ": tokenizer.ggml.scores is missing (SentencePiece merges by score)");
    TokPiece *pieces = mem;                             /* (V) */
    uint32_t *sorted = (uint32_t *)(pieces + t->vocab); /* (V) */
    GgufStrIter it;
    GgufStr s;
    gguf_str_iter_init(&it, tokens);
    for (uint32_t i = 0; gguf_str_iter_next(&it, &s); i++) {
        union { uint32_t u; float f; } score = {0};
        uint32_t type = TOK_TYPE_NORMAL;
        if (scores)
            gguf_array_u32(scores, i, &score.u);
        if (types)
            gguf_array_u32(types, i, &type);
        pieces[i].ptr = (const uint8_t *)s.ptr;
        pieces[i].len = s.len > TOK_MAX_PIECE ? TOK_MAX_PIECE + 1 : (uint32_t)s.len;
        pieces[i].score = score.f;
        pieces[i].type = type;
    }
    if ((e = tok_index_pieces(t, pieces, sorted, &m)))
        return e;
    t->bos = get_id(f, "tokenizer.ggml.bos_token_id");
    t->eos = get_id(f, "tokenizer.ggml.eos_token_id");
    t->unk = get_id(f, "tokenizer.ggml.unknown_token_id");
    t->eot = get_id(f, "tokenizer.ggml.eot_token_id");
    if ((e = tok_check_special(t, "tokenizer.ggml.bos_token_id", t->bos, &m)) ||
        (e = tok_check_special(t, "tokenizer.ggml.eos_token_id", t->eos, &m)) ||
        (e = tok_check_special(t, "tokenizer.ggml.unknown_token_id", t->unk, &m)) ||
        (e = tok_check_special(t, "tokenizer.ggml.eot_token_id", t->eot, &m)))
        return e;
    if (t->eot == TOK_NONE)
        t->eot = tok_find_eot(t);
    t->add_bos = get_bool(f, "tokenizer.ggml.add_bos_token", !bpe && t->bos != TOK_NONE);
    t->space_prefix = get_bool(f, "tokenizer.ggml.add_space_prefix", !bpe);
    if (bpe)
        return tok_init_bpe(t, f, (TokMerge *)(sorted + t->vocab), &m);
    /* Byte fallback: all 256 <0xNN> pieces, or none at all (then unknown characters become unk). */
    uint32_t found = 0;
    for (uint32_t b = 0; b < 256; b++) {
        static const char hex[] = "0123456789ABCDEF";
        uint8_t name[6] = {'<', '0', 'x', (uint8_t)hex[b >> 4], (uint8_t)hex[b & 15], '>'};
        t->byte_id[b] = tok_find(t, name, 6);
        found += t->byte_id[b] != TOK_NONE;
    }
    if (found != 256 && (found || t->unk == TOK_NONE)) {
        tok_fail(&m, TOK_ERR_BYTES, ": ");
        tok_say_u64(&m, found);
        tok_say(&m, found ? " of the 256 byte pieces <0x00>..<0xFF> are in the vocabulary"
                      : " byte pieces and no unknown token: some text could not be encoded");
        return TOK_ERR_BYTES;
    }
    return TOK_OK;
}

