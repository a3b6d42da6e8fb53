/* formats_info.c - `efichat-cli info` for GGUF and llama2.c files (formats_info.h). */
#include <stdlib.h>
#include <string.h>

#include "formats_info.h"
#include "formats/dequant.h"
#include "formats/gguf.h"
#include "formats/gguf_llama.h"
#include "formats/llama2c.h"

static void print_str(FILE *out, GgufStr s, int max)
{
    int cut = s.len > (uint64_t)max;
    fprintf(out, "%.*s%s", cut ? max : (int)s.len, s.ptr, cut ? "..." : "");
}

/* One metadata line: the key, its type, and the value when it is a number or a short string. */
static void print_kv(FILE *out, const GgufKV *kv)
{
    static const char *const types[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
                                        "u64", "i64", "f64"};
    fprintf(out, "  ");
    print_str(out, kv->key, 80);
    const uint8_t *p = kv->data;
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | (kv->bytes > (uint64_t)i ? p[i] : 0);
    switch (kv->type) {
    case GGUF_ARRAY: fprintf(out, " = array of %llu %s\n", (unsigned long long)kv->count, types[kv->elem_type]); return;
    case GGUF_STRING: {
        GgufStr s = {(const char *)p + 8, u};
        fprintf(out, " = \"");
        print_str(out, s, 60);
        fprintf(out, "\"\n");
        return;
    }
    case GGUF_F32: {
        union { uint32_t u; float f; } v = {(uint32_t)u};
        fprintf(out, " = %g (f32)\n", v.f);
        return;
    }
    case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64: case GGUF_BOOL:
        fprintf(out, " = %llu (%s)\n", (unsigned long long)u, types[kv->type]);
        return;
    default: fprintf(out, " (%s)\n", types[kv->type]); return;
    }
}

static int gguf_info(FILE *out, const void *bytes, size_t len, char *msg, size_t cap)
{
    size_t need = gguf_mem_bytes(bytes, len);
    void *mem = malloc(need ? need : 1);
    GgufFile f;
    if (!mem) {
        snprintf(msg, cap, "out of memory for the GGUF index (%zu bytes)", need);
        return -1;
    }
    if (gguf_open(&f, bytes, len, mem, need, msg, cap) != GGUF_OK) {
        free(mem);
        return -1;
    }
    fprintf(out, "format GGUF version %u, alignment %u, data at byte %llu\nmetadata %llu entries\n", f.version,
            f.alignment, (unsigned long long)f.data_offset, (unsigned long long)f.n_kv);
    for (uint64_t i = 0; i < f.n_kv; i++)
        print_kv(out, &f.kv[i]);
    LlamaConfig c;
    char why[200];
    if (gguf_llama_config(&f, &c, why, sizeof why) == GGUF_OK)
        fprintf(out, "model %s: dim %u, hidden %u, layers %u, heads %u (kv %u, head size %u), vocab %u, ctx %u, "
                     "rope base %g, rms eps %g%s%s\n",
                gguf_arch_name(c.arch), c.dim, c.hidden, c.layers, c.heads, c.kv_heads, c.head_dim, c.vocab, c.ctx,
                c.rope_base, c.rms_eps, c.has_qkv_bias ? ", q/k/v biases" : "",
                c.tied_output ? ", output tied to the embedding" : "");
    else
        fprintf(out, "model: not runnable by this build: %s\n", why);
    uint64_t bytes_total = 0;
    fprintf(out, "tensors %llu\n", (unsigned long long)f.n_tensors);
    for (uint64_t i = 0; i < f.n_tensors; i++) {
        const GgufTensor *t = &f.tensors[i];
        fprintf(out, "  ");
        print_str(out, t->name, 63);
        fprintf(out, " %s (", dq_type(t->type)->name);
        for (uint32_t d = 0; d < t->n_dims; d++)
            fprintf(out, d ? ", %llu" : "%llu", (unsigned long long)t->ne[d]);
        fprintf(out, ") %llu bytes\n", (unsigned long long)t->bytes);
        bytes_total += t->bytes;
    }
    fprintf(out, "tensor bytes %llu\n(no Llama forward pass yet: this build can describe the file, not chat with it)\n",
            (unsigned long long)bytes_total);
    free(mem);
    return 1;
}

static int llama2c_info(FILE *out, const void *bytes, size_t len, char *msg, size_t cap)
{
    Llama2cFile f;
    char why[200];
    if (l2c_open(&f, bytes, len, why, sizeof why) != L2C_OK) {
        int legacy = len < 4 || memcmp(bytes, "24ka", 4) != 0;
        snprintf(msg, cap, legacy ? "not an efichat, GGUF or llama2.c model (read as a legacy llama2.c file: %s)"
                                  : "%s", why);
        return -1;
    }
    static const char *const kinds[] = {"legacy (run.c)", "version 1 (float32)", "version 2 (int8 groups, runq.c)"};
    fprintf(out, "format llama2.c %s\nmodel llama: dim %u, hidden %u, layers %u, heads %u (kv %u, head size %u), "
                 "vocab %u, seq_len %u%s",
            kinds[f.version], f.dim, f.hidden, f.layers, f.heads, f.kv_heads, f.head_dim, f.vocab, f.seq_len,
            f.shared_classifier ? ", classifier shared with the embedding" : ", separate classifier");
    if (f.version == 2)
        fprintf(out, ", group size %u", f.group_size);
    fprintf(out, "\ntensors\n");
    for (int t = 0; t < L2C_TENSOR_COUNT; t++) {
        L2cView v;
        if (l2c_tensor(&f, t, 0, &v))
            fprintf(out, "  %s (%llu, %llu)%s%s\n", l2c_tensor_name(t), (unsigned long long)v.rows,
                    (unsigned long long)v.cols, t >= 1 && t <= 9 ? " per layer" : "", v.scales ? " int8" : "");
    }
    fprintf(out, "(no Llama forward pass yet: this build can describe the file, not chat with it)\n");
    return 1;
}

int formats_info(FILE *out, const void *bytes, size_t len, char *msg, size_t cap)
{
    if (len >= 4 && memcmp(bytes, "EFCM", 4) == 0)
        return 0;
    if (len >= 4 && memcmp(bytes, "GGUF", 4) == 0)
        return gguf_info(out, bytes, len, msg, cap);
    return llama2c_info(out, bytes, len, msg, cap);
}
