/* tokenizer.h - text bytes <-> token ids for the Llama family: llama2.c's tokenizer.bin (encoded exactly as run.c
 * does), a GGUF file's SentencePiece vocabulary (tokenizer.ggml.model "llama") and its byte-level BPE (model
 * "gpt2": GPT-2, Qwen2, Llama 3, with tokenizer.ggml.merges). Freestanding like the core: it
 * reads images the format readers (src/formats/) accepted, works only in memory the caller hands in, never exits.
 * Build: tok_bytes_*() says how much memory, tok_init_*() checks the vocabulary (one error line when malformed) and
 * builds a sorted index of the pieces in it; encode and decode then only read the Tokenizer. */
#ifndef EFICHAT_TOKENIZER_H
#define EFICHAT_TOKENIZER_H

#include "../platform.h"
#include "../formats/gguf.h"

#define TOK_NONE 0xFFFFFFFFu     /* "no such token" for special ids */
#define TOK_MAX_PIECE 65536u     /* longest piece accepted, in bytes */
#define TOK_SCORE_FLOOR (-1e10f) /* run.c starts its best merge score here: pairs at or below never merge */

typedef enum {
    TOK_OK = 0,
    TOK_ERR_NULL,      /* no data given */
    TOK_ERR_FORMAT,    /* the vocabulary is missing, cut short or of the wrong type (tokenizer.bin, a GGUF key) */
    TOK_ERR_MODEL,     /* tokenizer.ggml.model is not one this build encodes */
    TOK_ERR_EMPTY,     /* a token with an empty piece, or one longer than TOK_MAX_PIECE */
    TOK_ERR_DUPLICATE, /* two tokens with the same piece */
    TOK_ERR_BYTES,     /* byte-fallback tokens <0x00>..<0xFF> missing or not where the format puts them */
    TOK_ERR_SCORES,    /* scores or token types: a count other than the vocabulary's, a NaN or infinite score */
    TOK_ERR_SPECIAL,   /* a special token id outside the vocabulary */
    TOK_ERR_MEMORY,    /* the caller's block is smaller than tok_bytes_*() */
    TOK_ERR_SPACE,     /* encode: the ids buffer is smaller than tok_encode_cap() */
    TOK_ERR_MERGES,    /* BPE: tokenizer.ggml.merges missing, or a merge whose halves or result are no tokens */
    TOK_ERR_COUNT
} TokError;

enum tok_kind {
    TOK_KIND_LLAMA2C = 1, /* tokenizer.bin: spaces as ' ', byte b is token b + 3, BOS 1, EOS 2 */
    TOK_KIND_SPM = 2,     /* GGUF "llama": spaces as U+2581, bytes as <0xNN> found by name, token types */
    TOK_KIND_BPE = 3,     /* GGUF "gpt2": bytes as GPT-2's printable characters, merges by rank, pre-tokenised */
};

/* How byte-level BPE cuts text before merging (tokenizer.ggml.pre), pretok.c. */
enum tok_pre { TOK_PRE_GPT2 = 0, TOK_PRE_QWEN2 = 1, TOK_PRE_LLAMA3 = 2 };

/* Token types as GGUF's tokenizer.ggml.token_type writes them (llama.cpp's llama_token_type). */
enum tok_type {
    TOK_TYPE_UNDEFINED = 0, TOK_TYPE_NORMAL = 1, TOK_TYPE_UNKNOWN = 2, TOK_TYPE_CONTROL = 3,
    TOK_TYPE_USER_DEFINED = 4, TOK_TYPE_UNUSED = 5, TOK_TYPE_BYTE = 6
};

typedef struct {
    const uint8_t *ptr; /* the piece's bytes in the file image, not NUL-terminated */
    uint32_t len;
    float score;        /* higher merges first */
    uint32_t type;      /* enum tok_type; llama2.c: all NORMAL */
} TokPiece;

/* One BPE merge: left + right -> result, applied lowest rank first. */
typedef struct {
    uint32_t left, right, result, rank;
} TokMerge;

