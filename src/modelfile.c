/* modelfile.c - sizes, offsets, CRC-32 and header encoding of the efichat model file (docs/model-format.md).
 * Freestanding; decoding and validation live in model_load(), which must check dims before calling in here. */
#include "modelfile.h"

static const char *const tensor_names[MF_TENSOR_COUNT] = {
    "wte", "wpe", "ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
    "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b", "lnf_w", "lnf_b",
};

const char *mf_tensor_name(int tensor)
{
    return (tensor >= 0 && tensor < MF_TENSOR_COUNT) ? tensor_names[tensor] : "?";
}

int mf_is_per_layer(int tensor)
{
    return tensor >= MF_FIRST_LAYER_TENSOR && tensor <= MF_LAST_LAYER_TENSOR;
}

uint64_t mf_tensor_numel(const ModelConfig *c, int tensor)
{
    uint64_t C = c->dim, H = c->hidden;
    switch (tensor) {
    case MF_WTE: return (uint64_t)c->vocab * C;
    case MF_WPE: return (uint64_t)c->ctx * C;
    case MF_QKV_W: return 3 * C * C;
    case MF_QKV_B: return 3 * C;
    case MF_PROJ_W: return C * C;
    case MF_FC_W: return H * C;
    case MF_FC_B: return H;
    case MF_FCPROJ_W: return C * H;
    default: return C; /* every norm weight/bias and the C-long biases */
    }
}

void mf_tensor_shape(const ModelConfig *c, int tensor, uint32_t *rows, uint32_t *cols)
{
    uint32_t C = c->dim, H = c->hidden;
    switch (tensor) {
    case MF_WTE: *rows = c->vocab, *cols = C; return;
    case MF_WPE: *rows = c->ctx, *cols = C; return;
    case MF_QKV_W: *rows = 3 * C, *cols = C; return;
    case MF_PROJ_W: *rows = C, *cols = C; return;
    case MF_FC_W: *rows = H, *cols = C; return;
    case MF_FCPROJ_W: *rows = C, *cols = H; return;
    default: *rows = 1, *cols = (uint32_t)mf_tensor_numel(c, tensor); return;
    }
}

int mf_is_int8(const ModelConfig *c, int tensor)
{
    return c->version == MF_VERSION_INT8 &&
           (tensor == MF_QKV_W || tensor == MF_PROJ_W || tensor == MF_FC_W || tensor == MF_FCPROJ_W);
}

uint64_t mf_tensor_words(const ModelConfig *c, int tensor)
{
    if (!mf_is_int8(c, tensor))
        return mf_tensor_numel(c, tensor);
    uint32_t rows, cols;
    mf_tensor_shape(c, tensor, &rows, &cols);
    return rows + ((uint64_t)rows * cols + 3) / 4;
}

static uint64_t layer_words(const ModelConfig *c)
{
    uint64_t n = 0;
    for (int t = MF_FIRST_LAYER_TENSOR; t <= MF_LAST_LAYER_TENSOR; t++)
        n += mf_tensor_words(c, t);
    return n;
}

uint64_t mf_tensor_offset(const ModelConfig *c, int tensor, uint32_t layer)
{
    uint64_t off = mf_tensor_words(c, MF_WTE);
    if (tensor == MF_WTE)
        return 0;
    if (tensor == MF_WPE)
        return off;
    off += mf_tensor_words(c, MF_WPE);
    if (mf_is_per_layer(tensor)) {
        off += (uint64_t)layer * layer_words(c);
        for (int t = MF_FIRST_LAYER_TENSOR; t < tensor; t++)
            off += mf_tensor_words(c, t);
        return off;
    }
    off += (uint64_t)c->layers * layer_words(c);
    if (tensor == MF_LNF_B)
        off += mf_tensor_words(c, MF_LNF_W);
    return off;
}

uint64_t mf_param_count(const ModelConfig *c)
{
    uint64_t layer = 0;
    for (int t = MF_FIRST_LAYER_TENSOR; t <= MF_LAST_LAYER_TENSOR; t++)
        layer += mf_tensor_numel(c, t);
    return mf_tensor_numel(c, MF_WTE) + mf_tensor_numel(c, MF_WPE) + (uint64_t)c->layers * layer +
           mf_tensor_numel(c, MF_LNF_W) + mf_tensor_numel(c, MF_LNF_B);
}

uint64_t mf_payload_bytes(const ModelConfig *c)
{
    return 4 * (mf_tensor_offset(c, MF_LNF_B, 0) + mf_tensor_words(c, MF_LNF_B));
}

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32): a nibble table keeps it small and needs no init. */
uint32_t mf_crc32(uint32_t crc, const void *data, size_t len)
{
    static const uint32_t nibble[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
        0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
    };
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return ~crc;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void mf_header_encode(const ModelConfig *c, uint8_t out[MF_HEADER_BYTES])
{
    for (unsigned i = 0; i < MF_HEADER_BYTES; i++)
        out[i] = 0;
    put_u32(out + 0, MF_MAGIC);
    put_u32(out + 4, c->version == MF_VERSION_INT8 ? MF_VERSION_INT8 : MF_VERSION);
    put_u32(out + 8, MF_HEADER_BYTES);
    put_u32(out + 12, c->dtype);
    put_u32(out + 16, c->vocab);
    put_u32(out + 20, c->ctx);
    put_u32(out + 24, c->dim);
    put_u32(out + 28, c->layers);
    put_u32(out + 32, c->heads);
    put_u32(out + 36, c->hidden);
    put_u32(out + 40, (uint32_t)c->payload_bytes);
    put_u32(out + 44, (uint32_t)(c->payload_bytes >> 32));
    put_u32(out + 48, c->payload_crc32);
    /* 52..63 reserved, zero */
    for (unsigned i = 0; i + 1 < MF_NAME_BYTES && c->name[i]; i++)
        out[64 + i] = (uint8_t)c->name[i];
}
