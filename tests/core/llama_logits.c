/* llama_logits - runs the Llama family (src/llama.c) on a test container written by tools/llama_reference.py and
 * writes the logits of every fed token, for tests/core/test_llama.py. Not a model format: a flat dump of the
 * shape (int32s, two floats) and the float32 tensors in LlamaWeights' order, made only by the test.
 * usage: llama-logits MODEL TOKENS(int32 ids) OUT(float32 logits) sse2|avx */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "llama-logits: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    void *p = malloc(*len + 1);
    if (!p || fread(p, 1, *len, f) != *len)
        exit(2);
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: llama-logits MODEL TOKENS OUT sse2|avx\n");
        return 2;
    }
    size_t len, tlen;
    uint8_t *img = slurp(argv[1], &len);
    int32_t *tokens = slurp(argv[2], &tlen);
    int32_t h[12];
    memcpy(h, img, sizeof h);
    if (memcmp(h, "LLT1", 4)) {
        fprintf(stderr, "llama-logits: not a test container\n");
        return 2;
    }
    LlamaShape c = {(uint32_t)h[1], (uint32_t)h[2], (uint32_t)h[3], (uint32_t)h[4], (uint32_t)h[5], (uint32_t)h[6],
                    (uint32_t)h[7], (uint32_t)h[8], 0, 0, h[9], h[11]};
    int bias = h[10], tied = h[11];
    memcpy(&c.rope_base, img + 48, 4);
    memcpy(&c.norm_eps, img + 52, 4);
    const char *why = llama_shape_problem(&c);
    if (why) {
        fprintf(stderr, "llama-logits: %s\n", why);
        return 2;
    }
    const float *p = (const float *)(const void *)(img + 56);
    size_t C = c.dim, H = c.hidden, Q = (size_t)c.heads * c.head_dim, KV = (size_t)c.kv_heads * c.head_dim;
    LlamaLayer *layers = calloc(c.layers, sizeof *layers);
    LlamaWeights w = {p, 0, 0, layers, 0, 0};
    p += c.vocab * C;
    w.output = tied ? w.embed : p;
    p += tied ? 0 : c.vocab * C;
    w.out_norm = p;
    p += C;
    for (uint32_t l = 0; l < c.layers; l++) {
        LlamaLayer *y = &layers[l];
#define TAKE(field, n) (y->field = p, p += (n))
        TAKE(attn_norm, C);
        TAKE(wq, Q * C);
        TAKE(wk, KV * C);
        TAKE(wv, KV * C);
        TAKE(wo, C * Q);
        TAKE(ffn_norm, C);
        TAKE(w_gate, H * C);
        TAKE(w_up, H * C);
        TAKE(w_down, C * H);
        if (bias) {
            TAKE(bq, Q);
            TAKE(bk, KV);
            TAKE(bv, KV);
        }
#undef TAKE
    }
    if ((const uint8_t *)p != img + len) {
        fprintf(stderr, "llama-logits: container holds %zu bytes, the shape needs %zu\n", len,
                (size_t)((const uint8_t *)p - img));
        return 2;
    }
    size_t n = tlen / 4;
    LlamaState s;
    void *mem = malloc(llama_state_bytes(&c));
    llama_state_init(&s, &c, mem, !strcmp(argv[4], "avx") ? KERNEL_AVX : KERNEL_SCALAR_SSE2);
    float *out = malloc((n ? n : 1) * c.vocab * sizeof *out);
    ModelError e = llama_feed(&c, &w, &s, tokens, n, out);
    if (e != MODEL_OK) {
        fprintf(stderr, "llama-logits: %s\n", model_error_string(e));
    } else {
        FILE *f = fopen(argv[3], "wb");
        fwrite(out, sizeof *out, n * c.vocab, f);
        fclose(f);
        printf("slides %u\n", s.slides);
    }
    free(out);
    free(mem);
    free(layers);
    free(tokens);
    free(img);
    return e == MODEL_OK ? 0 : 3;
}
