/* llama_cmds.c - efichat-cli's Llama-family commands: llama-logits and llama-bench (token ids in), tokenize and
 * llama-generate (a Llama-family file's tokenizer (src/tokenizers/) from the model's own GGUF metadata or a separate
 * --tokenizer (tokenizer.bin, or a GGUF), text to ids, and greedy generation through src/llama.c that prints only
 * the continuation). Host only; errors die with one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llama_cmds.h"
#include "formats/llama_open.h"
#include "pool.h"
#include "q8.h"
#include "formats/gguf.h"
#include "formats/llama2c.h"
#include "tokenizers/tokenizer.h"
#include "chat/llchat.h"
#include "chat/template.h"
#include "sampler.h"

static void *heap_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void heap_release(void *ctx, void *p) { (void)ctx; free(p); }
static const LlamaAlloc heap = {heap_alloc, heap_release, NULL};

typedef struct {
    Tokenizer t;
    void *image;    /* the tokenizer file's bytes, when it is not the model */
    void *gguf_mem; /* the GGUF reader's tables */
    void *mem;      /* the tokenizer's tables */
} TokOpened;

static int is_gguf(const void *bytes, size_t len)
{
    return len >= 4 && !memcmp(bytes, "GGUF", 4);
}

static void tok_from_gguf(TokOpened *o, const char *path, const void *bytes, size_t len)
{
    char msg[300] = "";
    GgufFile f;
    size_t need = gguf_mem_bytes(bytes, len);
    if (!(o->gguf_mem = malloc(need ? need : 1)))
        die("out of memory");
    if (gguf_open(&f, bytes, len, o->gguf_mem, need, msg, sizeof msg) != GGUF_OK)
        die("%s: %s", path, msg);
    need = tok_bytes_gguf(&f);
    if (!(o->mem = malloc(need ? need : 1)))
        die("out of memory");
    if (tok_init_gguf(&o->t, &f, o->mem, need, msg, sizeof msg) != TOK_OK)
        die("%s: %s", path, msg);
}

/* The tokenizer of model image `model` (path mp): --tokenizer tp when given, else the model's own GGUF metadata.
 * A llama2.c tokenizer.bin is read for the model's vocab_size tokens, as run.c does. */
static void tok_open(TokOpened *o, const char *mp, const void *model, size_t mlen, const char *tp)
{
    memset(o, 0, sizeof *o);
    if (!tp) {
        if (!model || !is_gguf(model, mlen))
            die("%s: a llama2.c model has no tokenizer inside: give --tokenizer tokenizer.bin", mp ? mp : "--model");
        tok_from_gguf(o, mp, model, mlen);
        return;
    }
    size_t len;
    o->image = read_file(tp, &len);
    if (is_gguf(o->image, len)) {
        tok_from_gguf(o, tp, o->image, len);
        return;
    }
    uint32_t vocab = 0;
    Llama2cFile f;
    char msg[300] = "";
    if (model && !is_gguf(model, mlen) && l2c_open(&f, model, mlen, NULL, 0) == L2C_OK)
        vocab = f.vocab;
    size_t need = tok_bytes_l2c(o->image, len, vocab);
    if (!(o->mem = malloc(need ? need : 1)))
        die("out of memory");
    if (tok_init_l2c(&o->t, o->image, len, vocab, o->mem, need, msg, sizeof msg) != TOK_OK)
        die("%s: %s", tp, msg);
}

static void tok_close(TokOpened *o)
{
    free(o->mem);
    free(o->gguf_mem);
    free(o->image);
}

/* ids of text (BOS first when the tokenizer asks for it), on the heap; *n their count. special: special tokens'
 * pieces in the text are those tokens (tok_encode_special). */
static uint32_t *encode(const Tokenizer *t, const void *text, size_t len, int bos, int special, size_t *n)
{
    size_t cap = special ? tok_encode_special_cap(len) : tok_encode_cap(len);
    uint32_t *ids = malloc(cap * sizeof *ids), *work = malloc(TOK_WORK_PER_ID * cap * sizeof *work);
    if (!ids || !work)
        die("out of memory for %zu token ids", cap);
    TokError e = special ? tok_encode_special(t, text, len, bos, 0, 0, ids, work, cap, n)
                         : tok_encode(t, text, len, bos, ids, work, cap, n);
    if (e != TOK_OK)
        die("encode: %s", tok_error_string(e));
    free(work);
    return ids;
}

