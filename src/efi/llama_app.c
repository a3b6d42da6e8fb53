/* llama_app.c - a Llama-family model in the UEFI app (llama_app.h). Large blocks come from AllocatePages (page
 * aligned, no pool limits); each failure frees what was taken and says which part did not fit. */
#include "llama_app.h"
#include "../chat/fmt.h"
#include "../chat/template.h"
#include "../q8.h"
#include "cpu.h"

#define MESSAGE_BYTES 2048 /* app.c's longest message */
#define LLAMA_APP_MAX_CTX 2048u /* KV cache positions: a 1B model's 2,048 take ~90 MiB */
#define PAGE_HEADER 64

static void *pages_alloc(void *ctx, size_t n)
{
    (void)ctx;
    EFI_PHYSICAL_ADDRESS at = 0;
    UINTN pages = (n + PAGE_HEADER + 4095) / 4096;
    if (EFI_ERROR(g_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &at)))
        return NULL;
    *(UINTN *)(uintptr_t)at = pages;
    return (uint8_t *)(uintptr_t)at + PAGE_HEADER;
}

static void pages_free(void *ctx, void *p)
{
    (void)ctx;
    if (!p)
        return;
    uint8_t *base = (uint8_t *)p - PAGE_HEADER;
    g_bs->FreePages((EFI_PHYSICAL_ADDRESS)(uintptr_t)base, *(UINTN *)base);
}

static const LlamaAlloc page_alloc = {pages_alloc, pages_free, NULL};

static void release(LlamaRun *r)
{
    void *blocks[] = {r->tok_gguf_mem, r->tok_mem, r->state_mem, r->chat_mem, r->sampler_mem, r->par_mem, r->piece};
    for (unsigned i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        pages_free(NULL, blocks[i]);
    llama_close(&r->m);
    pages_free(NULL, r);
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix)
        s++, prefix++;
    return *prefix == 0;
}

/* One error line "NAME: what (needs N MiB, M MiB free)" and everything freed. */
static int fail(App *a, LlamaRun *r, const char *name, const char *what, size_t need)
{
    char line[400];
    Fmt f;
    fmt_init(&f, line, sizeof line);
    fmt_str(&f, name);
    fmt_str(&f, ": ");
    fmt_str(&f, what);
    if (need) {
        fmt_str(&f, " (needs ");
        fmt_u64(&f, (need + (1u << 20) - 1) >> 20);
        fmt_str(&f, " MiB, ");
        fmt_u64(&f, memory_map_kib(0) >> 10);
        fmt_str(&f, " MiB free)");
    } else if (starts_with(what, "needs ")) {
        fmt_str(&f, ", "); /* llama_open ran out: "needs N MiB for its weights", M MiB free */
        fmt_u64(&f, memory_map_kib(0) >> 10);
        fmt_str(&f, " MiB free");
    }
    fmt_str(&f, "; using the built-in model");
    app_error(a, line);
    if (r)
        release(r);
    return 0;
}

static void *take(void **slot, size_t n)
{
    *slot = pages_alloc(NULL, n);
    return *slot;
}

