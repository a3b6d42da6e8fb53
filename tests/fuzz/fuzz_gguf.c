/* fuzz_gguf.c - the GGUF reader, the ggml dequantisers and the llama/qwen2 config on any bytes.
 * Promises checked: gguf_open never reads outside the image or the memory it was handed (too little memory is
 * an error, never an overrun), every refusal writes a NUL-terminated line; an accepted file's tensors lie in the
 * data section, aligned, apart, sized by their type, and each is found by its name; every metadata value lies in
 * the image and string arrays walk exactly its bytes; an accepted config's every layer tensor is found with the
 * shape the config implies. A fuzzer rarely gets past the counts, so each input is also tried with its tensor
 * and kv counts clamped to what the file could hold. */
#include <string.h>

#include "fuzz.h"
#include "formats/dequant.h"
#include "formats/gguf.h"
#include "formats/gguf_llama.h"

#define DEQUANT_MAX 4096 /* elements decoded per tensor: enough for a few rows of every type */

static void check_tensors(const GgufFile *f)
{
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const GgufTensor *t = &f->tensors[i];
        FUZZ_CHECK(t->data >= f->image + f->data_offset && t->bytes <= (uint64_t)(f->image + f->len - t->data));
        FUZZ_CHECK(t->offset % f->alignment == 0);
        FUZZ_CHECK(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS);
        uint64_t rows = t->nel / t->ne[0];
        FUZZ_CHECK(dq_row_bytes(t->type, t->ne[0]) * rows == t->bytes);
        for (uint64_t j = 0; j < i && f->n_tensors <= 64; j++) { /* apart: pairwise on small files */
            const GgufTensor *u = &f->tensors[j];
            FUZZ_CHECK(t->offset + t->bytes <= u->offset || u->offset + u->bytes <= t->offset);
        }
        char name[GGUF_MAX_NAME];
        if (t->name.len < sizeof name && !memchr(t->name.ptr, 0, t->name.len)) {
            memcpy(name, t->name.ptr, t->name.len);
            name[t->name.len] = 0;
            FUZZ_CHECK(gguf_find_tensor(f, name) == t);
        }
        if (dq_type(t->type)->can_dequant && t->ne[0] <= DEQUANT_MAX) {
            static float out[DEQUANT_MAX];
            FUZZ_CHECK(dq_row(t->type, t->data, out, t->ne[0]));
        }
    }
}

static void check_kv(const GgufFile *f)
{
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const GgufKV *kv = &f->kv[i];
        FUZZ_CHECK(kv->data >= f->image && kv->bytes <= (uint64_t)(f->image + f->len - kv->data));
        FUZZ_CHECK(kv->elem_type < GGUF_TYPE_COUNT && kv->elem_type != GGUF_ARRAY);
        if (kv->elem_type == GGUF_STRING) {
            GgufStrIter it;
            GgufStr s;
            uint64_t n = 0, bytes = 0;
            gguf_str_iter_init(&it, kv);
            if (kv->type == GGUF_ARRAY) {
                while (gguf_str_iter_next(&it, &s))
                    n++, bytes += 8 + s.len;
                FUZZ_CHECK(n == kv->count && bytes == kv->bytes);
            }
        }
        uint32_t u;
        if (kv->type == GGUF_ARRAY && kv->count)
            (void)gguf_array_u32(kv, kv->count - 1, &u);
    }
    uint32_t u;
    float x;
    GgufStr s;
    (void)gguf_get_u32(f, "general.alignment", &u);
    (void)gguf_get_f32(f, "llama.rope.freq_base", &x);
    (void)gguf_get_str(f, "general.architecture", &s);
}

static void check_config(const GgufFile *f)
{
    LlamaConfig c;
    char msg[160];
    memset(msg, 'x', sizeof msg);
    GgufError e = gguf_llama_config(f, &c, msg, sizeof msg);
    FUZZ_CHECK(e >= GGUF_OK && e < GGUF_ERR_COUNT && memchr(msg, 0, sizeof msg));
    if (e != GGUF_OK)
        return;
    FUZZ_CHECK(c.heads % c.kv_heads == 0 && c.head_dim % 2 == 0 && c.token_embd && c.output && c.output_norm);
    for (uint32_t l = 0; l < c.layers; l++) {
        const GgufTensor *q = gguf_layer_tensor(f, l, GL_ATTN_Q), *k = gguf_layer_tensor(f, l, GL_ATTN_K);
        FUZZ_CHECK(q && k && q->ne[0] == c.dim && q->ne[1] == (uint64_t)c.heads * c.head_dim);
        FUZZ_CHECK(k->ne[1] == (uint64_t)c.kv_heads * c.head_dim);
        FUZZ_CHECK(!c.has_qkv_bias || gguf_layer_tensor(f, l, GL_V_BIAS));
    }
}

static void open_image(const uint8_t *data, size_t size)
{
    size_t need = gguf_mem_bytes(data, size);
    void *mem = malloc(need ? need : 1);
    FUZZ_CHECK(mem != NULL);
    GgufFile f;
    char msg[160];
    if (need) { /* one byte short of what it asked for must be refused, not overrun */
        FUZZ_CHECK(gguf_open(&f, data, size, mem, need - 1, msg, sizeof msg) == GGUF_ERR_MEMORY);
    }
    memset(msg, 'x', sizeof msg);
    GgufError e = gguf_open(&f, data, size, mem, need, msg, sizeof msg);
    FUZZ_CHECK(e >= GGUF_OK && e < GGUF_ERR_COUNT && memchr(msg, 0, sizeof msg));
    FUZZ_CHECK(e == GGUF_OK ? msg[0] == 0 : msg[0] != 0);
    if (e == GGUF_OK) {
        FUZZ_CHECK(f.data_offset <= size && f.alignment && !(f.alignment & (f.alignment - 1)));
        check_tensors(&f);
        check_kv(&f);
        check_config(&f);
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so ASan sees one byte past the end (libFuzzer's buffer already is one) */
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    open_image(copy, size);
    if (size >= 24) {
        uint64_t nt, nkv;
        memcpy(&nt, copy + 8, 8);
        memcpy(&nkv, copy + 16, 8);
        uint64_t cap = (size - 24) / 33;
        if (nt > cap || nkv > cap) {
            nt = nt > cap ? nt % (cap + 1) : nt;
            nkv = nkv > cap ? nkv % (cap + 1) : nkv;
            memcpy(copy + 8, &nt, 8);
            memcpy(copy + 16, &nkv, 8);
            open_image(copy, size);
        }
    }
    free(copy);
    return 0;
}
