/* tokenizer.c - building a Tokenizer (tokenizer.h) from tokenizer.bin or GGUF metadata: every piece checked (not
 * empty, not repeated), scores finite and one per token, special ids inside the vocabulary, byte-fallback tokens
 * present; then the pieces sorted into an index for lookups, and the decoding of one token. Encoding is spm.c.
 * No libc, no allocation: the tables live in the caller's block. */
#include "tok_internal.h"
#include "../ecmath.h"
#include "../formats/llama2c.h"

static const char *const errors[TOK_ERR_COUNT] = {
    "ok",
    "no tokenizer data",
    "the vocabulary is missing or cut short",
    "a tokenizer model this build cannot encode",
    "an empty or overlong piece",
    "two tokens share a piece",
    "byte-fallback tokens missing",
    "scores or token types do not match the vocabulary",
    "a special token id outside the vocabulary",
    "the memory block is too small",
    "the ids buffer is too small for the text",
    "BPE merges missing or naming no tokens",
};

const char *tok_error_string(TokError err)
{
    return (unsigned)err < TOK_ERR_COUNT ? errors[err] : "unknown tokenizer error";
}

TokError tok_fail(TokMsg *m, TokError e, const char *detail)
{
    if (m->buf && m->cap) {
        m->buf[0] = 0;
        ec_str_append(m->buf, m->cap, "tokenizer: ");
        ec_str_append(m->buf, m->cap, tok_error_string(e));
        if (detail)
            ec_str_append(m->buf, m->cap, detail);
    }
    return e;
}
void tok_say(TokMsg *m, const char *s)
{
    if (m->buf && m->cap)
        ec_str_append(m->buf, m->cap, s);
}
void tok_say_u64(TokMsg *m, uint64_t v)
{
    if (m->buf && m->cap)
        ec_str_append_u64(m->buf, m->cap, v);
}
/* A piece for an error line: printable ASCII as is, other bytes as \xNN, cut at 40 bytes. */
void tok_say_piece(TokMsg *m, const uint8_t *p, uint32_t len)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[5] = {0};
    tok_say(m, "'");
    for (uint32_t i = 0; i < len && i < 40; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            tmp[0] = (char)p[i];
            tmp[1] = 0;
        } else {
            tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[p[i] >> 4], tmp[3] = hex[p[i] & 15];
        }
        tok_say(m, tmp);
    }
    tok_say(m, len > 40 ? "...'" : "'");
}

// ----------------------------------------------------------------------------
// the sorted index: ids ordered by their pieces' bytes (unsigned, shorter first on a common prefix)

static int piece_cmp(const TokPiece *a, const TokPiece *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    for (uint32_t i = 0; i < n; i++)
        if (a->ptr[i] != b->ptr[i])
            return a->ptr[i] < b->ptr[i] ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Heapsort: no extra memory, O(V log V) whatever the order the file has. */
static void sift_down(const TokPiece *p, uint32_t *ids, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && piece_cmp(&p[ids[child]], &p[ids[child + 1]]) < 0)
            child++;
        if (piece_cmp(&p[ids[root]], &p[ids[child]]) >= 0)
            return;
        uint32_t tmp = ids[root];
        ids[root] = ids[child];
        ids[child] = tmp;
        root = child;
    }
}

static void sort_ids(const TokPiece *p, uint32_t *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ids[i] = i;
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(p, ids, i, n);
    for (uint32_t end = n; end-- > 1;) {
        uint32_t tmp = ids[0];
        ids[0] = ids[end];
        ids[end] = tmp;
        sift_down(p, ids, 0, end);
    }
}

uint32_t tok_find_concat(const Tokenizer *t, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    uint32_t klen = alen + blen, lo = 0, hi = t->vocab;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const TokPiece *p = &t->pieces[t->sorted[mid]];
        uint32_t n = p->len < klen ? p->len : klen;
        int c = 0;
        for (uint32_t i = 0; i < n && !c; i++) {
            uint8_t k = i < alen ? a[i] : b[i - alen];
            if (p->ptr[i] != k)
                c = p->ptr[i] < k ? -1 : 1;
        }
        if (!c)
            c = p->len < klen ? -1 : p->len > klen;
        if (!c)
            return t->sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return TOK_NONE;
}

uint32_t tok_find(const Tokenizer *t, const uint8_t *piece, size_t len)
{
    return len > TOK_MAX_PIECE ? TOK_NONE : tok_find_concat(t, piece, (uint32_t)len, piece, 0);
}

// ----------------------------------------------------------------------------
// checks shared by both builders

static size_t table_bytes(uint64_t vocab)
{
    return (size_t)(vocab * sizeof(TokPiece) + vocab * sizeof(uint32_t));
}