int llama_app_open(App *a, const char *name, const uint8_t *bytes, size_t len, const uint8_t *tok_bytes,
                   size_t tok_len)
{
    LlamaRun *r = pages_alloc(NULL, sizeof *r);
    if (!r)
        return fail(a, NULL, name, "out of memory", sizeof *r);
    fmt_zero(r, sizeof *r);
    Fmt nf;
    fmt_init(&nf, r->name, sizeof r->name);
    fmt_str(&nf, name);
    char msg[200] = "";
    int q8 = a->settings.q8 != 0;
    int got = llama_open(&r->m, bytes, len, q8, &page_alloc, msg, sizeof msg);
    if (got <= 0)
        return fail(a, r, name, got == 0 ? "an efichat model belongs in \\efichat\\model.bin" : msg, 0);
    LlamaShape *c = &r->m.c;
    if (q8 && !r->m.w.q8)
        return fail(a, r, name, "a row is too wide for the int8 kernel; set q8=0 in efichat.cfg", 0);

    /* the tokenizer: the GGUF's own, or the llama2.c model's tokenizer.bin */
    size_t need;
    TokError te;
    if (r->m.is_gguf) {
        need = tok_bytes_gguf(&r->m.gguf);
        if (!take(&r->tok_mem, need))
            return fail(a, r, name, "out of memory for the tokenizer", need);
        te = tok_init_gguf(&r->tok, &r->m.gguf, r->tok_mem, need, msg, sizeof msg);
    } else {
        if (!tok_bytes)
            return fail(a, r, name, "a llama2.c model needs its tokenizer.bin beside it", 0);
        need = tok_bytes_l2c(tok_bytes, tok_len, c->vocab);
        if (!take(&r->tok_mem, need ? need : 1))
            return fail(a, r, name, "out of memory for the tokenizer", need);
        te = tok_init_l2c(&r->tok, tok_bytes, tok_len, c->vocab, r->tok_mem, need, msg, sizeof msg);
    }
    if (te != TOK_OK)
        return fail(a, r, name, msg, 0);
    if (r->tok.vocab > c->vocab)
        return fail(a, r, name, "the tokenizer has more tokens than the model", 0);
    r->tmpl = r->m.is_gguf ? llchat_template_of_gguf(&r->m.gguf) : TEMPLATE_NONE;
    if (a->settings.chat_template >= 0)
        r->tmpl = a->settings.chat_template;

    if (c->ctx > LLAMA_APP_MAX_CTX)
        c->ctx = LLAMA_APP_MAX_CTX;
    need = llama_state_bytes(c);
    if (!take(&r->state_mem, need))
        return fail(a, r, name, "out of memory for its run state", need);
    llama_state_init(&r->s, c, r->state_mem, q8 ? KERNEL_Q8 : model_best_kernel());
    if (q8) /* the timed pick, as for the GPT model (under QEMU's TCG: avx2-mullo) */
        r->s.q8_path = q8_fastest_path(&r->m.w.q8[LQ_UP], r->s.xn, r->s.up, r->s.xq, cpu_counter, 5);
    need = llchat_bytes(c, MESSAGE_BYTES);
    if (!take(&r->chat_mem, need))
        return fail(a, r, name, "out of memory for the conversation", need);
    llchat_init(&r->chat, c, &r->m.w, &r->s, &r->tok, r->tmpl, MESSAGE_BYTES, r->chat_mem);
    need = sampler_scratch_bytes(c->vocab);
    if (!take(&r->sampler_mem, need) || !take((void **)&r->piece, r->tok.max_piece + 1))
        return fail(a, r, name, "out of memory for the sampler", need);
    a->llama = r;
    return 1;
}

uint64_t llama_app_params(const LlamaShape *c)
{
    uint64_t C = c->dim, q = (uint64_t)c->heads * c->head_dim, kv = (uint64_t)c->kv_heads * c->head_dim;
    uint64_t layer = C * q * 2 + C * kv * 2 + 3 * C * c->hidden + 2 * C;
    return (uint64_t)c->vocab * C * (c->tied_output ? 1 : 2) + c->layers * layer + C;
}

void llama_app_describe(App *a, char *buf, size_t cap)
{
    LlamaRun *r = a->llama;
    const LlamaShape *c = &r->m.c;
    Fmt f;
    fmt_init(&f, buf, cap);
    fmt_str(&f, "efichat: model ");
    fmt_str(&f, r->name);
    fmt_str(&f, " family=");
    fmt_str(&f, r->m.kind);
    fmt_str(&f, " params=");
    fmt_u64(&f, llama_app_params(c));
    fmt_str(&f, " dim=");
    fmt_u64(&f, c->dim);
    fmt_str(&f, " layers=");
    fmt_u64(&f, c->layers);
    fmt_str(&f, " vocab=");
    fmt_u64(&f, c->vocab);
    fmt_str(&f, " ctx=");
    fmt_u64(&f, c->ctx);
    fmt_str(&f, " template=");
    fmt_str(&f, template_name(r->tmpl));
    fmt_str(&f, r->s.kernel == KERNEL_Q8 ? " kernel=q8 q8path=" : r->s.kernel == KERNEL_AVX ? " kernel=avx" : " kernel=sse2");
    if (r->s.kernel == KERNEL_Q8)
        fmt_str(&f, q8_path_name(r->s.q8_path));
    fmt_str(&f, " weights_mib=");
    fmt_u64(&f, (r->m.weights_bytes + (1u << 20) - 1) >> 20);
    fmt_str(&f, " cores=");
    fmt_u64(&f, a->status.cores);
}
