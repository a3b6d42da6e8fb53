/* dequant.h - ggml's tensor types: block sizes for every type a GGUF reader may meet, and row dequantisers to
 * float for F32, F16, Q8_0, Q4_0, Q4_K and Q6_K, with the arithmetic of ggml's reference code (same operations in
 * the same order, no FMA), so the floats are ggml's bit for bit. Freestanding; reads any alignment; never fails
 * on a row whose type and length were checked with dq_row_bytes. */
#ifndef EFICHAT_DEQUANT_H
#define EFICHAT_DEQUANT_H

#include "../platform.h"

/* ggml_type numbers as they appear in a GGUF tensor info (4, 5 and 31-33 were removed from ggml). */
enum ggml_type {
    GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3, GGML_Q5_0 = 6, GGML_Q5_1 = 7, GGML_Q8_0 = 8,
    GGML_Q8_1 = 9, GGML_Q2_K = 10, GGML_Q3_K = 11, GGML_Q4_K = 12, GGML_Q5_K = 13, GGML_Q6_K = 14, GGML_Q8_K = 15,
    GGML_I8 = 24, GGML_I16 = 25, GGML_I32 = 26, GGML_I64 = 27, GGML_F64 = 28, GGML_BF16 = 30,
};

typedef struct {
    const char *name;   /* "Q4_K" */
    uint32_t block;     /* elements per block (1 for plain types) */
    uint32_t bytes;     /* bytes per block */
    int can_dequant;    /* dq_row handles it */
} DqType;

/* The type's sizes, or NULL for a number this reader does not know (the i-quants among them). */
const DqType *dq_type(uint32_t type);
/* Bytes of a row of n elements; 0 when the type is unknown, n is not a whole number of blocks or the size would
 * not fit in 64 bits. */
uint64_t dq_row_bytes(uint32_t type, uint64_t n);
/* Writes n floats decoded from src (dq_row_bytes(type, n) bytes). Returns 0 when the type has no dequantiser. */
int dq_row(uint32_t type, const void *src, float *dst, uint64_t n);
/* IEEE binary16 to binary32, exact (subnormals, infinities and NaN payloads kept). */
float dq_half_to_float(uint16_t h);

#endif
