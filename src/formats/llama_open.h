/* llama_open.h - a GGUF or llama2.c image, checked by the readers here, turned into the shape and weights
 * src/llama.c runs: the way into the Llama family for the host CLI and the UEFI app alike. Freestanding: memory comes
 * from the caller's allocator (malloc on the host, the firmware's pool in the app); nothing is read from a file. */
#ifndef EFICHAT_LLAMA_OPEN_H
#define EFICHAT_LLAMA_OPEN_H

#include "../llama.h"
#include "gguf.h"
#include "llama2c.h"

typedef struct {
    void *(*alloc)(void *ctx, size_t bytes); /* NULL when out of memory */
    void (*release)(void *ctx, void *p);     /* accepts NULL */
    void *ctx;
} LlamaAlloc;

typedef struct {
    LlamaShape c;
    LlamaWeights w;
    const char *kind;    /* "gguf llama", "gguf qwen2", "llama2.c" */
    int is_gguf;
    GgufFile gguf;       /* is_gguf: the checked file (tokenizer, chat template); points into the image */
    Llama2cFile l2c;     /* else */
    size_t weights_bytes; /* what weights_mem took */
    LlamaAlloc al;
    void *index_mem;   /* the GGUF reader's tables */
    void *weights_mem; /* layer table, dequantised tensors or int8 rows */
} LlamaOpened;

/* q8: int8 weights for the Q8 kernel straight from the file (no float copy), else float32.
 * 1: opened (the image must outlive m); 0: an efichat model (magic EFCM), not for this path; -1: no reader accepts it,
 * it is no runnable Llama model, or memory ran out ("needs N MiB for its weights": the
 * caller adds what is free), with one line in msg. */
int llama_open(LlamaOpened *m, const void *bytes, size_t len, int q8, const LlamaAlloc *al, char *msg, size_t cap);
void llama_close(LlamaOpened *m);

#endif
