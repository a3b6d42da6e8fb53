/* spm.c - encoding for SentencePiece-style vocabularies (tokenizer.h): llama2.c's run.c algorithm, step for step,
 * and the same over a GGUF "llama" vocabulary with U+2581 for spaces.
 *   1. BOS when asked, then the dummy-prefix space token when the text is not empty;
 *   2. each character looked up as a piece, else its bytes as byte-fallback tokens;
 *   3. repeatedly merge the adjacent pair whose concatenation is a piece with the highest score (the leftmost pair
 *      on ties) until no pair is a piece.
 * Step 3 keeps the merge candidate of every pair and a tournament tree over them in `work`, so a merge costs three
 * lookups and O(log n) instead of run.c's lookup of every pair: the same choices in O(n log n). Byte-level BPE
 * (bpe.c) runs the same loop with ranks for scores. No libc, no allocation. */
#include "tok_internal.h"

static const uint8_t SPACE_U2581[3] = {0xE2, 0x96, 0x81}; /* "▁", SentencePiece's space */

/* The id of the concatenation a + b among the pieces text may produce, or TOK_NONE. SentencePiece merges only into
 * normal and user-defined pieces (unused ones are left out here: it would merge and then split them again);
 * llama2.c's pieces are all normal, as run.c looks every piece up. */
static uint32_t find_pair(const Tokenizer *t, const TokPiece *a, const TokPiece *b)
{
    uint32_t id = tok_find_concat(t, a->ptr, a->len, b->ptr, b->len);
    if (id == TOK_NONE)
        return TOK_NONE;
    uint32_t type = t->pieces[id].type;
    return type == TOK_TYPE_NORMAL || type == TOK_TYPE_USER_DEFINED || type == TOK_TYPE_UNDEFINED ? id : TOK_NONE;
}

static uint32_t find_text(const Tokenizer *t, const uint8_t *s, uint32_t len)
{
    TokPiece a = {s, len, 0, 0}, none = {s, 0, 0, 0};
    return find_pair(t, &a, &none);
}

/* Bytes of the character starting with lead byte c, by the lead byte alone (as SentencePiece and llama.cpp split
 * text); a stray continuation byte or an invalid lead is one byte. */
static uint32_t utf8_len(uint8_t c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
}

size_t tok_encode_cap(size_t len)
{
    return 3 * len + 4;
}