typedef struct {
    uint32_t kind;          /* enum tok_kind */
    uint32_t vocab;         /* V */
    uint32_t bos, eos, unk; /* TOK_NONE when the vocabulary has none */
    uint32_t eot;           /* end of turn: <|im_end|>, <|eot_id|>, ... when present, else eos */
    uint32_t max_piece;     /* longest piece, in bytes: enough room for one decoded token */
    int add_bos;            /* the file asks for BOS before a prompt (tokenizer.ggml.add_bos_token; llama2.c: 1) */
    int space_prefix;       /* a non-empty text starts with a space token (the dummy prefix) */
    const TokPiece *pieces; /* (V) in the caller's block */
    const uint32_t *sorted; /* (V) ids sorted by piece bytes, for binary search */
    uint32_t byte_id[256];  /* the token of each fallback byte (BPE: of each byte); TOK_NONE: unk instead */
    uint32_t pre;           /* BPE: enum tok_pre */
    uint32_t n_merges;      /* BPE */
    const TokMerge *merges; /* (n_merges) sorted by (left, right), in the caller's block */
} Tokenizer;

const char *tok_error_string(TokError err);

/* llama2.c tokenizer.bin: `vocab` tokens (the model's vocab_size; 0 = every token in the file). 0 bytes when the
 * file is unreadable (tok_init_l2c then says why). */
size_t tok_bytes_l2c(const void *bytes, size_t len, uint32_t vocab);
TokError tok_init_l2c(Tokenizer *t, const void *bytes, size_t len, uint32_t vocab, void *mem, size_t mem_len,
                      char *msg, size_t cap);

/* A GGUF file's tokenizer.ggml.* (f from gguf_open; t points into its image, which must stay alive). */
size_t tok_bytes_gguf(const GgufFile *f);
TokError tok_init_gguf(Tokenizer *t, const GgufFile *f, void *mem, size_t mem_len, char *msg, size_t cap);

/* Room encode needs for a text of `len` bytes: one id per byte at most, except that a space falls back to the 3
 * bytes of U+2581 in a vocabulary without that piece; plus BOS and the dummy prefix (3 bytes likewise). */
size_t tok_encode_cap(size_t len);
#define TOK_WORK_PER_ID 5 /* scratch entries encode needs per id of room */
/* Text -> ids (BOS first when add_bos). ids holds `cap` >= tok_encode_cap(len) entries, work (scratch)
 * TOK_WORK_PER_ID * cap.
 * Control tokens are never produced from text: "<s>" in the text is three characters. */
TokError tok_encode(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, uint32_t *ids, uint32_t *work,
                    size_t cap, size_t *n_ids);

/* As tok_encode, but a special token's piece written in the text (a control or user-defined token of a GGUF
 * vocabulary: "<|im_end|>", "</s>") is that token, the longest such piece where several start at one byte; the text
 * between them is encoded as tok_encode does, each run on its own (so SentencePiece's dummy prefix space comes again
 * after a special token, as llama.cpp's tokenizer does). This is how a chat template's text enters the model. No
 * special token is recognised in text[plain_lo, plain_hi) (what the user typed: a user cannot type a control token;
 * pass 0, 0 for none). ids and work as for tok_encode, with cap >= tok_encode_special_cap(len). */
size_t tok_encode_special_cap(size_t len);
TokError tok_encode_special(const Tokenizer *t, const uint8_t *text, size_t len, int add_bos, size_t plain_lo,
                            size_t plain_hi, uint32_t *ids, uint32_t *work, size_t cap, size_t *n_ids);

/* The bytes token `id` adds after token `prev` (TOK_NONE at the start): the leading space of a piece after BOS is
 * dropped, <0xNN> is that byte, a control token is nothing. At most max_piece bytes; returns the count written
 * (cut at cap). */
size_t tok_decode(const Tokenizer *t, uint32_t prev, uint32_t id, uint8_t *out, size_t cap);
/* 1 when generation ends at id: EOS, end of turn, and for llama2.c BOS too (run.c stops there). */
int tok_is_stop(const Tokenizer *t, uint32_t id);
/* The id of a piece given as bytes (any type), TOK_NONE when absent. */
uint32_t tok_find(const Tokenizer *t, const uint8_t *piece, size_t len);

#endif