int cmd_tokenize(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"tokenizer", 0, 0}, {"text-file", 0, 0}, {"bos", 0, 0}, {"special", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *mp = opt_str(o, no, "model", 0), *tp = opt_str(o, no, "tokenizer", 0);
    const char *xp = opt_str(o, no, "text-file", 0);
    if ((!mp && !tp) || !xp)
        die("--model F and/or --tokenizer T, and --text-file X are required");
    size_t mlen = 0, tlen, n;
    void *model = mp ? read_file(mp, &mlen) : NULL;
    TokOpened tok;
    tok_open(&tok, mp, model, mlen, tp);
    int bos = (int)opt_num(o, no, "bos", tok.t.add_bos, 0, 1);
    char *text = read_file(xp, &tlen);
    uint32_t *ids = encode(&tok.t, text, tlen, bos, (int)opt_num(o, no, "special", 0, 0, 1), &n);
    for (size_t i = 0; i < n; i++)
        printf(i ? " %u" : "%u", ids[i]);
    printf("\n");
    free(ids);
    free(text);
    tok_close(&tok);
    free(model);
    return 0;
}

/* A Llama-family file and its tokenizer, for the commands that take text: --kernel float|avx|q8 (q8: int8 rows
 * straight from the file, no float copy), --ctx (at most the file's; 4,096 by default). Returns the kernel for
 * llama_state_init. */
static int open_with_tokenizer(LlamaOpened *m, TokOpened *tok, const char *mp, const char *tp, void *image,
                               size_t mlen, const char *kern, Opt *o, int no)
{
    char msg[300] = "";
    int q8 = !strcmp(kern, "q8"), avx = !strcmp(kern, "avx") && model_best_kernel() == KERNEL_AVX;
    if (!q8 && !avx && strcmp(kern, "float"))
        die("--kernel: '%s' is not float, avx (on a CPU that has it) or q8", kern);
    int r = llama_open(m, image, mlen, q8, &heap, msg, sizeof msg);
    if (r <= 0)
        die("%s: %s", mp, r == 0 ? "an efichat model: use generate" : msg);
    m->c.ctx = (uint32_t)opt_num(o, no, "ctx", m->c.ctx < 4096 ? m->c.ctx : 4096, 2, m->c.ctx);
    tok_open(tok, mp, image, mlen, tp);
    if (tok->t.vocab > m->c.vocab)
        die("%s: the tokenizer has %u tokens, the model only %u", tp ? tp : mp, tok->t.vocab, m->c.vocab);
    return q8 ? KERNEL_Q8 : avx ? KERNEL_AVX : KERNEL_SCALAR_SSE2;
}

int cmd_llama_generate(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"tokenizer", 0, 0}, {"prompt", 0, 0}, {"max", 0, 0},  {"temp", 0, 0},
               {"ctx", 0, 0},   {"ids", 0, 0},       {"kernel", 0, 0}, {"top-k", 0, 0}, {"top-p", 0, 0},
               {"seed", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *mp = opt_str(o, no, "model", 0), *tp = opt_str(o, no, "tokenizer", 0);
    const char *prompt = opt_str(o, no, "prompt", "");
    if (!mp)
        die("--model F is required");
    size_t max = (size_t)opt_num(o, no, "max", 64, 0, 1e9);
    int show_ids = (int)opt_num(o, no, "ids", 0, 0, 1);
    size_t mlen, n;
    void *image = read_file(mp, &mlen);
    LlamaOpened m;
    /* float weights (the 4-lane kernel by default, AVX on request: the same bits) or q8: int8 rows from the file */
    TokOpened tok;
    int kernel = open_with_tokenizer(&m, &tok, mp, tp, image, mlen, opt_str(o, no, "kernel", "float"), o, no);
    uint32_t *ids = encode(&tok.t, prompt, strlen(prompt), tok.t.add_bos, 0, &n);
    if (!n)
        die("an empty prompt and no BOS token: nothing to start from");
    LlamaState s;
    void *mem = malloc(llama_state_bytes(&m.c));
    if (!mem)
        die("out of memory");
    llama_state_init(&s, &m.c, mem, kernel);
    ModelError e = llama_feed(&m.c, &m.w, &s, (const int32_t *)ids, n, NULL);
    uint32_t prev = ids[n - 1];
    uint8_t *piece = malloc(tok.t.max_piece + 1);
    uint32_t *out_ids = malloc((max ? max : 1) * sizeof *out_ids);
    void *smem = malloc(sampler_scratch_bytes(m.c.vocab));
    if (!piece || !out_ids || !smem)
        die("out of memory");
    /* greedy by default (the first of equal logits, as argmax); --temp, --top-k, --top-p as the app samples */
    Sampler smp;
    sampler_init(&smp, (float)opt_num(o, no, "temp", 0, 0, 2), (uint32_t)opt_num(o, no, "top-k", 0, 0, 1e6),
                 (float)opt_num(o, no, "top-p", 1, 0, 1), (uint64_t)opt_num(o, no, "seed", 1337, 1, 1e15));
    sampler_set_scratch(&smp, smem, m.c.vocab);
    size_t produced = 0;
    for (; e == MODEL_OK && produced < max; produced++) {
        uint32_t next = (uint32_t)sampler_sample(&smp, s.logits, (int)m.c.vocab);
        if (tok_is_stop(&tok.t, next))
            break;
        out_ids[produced] = next;
        fwrite(piece, 1, tok_decode(&tok.t, prev, next, piece, tok.t.max_piece), stdout);
        fflush(stdout);
        int32_t in = (int32_t)next;
        e = llama_feed(&m.c, &m.w, &s, &in, 1, NULL);
        prev = next;
    }
    printf("\n");
    if (e != MODEL_OK)
        die("%s: %s", mp, model_error_string(e));
    if (show_ids) {
        fprintf(stderr, "prompt ids:");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %u", ids[i]);
        fprintf(stderr, "\ngenerated ids:");
        for (size_t i = 0; i < produced; i++)
            fprintf(stderr, " %u", out_ids[i]);
        fprintf(stderr, "\n");
    }
    free(smem);
    free(out_ids);
    free(piece);
    free(mem);
    free(ids);
    tok_close(&tok);
    llama_close(&m);
    free(image);
    return 0;
}

