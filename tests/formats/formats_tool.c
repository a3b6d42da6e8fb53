/* formats_tool.c - the file readers of src/formats/ on the host, for the tests in tests/formats: built with ASan/UBSan,
 * it opens a file the way the app will (the whole image in memory) and prints what the reader made of it.
 *   formats-tool gguf FILE                 header, metadata, tensors, then the llama/qwen2 config or its error
 *   formats-tool dequant FILE TENSOR OUT   the tensor's rows as float32 through dq_row
 *   formats-tool llama2c FILE              config and tensor layout
 *   formats-tool l2c-dump FILE TENSOR LAYER OUT   the tensor's bytes (int8 values then scales, or float32)
 *   formats-tool tokenizer FILE VOCAB      token count, max length, a few tokens
 * A refused file prints "error: <the reader's line>" and exits 1; anything else that fails exits 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/dequant.h"
#include "formats/gguf.h"
#include "formats/gguf_llama.h"
#include "formats/llama2c.h"

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n ? (size_t)n : 1); /* exact size: ASan sees a read one byte past the end */
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void print_str(GgufStr s) { printf("%.*s", (int)s.len, s.ptr); }

static int open_gguf(GgufFile *g, const char *path, uint8_t **image, void **mem)
{
    size_t len;
    *image = read_all(path, &len);
    size_t need = gguf_mem_bytes(*image, len);
    *mem = malloc(need ? need : 1);
    char msg[256];
    GgufError e = gguf_open(g, *image, len, *mem, need, msg, sizeof msg);
    if (e) {
        printf("error: %s\n", msg);
        free(*mem);
        free(*image);
        return 0;
    }
    return 1;
}

static int cmd_gguf(const char *path)
{
    GgufFile g;
    uint8_t *image;
    void *mem;
    if (!open_gguf(&g, path, &image, &mem))
        return 1;
    printf("gguf version %u alignment %u kv %llu tensors %llu data_offset %llu\n", g.version, g.alignment,
           (unsigned long long)g.n_kv, (unsigned long long)g.n_tensors, (unsigned long long)g.data_offset);
    for (uint64_t i = 0; i < g.n_kv; i++) {
        const GgufKV *kv = &g.kv[i];
        printf("kv ");
        print_str(kv->key);
        printf(" type %u elem %u count %llu\n", kv->type, kv->elem_type, (unsigned long long)kv->count);
    }
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensor *t = &g.tensors[i];
        printf("tensor ");
        print_str(t->name);
        printf(" %s (", dq_type(t->type)->name);
        for (uint32_t d = 0; d < t->n_dims; d++)
            printf(d ? ", %llu" : "%llu", (unsigned long long)t->ne[d]);
        printf(") offset %llu bytes %llu\n", (unsigned long long)t->offset, (unsigned long long)t->bytes);
    }
    LlamaConfig c;
    char msg[256];
    if (gguf_llama_config(&g, &c, msg, sizeof msg)) {
        printf("config error: %s\n", msg);
    } else {
        printf("config arch %s dim %u hidden %u layers %u heads %u kv_heads %u head_dim %u vocab %u ctx %u "
               "rope_base %g rms_eps %g qkv_bias %d tied_output %d\n",
               gguf_arch_name(c.arch), c.dim, c.hidden, c.layers, c.heads, c.kv_heads, c.head_dim, c.vocab, c.ctx,
               c.rope_base, c.rms_eps, c.has_qkv_bias, c.tied_output);
        /* every lookup a forward pass will make */
        for (uint32_t l = 0; l < c.layers; l++)
            for (int w = 0; w < (c.has_qkv_bias ? GL_COUNT : GL_Q_BIAS); w++)
                if (!gguf_layer_tensor(&g, l, w)) {
                    printf("lookup failed: blk.%u.%s\n", l, gguf_layer_tensor_name(w));
                    return 2;
                }
    }
    free(mem);
    free(image);
    return 0;
}

static int cmd_dequant(const char *path, const char *name, const char *out)
{
    GgufFile g;
    uint8_t *image;
    void *mem;
    if (!open_gguf(&g, path, &image, &mem))
        return 1;
    const GgufTensor *t = gguf_find_tensor(&g, name);
    if (!t) {
        printf("error: no tensor %s\n", name);
        return 1;
    }
    uint64_t rows = t->nel / t->ne[0], rb = dq_row_bytes(t->type, t->ne[0]);
    float *y = malloc(t->nel * sizeof(float));
    for (uint64_t r = 0; r < rows; r++)
        if (!dq_row(t->type, t->data + r * rb, y + r * t->ne[0], t->ne[0])) {
            printf("error: no dequantiser for %s\n", dq_type(t->type)->name);
            return 1;
        }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(y, sizeof(float), t->nel, f) != t->nel || fclose(f))
        return 2;
    printf("dequantised %llu rows of %llu\n", (unsigned long long)rows, (unsigned long long)t->ne[0]);
    free(y);
    free(mem);
    free(image);
    return 0;
}

