/* llama_open.h - the host CLI's way into the Llama family: a GGUF or llama2.c image, checked by src/formats/, turned
 * into the shape and float weights src/llama.c runs (dequantised copies on the heap). Host only. */
#ifndef EFICHAT_LLAMA_OPEN_H
#define EFICHAT_LLAMA_OPEN_H

#include <stddef.h>

#include "llama.h"

typedef struct {
    LlamaShape c;
    LlamaWeights w;
    const char *kind;  /* "gguf llama", "gguf qwen2", "llama2.c" */
    void *index_mem;   /* the GGUF reader's tables */
    void *weights_mem; /* layer table and dequantised tensors */
} LlamaOpened;

/* q8: int8 weights for the Q8 kernel straight from the file (no float copy), else float32.
 * 1: opened (the image must outlive m); 0: an efichat model, not for this path; -1: no reader accepts it or it is no
 * runnable Llama model, with one line in msg. */
int llama_open(LlamaOpened *m, const void *bytes, size_t len, int q8, char *msg, size_t cap);
void llama_close(LlamaOpened *m);

#endif
