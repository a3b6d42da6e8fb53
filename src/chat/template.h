/* template.h - chat templates for instruction-tuned Llama-family models: how a conversation becomes the text the
 * model was trained on (ChatML as Qwen2 and SmolLM2 use it, Llama 2's [INST], Zephyr's <|user|>). Recognised from a
 * GGUF's tokenizer.chat_template (Jinja source) by the markers it prints, or named by `template=` in efichat.cfg.
 * Freestanding: no libc, writes into caller buffers, never allocates. Special tokens (<|im_end|>, </s>) are written
 * as text; the tokenizer maps them to their ids. */
#ifndef EFICHAT_TEMPLATE_H
#define EFICHAT_TEMPLATE_H

#include <stddef.h>

enum chat_template { TEMPLATE_NONE = 0, TEMPLATE_CHATML, TEMPLATE_LLAMA2, TEMPLATE_ZEPHYR };
enum chat_role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT };

/* The template a Jinja chat_template prints (TEMPLATE_NONE when it shows none of the known markers). */
int template_from_jinja(const char *src, size_t n);
/* "chatml", "llama2", "zephyr", "none" (efichat.cfg's template=); -1 for anything else. */
int template_from_name(const char *name, size_t n);
const char *template_name(int t);

/* One finished turn (role, content) appended at out[*len], *len advanced; 0 (nothing written) when it would not fit
 * in cap. Llama 2 folds a system message into the next user turn, so its system turn writes only the <<SYS>> block
 * and the user turn after it opens with it: pass them in order. */
int template_turn(int t, int role, const char *text, size_t n, char *out, size_t *len, size_t cap);
/* As template_turn, and *at is where the content starts in out (so a caller can tell the template's text from the
 * user's). */
int template_turn_at(int t, int role, const char *text, size_t n, char *out, size_t *len, size_t cap, size_t *at);
/* The text that opens the assistant's reply (the generation prompt), appended the same way. */
int template_reply_open(int t, char *out, size_t *len, size_t cap);
/* The text that ends a reply turn ("<|im_end|>", "</s>"): generation stops there. "" for TEMPLATE_NONE. */
const char *template_end_of_turn(int t);

#endif
