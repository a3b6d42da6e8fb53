/* modelq8.c - a model's matrices in the forms its kernels run on: the Q8 kernel's int8 copy (model_quantize, from a
 * version 1 file's floats or straight from a version 2 file's int8 rows) and the float kernels' copy of a version 2
 * file's matrices (model_dequantize). Declared in model.h; the forward pass that runs them is model.c. */
#include "model.h"
#include "q8.h"
#include "gelu.h"

#define ALIGN64(n) (((n) + 63u) & ~(size_t)63u)

// ----------------------------------------------------------------------------
// the Q8 copy of the matrices

/* (rows, cols) of quantised matrix i of layer l, or of the head when l == L: sizing needs no weights. */
static void q8_shape(const ModelConfig *c, uint32_t l, int i, uint32_t *rows, uint32_t *cols)
{
    if (l == c->layers) {
        *rows = MF_VOCAB;
        *cols = c->dim;
        return;
    }
    *rows = i == Q8_QKV ? 3 * c->dim : i == Q8_FC ? c->hidden : c->dim;
    *cols = i == Q8_FCPROJ ? c->hidden : c->dim;
}

static const int q8_tensor[Q8_PER_LAYER] = {MF_QKV_W, MF_PROJ_W, MF_FC_W, MF_FCPROJ_W};

/* Quantised matrix i of layer l, or the head (the tied wte, always float) when l == L: from the file's int8 rows
 * when it has them (version 2: no float copy, and the same values q8_quantize_row gave when the file was written),
 * else quantised from the floats. */
static size_t q8_build(const Model *m, QMatrix *q, uint32_t l, int i, void *mem)
{
    uint32_t rows, cols;
    q8_shape(&m->cfg, l, i, &rows, &cols);
    if (l == m->cfg.layers)
        return q8_matrix_build(q, m->wt.w[MF_WTE], rows, cols, mem);
    int t = q8_tensor[i];
    if (m->wt.q[t]) {
        size_t words = m->wt.layer_stride * l; /* layer l's copy of the tensor, in 4-byte words of the file */
        const int8_t *v = (const int8_t *)(const void *)((const uint32_t *)(const void *)m->wt.q[t] + words);
        return q8_matrix_from_int8(q, v, m->wt.qscale[t] + words, rows, cols, mem);
    }
    return q8_matrix_build(q, m->wt.w[t] + (size_t)l * m->wt.w_stride[t], rows, cols, mem);
}

static size_t q8_count(const ModelConfig *c) { return (size_t)c->layers * Q8_PER_LAYER + 1; }

size_t model_q8_bytes(const ModelConfig *c)
{
    size_t n = ALIGN64(q8_count(c) * sizeof(QMatrix)) + 64;
    for (uint32_t l = 0; l <= c->layers; l++)
        for (int i = 0; i < (l == c->layers ? 1 : Q8_PER_LAYER); i++) {
            uint32_t rows, cols;
            q8_shape(c, l, i, &rows, &cols);
            n += q8_matrix_bytes(rows, cols);
        }
    return n;
}

int model_quantize(Model *m, void *mem)
{
    if (m->cfg.dim > Q8_MAX_COLS || m->cfg.hidden > Q8_MAX_COLS)
        return 0;
    uint8_t *base = (uint8_t *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    QMatrix *mats = (QMatrix *)(void *)base;
    uint8_t *p = base + ALIGN64(q8_count(&m->cfg) * sizeof(QMatrix));
    for (uint32_t l = 0; l <= m->cfg.layers; l++)
        for (int i = 0; i < (l == m->cfg.layers ? 1 : Q8_PER_LAYER); i++)
            p += q8_build(m, &mats[(size_t)l * Q8_PER_LAYER + (size_t)i], l, i, p);
    m->q8 = mats;
    gelu_q8_fill();
    return 1;
}

// ----------------------------------------------------------------------------
// float copies of a version 2 file's int8 matrices (for the float kernels)

size_t model_dequant_bytes(const ModelConfig *c)
{
    if (c->version != MF_VERSION_INT8)
        return 0;
    size_t n = 64;
    for (int i = 0; i < Q8_PER_LAYER; i++)
        n += ALIGN64((size_t)c->layers * mf_tensor_numel(c, q8_tensor[i]) * sizeof(float));
    return n;
}

/* w = (float)q * scale, one rounding: the float kernels on a version 2 file run exactly these weights. */
void model_dequantize(Model *m, void *mem)
{
    const ModelConfig *c = &m->cfg;
    if (c->version != MF_VERSION_INT8)
        return;
    float *out = (float *)(void *)(((uintptr_t)mem + 63u) & ~(uintptr_t)63u);
    for (int i = 0; i < Q8_PER_LAYER; i++) {
        int t = q8_tensor[i];
        uint32_t rows, cols;
        mf_tensor_shape(c, t, &rows, &cols);
        size_t n = (size_t)rows * cols;
        m->wt.w[t] = out;
        m->wt.w_stride[t] = n;
        for (uint32_t l = 0; l < c->layers; l++) {
            size_t words = m->wt.layer_stride * l;
            const int8_t *v = (const int8_t *)(const void *)((const uint32_t *)(const void *)m->wt.q[t] + words);
            const float *sc = m->wt.qscale[t] + words;
            for (uint32_t r = 0; r < rows; r++)
                for (uint32_t k = 0; k < cols; k++)
                    out[(size_t)l * n + (size_t)r * cols + k] = (float)v[(size_t)r * cols + k] * sc[r];
        }
        out += ALIGN64(c->layers * n * sizeof(float)) / sizeof(float);
    }
}
