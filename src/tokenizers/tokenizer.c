/* tokenizer.c - what every tokenizer kind shares (tokenizer.h): error lines, the sorted index of the pieces and
 * lookups in it, the checks every vocabulary passes (pieces not empty, not repeated, finite scores, special ids
 * inside it), the end-of-turn token, and the decoding of one token. Files are read in load.c, encoding is spm.c and
 * bpe.c. No libc, no allocation: the tables live in the caller's block. */
#include "tok_internal.h"
#include "../ecmath.h"

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

size_t tok_table_bytes(uint64_t vocab)
{
    return (size_t)(vocab * sizeof(TokPiece) + vocab * sizeof(uint32_t));
}

/* "<0xNN>" with two upper-case hex digits, as SentencePiece names its byte pieces; -1 otherwise. */
int tok_byte_piece_value(const uint8_t *p, uint32_t len)
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
TokError tok_index_pieces(Tokenizer *t, TokPiece *pieces, uint32_t *sorted, TokMsg *m)
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

TokError tok_check_special(const Tokenizer *t, const char *name, uint32_t id, TokMsg *m)
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
uint32_t tok_find_eot(const Tokenizer *t)
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
    int byte = tok_byte_piece_value(p->ptr, p->len);
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

// ----------------------------------------------------------------------------
// text with special tokens written in it (chat templates)

static int is_special(const TokPiece *p) { return p->type == TOK_TYPE_CONTROL || p->type == TOK_TYPE_USER_DEFINED; }

/* The special token (control or user-defined, as tokenizer.ggml.token_type marks it) whose piece starts text[i..],
 * the longest when several do; TOK_NONE when none. maxlen: the longest special piece. */
static uint32_t special_at(const Tokenizer *t, const uint8_t *text, size_t len, size_t i, uint32_t maxlen,
                           uint32_t *plen)
{
    for (uint32_t l = (uint32_t)(len - i < maxlen ? len - i : maxlen); l > 0; l--) {
        uint32_t id = tok_find(t, text + i, l);
        if (id != TOK_NONE && is_special(&t->pieces[id])) {
            *plen = l;
            return id;
        }
    }
    return TOK_NONE;
}

size_t tok_encode_special_cap(size_t len) { return 8 * len + 8; }

TokError tok_encode_special(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, size_t plain_lo,
                            size_t plain_hi, uint32_t *ids, uint32_t *work, size_t cap, size_t *n_ids)
{
    *n_ids = 0;
    if (cap < tok_encode_special_cap(len))
        return TOK_ERR_SPACE;
    uint32_t maxlen = 0;
    if (t->kind != TOK_KIND_LLAMA2C) /* tokenizer.bin has no token types: nothing is special there */
        for (uint32_t id = 0; id < t->vocab; id++)
            if (is_special(&t->pieces[id]) && t->pieces[id].len > maxlen)
                maxlen = t->pieces[id].len;
    size_t n = 0, start = 0;
    if (add_bos && t->bos != TOK_NONE)
        ids[n++] = t->bos;
    for (size_t i = 0; i <= len;) {
        /* no special token starts in the plain range, nor runs into it */
        size_t end = i < plain_lo && plain_lo < len ? plain_lo : len;
        int may = i < len && maxlen && (i < plain_lo || i >= plain_hi);
        uint32_t plen = 0, id = may ? special_at(t, text, end, i, maxlen, &plen) : TOK_NONE;
        if (id == TOK_NONE && i < len) {
            i++;
            continue;
        }
        if (i > start) { /* the plain text before it, as tok_encode does (the dummy prefix again after a special) */
            size_t got;
            TokError e = tok_encode(t, text + start, i - start, 0, ids + n, work, cap - n, &got);
            if (e != TOK_OK)
                return e;
            n += got;
        }
        if (id == TOK_NONE)
            break;
        ids[n++] = id;
        i += plen;
        start = i;
    }
    *n_ids = n;
    return TOK_OK;
}
