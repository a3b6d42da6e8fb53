/* gguf.h - GGUF (versions 2 and 3, little-endian) read from a file image in memory: header, metadata, tensor
 * infos and the data section, every count, length, offset and size checked against the image before use.
 * It promises: no libc, no allocation (the caller hands in gguf_mem_bytes() bytes), no exits, and one clear
 * error line for every file it refuses. It never dequantises or runs anything (dequant.h, the families do). */
#ifndef EFICHAT_GGUF_H
#define EFICHAT_GGUF_H

#include "../platform.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" as bytes on disk */
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_DIMS 4u
#define GGUF_MAX_NAME 256u /* ggml's tensor names are at most 63 bytes; keys stay short too */

typedef enum {
    GGUF_OK = 0,
    GGUF_ERR_NULL,        /* no bytes given */
    GGUF_ERR_MAGIC,       /* not a GGUF file */
    GGUF_ERR_VERSION,     /* version other than 2 and 3, or a big-endian file */
    GGUF_ERR_TRUNCATED,   /* a count, string, value or tensor info runs past the end */
    GGUF_ERR_KEY,         /* an empty, overlong or repeated metadata key */
    GGUF_ERR_VALUE_TYPE,  /* an unknown metadata value type, or an array of arrays */
    GGUF_ERR_KEY_TYPE,    /* a known key holds the wrong type (general.alignment not a u32, ...) */
    GGUF_ERR_ALIGNMENT,   /* general.alignment is 0 or not a power of two */
    GGUF_ERR_TENSOR_NAME, /* an empty, overlong or repeated tensor name */
    GGUF_ERR_DIMS,        /* n_dims outside 1..4, a zero dimension, or an element count that overflows */
    GGUF_ERR_TENSOR_TYPE, /* a tensor type this reader does not know, or a row not made of whole blocks */
    GGUF_ERR_OFFSET,      /* a tensor offset not a multiple of the alignment */
    GGUF_ERR_RANGE,       /* a tensor's data runs past the end of the file */
    GGUF_ERR_OVERLAP,     /* two tensors share bytes */
    GGUF_ERR_MEMORY,      /* the caller's block is smaller than gguf_mem_bytes() */
    /* from gguf_llama_config (gguf_llama.h): the file is a sound GGUF, but not a model this build can run */
    GGUF_ERR_ARCH,        /* general.architecture missing or not one of llama, qwen2 */
    GGUF_ERR_HPARAM,      /* a hyper-parameter missing, zero, out of range or inconsistent */
    GGUF_ERR_TENSOR_MISSING, /* a tensor the architecture needs is absent */
    GGUF_ERR_TENSOR_SHAPE,   /* a tensor's shape does not match the hyper-parameters */
    GGUF_ERR_UNSUPPORTED,    /* a tensor type without a dequantiser in this build (Q5_K, i-quants, ...) */
    GGUF_ERR_COUNT
} GgufError;

/* Metadata value types (gguf_type). */
enum gguf_type {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7,
    GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10, GGUF_I64 = 11, GGUF_F64 = 12, GGUF_TYPE_COUNT
};

/* A string inside the file image: UTF-8 as written, not NUL-terminated. */
typedef struct {
    const char *ptr;
    uint64_t len;
} GgufStr;

typedef struct {
    GgufStr key;
    uint32_t type;       /* enum gguf_type */
    uint32_t elem_type;  /* arrays: the elements' type (never GGUF_ARRAY); else equal to type */
    uint64_t count;      /* arrays: elements; else 1 */
    const uint8_t *data; /* the value (arrays: the first element) in the image */
    uint64_t bytes;      /* bytes of the value (arrays: of all elements) */
} GgufKV;

typedef struct {
    GgufStr name;
    uint32_t type;       /* enum ggml_type (dequant.h) */
    uint32_t n_dims;     /* 1..4 */
    uint64_t ne[GGUF_MAX_DIMS]; /* ggml order: ne[0] is the row length (innermost); 1 past n_dims */
    uint64_t nel;        /* elements, the product of ne */
    uint64_t offset;     /* from the data section's start, a multiple of the alignment */
    uint64_t bytes;      /* nel / block * block bytes */
    const uint8_t *data; /* the image's bytes of this tensor */
} GgufTensor;

typedef struct {
    uint32_t version;     /* 2 or 3 */
    uint32_t alignment;   /* general.alignment, default 32 */
    uint64_t n_kv, n_tensors;
    uint64_t data_offset; /* where the data section starts in the image (aligned) */
    GgufKV *kv;           /* (n_kv) in file order, in the caller's block */
    GgufTensor *tensors;  /* (n_tensors) in file order */
    uint32_t *by_name;    /* (n_tensors) tensor indices sorted by name, for lookups */
    const uint8_t *image;
    size_t len;
} GgufFile;

/* A short sentence per error, without the details gguf_open writes into msg. */
const char *gguf_error_string(GgufError err);

/* Bytes of the block gguf_open needs for this image; 0 when the header (magic, version, counts) is already
 * unusable (gguf_open then says why). At most about 4x len: every metadata entry and tensor info takes room in
 * the file. */
size_t gguf_mem_bytes(const void *bytes, size_t len);
/* Validates the whole image and fills f (pointers into the image and into mem, which must stay alive).
 * On failure writes one line with the details (which key or tensor, which numbers) into msg when msg != NULL. */
GgufError gguf_open(GgufFile *f, const void *bytes, size_t len, void *mem, size_t mem_len, char *msg, size_t cap);

/* Lookups (gguf_find.c). A getter returns 1 and writes *out only when the key exists with exactly that type. */
const GgufKV *gguf_find_kv(const GgufFile *f, const char *key);
int gguf_get_u32(const GgufFile *f, const char *key, uint32_t *out);
int gguf_get_f32(const GgufFile *f, const char *key, float *out);
int gguf_get_str(const GgufFile *f, const char *key, GgufStr *out);
/* An array's element type and count; elements through gguf_array_* below. */
int gguf_get_array(const GgufFile *f, const char *key, uint32_t *elem_type, uint64_t *count);
/* Strings of a GGUF_STRING array in order: init with the entry, then next() until it returns 0. */
typedef struct {
    const uint8_t *p;
    uint64_t left;
} GgufStrIter;
void gguf_str_iter_init(GgufStrIter *it, const GgufKV *kv);
int gguf_str_iter_next(GgufStrIter *it, GgufStr *out);
/* Element i of a fixed-size numeric array (u32/i32/f32 arrays as 32 bits; 0 when out of range or wrong type). */
int gguf_array_u32(const GgufKV *kv, uint64_t i, uint32_t *out);
const GgufTensor *gguf_find_tensor(const GgufFile *f, const char *name);
int gguf_str_eq(GgufStr s, const char *z);

#endif
