/* llchat.h - a conversation with a Llama-family model (src/llama.h) through its tokenizer and chat template: each
 * user message becomes a templated turn (the template's special tokens as their ids, the typed text never), the
 * reply is sampled token by token and ends at the end-of-turn or EOS token, and the context stays exactly the
 * template's rendering of the conversation. When it would overflow, whole turns are dropped from the oldest (the
 * head, BOS, stays) and the rest is encoded again; only a single turn longer than the context falls back to the
 * model's own sliding window. Freestanding like the core: the app and the host CLI run the same code, so a greedy
 * reply on the host is the reply in QEMU. */
#ifndef EFICHAT_LLCHAT_H
#define EFICHAT_LLCHAT_H

#include "../llama.h"
#include "../sampler.h"
#include "../tokenizers/tokenizer.h"

#define LLCHAT_MAX_TURNS 256

enum llchat_result {
    LLCHAT_OK = 0,
    LLCHAT_TOO_LONG, /* the message does not fit in the context even alone */
    LLCHAT_MODEL,    /* the model failed (h->model_error says how); the context was emptied */
    LLCHAT_ENCODE,   /* the text could not be encoded (larger than text_max) */
};

typedef struct {
    const LlamaShape *c;
    const LlamaWeights *w;
    LlamaState *s;
    const Tokenizer *tok;
    int tmpl;              /* enum chat_template */
    size_t text_max;       /* longest user message in bytes */
    char *text;            /* (text_max + LLCHAT_TEMPLATE_BYTES) a rendered turn */
    uint32_t *ids, *work;  /* encode scratch */
    size_t ids_cap;
    uint32_t *tmp;         /* (T) tokens kept across a slide */
    uint32_t turn_at[LLCHAT_MAX_TURNS]; /* cache position where each turn starts, oldest first */
    uint32_t turns;
    uint32_t head;         /* positions [0, head) belong to no turn (BOS) and survive every slide */
    uint32_t prev;         /* the last token in the context, TOK_NONE when empty */
    int in_reply;          /* a reply is open: llchat_end_reply closes it */
    int reply_started;     /* the reply has shown a byte other than a leading space */
    uint32_t reply_tokens;
    uint32_t slides;       /* turns dropped so far (each slide counts once) */
    ModelError model_error;
} LlChat;

#define LLCHAT_TEMPLATE_BYTES 256

size_t llchat_bytes(const LlamaShape *c, size_t text_max);
void llchat_init(LlChat *h, const LlamaShape *c, const LlamaWeights *w, LlamaState *s, const Tokenizer *tok, int tmpl,
                 size_t text_max, void *mem);
/* An empty context. */
void llchat_reset(LlChat *h);
/* The user's message as a turn, and the reply opened: after LLCHAT_OK the logits are those of the reply's first
 * token. A reply still open is closed first. */
int llchat_user(LlChat *h, const char *text, size_t n);
/* One reply token: sampled, fed, its bytes in out (at most tok->max_piece; none for a control token, nor for the
 * spaces that open a reply). *done = 1 when it ended the reply (end of turn, EOS: closed, nothing shown). */
int llchat_step(LlChat *h, Sampler *smp, uint8_t *out, size_t cap, size_t *n, int *done);
/* Closes an open reply that did not end by itself (stopped, or at its length limit): the template's end of turn is
 * fed, so the next turn follows a well-formed one. */
int llchat_end_reply(LlChat *h);
uint32_t llchat_ctx_used(const LlChat *h);
/* The template a GGUF file's tokenizer.chat_template prints (TEMPLATE_NONE without one, or for an unknown one). */
int llchat_template_of_gguf(const GgufFile *f);

#endif
