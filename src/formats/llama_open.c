/* llama_open.c - GGUF and llama2.c images to a runnable Llama-family model (llama_open.h). */
#include "llama_open.h"
#include "../ecmath.h"
#include "gguf_llama.h"
#include "llama_weights.h"

static void say(char *msg, size_t cap, const char *a, const char *b)
{
    if (!msg || !cap)
        return;
    msg[0] = 0;
    ec_str_append(msg, cap, a);
    ec_str_append(msg, cap, b);
}

static void *take(LlamaOpened *m, size_t bytes, char *msg, size_t cap)
{
    void *p = m->al.alloc(m->al.ctx, bytes ? bytes : 1);
    if (!p && msg && cap) {
        msg[0] = 0;
        ec_str_append(msg, cap, "needs ");
        ec_str_append_u64(msg, cap, (bytes + (1u << 20) - 1) >> 20);
        ec_str_append(msg, cap, " MiB for its weights");
    }
    return p;
}

static int opened(LlamaOpened *m, char *msg, size_t cap)
{
    const char *why = llama_shape_problem(&m->c);
    if (why) {
        say(msg, cap, m->kind, ": ");
        ec_str_append(msg, cap, why);
        llama_close(m);
        return -1;
    }
    return 1;
}

int llama_open(LlamaOpened *m, const void *bytes, size_t len, int q8, const LlamaAlloc *al, char *msg, size_t cap)
{
    ec_memset(m, 0, sizeof *m);
    m->al = *al;
    const uint8_t *b = bytes;
    if (len >= 4 && b[0] == 'E' && b[1] == 'F' && b[2] == 'C' && b[3] == 'M')
        return 0;
    if (len >= 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F') {
        size_t need = gguf_mem_bytes(bytes, len);
        LlamaConfig g;
        m->is_gguf = 1;
        if (!(m->index_mem = take(m, need, msg, cap)))
            return -1;
        if (gguf_open(&m->gguf, bytes, len, m->index_mem, need, msg, cap) != GGUF_OK ||
            gguf_llama_config(&m->gguf, &g, msg, cap) != GGUF_OK) {
            llama_close(m);
            return -1;
        }
        m->kind = g.arch == GGUF_ARCH_QWEN2 ? "gguf qwen2" : "gguf llama";
        m->weights_bytes = llama_weights_bytes_gguf(&m->gguf, &g, q8);
        if (!(m->weights_mem = take(m, m->weights_bytes, msg, cap))) {
            llama_close(m);
            return -1;
        }
        llama_weights_gguf(&m->gguf, &g, q8, &m->c, &m->w, m->weights_mem);
        return opened(m, msg, cap);
    }
    if (l2c_open(&m->l2c, bytes, len, msg, cap) != L2C_OK)
        return -1;
    m->kind = "llama2.c";
    m->weights_bytes = llama_weights_bytes_l2c(&m->l2c, q8);
    if (!(m->weights_mem = take(m, m->weights_bytes, msg, cap)))
        return -1;
    llama_weights_l2c(&m->l2c, q8, &m->c, &m->w, m->weights_mem);
    return opened(m, msg, cap);
}

void llama_close(LlamaOpened *m)
{
    if (m->al.release) {
        m->al.release(m->al.ctx, m->index_mem);
        m->al.release(m->al.ctx, m->weights_mem);
    }
    m->index_mem = m->weights_mem = 0;
}
