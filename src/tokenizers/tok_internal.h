/* tok_internal.h - what the tokenizer files share among themselves (not part of the interface). */
#ifndef EFICHAT_TOK_INTERNAL_H
#define EFICHAT_TOK_INTERNAL_H

#include "tokenizer.h"

/* tokenizer.c: the error line in msg ("tokenizer: <error>: <details>"), built up in pieces. */
typedef struct {
    char *buf;
    size_t cap;
} TokMsg;
TokError tok_fail(TokMsg *m, TokError e, const char *detail);
void tok_say(TokMsg *m, const char *s);
void tok_say_u64(TokMsg *m, uint64_t v);
void tok_say_piece(TokMsg *m, const uint8_t *p, uint32_t len); /* quoted, \xNN for other bytes, cut at 40 */
/* The id of the piece a + b (b may be empty), any type; TOK_NONE when absent. */
uint32_t tok_find_concat(const Tokenizer *t, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

/* tokenizer.c: shared by the loaders (load.c) */
size_t tok_table_bytes(uint64_t vocab); /* the pieces and their index */
int tok_byte_piece_value(const uint8_t *p, uint32_t len); /* "<0xNN>" -> NN, else -1 */
/* Pieces non-empty and finite-scored, sorted into the index, none twice; fills t->pieces, t->sorted, max_piece. */
TokError tok_index_pieces(Tokenizer *t, TokPiece *pieces, uint32_t *sorted, TokMsg *m);
TokError tok_check_special(const Tokenizer *t, const char *name, uint32_t id, TokMsg *m);
uint32_t tok_find_eot(const Tokenizer *t);

/* spm.c: merges ids[first..n) in place, best pair first (SentencePiece: highest score; BPE: lowest rank), the
 * leftmost on ties; work (TOK_WORK_PER_ID * (n - first) entries) is scratch. Returns the new n. */
size_t tok_merge(const Tokenizer *t, uint32_t *ids, uint32_t *work, size_t first, size_t n);
/* bpe.c */
size_t tok_bytes_bpe(const GgufFile *f); /* the merges' share of tok_bytes_gguf */
/* After tok_init_gguf built the pieces and their index: the byte map, merges (into mem) and pre-tokeniser. */
TokError tok_init_bpe(Tokenizer *t, const GgufFile *f, TokMerge *mem, TokMsg *m);
TokError tok_encode_bpe(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, uint32_t *ids,
                        uint32_t *work, size_t *n_ids);
size_t tok_decode_bpe(const Tokenizer *t, uint32_t id, uint8_t *out, size_t cap);
/* pretok.c: where the chunk starting at byte i ends (> i; len at the end). */
size_t tok_pretok_next(uint32_t style, const uint8_t *s, size_t len, size_t i);

#endif
