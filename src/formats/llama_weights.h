/* llama_weights.h - turns a checked llama2.c or GGUF file into what the Llama family runs (src/llama.h): the shape
 * and float32 or int8 weights. Float32 tensors that sit 4-byte aligned in the image are used in place; everything else
 * (F16, Q8_0, Q4_0, Q4_K, Q6_K, llama2.c's int8 groups, a misaligned float tensor) is dequantised once into caller
 * memory. Reads no file, allocates nothing, runs nothing. */
#ifndef EFICHAT_LLAMA_WEIGHTS_H
#define EFICHAT_LLAMA_WEIGHTS_H

#include "../llama.h"
#include "gguf_llama.h"
#include "llama2c.h"

/* Bytes of caller memory the conversion needs (the layer table and every dequantised tensor, 64-byte aligned).
 * q8 != 0: the matrices and the embedding become the Q8 kernel's int8 rows (w->q8, w->embed_q8), dequantised and
 * requantised one row at a time with no float copy (a quarter of the float bytes, about those of a Q8_0 file); only
 * norms and biases stay float, so only KERNEL_Q8 runs those weights. The int8 rows are exactly what llama_quantize
 * makes of the float weights, so both routes give the same bits. */
size_t llama_weights_bytes_l2c(const Llama2cFile *f, int q8);
size_t llama_weights_bytes_gguf(const GgufFile *f, const LlamaConfig *c, int q8);
/* Fill shape and weights from an opened file; mem holds the bytes above. llama2.c files use adjacent-pair rotary
 * positions with base 10000 and RMSNorm epsilon 1e-5, as run.c does; GGUF files say theirs. */
void llama_weights_l2c(const Llama2cFile *f, int q8, LlamaShape *c, LlamaWeights *w, void *mem);
void llama_weights_gguf(const GgufFile *f, const LlamaConfig *g, int q8, LlamaShape *c, LlamaWeights *w, void *mem);

#endif
