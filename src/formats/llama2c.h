/* llama2c.h - model and tokenizer files of Karpathy's llama2.c, read from images in memory:
 *   legacy (run.c):  7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a
 *                    negative vocab_size means a separate classifier at the end), then float32 tensors
 *   version 1:       256-byte header ("ak42" magic, version, the 7 ints, shared-classifier byte), float32
 *   version 2:       the same header plus int32 group size; norms float32, matrices int8 in groups (runq.c)
 *   tokenizer.bin:   int32 max token length, then per token: float32 score, int32 length, the bytes
 * Every size is checked against the image, every float for finiteness. No libc, no allocation, no exits. */
#ifndef EFICHAT_LLAMA2C_H
#define EFICHAT_LLAMA2C_H

#include "../platform.h"

#define L2C_MAGIC 0x616b3432u /* "ak42" as a little-endian u32: the bytes on disk are "24ka" */
#define L2C_LEGACY_HEADER 28u
#define L2C_HEADER 256u
#define L2C_MAX_DIM 65536u
#define L2C_MAX_HIDDEN (1u << 20)
#define L2C_MAX_LAYERS 1024u
#define L2C_MAX_HEADS 1024u
#define L2C_MAX_VOCAB (1u << 24)
#define L2C_MAX_SEQ (1u << 24)
#define L2C_MAX_TOKEN_BYTES 4096u

typedef enum {
    L2C_OK = 0,
    L2C_ERR_NULL,      /* no bytes given */
    L2C_ERR_TOO_SHORT, /* shorter than its header */
    L2C_ERR_VERSION,   /* "ak42" magic with a version other than 1 and 2 */
    L2C_ERR_DIMS,      /* a dimension zero, negative or past the limits */
    L2C_ERR_HEADS,     /* heads do not divide dim, kv heads do not divide heads, or an odd head width */
    L2C_ERR_HEADER,    /* a header flag other than 0/1, or a non-zero padding byte */
    L2C_ERR_GROUP,     /* version 2: group size zero or not dividing dim and hidden_dim */
    L2C_ERR_TRUNCATED, /* fewer bytes than the header's tensors need */
    L2C_ERR_TRAILING,  /* bytes after the last tensor */
    L2C_ERR_NONFINITE, /* NaN or Inf in a float tensor or a scale */
    L2C_ERR_INT8,      /* version 2: an int8 value of -128 or a negative scale (the exporter writes neither) */
    L2C_ERR_TOKEN,     /* tokenizer: a token length negative or above the maximum, or bytes cut short */
    L2C_ERR_COUNT
} L2cError;

/* The tensors, as llama2.c's TransformerWeights names them. Shapes (rows, cols) of one layer's copy. */
enum l2c_tensor {
    L2C_TOKEN_EMBD, /* (V, C) */
    L2C_RMS_ATT,    /* (C) per layer */
    L2C_WQ,         /* (C, C) per layer */
    L2C_WK,         /* (KV, C) per layer, KV = C * NKV / NH */
    L2C_WV,         /* (KV, C) per layer */
    L2C_WO,         /* (C, C) per layer */
    L2C_RMS_FFN,    /* (C) per layer */
    L2C_W1,         /* (H, C) per layer: the gate */
    L2C_W2,         /* (C, H) per layer: down */
    L2C_W3,         /* (H, C) per layer: up */
    L2C_RMS_FINAL,  /* (C) */
    L2C_FREQ_REAL,  /* (T, HD/2) legacy only: RoPE tables run.c skips */
    L2C_FREQ_IMAG,  /* (T, HD/2) legacy only */
    L2C_WCLS,       /* (V, C) only when the classifier is not shared with the embedding */
    L2C_TENSOR_COUNT
};

typedef struct {
    uint32_t version;    /* 0 legacy, 1 float32, 2 int8 groups */
    uint32_t dim;        /* C */
    uint32_t hidden;     /* H */
    uint32_t layers;     /* L */
    uint32_t heads;      /* NH */
    uint32_t kv_heads;   /* NKV */
    uint32_t vocab;      /* V */
    uint32_t seq_len;    /* T */
    uint32_t head_dim;   /* HD = C / NH */
    uint32_t group_size; /* version 2: values per int8 group (one float scale each); else 0 */
    int shared_classifier;
    uint64_t offset[L2C_TENSOR_COUNT]; /* image offset of layer 0's copy; UINT64_MAX when absent */
    uint64_t stride[L2C_TENSOR_COUNT]; /* bytes from one layer's copy to the next (int8 values + scales) */
    const uint8_t *image;
    size_t len;
} Llama2cFile;

/* One tensor in the image. int8: rows*cols int8 values, then rows*cols/group_size float scales (any alignment). */
typedef struct {
    const uint8_t *data;
    const uint8_t *scales; /* NULL for float32 */
    uint64_t rows, cols;
} L2cView;

const char *l2c_error_string(L2cError err);
/* Validates a model image (any of the three kinds; the magic tells them apart) and fills f. */
L2cError l2c_open(Llama2cFile *f, const void *bytes, size_t len, char *msg, size_t cap);
/* Layer `layer` of a tensor (ignored for global ones); 0 when the file has no such tensor. */
int l2c_tensor(const Llama2cFile *f, int which, uint32_t layer, L2cView *v);
const char *l2c_tensor_name(int which);

typedef struct {
    uint32_t max_token_length;
    uint32_t vocab;
    const uint8_t *image;
    size_t len;
    const uint32_t *offsets; /* (vocab) image offset of each token's score, or NULL */
} L2cTokenizer;

/* Validates tokenizer.bin for `vocab` tokens (0: as many as the file holds, counted into t->vocab). When offsets
 * != NULL (room for vocab entries) it records where each token starts, for l2c_token. */
L2cError l2c_tokenizer_open(L2cTokenizer *t, const void *bytes, size_t len, uint32_t vocab, uint32_t *offsets,
                            char *msg, size_t cap);
/* Token i's bytes (not NUL-terminated) and score; 0 when i is out of range or no offsets were recorded. */
int l2c_token(const L2cTokenizer *t, uint32_t i, const uint8_t **bytes, uint32_t *len, float *score);

#endif
