/* tok_tool.c - drives src/tokenizers/ for the tests in tests/tokenizers/, built with the sanitizers (mk/tokenizers.mk).
 *   tok-tool info   l2c|gguf FILE            the special ids, or "error: ..." with status 1
 *   tok-tool encode l2c|gguf FILE TEXTFILE   per line of TEXTFILE (without its '\n'): the ids (BOS first when the
 *                                            tokenizer asks for it), space separated; then "roundtrip GOOD BAD",
 *                                            the lines that decode back to their bytes and those that do not
 *   tok-tool split gpt2|qwen2|llama3 TEXTFILE  per line, then for the whole file: the byte lengths of the
 *                                            pre-tokenisation chunks (byte-level BPE)
 * Status 0 on success, 1 on a refused file (one "error: " line), anything else is a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizers/tok_internal.h"

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("error: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        printf("error: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

typedef struct {
    Tokenizer t;
    void *image, *gguf_mem, *mem;
} Opened;

static void open_tok(Opened *o, const char *kind, const char *path)
{
    size_t len;
    char msg[300] = "";
    memset(o, 0, sizeof *o);
    o->image = read_all(path, &len);
    TokError e;
    if (!strcmp(kind, "l2c")) {
        size_t need = tok_bytes_l2c(o->image, len, 0);
        o->mem = malloc(need ? need : 1);
        e = tok_init_l2c(&o->t, o->image, len, 0, o->mem, need, msg, sizeof msg);
    } else {
        GgufFile f;
        size_t need = gguf_mem_bytes(o->image, len);
        o->gguf_mem = malloc(need ? need : 1);
        if (gguf_open(&f, o->image, len, o->gguf_mem, need, msg, sizeof msg) != GGUF_OK) {
            printf("error: %s\n", msg);
            exit(1);
        }
        need = tok_bytes_gguf(&f);
        o->mem = malloc(need ? need : 1);
        e = tok_init_gguf(&o->t, &f, o->mem, need, msg, sizeof msg);
    }
    if (e != TOK_OK) {
        printf("error: %s\n", msg);
        free(o->mem);
        free(o->gguf_mem);
        free(o->image);
        exit(1);
    }
}

static void close_tok(Opened *o)
{
    free(o->mem);
    free(o->gguf_mem);
    free(o->image);
}

static int cmd_encode(Opened *o, const char *text_path)
{
    size_t len;
    uint8_t *text = read_all(text_path, &len);
    uint8_t *out = malloc(len + 1);
    size_t cap = tok_encode_cap(len);
    uint32_t *ids = malloc(cap * sizeof *ids), *work = malloc(TOK_WORK_PER_ID * cap * sizeof *work);
    size_t good = 0, bad = 0;
    for (size_t start = 0; start <= len;) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        if (end == len && start == len)
            break;
        size_t n;
        if (tok_encode(&o->t, text + start, end - start, o->t.add_bos, ids, work, tok_encode_cap(end - start), &n) != TOK_OK) {
            printf("error: encode failed\n");
            return 1;
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            printf(i ? " %u" : "%u", ids[i]);
            if (i || !o->t.add_bos) {
                uint8_t piece[TOK_MAX_PIECE + 1];
                size_t k = tok_decode(&o->t, i ? ids[i - 1] : TOK_NONE, ids[i], piece, sizeof piece);
                if (m + k <= len)
                    memcpy(out + m, piece, k);
                m += k;
            }
        }
        printf("\n");
        if (m == end - start && !memcmp(out, text + start, m))
            good++;
        else
            bad++;
        start = end + 1;
    }
    printf("roundtrip %zu %zu\n", good, bad);
    free(ids);
    free(work);
    free(out);
    free(text);
    return 0;
}

static void print_split(uint32_t style, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t end = tok_pretok_next(style, s, len, i);
        printf(i ? " %zu" : "%zu", end - i);
        i = end;
    }
    printf("\n");
}

static int cmd_split(const char *style_name, const char *text_path)
{
    uint32_t style = !strcmp(style_name, "qwen2") ? TOK_PRE_QWEN2 : !strcmp(style_name, "llama3") ? TOK_PRE_LLAMA3
                                                                                                    : TOK_PRE_GPT2;
    size_t len;
    uint8_t *text = read_all(text_path, &len);
    for (size_t start = 0; start < len;) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        print_split(style, text + start, end - start);
        start = end + 1;
    }
    print_split(style, text, len);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tok-tool info|encode l2c|gguf FILE [TEXTFILE] | split STYLE TEXTFILE\n");
        return 2;
    }
    if (!strcmp(argv[1], "split"))
        return cmd_split(argv[2], argv[3]);
    Opened o;
    open_tok(&o, argv[2], argv[3]);
    int rc = 0;
    if (!strcmp(argv[1], "info")) {
        printf("vocab %u bos %d eos %d eot %d unk %d max_piece %u add_bos %d space_prefix %d\n", o.t.vocab,
               (int)o.t.bos, (int)o.t.eos, (int)o.t.eot, (int)o.t.unk, o.t.max_piece, o.t.add_bos,
               o.t.space_prefix);
    } else if (!strcmp(argv[1], "encode") && argc >= 5) {
        rc = cmd_encode(&o, argv[4]);
    } else {
        fprintf(stderr, "tok-tool: unknown command %s\n", argv[1]);
        rc = 2;
    }
    close_tok(&o);
    return rc;
}
