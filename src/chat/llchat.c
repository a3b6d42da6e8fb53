/* llchat.c - a conversation with a Llama-family model (llchat.h). */
#include "llchat.h"
#include "template.h"

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }
static size_t text_cap(size_t text_max) { return text_max + LLCHAT_TEMPLATE_BYTES; }

size_t llchat_bytes(const LlamaShape *c, size_t text_max)
{
    size_t ids = tok_encode_special_cap(text_cap(text_max));
    return align64(text_cap(text_max)) + align64(ids * 4) + align64(TOK_WORK_PER_ID * ids * 4) +
           align64((size_t)c->ctx * 4);
}

void llchat_init(LlChat *h, const LlamaShape *c, const LlamaWeights *w, LlamaState *s, const Tokenizer *tok, int tmpl,
                 size_t text_max, void *mem)
{
    uint8_t *p = mem;
    h->c = c;
    h->w = w;
    h->s = s;
    h->tok = tok;
    h->tmpl = tmpl;
    h->text_max = text_max;
    h->ids_cap = tok_encode_special_cap(text_cap(text_max));
    h->text = (char *)p;
    p += align64(text_cap(text_max));
    h->ids = (uint32_t *)p;
    p += align64(h->ids_cap * 4);
    h->work = (uint32_t *)p;
    p += align64(TOK_WORK_PER_ID * h->ids_cap * 4);
    h->tmp = (uint32_t *)p;
    h->slides = 0;
    llchat_reset(h);
}

void llchat_reset(LlChat *h)
{
    llama_state_reset(h->s);
    h->turns = h->head = 0;
    h->prev = TOK_NONE;
    h->in_reply = h->reply_started = 0;
    h->reply_tokens = 0;
    h->model_error = MODEL_OK;
}

uint32_t llchat_ctx_used(const LlChat *h) { return h->s->pos; }

static int failed(LlChat *h, ModelError e)
{
    llchat_reset(h);
    h->model_error = e;
    return LLCHAT_MODEL;
}

/* Makes room for n more tokens: whole turns dropped from the oldest (never the open reply's) until the context is at
 * most half full with them, or as far as they go; the head and what is kept are encoded again from position 0.
 * Returns 0 when even that leaves no room (the model's own slide will act). */
static int make_room(LlChat *h, size_t n)
{
    LlamaState *s = h->s;
    uint32_t T = h->c->ctx, pos = s->pos;
    if (pos + n <= T)
        return 1;
    uint32_t droppable = h->in_reply ? (h->turns ? h->turns - 1 : 0) : h->turns, k = 0;
    for (k = 1; k <= droppable; k++) {
        uint32_t from = k < h->turns ? h->turn_at[k] : pos;
        if (h->head + (pos - from) + n <= T / 2)
            break;
    }
    if (k > droppable)
        k = droppable;
    uint32_t from = k < h->turns ? h->turn_at[k] : pos;
    if (k == 0 || h->head + (pos - from) + n > T)
        return 0;
    uint32_t m = 0;
    for (uint32_t i = 0; i < h->head; i++)
        h->tmp[m++] = (uint32_t)s->tokens[i];
    for (uint32_t i = from; i < pos; i++)
        h->tmp[m++] = (uint32_t)s->tokens[i];
    for (uint32_t i = k; i < h->turns; i++)
        h->turn_at[i - k] = h->turn_at[i] - from + h->head;
    h->turns -= k;
    h->slides++;
    llama_state_reset(s);
    ModelError e = m ? llama_feed(h->c, h->w, s, (const int32_t *)h->tmp, m, NULL) : MODEL_OK;
    h->model_error = e;
    return e == MODEL_OK ? 1 : -1;
}

/* Feeds ids, making room first; after the model's own slide (a turn longer than the context) the turn bookkeeping
 * starts again: what the cache holds is one turn. */
static int feed(LlChat *h, const uint32_t *ids, size_t n)
{
    if (!n)
        return LLCHAT_OK;
    int room = make_room(h, n);
    if (room < 0)
        return failed(h, h->model_error);
    uint32_t slides = h->s->slides;
    ModelError e = llama_feed(h->c, h->w, h->s, (const int32_t *)ids, n, NULL);
    if (e != MODEL_OK)
        return failed(h, e);
    if (h->s->slides != slides) {
        h->head = 0;
        h->turns = 1;
        h->turn_at[0] = 0;
        h->slides++;
    }
    h->prev = ids[n - 1];
    return LLCHAT_OK;
}

/* Encodes text[0, len) (special tokens recognised outside [plain_lo, plain_hi)) into h->ids. */
static int encode(LlChat *h, const char *text, size_t len, int bos, size_t plain_lo, size_t plain_hi, size_t *n)
{
    if (tok_encode_special(h->tok, (const uint8_t *)text, len, bos, plain_lo, plain_hi, h->ids, h->work, h->ids_cap,
                           n) != TOK_OK)
        return LLCHAT_ENCODE;
    return LLCHAT_OK;
}

/* The template's text after a reply's content ("<|im_end|>\n", " </s>"); after_eot: only what follows the end-of-turn
 * token itself (the model produced that). */
