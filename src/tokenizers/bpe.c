/* bpe.c - byte-level BPE (tokenizer.ggml.model "gpt2": GPT-2, Qwen2, Llama 3) for tokenizer.h: every byte of the
 * text stands for one printable character (GPT-2's bytes_to_unicode), the text is cut into chunks (pretok.c), and
 * inside each chunk the adjacent pair with the lowest merge rank merges until none has one (spm.c's loop).
 * No libc, no allocation: the merges table lives in the caller's block. */
#include "tok_internal.h"

// ----------------------------------------------------------------------------
// GPT-2's byte <-> character map: the printable bytes ! .. ~, ¡ .. ¬, ® .. ÿ stand for themselves, the other 68
// (controls, space, DEL, NBSP, soft hyphen) for U+0100, U+0101, ... in byte order.

static int printable(uint32_t b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static uint32_t byte_to_cp(uint32_t b)
{
    if (printable(b))
        return b;
    uint32_t n = 0;
    for (uint32_t k = 0; k < b; k++)
        n += !printable(k);
    return 0x100 + n;
}

/* The byte a character stands for, or -1 when it stands for none. */
static int cp_to_byte(uint32_t cp)
{
    if (cp < 0x100)
        return printable(cp) ? (int)cp : -1;
    for (uint32_t b = 0, n = 0; b < 256; b++)
        if (!printable(b) && 0x100 + n++ == cp)
            return (int)b;
    return -1;
}

/* UTF-8 of a codepoint below U+0800 (all the map uses). */
static uint32_t utf8_2(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    out[0] = (uint8_t)(0xC0 | cp >> 6);
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
}

// ----------------------------------------------------------------------------
// building

static uint64_t merge_count(const GgufFile *f)
{
    uint32_t elem;
    uint64_t n;
    return gguf_get_array(f, "tokenizer.ggml.merges", &elem, &n) && elem == GGUF_STRING ? n : 0;
}

size_t tok_bytes_bpe(const GgufFile *f)
{
    GgufStr model;
    if (!gguf_get_str(f, "tokenizer.ggml.model", &model) || !gguf_str_eq(model, "gpt2"))
        return 0;
    return (size_t)(merge_count(f) * sizeof(TokMerge));
}

static int merge_less(const TokMerge *a, const TokMerge *b)
{
    if (a->left != b->left)
        return a->left < b->left;
    if (a->right != b->right)
        return a->right < b->right;
    return a->rank < b->rank;
}

static void sift_down(TokMerge *m, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && merge_less(&m[child], &m[child + 1]))
            child++;
        if (!merge_less(&m[root], &m[child]))
            return;
        TokMerge tmp = m[root];
        m[root] = m[child];
        m[child] = tmp;
        root = child;
    }
}

static TokError bad_merge(TokMsg *m, uint32_t i, GgufStr s, const char *why)
{
    tok_fail(m, TOK_ERR_MERGES, ": merge ");
    tok_say_u64(m, i);
    tok_say(m, " ");
    tok_say_piece(m, (const uint8_t *)s.ptr, s.len > 40 ? 41 : (uint32_t)s.len);
    tok_say(m, why);
    return TOK_ERR_MERGES;
}

