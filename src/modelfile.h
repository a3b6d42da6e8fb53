/* modelfile.h - the efichat model file: a 128-byte little-endian header, then the payload of tensors.
 * docs/model-format.md is the specification; this module encodes/decodes the header and knows every tensor's
 * place. It reads and writes memory only (never files) and never trusts a header it has not checked. */
#ifndef EFICHAT_MODELFILE_H
#define EFICHAT_MODELFILE_H

#include "platform.h"

#define MF_MAGIC 0x4D434645u /* "EFCM" as bytes on disk */
#define MF_VERSION 1u      /* float32 tensors */
#define MF_VERSION_INT8 2u /* the four per-layer matrices as int8 with one float scale per row, the rest float32 */
#define MF_HEADER_BYTES 128u
#define MF_NAME_BYTES 64u
#define MF_VOCAB 256u

/* Sane upper bounds: they keep every size computation far inside 64 bits and reject absurd headers. */
#define MF_MAX_DIM 4096u
#define MF_MAX_LAYERS 64u
#define MF_MAX_CTX 8192u
#define MF_MAX_HIDDEN 16384u

/* The dtype field names the matrices' storage and is tied to the version: v1 is always F32, v2 always Q8. */
enum mf_dtype { MF_DTYPE_F32 = 0, MF_DTYPE_Q8 = 1 /* int8 matrices with per-row scales (version 2) */ };
#define MF_Q8_MAX 127 /* int8 matrix values lie in -127..127: -128 is never written, so the range is symmetric */

typedef struct {
    uint32_t version;  /* MF_VERSION or MF_VERSION_INT8 */
    uint32_t dtype;    /* enum mf_dtype: MF_DTYPE_F32 in version 1, MF_DTYPE_Q8 in version 2 */
    uint32_t vocab;    /* V, always 256 (bytes) */
    uint32_t ctx;      /* T, the longest context (learned positions) */
    uint32_t dim;      /* C, the residual width */
    uint32_t layers;   /* L */
    uint32_t heads;    /* NH, C % NH == 0 */
    uint32_t hidden;   /* H, the MLP width (4*C in GPT-2) */
    uint64_t payload_bytes;
    uint32_t payload_crc32;
    char name[MF_NAME_BYTES]; /* NUL-terminated UTF-8, e.g. "shakespeare-4L256" */
} ModelConfig;

/* Every tensor, in file order. Per-layer tensors are stored layer by layer (all of layer 0, then layer 1...). */
enum mf_tensor {
    MF_WTE,      /* (V, C) token embedding, tied with the output head */
    MF_WPE,      /* (T, C) learned positions */
    MF_LN1_W,    /* (C) */
    MF_LN1_B,    /* (C) */
    MF_QKV_W,    /* (3C, C) rows: q then k then v; y = W x + b */
    MF_QKV_B,    /* (3C) */
    MF_PROJ_W,   /* (C, C) attention output projection */
    MF_PROJ_B,   /* (C) */
    MF_LN2_W,    /* (C) */
    MF_LN2_B,    /* (C) */
    MF_FC_W,     /* (H, C) */
    MF_FC_B,     /* (H) */
    MF_FCPROJ_W, /* (C, H) */
    MF_FCPROJ_B, /* (C) */
    MF_LNF_W,    /* (C) */
    MF_LNF_B,    /* (C) */
    MF_TENSOR_COUNT
};
#define MF_FIRST_LAYER_TENSOR MF_LN1_W
#define MF_LAST_LAYER_TENSOR MF_FCPROJ_B

/* Elements in one tensor (one layer's copy for per-layer tensors). */
uint64_t mf_tensor_numel(const ModelConfig *c, int tensor);
/* (rows, cols) of a tensor: a matrix's (out, in), a vector's (1, n). */
void mf_tensor_shape(const ModelConfig *c, int tensor, uint32_t *rows, uint32_t *cols);
/* Whether `tensor` is stored as int8 + row scales in this config's version (qkv_w, proj_w, fc_w, fcproj_w in v2). */
int mf_is_int8(const ModelConfig *c, int tensor);
/* 4-byte words one copy of `tensor` takes in the payload: numel for a float tensor; for an int8 one, `rows` float
 * scales, then rows*cols int8 values and zero bytes up to the next multiple of 4 (every tensor starts 4-aligned). */
uint64_t mf_tensor_words(const ModelConfig *c, int tensor);
/* Offset in 4-byte words from the payload start of `tensor` (of `layer` for per-layer tensors, else layer is
 * ignored). In version 1 every word is one float, so this is the offset in floats. */
uint64_t mf_tensor_offset(const ModelConfig *c, int tensor, uint32_t layer);
/* Total parameters (weights, not scales) of a config whose dims are already validated. */
uint64_t mf_param_count(const ModelConfig *c);
/* The exact payload length of a config whose dims are already validated (4 x param count in version 1). */
uint64_t mf_payload_bytes(const ModelConfig *c);
const char *mf_tensor_name(int tensor);
int mf_is_per_layer(int tensor);

uint32_t mf_crc32(uint32_t crc, const void *data, size_t len);

/* Encode `c` (version, dtype, payload_bytes and payload_crc32 included) into exactly MF_HEADER_BYTES bytes. */
void mf_header_encode(const ModelConfig *c, uint8_t out[MF_HEADER_BYTES]);

#endif