static int open_l2c(Llama2cFile *m, const char *path, uint8_t **image)
{
    size_t len;
    *image = read_all(path, &len);
    char msg[256];
    if (l2c_open(m, *image, len, msg, sizeof msg)) {
        printf("error: %s\n", msg);
        free(*image);
        return 0;
    }
    return 1;
}

static int cmd_llama2c(const char *path)
{
    Llama2cFile m;
    uint8_t *image;
    if (!open_l2c(&m, path, &image))
        return 1;
    printf("llama2c version %u dim %u hidden %u layers %u heads %u kv_heads %u vocab %u seq_len %u head_dim %u "
           "group_size %u shared_classifier %d\n",
           m.version, m.dim, m.hidden, m.layers, m.heads, m.kv_heads, m.vocab, m.seq_len, m.head_dim, m.group_size,
           m.shared_classifier);
    for (int t = 0; t < L2C_TENSOR_COUNT; t++) {
        L2cView v;
        if (l2c_tensor(&m, t, 0, &v))
            printf("tensor %s (%llu, %llu) offset %llu%s\n", l2c_tensor_name(t), (unsigned long long)v.rows,
                   (unsigned long long)v.cols, (unsigned long long)(v.data - image), v.scales ? " int8" : "");
    }
    free(image);
    return 0;
}

static int cmd_l2c_dump(const char *path, const char *name, const char *layer, const char *out)
{
    Llama2cFile m;
    uint8_t *image;
    if (!open_l2c(&m, path, &image))
        return 1;
    int which = 0;
    while (which < L2C_TENSOR_COUNT && strcmp(l2c_tensor_name(which), name))
        which++;
    L2cView v;
    if (!l2c_tensor(&m, which, (uint32_t)atoi(layer), &v)) {
        printf("error: no tensor %s layer %s\n", name, layer);
        return 1;
    }
    uint64_t n = v.rows * v.cols, bytes = v.scales ? n + n / m.group_size * 4 : 4 * n;
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(v.data, 1, bytes, f) != bytes || fclose(f))
        return 2;
    printf("dumped %llu bytes\n", (unsigned long long)bytes);
    free(image);
    return 0;
}

static int cmd_tokenizer(const char *path, const char *vocab_arg)
{
    size_t len;
    uint8_t *image = read_all(path, &len);
    uint32_t vocab = (uint32_t)strtoul(vocab_arg, NULL, 10);
    L2cTokenizer t;
    char msg[256];
    if (l2c_tokenizer_open(&t, image, len, vocab, NULL, msg, sizeof msg)) { /* first pass: validate and count */
        printf("error: %s\n", msg);
        free(image);
        return 1;
    }
    uint32_t *offsets = malloc(t.vocab * sizeof(uint32_t));
    if (l2c_tokenizer_open(&t, image, len, t.vocab, offsets, msg, sizeof msg))
        return 2;
    printf("tokenizer tokens %u max_token_length %u\n", t.vocab, t.max_token_length);
    for (uint32_t i = 0; i < t.vocab; i++) {
        const uint8_t *b;
        uint32_t n;
        float score;
        if (!l2c_token(&t, i, &b, &n, &score))
            return 2;
        printf("token %u %g %u ", i, score, n);
        for (uint32_t j = 0; j < n; j++)
            printf("%02x", b[j]);
        printf("\n");
    }
    free(offsets);
    free(image);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* every line out before a sanitizer report ends the program */
    if (argc == 3 && !strcmp(argv[1], "gguf"))
        return cmd_gguf(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "dequant"))
        return cmd_dequant(argv[2], argv[3], argv[4]);
    if (argc == 3 && !strcmp(argv[1], "llama2c"))
        return cmd_llama2c(argv[2]);
    if (argc == 6 && !strcmp(argv[1], "l2c-dump"))
        return cmd_l2c_dump(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 4 && !strcmp(argv[1], "tokenizer"))
        return cmd_tokenizer(argv[2], argv[3]);
    fprintf(stderr, "usage: formats-tool gguf|dequant|llama2c|l2c-dump|tokenizer ...\n");
    return 2;
}