static int close_reply(LlChat *h, int after_eot)
{
    size_t len = 0, at = 0, n;
    if (!template_turn_at(h->tmpl, ROLE_ASSISTANT, "", 0, h->text, &len, text_cap(h->text_max), &at))
        return LLCHAT_ENCODE;
    const char *close = h->text + at, *eot = template_end_of_turn(h->tmpl);
    size_t close_len = len - at, eot_len = 0;
    while (eot[eot_len])
        eot_len++;
    if (after_eot) { /* skip through the end-of-turn piece, when the template has one */
        size_t i = 0;
        while (eot_len && i + eot_len <= close_len) {
            size_t k = 0;
            while (k < eot_len && close[i + k] == eot[k])
                k++;
            if (k == eot_len)
                break;
            i++;
        }
        if (!eot_len || i + eot_len > close_len)
            i = close_len, eot_len = 0;
        close += i + eot_len;
        close_len -= i + eot_len;
    }
    int r = encode(h, close, close_len, 0, 0, 0, &n);
    return r != LLCHAT_OK ? r : feed(h, h->ids, n);
}

int llchat_end_reply(LlChat *h)
{
    if (!h->in_reply)
        return LLCHAT_OK;
    h->in_reply = 0;
    return close_reply(h, 0);
}

int llchat_user(LlChat *h, const char *text, size_t n)
{
    int r = llchat_end_reply(h);
    if (r != LLCHAT_OK)
        return r;
    if (n > h->text_max)
        return LLCHAT_ENCODE;
    /* Llama 2 opens every turn after the first with "<s>": template_turn tells by the text before it */
    size_t len = 0, at = 0, base = 0, cap = text_cap(h->text_max), ids;
    int first = h->s->pos == 0, llama2 = h->tmpl == TEMPLATE_LLAMA2;
    if (llama2 && !first)
        h->text[len++] = '\n', base = 1;
    if (!template_turn_at(h->tmpl, ROLE_USER, text, n, h->text, &len, cap, &at) ||
        !template_reply_open(h->tmpl, h->text, &len, cap))
        return LLCHAT_ENCODE;
    int bos = first && h->tok->add_bos;
    r = encode(h, h->text + base, len - base, bos, at - base, at - base + n, &ids);
    if (r != LLCHAT_OK)
        return r;
    /* the BOS of a conversation is its head, except in Llama 2, whose turns each begin with one */
    uint32_t head = bos && !llama2 ? 1 : 0;
    if (first)
        h->head = head;
    if (h->head + ids + 1 > h->c->ctx)
        return LLCHAT_TOO_LONG;
    uint32_t start = h->s->pos + (first ? head : 0);
    if (first && head) { /* BOS alone first, so the turn's start is a position of its own */
        if ((r = feed(h, h->ids, 1)) != LLCHAT_OK)
            return r;
        ids--;
        for (size_t i = 0; i < ids; i++)
            h->ids[i] = h->ids[i + 1];
    }
    h->in_reply = 1; /* the new turn is not droppable while it is fed */
    if (h->turns == LLCHAT_MAX_TURNS) { /* the two oldest turns become one */
        for (uint32_t i = 1; i + 1 < h->turns; i++)
            h->turn_at[i] = h->turn_at[i + 1];
        h->turns--;
    }
    h->turn_at[h->turns++] = start;
    uint32_t before = h->s->pos;
    r = feed(h, h->ids, ids);
    if (r != LLCHAT_OK)
        return r;
    if (h->s->pos < before + ids) /* a slide moved the turn: it starts where its tokens now begin */
        h->turn_at[h->turns - 1] = h->s->pos - (uint32_t)ids;
    h->reply_started = 0;
    h->reply_tokens = 0;
    return LLCHAT_OK;
}

int llchat_step(LlChat *h, Sampler *smp, uint8_t *out, size_t cap, size_t *n, int *done)
{
    *n = 0;
    *done = 0;
    if (!h->in_reply) {
        *done = 1;
        return LLCHAT_OK;
    }
    uint32_t id = (uint32_t)sampler_sample(smp, h->s->logits, (int)h->c->vocab);
    h->reply_tokens++;
    if (tok_is_stop(h->tok, id)) {
        *done = 1;
        h->in_reply = 0;
        int r = feed(h, &id, 1);
        return r != LLCHAT_OK ? r : close_reply(h, 1);
    }
    size_t k = id < h->tok->vocab ? tok_decode(h->tok, h->prev, id, out, cap) : 0, skip = 0;
    while (!h->reply_started && skip < k && out[skip] == ' ')
        skip++;
    if (skip < k)
        h->reply_started = 1;
    for (size_t i = skip; i < k; i++)
        out[i - skip] = out[i];
    *n = k - skip;
    return feed(h, &id, 1);
}

int llchat_template_of_gguf(const GgufFile *f)
{
    GgufStr s;
    if (!gguf_get_str(f, "tokenizer.chat_template", &s))
        return TEMPLATE_NONE;
    return template_from_jinja((const char *)s.ptr, (size_t)s.len);
}
