/* llama_open.c - GGUF and llama2.c images to a runnable Llama-family model for the CLI (llama_open.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_open.h"
#include "formats/gguf.h"
#include "formats/gguf_llama.h"
#include "formats/llama2c.h"
#include "formats/llama_weights.h"

static int opened(LlamaOpened *m, char *msg, size_t cap)
{
    const char *why = llama_shape_problem(&m->c);
    if (why) {
        snprintf(msg, cap, "%s: %s", m->kind, why);
        llama_close(m);
        return -1;
    }
    return 1;
}

int llama_open(LlamaOpened *m, const void *bytes, size_t len, int q8, char *msg, size_t cap)
{
    memset(m, 0, sizeof *m);
    if (len >= 4 && !memcmp(bytes, "EFCM", 4))
        return 0;
    if (len >= 4 && !memcmp(bytes, "GGUF", 4)) {
        size_t need = gguf_mem_bytes(bytes, len);
        GgufFile f;
        LlamaConfig g;
        m->index_mem = malloc(need ? need : 1);
        if (!m->index_mem || gguf_open(&f, bytes, len, m->index_mem, need, msg, cap) != GGUF_OK ||
            gguf_llama_config(&f, &g, msg, cap) != GGUF_OK) {
            llama_close(m);
            return -1;
        }
        m->kind = g.arch == GGUF_ARCH_QWEN2 ? "gguf qwen2" : "gguf llama";
        if (!(m->weights_mem = malloc(llama_weights_bytes_gguf(&f, &g, q8)))) {
            snprintf(msg, cap, "out of memory for the dequantised weights");
            llama_close(m);
            return -1;
        }
        llama_weights_gguf(&f, &g, q8, &m->c, &m->w, m->weights_mem);
        return opened(m, msg, cap);
    }
    Llama2cFile f;
    if (l2c_open(&f, bytes, len, msg, cap) != L2C_OK)
        return -1;
    m->kind = "llama2.c";
    if (!(m->weights_mem = malloc(llama_weights_bytes_l2c(&f, q8)))) {
        snprintf(msg, cap, "out of memory for the dequantised weights");
        return -1;
    }
    llama_weights_l2c(&f, q8, &m->c, &m->w, m->weights_mem);
    return opened(m, msg, cap);
}

void llama_close(LlamaOpened *m)
{
    free(m->index_mem);
    free(m->weights_mem);
    m->index_mem = m->weights_mem = 0;
}