/* "<0xNN>" with two upper-case hex digits, as SentencePiece names its byte pieces; -1 otherwise. */
static int byte_piece_value(const uint8_t *p, uint32_t len)
{
    if (len != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Pieces non-empty and finite-scored, the index sorted, no piece twice; fills max_piece. */
static TokError index_pieces(Tokenizer *t, TokPiece *pieces, uint32_t *sorted, TokMsg *m)
{
    t->max_piece = 0;
    for (uint32_t i = 0; i < t->vocab; i++) {
        float s = pieces[i].score;
        if (pieces[i].len == 0 || pieces[i].len > TOK_MAX_PIECE) {
            tok_fail(m, TOK_ERR_EMPTY, ": token ");
            tok_say_u64(m, i);
            tok_say(m, pieces[i].len ? " is longer than 65536 bytes" : " has an empty piece");
            return TOK_ERR_EMPTY;
        }
        if (s != s || s > 3.4e38f || s < -3.4e38f) {
            tok_fail(m, TOK_ERR_SCORES, ": token ");
            tok_say_u64(m, i);
            tok_say(m, " has a NaN or infinite score");
            return TOK_ERR_SCORES;
        }
        if (pieces[i].len > t->max_piece)
            t->max_piece = pieces[i].len;
    }
    sort_ids(pieces, sorted, t->vocab);
    for (uint32_t i = 1; i < t->vocab; i++)
        if (!piece_cmp(&pieces[sorted[i - 1]], &pieces[sorted[i]])) {
            uint32_t a = sorted[i - 1] < sorted[i] ? sorted[i - 1] : sorted[i];
            uint32_t b = sorted[i - 1] ^ sorted[i] ^ a;
            tok_fail(m, TOK_ERR_DUPLICATE, ": tokens ");
            tok_say_u64(m, a);
            tok_say(m, " and ");
            tok_say_u64(m, b);
            tok_say(m, " are both ");
            tok_say_piece(m, pieces[a].ptr, pieces[a].len);
            return TOK_ERR_DUPLICATE;
        }
    t->pieces = pieces;
    t->sorted = sorted;
    return TOK_OK;
}

static TokError check_special(const Tokenizer *t, const char *name, uint32_t id, TokMsg *m)
{
    if (id == TOK_NONE || id < t->vocab)
        return TOK_OK;
    tok_fail(m, TOK_ERR_SPECIAL, ": ");
    tok_say(m, name);
    tok_say(m, " is ");
    tok_say_u64(m, id);
    tok_say(m, ", past the vocabulary of ");
    tok_say_u64(m, t->vocab);
    return TOK_ERR_SPECIAL;
}

/* The end-of-turn token of the chat templates this build knows, when the vocabulary has one; else EOS. */
static uint32_t find_eot(const Tokenizer *t)
{
    static const char *const names[] = {"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint32_t id = tok_find(t, (const uint8_t *)names[i], ec_strlen(names[i]));
        if (id != TOK_NONE)
            return id;
    }
    return t->eos;
}

// ----------------------------------------------------------------------------
// llama2.c tokenizer.bin

size_t tok_bytes_l2c(const void *bytes, size_t len, uint32_t vocab)
{
    L2cTokenizer lt;
    if (l2c_tokenizer_open(&lt, bytes, len, vocab, NULL, NULL, 0) != L2C_OK)
        return 0;
    return table_bytes(lt.vocab) + (size_t)lt.vocab * sizeof(uint32_t); /* + the reader's offsets */
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
    size_t need = table_bytes(lt.vocab) + (size_t)lt.vocab * sizeof(uint32_t);
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
    TokError e = index_pieces(t, pieces, sorted, &m);
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
        if (byte_piece_value(p->ptr, p->len) != (int)b) {
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
    t->eot = find_eot(t);
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
    return table_bytes(n) + tok_bytes_bpe(f);
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
    if ((e = index_pieces(t, pieces, sorted, &m)))
        return e;
    t->bos = get_id(f, "tokenizer.ggml.bos_token_id");
    t->eos = get_id(f, "tokenizer.ggml.eos_token_id");
    t->unk = get_id(f, "tokenizer.ggml.unknown_token_id");
    t->eot = get_id(f, "tokenizer.ggml.eot_token_id");
    if ((e = check_special(t, "tokenizer.ggml.bos_token_id", t->bos, &m)) ||
        (e = check_special(t, "tokenizer.ggml.eos_token_id", t->eos, &m)) ||
        (e = check_special(t, "tokenizer.ggml.unknown_token_id", t->unk, &m)) ||
        (e = check_special(t, "tokenizer.ggml.eot_token_id", t->eot, &m)))
        return e;
    if (t->eot == TOK_NONE)
        t->eot = find_eot(t);
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

// ----------------------------------------------------------------------------
// decoding one token

size_t tok_decode(const Tokenizer *t, uint32_t prev, uint32_t id, uint8_t *out, size_t cap)
{
    if (id >= t->vocab || !cap)
        return 0;
    const TokPiece *p = &t->pieces[id];
    if (t->kind != TOK_KIND_LLAMA2C && p->type == TOK_TYPE_CONTROL)
        return 0;
    if (t->kind == TOK_KIND_BPE)
        return tok_decode_bpe(t, id, out, cap);
    int byte = byte_piece_value(p->ptr, p->len);
    if (byte >= 0) {
        out[0] = (uint8_t)byte;
        return 1;
    }
    size_t n = 0;
    uint32_t i = 0;
    if (t->kind == TOK_KIND_LLAMA2C) {
        /* run.c: after BOS the leading space of the piece (the dummy prefix) is not printed */
        if (prev == t->bos && p->ptr[0] == ' ')
            i = 1;
        for (; i < p->len && n < cap; i++)
            out[n++] = p->ptr[i];
        return n;
    }
    int at_start = prev == TOK_NONE || prev == t->bos;
    for (; i < p->len && n < cap; i++) {
        int space = i + 2 < p->len && p->ptr[i] == 0xE2 && p->ptr[i + 1] == 0x96 && p->ptr[i + 2] == 0x81;
        if (space) {
            i += 2;
            if (!(n == 0 && i == 2 && at_start && t->space_prefix)) /* SentencePiece drops the dummy prefix */
                out[n++] = ' ';
        } else {
            out[n++] = p->ptr[i];
        }
    }
    return n;
}

int tok_is_stop(const Tokenizer *t, uint32_t id)
{
    if (id == TOK_NONE)
        return 0;
    return id == t->eos || id == t->eot || (t->kind == TOK_KIND_LLAMA2C && id == t->bos);
}