// ----------------------------------------------------------------------------
// token ids in: llama-logits, llama-bench

/* --kernel for a Llama-family model: sse2, avx, q8 or q8-sse2/-avx2/-vnni (quantising into *q8mem, freed by the
 * caller). Sets the state's kernel and path after llama_state_init. */
static void llama_kernel(LlamaOpened *m, LlamaState *s, const char *kern, void **q8mem)
{
    *q8mem = 0;
    if (!strcmp(kern, VEC4_NAME) || (!strcmp(kern, "avx") && model_best_kernel() == KERNEL_AVX)) {
        s->kernel = !strcmp(kern, "avx") ? KERNEL_AVX : KERNEL_SCALAR_SSE2;
        return;
    }
    if (strncmp(kern, "q8", 2) || q8_path_named(kern + 2) < 0)
        die("--kernel: '%s' is not " VEC4_NAME ", avx, q8, q8-" VEC4_NAME ", q8-avx2, q8-vnni or q8-dot on a CPU that has it",
            kern);
    if (m->w.q8) /* opened as int8 straight from the file */
        ;
    else if (!(*q8mem = malloc(llama_q8_bytes(&m->c))) || !llama_quantize(&m->c, &m->w, *q8mem))
        die("--kernel q8: cannot quantise this model (out of memory, or a row wider than %u)", Q8_MAX_COLS);
    s->kernel = KERNEL_Q8;
    s->q8_path = q8_path_named(kern + 2);
}

/* --threads N for a Llama-family state: the pool and its scratch (freed by llama_threads_free). */
typedef struct {
    Pool *pool;
    void *mem;
} LlamaThreads;

static LlamaThreads llama_threads(LlamaState *s, const LlamaShape *c, unsigned n)
{
    LlamaThreads t = {0, 0};
    if (n <= 1)
        return t;
    t.pool = pool_new(n);
    t.mem = malloc(llama_parallel_bytes(c, n));
    if (!t.pool || !t.mem)
        die("--threads %u: cannot start the threads or allocate their scratch", n);
    ModelParallel mp = pool_parallel(t.pool);
    llama_state_set_parallel(s, c, &mp, t.mem);
    return t;
}

static void llama_threads_free(LlamaThreads *t)
{
    pool_free(t->pool);
    free(t->mem);
}

/* Logits of a Llama-family file (GGUF llama/qwen2, llama2.c) for token ids, for the parity tests until the chat
 * runs these models with their tokenizers. */
