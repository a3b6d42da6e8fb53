/* template.c - chat templates (template.h). Each template is the text its reference Jinja source prints for a
 * conversation without tools: ChatML "<|im_start|>ROLE\nCONTENT<|im_end|>\n", reply opened by
 * "<|im_start|>assistant\n"; Llama 2 "[INST] USER [/INST]" then " REPLY </s>", a system message as
 * "<<SYS>>\nSYS\n<</SYS>>\n\n" at the start of the next user turn, each user turn after the first preceded by "<s>";
 * Zephyr "<|ROLE|>\nCONTENT</s>\n", reply opened by "<|assistant|>\n". */
#include "template.h"

static int has(const char *src, size_t n, const char *needle)
{
    size_t m = 0;
    while (needle[m])
        m++;
    for (size_t i = 0; m && i + m <= n; i++) {
        size_t k = 0;
        while (k < m && src[i + k] == needle[k])
            k++;
        if (k == m)
            return 1;
    }
    return 0;
}

int template_from_jinja(const char *src, size_t n)
{
    if (has(src, n, "<|im_start|>"))
        return TEMPLATE_CHATML;
    if (has(src, n, "[INST]"))
        return TEMPLATE_LLAMA2;
    if (has(src, n, "<|user|>") && has(src, n, "<|assistant|>"))
        return TEMPLATE_ZEPHYR;
    return TEMPLATE_NONE;
}

static const char *const names[] = {"none", "chatml", "llama2", "zephyr"};

int template_from_name(const char *name, size_t n)
{
    for (int t = 0; t < (int)(sizeof names / sizeof names[0]); t++) {
        size_t k = 0;
        while (k < n && names[t][k] && names[t][k] == name[k])
            k++;
        if (k == n && !names[t][k])
            return t;
    }
    return -1;
}

const char *template_name(int t) { return t >= 0 && t <= TEMPLATE_ZEPHYR ? names[t] : "?"; }

/* Appends the pieces (NUL-terminated strings, and one counted content) only if all fit. */
static int put_at(char *out, size_t *len, size_t cap, const char *a, const char *text, size_t n, const char *b,
                  size_t *at)
{
    size_t la = 0, lb = 0;
    while (a[la])
        la++;
    while (b[lb])
        lb++;
    if (*len > cap || la + n + lb > cap - *len)
        return 0;
    char *p = out + *len;
    *at = *len + la;
    for (size_t i = 0; i < la; i++)
        *p++ = a[i];
    for (size_t i = 0; i < n; i++)
        *p++ = text[i];
    for (size_t i = 0; i < lb; i++)
        *p++ = b[i];
    *len += la + n + lb;
    return 1;
}

static int put(char *out, size_t *len, size_t cap, const char *a, const char *text, size_t n, const char *b)
{
    size_t at;
    return put_at(out, len, cap, a, text, n, b, &at);
}

int template_turn(int t, int role, const char *text, size_t n, char *out, size_t *len, size_t cap)
{
    size_t at;
    return template_turn_at(t, role, text, n, out, len, cap, &at);
}

int template_turn_at(int t, int role, const char *text, size_t n, char *out, size_t *len, size_t cap, size_t *at)
{
    static const char *const chatml[] = {"<|im_start|>system\n", "<|im_start|>user\n", "<|im_start|>assistant\n"};
    static const char *const zephyr[] = {"<|system|>\n", "<|user|>\n", "<|assistant|>\n"};
    if (role < ROLE_SYSTEM || role > ROLE_ASSISTANT)
        return 0;
    switch (t) {
    case TEMPLATE_CHATML:
        return put_at(out, len, cap, chatml[role], text, n, "<|im_end|>\n", at);
    case TEMPLATE_ZEPHYR:
        return put_at(out, len, cap, zephyr[role], text, n, "</s>\n", at);
    case TEMPLATE_LLAMA2: {
        if (role == ROLE_SYSTEM)
            return put_at(out, len, cap, "[INST] <<SYS>>\n", text, n, "\n<</SYS>>\n\n", at);
        if (role == ROLE_ASSISTANT)
            return put_at(out, len, cap, " ", text, n, " </s>", at);
        /* a user turn right after the system block continues its [INST]; any other opens one ("<s>" after a reply) */
        int after_sys = *len >= 13 && has(out + *len - 13, 13, "\n<</SYS>>\n\n");
        return put_at(out, len, cap, after_sys ? "" : *len ? "<s>[INST] " : "[INST] ", text, n, " [/INST]", at);
    }
    default: /* no template: the text as typed */
        return put_at(out, len, cap, "", text, n, "", at);
    }
}

int template_reply_open(int t, char *out, size_t *len, size_t cap)
{
    return put(out, len, cap, t == TEMPLATE_CHATML ? "<|im_start|>assistant\n" : t == TEMPLATE_ZEPHYR ? "<|assistant|>\n" : "",
               "", 0, "");
}

const char *template_end_of_turn(int t)
{
    return t == TEMPLATE_CHATML ? "<|im_end|>" : t == TEMPLATE_LLAMA2 || t == TEMPLATE_ZEPHYR ? "</s>" : "";
}
