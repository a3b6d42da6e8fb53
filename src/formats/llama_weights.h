/* llama_weights.h - turns a checked llama2.c or GGUF file into what the Llama family runs (src/llama.h): the shape
 * and float32 weights. Float32 tensors that sit 4-byte aligned in the image are used in place; everything else
 * (F16, Q8_0, Q4_0, Q4_K, Q6_K, llama2.c's int8 groups, a misaligned float tensor) is dequantised once into caller
 * memory. Reads no file, allocates nothing, runs nothing. */
#ifndef EFICHAT_LLAMA_WEIGHTS_H
#define EFICHAT_LLAMA_WEIGHTS_H

#include "../llama.h"
#include "gguf_llama.h"
#include "llama2c.h"

/* Bytes of caller memory the conversion needs (the layer table and every dequantised tensor, 64-byte aligned). */
size_t llama_weights_bytes_l2c(const Llama2cFile *f);
size_t llama_weights_bytes_gguf(const GgufFile *f, const LlamaConfig *c);
/* Fill shape and weights from an opened file; mem holds the bytes above. llama2.c files use adjacent-pair rotary
 * positions with base 10000 and RMSNorm epsilon 1e-5, as run.c does; GGUF files say theirs. */
void llama_weights_l2c(const Llama2cFile *f, LlamaShape *c, LlamaWeights *w, void *mem);
void llama_weights_gguf(const GgufFile *f, const LlamaConfig *g, LlamaShape *c, LlamaWeights *w, void *mem);

#endif
