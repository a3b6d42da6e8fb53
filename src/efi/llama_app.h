/* llama_app.h - a Llama-family model (GGUF, or llama2.c with its tokenizer.bin) in the UEFI app: opened from bytes
 * already in memory, its tokenizer, chat template, run state, other cores and conversation (src/chat/llchat.h) set
 * up, every allocation checked. The chat loop (app.c) then talks to it through llchat. Never ends the app: a file
 * that cannot run gets one error line, and the caller keeps the built-in model. */
#ifndef EFICHAT_LLAMA_APP_H
#define EFICHAT_LLAMA_APP_H

#include "app.h"
#include "../chat/llchat.h"
#include "../formats/llama_open.h"

typedef struct LlamaRun {
    LlamaOpened m;
    Tokenizer tok;
    LlamaState s;
    LlChat chat;
    int tmpl;           /* enum chat_template */
    char name[64];      /* the file's name, for the status bar and the model line */
    uint8_t *piece;     /* (tok.max_piece + 1) one decoded token */
    void *tok_gguf_mem; /* the tokenizer's own GGUF tables, when the tokenizer is another GGUF file */
    void *tok_mem, *state_mem, *chat_mem, *sampler_mem, *par_mem;
} LlamaRun;

/* bytes: the model file (stays allocated while the model runs); tok_bytes: a llama2.c model's tokenizer.bin, NULL
 * for a GGUF (its own tokenizer). template_name: efichat.cfg's template= ("" = from the file). Returns 1 with
 * a->llama set, or 0 after one app_error line ("NAME: why"), everything it took freed. */
int llama_app_open(App *a, const char *name, const uint8_t *bytes, size_t len, const uint8_t *tok_bytes,
                   size_t tok_len);
/* Weights of the shape (matrices, embedding, norms; biases not counted). */
uint64_t llama_app_params(const LlamaShape *c);
/* "efichat: model NAME family=gguf llama params=.. dim=.. layers=.. vocab=.. ctx=.. template=.. kernel=.. cores=.." */
void llama_app_describe(App *a, char *buf, size_t cap);

#endif