int cmd_llama_logits(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"tokens-file", 0, 0}, {"out", 0, 0}, {"kernel", 0, 0}, {"ctx", 0, 0}, {"q8-from", 0, 0},
               {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *mp = opt_str(o, no, "model", 0), *tf = opt_str(o, no, "tokens-file", 0), *out = opt_str(o, no, "out", 0);
    const char *kern = opt_str(o, no, "kernel", VEC4_NAME);
    if (!mp || !tf || !out)
        die("--model M, --tokens-file FILE (int32 ids) and --out FILE are required");
    size_t len, tlen;
    void *image = read_file(mp, &len);
    char msg[256] = "";
    LlamaOpened m;
    const char *from = opt_str(o, no, "q8-from", "file"); /* file: int8 rows straight from it; float: via floats */
    if (strcmp(from, "file") && strcmp(from, "float"))
        die("--q8-from: '%s' is not file or float", from);
    int r = llama_open(&m, image, len, !strncmp(kern, "q8", 2) && !strcmp(from, "file"), &heap, msg, sizeof msg);
    if (r <= 0)
        die("%s: %s", mp, r == 0 ? "an efichat model: use logits --text-file" : msg);
    m.c.ctx = (uint32_t)opt_num(o, no, "ctx", m.c.ctx < 4096 ? m.c.ctx : 4096, 2, m.c.ctx);
    int32_t *toks = read_file(tf, &tlen);
    size_t n = tlen / 4;
    LlamaState s;
    void *mem = malloc(llama_state_bytes(&m.c)), *q8mem;
    float *lg = malloc((n ? n : 1) * m.c.vocab * sizeof *lg);
    if (!mem || !lg)
        die("out of memory");
    llama_state_init(&s, &m.c, mem, KERNEL_SCALAR_SSE2);
    llama_kernel(&m, &s, kern, &q8mem);
    LlamaThreads th = llama_threads(&s, &m.c, (unsigned)opt_num(o, no, "threads", 1, 1, 256));
    ModelError e = llama_feed(&m.c, &m.w, &s, toks, n, lg);
    llama_threads_free(&th);
    if (e != MODEL_OK)
        die("%s: %s", mp, model_error_string(e));
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(lg, sizeof *lg, n * m.c.vocab, f) != n * m.c.vocab || fclose(f) != 0)
        die("%s: write error", out);
    printf("%s: vocab %u, %zu tokens, slides %u\n", m.kind, m.c.vocab, n, s.slides);
    free(q8mem);
    free(lg);
    free(mem);
    free(toks);
    llama_close(&m);
    free(image);
    return 0;
}

/* Decode speed of a Llama-family file: 256 tokens (or the context) fed one at a time, best of 3 rounds. */
int cmd_llama_bench(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"kernel", 0, 0}, {"tokens", 0, 0}, {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *mp = opt_str(o, no, "model", 0), *kern = opt_str(o, no, "kernel", "avx");
    if (!mp)
        die("--model M is required");
    size_t len;
    void *image = read_file(mp, &len);
    char msg[256] = "";
    LlamaOpened m;
    int r = llama_open(&m, image, len, !strncmp(kern, "q8", 2), &heap, msg, sizeof msg);
    if (r <= 0)
        die("%s: %s", mp, r == 0 ? "an efichat model: use bench" : msg);
    uint32_t n = (uint32_t)opt_num(o, no, "tokens", 256, 2, 1 << 20);
    m.c.ctx = n < m.c.ctx ? n : m.c.ctx;
    LlamaState s;
    void *mem = malloc(llama_state_bytes(&m.c)), *q8mem;
    if (!mem)
        die("out of memory");
    llama_state_init(&s, &m.c, mem, KERNEL_SCALAR_SSE2);
    llama_kernel(&m, &s, kern, &q8mem);
    unsigned threads = (unsigned)opt_num(o, no, "threads", 1, 1, 256);
    LlamaThreads th = llama_threads(&s, &m.c, threads);
    double best = 0;
    for (int round = 0; round < 3; round++) {
        llama_state_reset(&s);
        double t0 = now_s();
        for (uint32_t i = 0; i < m.c.ctx; i++) {
            int32_t tok = (int32_t)((i * 31 + 7) % m.c.vocab);
            llama_feed(&m.c, &m.w, &s, &tok, 1, 0);
        }
        double tps = m.c.ctx / (now_s() - t0);
        best = tps > best ? tps : best;
    }
    printf("%s: dim %u layers %u heads %u/%u vocab %u, kernel %s, threads %u: decode %.0f tokens/s (%u tokens, best of 3)\n",
           m.kind, m.c.dim, m.c.layers, m.c.heads, m.c.kv_heads, m.c.vocab, kern, threads, best, m.c.ctx);
    llama_threads_free(&th);
    free(q8mem);
    free(mem);
    llama_close(&m);
    free(image);
    return 0;
}

