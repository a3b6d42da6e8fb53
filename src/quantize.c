/* quantize.c - a version 1 model image to version 2: qkv_w, proj_w, fc_w and fcproj_w become int8 rows with one
 * float scale each (q8_quantize_row, the Q8 kernel's own rule, so Q8 runs the same bits on both files); every other
 * tensor is copied as it is. Deterministic: the same input bytes always give the same output bytes. */
#include "quantize.h"
#include "q8.h"
#include "ecmath.h"

ModelConfig quantize_config(const ModelConfig *c)
{
    ModelConfig q = *c;
    q.version = MF_VERSION_INT8;
    q.dtype = MF_DTYPE_Q8;
    q.payload_bytes = mf_payload_bytes(&q);
    q.payload_crc32 = 0;
    return q;
}

void quantize_image(const Model *m, uint8_t *out)
{
    ModelConfig q = quantize_config(&m->cfg);
    uint8_t *payload = out + MF_HEADER_BYTES;
    uint32_t *words = (uint32_t *)(void *)payload;
    ec_memset(payload, 0, (size_t)q.payload_bytes); /* the padding after each int8 matrix stays zero */
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        uint32_t nl = mf_is_per_layer(t) ? q.layers : 1, rows, cols;
        mf_tensor_shape(&q, t, &rows, &cols);
        for (uint32_t l = 0; l < nl; l++) {
            const float *src = m->wt.w[t] + (size_t)l * m->wt.w_stride[t];
            uint32_t *dst = words + mf_tensor_offset(&q, t, l);
            if (!mf_is_int8(&q, t)) {
                ec_memcpy(dst, src, (size_t)mf_tensor_numel(&q, t) * sizeof(float));
                continue;
            }
            float *scale = (float *)(void *)dst;        /* (rows) */
            int8_t *v = (int8_t *)(void *)(dst + rows); /* (rows, cols) */
            for (uint32_t r = 0; r < rows; r++)
                scale[r] = q8_quantize_row(v + (size_t)r * cols, src + (size_t)r * cols, cols);
        }
    }
    q.payload_crc32 = mf_crc32(0, payload, (size_t)q.payload_bytes);
    mf_header_encode(&q, out);
}