/* BPE: the merge of the pair (a, b), an index into t->merges (the lowest rank when a file repeats a pair). */
static uint32_t find_merge(const Tokenizer *t, uint32_t a, uint32_t b)
{
    uint32_t lo = 0, hi = t->n_merges;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const TokMerge *m = &t->merges[mid];
        if (m->left < a || (m->left == a && m->right < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n_merges && t->merges[lo].left == a && t->merges[lo].right == b ? lo : TOK_NONE;
}

/* A merge candidate for the pair (a, b): a token id (SentencePiece, llama2.c) or a merge index (BPE). */
static uint32_t candidate(const Tokenizer *t, uint32_t a, uint32_t b)
{
    return t->kind == TOK_KIND_BPE ? find_merge(t, a, b) : find_pair(t, &t->pieces[a], &t->pieces[b]);
}
static float value(const Tokenizer *t, uint32_t c)
{
    return t->kind == TOK_KIND_BPE ? -(float)t->merges[c].rank : t->pieces[c].score;
}
static uint32_t result(const Tokenizer *t, uint32_t c)
{
    return t->kind == TOK_KIND_BPE ? t->merges[c].result : c;
}

/* Which of two positions merges first: the valid candidate with the higher value, the leftmost on ties. */
static uint32_t better(const Tokenizer *t, const uint32_t *cand, uint32_t a, uint32_t b)
{
    if (a == TOK_NONE || cand[a] == TOK_NONE)
        return b;
    if (b == TOK_NONE || cand[b] == TOK_NONE)
        return a;
    float va = value(t, cand[a]), vb = value(t, cand[b]);
    return va > vb ? a : vb > va ? b : a < b ? a : b;
}

/* Position i's candidate changed: its leaf and the path above it in the tournament tree. */
static void update(const Tokenizer *t, const uint32_t *cand, uint32_t *tree, uint32_t m, uint32_t i)
{
    tree[m + i] = i;
    for (uint32_t k = (m + i) / 2; k >= 1; k /= 2)
        tree[k] = better(t, cand, tree[2 * k], tree[2 * k + 1]);
}

size_t tok_merge(const Tokenizer *t, uint32_t *ids, uint32_t *work, size_t first, size_t n)
{
    if (n <= first + 1)
        return n;
    uint32_t m = (uint32_t)(n - first), *sym = ids + first;
    /* work: cand (m) the candidate of the pair starting at each live position, nxt/prv (m) the live positions as a
     * list, tree (2m) a tournament tree whose root is the position to merge next (leftmost on ties: positions never
     * reorder, so the original index is the order). */
    uint32_t *cand = work, *nxt = work + m, *prv = work + 2 * m, *tree = work + 3 * m;
    for (uint32_t i = 0; i < m; i++) {
        nxt[i] = i + 1 < m ? i + 1 : TOK_NONE;
        prv[i] = i ? i - 1 : TOK_NONE;
        cand[i] = i + 1 < m ? candidate(t, sym[i], sym[i + 1]) : TOK_NONE;
        tree[m + i] = i;
    }
    for (uint32_t k = m - 1; k >= 1; k--)
        tree[k] = better(t, cand, tree[2 * k], tree[2 * k + 1]);
    tree[0] = TOK_NONE;
    /* run.c never merges at or below -1e10; ranks (< 2^24) are exact floats */
    float floor = t->kind == TOK_KIND_LLAMA2C ? TOK_SCORE_FLOOR : -3.4e38f;
    for (;;) {
        uint32_t at = m > 1 ? tree[1] : 0;
        if (at == TOK_NONE || cand[at] == TOK_NONE || !(value(t, cand[at]) > floor))
            break;
        uint32_t right = nxt[at];
        sym[at] = result(t, cand[at]);
        nxt[at] = nxt[right];
        if (nxt[right] != TOK_NONE)
            prv[nxt[right]] = at;
        cand[right] = TOK_NONE;
        update(t, cand, tree, m, right);
        cand[at] = nxt[at] != TOK_NONE ? candidate(t, sym[at], sym[nxt[at]]) : TOK_NONE;
        update(t, cand, tree, m, at);
        if (prv[at] != TOK_NONE) {
            cand[prv[at]] = candidate(t, sym[prv[at]], sym[at]);
            update(t, cand, tree, m, prv[at]);
        }
    }
    size_t k = 0;
    for (uint32_t i = 0; i != TOK_NONE; i = nxt[i])
        sym[k++] = sym[i];
    return first + k;
}

TokError tok_encode(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, uint32_t *ids, uint32_t *work,
                    size_t cap, size_t *n_ids)
{
    *n_ids = 0;
    if (cap < tok_encode_cap(len))
        return TOK_ERR_SPACE;
    if (t->kind == TOK_KIND_BPE)
        return tok_encode_bpe(t, text, len, add_bos, ids, work, n_ids);
    int l2c = t->kind == TOK_KIND_LLAMA2C;
    size_t n = 0;
    if (add_bos && t->bos != TOK_NONE)
        ids[n++] = t->bos;
    /* run.c lets BOS take part in merges ("\n<s>\n" + " ..." is looked up like any pair); SentencePiece adds it
     * after encoding. */
    size_t first = l2c ? 0 : n;
    const uint8_t *space = l2c ? (const uint8_t *)" " : SPACE_U2581;
    uint32_t space_len = l2c ? 1 : 3;
    if (len && t->space_prefix) {
        uint32_t id = find_text(t, space, space_len);
        if (id != TOK_NONE)
            ids[n++] = id;
        else if (!l2c) /* SentencePiece falls back to the bytes of U+2581 */
            for (uint32_t i = 0; i < space_len; i++)
                ids[n++] = t->byte_id[space[i]] != TOK_NONE ? t->byte_id[space[i]] : t->unk;
    }
    /* one token per character, or one per byte of it */
    for (size_t i = 0; i < len;) {
        uint32_t clen;
        if (l2c) {
            /* run.c: a character is a lead byte and the continuation bytes after it, 4 bytes at most */
            clen = 1;
            while (i + clen < len && (text[i + clen] & 0xC0) == 0x80 && clen < 4)
                clen++;
        } else {
            clen = utf8_len(text[i]);
            if (clen > len - i)
                clen = (uint32_t)(len - i);
        }
        const uint8_t *c = text + i;
        uint32_t c_len = clen;
        if (!l2c && clen == 1 && text[i] == ' ')
            c = space, c_len = space_len;
        uint32_t id = find_text(t, c, c_len);
        if (id != TOK_NONE) {
            ids[n++] = id;
        } else {
            for (uint32_t j = 0; j < c_len; j++)
                ids[n++] = t->byte_id[c[j]] != TOK_NONE ? t->byte_id[c[j]] : t->unk;
        }
        i += clen;
    }
    n = tok_merge(t, ids, work, first, n);
    *n_ids = n;
    return TOK_OK;
}