TokError tok_init_bpe(Tokenizer *t, const GgufFile *f, TokMerge *merges, TokMsg *m)
{
    GgufStr pre;
    t->pre = TOK_PRE_GPT2;
    if (gguf_get_str(f, "tokenizer.ggml.pre", &pre)) {
        if (gguf_str_eq(pre, "qwen2"))
            t->pre = TOK_PRE_QWEN2;
        else if (gguf_str_eq(pre, "llama-bpe") || gguf_str_eq(pre, "llama3"))
            t->pre = TOK_PRE_LLAMA3;
        else if (!gguf_str_eq(pre, "gpt2") && !gguf_str_eq(pre, "default")) {
            tok_fail(m, TOK_ERR_MODEL, ": tokenizer.ggml.pre is ");
            tok_say_piece(m, (const uint8_t *)pre.ptr, pre.len > 40 ? 41 : (uint32_t)pre.len);
            tok_say(m, ", not gpt2, default, qwen2 or llama-bpe");
            return TOK_ERR_MODEL;
        }
    }
    for (uint32_t b = 0; b < 256; b++) {
        uint8_t c[2];
        uint32_t n = utf8_2(byte_to_cp(b), c);
        t->byte_id[b] = tok_find(t, c, n);
        if (t->byte_id[b] == TOK_NONE) {
            tok_fail(m, TOK_ERR_BYTES, ": no token for byte ");
            tok_say_u64(m, b);
            tok_say(m, " (its character ");
            tok_say_piece(m, c, n);
            tok_say(m, "): byte-level BPE needs all 256");
            return TOK_ERR_BYTES;
        }
    }
    const GgufKV *kv = gguf_find_kv(f, "tokenizer.ggml.merges");
    uint64_t count = merge_count(f);
    if (!kv || !count)
        return tok_fail(m, TOK_ERR_MERGES, ": tokenizer.ggml.merges is missing, empty or not an array of strings");
    if (count >= TOK_NONE)
        return tok_fail(m, TOK_ERR_MERGES, ": more than 2^32 - 1 merges");
    GgufStrIter it;
    GgufStr s;
    gguf_str_iter_init(&it, kv);
    for (uint32_t i = 0; gguf_str_iter_next(&it, &s); i++) {
        /* "left right": byte-level pieces hold no raw space (it is U+0120), so the first space splits */
        uint64_t sp = 0;
        while (sp < s.len && s.ptr[sp] != ' ')
            sp++;
        if (sp == 0 || sp + 1 >= s.len || s.len > 2 * (uint64_t)TOK_MAX_PIECE)
            return bad_merge(m, i, s, " is not two pieces separated by one space");
        const uint8_t *a = (const uint8_t *)s.ptr, *b = a + sp + 1;
        uint32_t alen = (uint32_t)sp, blen = (uint32_t)(s.len - sp - 1);
        TokMerge *g = &merges[i];
        g->left = tok_find(t, a, alen);
        g->right = tok_find(t, b, blen);
        g->result = tok_find_concat(t, a, alen, b, blen);
        g->rank = i;
        if (g->left == TOK_NONE || g->right == TOK_NONE || g->result == TOK_NONE)
            return bad_merge(m, i, s, g->result == TOK_NONE && g->left != TOK_NONE && g->right != TOK_NONE
                                          ? ": the merged piece is not a token"
                                          : ": a half is not a token");
    }
    t->n_merges = (uint32_t)count;
    for (uint32_t i = t->n_merges / 2; i-- > 0;)
        sift_down(merges, i, t->n_merges);
    for (uint32_t end = t->n_merges; end-- > 1;) {
        TokMerge tmp = merges[0];
        merges[0] = merges[end];
        merges[end] = tmp;
        sift_down(merges, 0, end);
    }
    t->merges = merges;
    return TOK_OK;
}

// ----------------------------------------------------------------------------
// encoding and decoding

TokError tok_encode_bpe(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, uint32_t *ids,
                        uint32_t *work, size_t *n_ids)
{
    size_t n = 0;
    if (add_bos && t->bos != TOK_NONE)
        ids[n++] = t->bos;
    for (size_t i = 0; i < len;) {
        size_t end = tok_pretok_next(t->pre, text, len, i), first = n;
        for (; i < end; i++)
            ids[n++] = t->byte_id[text[i]];
        n = tok_merge(t, ids, work, first, n);
    }
    *n_ids = n;
    return TOK_OK;
}

size_t tok_decode_bpe(const Tokenizer *t, uint32_t id, uint8_t *out, size_t cap)
{
    const TokPiece *p = &t->pieces[id];
    size_t n = 0;
    if (p->type == TOK_TYPE_USER_DEFINED) { /* added tokens are stored as their text */
        for (uint32_t i = 0; i < p->len && n < cap; i++)
            out[n++] = p->ptr[i];
        return n;
    }
    for (uint32_t i = 0; i < p->len && n < cap;) {
        uint8_t c = p->ptr[i];
        uint32_t cl = c < 0x80 ? 1 : c >= 0xC0 && c < 0xE0 && i + 1 < p->len ? 2 : 1;
        uint32_t cp = cl == 1 ? c : ((uint32_t)c & 0x1F) << 6 | (p->ptr[i + 1] & 0x3Fu);
        int b = cl == 2 && (p->ptr[i + 1] & 0xC0) != 0x80 ? -1 : cp_to_byte(cp);
        if (b >= 0) {
            out[n++] = (uint8_t)b;
        } else { /* a character outside the map: copied as it is */
            for (uint32_t k = 0; k < cl && n < cap; k++)
                out[n++] = p->ptr[i + k];
        }
        i += cl;
    }
    return n;
}