/* A conversation through src/chat/llchat.c, the code the UEFI app runs: each line of the script is one user message;
 * each reply is printed, then a line break. stderr: "reply tokens=N end=stop|max ctx=USED" per reply. */
int cmd_chat(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"tokenizer", 0, 0}, {"script", 0, 0}, {"max", 0, 0}, {"temp", 0, 0},
               {"top-k", 0, 0}, {"top-p", 0, 0},     {"seed", 0, 0},   {"ctx", 0, 0}, {"kernel", 0, 0},
               {"template", 0, 0}, {"ids", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *mp = opt_str(o, no, "model", 0), *tp = opt_str(o, no, "tokenizer", 0);
    const char *sp = opt_str(o, no, "script", 0);
    int show_ids = (int)opt_num(o, no, "ids", 0, 0, 1);
    if (!mp || !sp)
        die("--model F and --script FILE are required");
    size_t mlen, slen;
    void *image = read_file(mp, &mlen);
    char *script = read_file(sp, &slen);
    LlamaOpened m;
    TokOpened tok;
    int kernel = open_with_tokenizer(&m, &tok, mp, tp, image, mlen, opt_str(o, no, "kernel", "q8"), o, no);
    const char *tn = opt_str(o, no, "template", "auto");
    int tmpl = !strcmp(tn, "auto") ? (m.is_gguf ? llchat_template_of_gguf(&m.gguf) : TEMPLATE_NONE)
                                   : template_from_name(tn, strlen(tn));
    if (tmpl < 0)
        die("--template: '%s' is not auto, chatml, llama2, zephyr or none", tn);
    uint32_t max = (uint32_t)opt_num(o, no, "max", 64, 1, 1e6);
    Sampler smp;
    sampler_init(&smp, (float)opt_num(o, no, "temp", 0, 0, 2), (uint32_t)opt_num(o, no, "top-k", 0, 0, 1e6),
                 (float)opt_num(o, no, "top-p", 1, 0, 1), (uint64_t)opt_num(o, no, "seed", 1, 1, 1e15));
    void *smem = malloc(sampler_scratch_bytes(m.c.vocab)), *smem_state = malloc(llama_state_bytes(&m.c));
    void *cmem = malloc(llchat_bytes(&m.c, 2048));
    uint8_t *piece = malloc(tok.t.max_piece + 1);
    LlamaState s;
    LlChat h;
    if (!smem || !smem_state || !cmem || !piece)
        die("out of memory");
    sampler_set_scratch(&smp, smem, m.c.vocab);
    llama_state_init(&s, &m.c, smem_state, kernel);
    llchat_init(&h, &m.c, &m.w, &s, &tok.t, tmpl, 2048, cmem);
    fprintf(stderr, "template %s\n", template_name(tmpl));
    for (char *line = script; line < script + slen;) {
        char *end = memchr(line, '\n', (size_t)(script + slen - line));
        size_t n = end ? (size_t)(end - line) : (size_t)(script + slen - line);
        int r = llchat_user(&h, line, n);
        if (r == LLCHAT_TOO_LONG)
            die("a message of %zu bytes does not fit in the context of %u tokens", n, m.c.ctx);
        uint32_t tokens = 0;
        int done = 0;
        while (r == LLCHAT_OK && !done && tokens < max) {
            size_t k;
            r = llchat_step(&h, &smp, piece, tok.t.max_piece, &k, &done);
            fwrite(piece, 1, k, stdout);
            tokens++;
        }
        if (r == LLCHAT_OK && !done)
            r = llchat_end_reply(&h);
        if (r == LLCHAT_MODEL)
            die("%s: %s", mp, model_error_string(h.model_error));
        if (r != LLCHAT_OK)
            die("a message could not be encoded");
        printf("\n");
        fflush(stdout);
        fprintf(stderr, "reply tokens=%u end=%s ctx=%u slides=%u\n", tokens, done ? "stop" : "max",
                llchat_ctx_used(&h), h.slides);
        if (show_ids) { /* the whole context after the reply, oldest first */
            fprintf(stderr, "context ids:");
            for (uint32_t i = 0; i < s.pos; i++)
                fprintf(stderr, " %d", s.tokens[i]);
            fprintf(stderr, "\n");
        }
        line += n + 1;
    }
    free(piece);
    free(cmem);
    free(smem_state);
    free(smem);
    tok_close(&tok);
    llama_close(&m);
    free(script);
    free(image);
    return 0;
}
