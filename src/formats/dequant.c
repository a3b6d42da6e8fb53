/* dequant.c - ggml block formats decoded to float (dequant.h). The layouts, from ggml's ggml-common.h:
 *   Q8_0  34 bytes / 32:  f16 d, int8 q[32];                  x = q*d
 *   Q4_0  18 bytes / 32:  f16 d, u8 qs[16];                    x[j] = (lo4(qs[j]) - 8)*d, x[j+16] = (hi4(qs[j]) - 8)*d
 *   Q4_K 144 bytes / 256: f16 d, f16 dmin, u8 scales[12], u8 qs[128]; eight 32-element groups, each with a 6-bit
 *                         scale sc and min m; x = (d*sc)*q - (dmin*m), q the group's 4-bit value
 *   Q6_K 210 bytes / 256: u8 ql[128], u8 qh[64], int8 scales[16], f16 d; sixteen 16-element groups;
 *                         x = (d*scale)*(q - 32), q = 4 low bits from ql and 2 high bits from qh
 * Only the byte order of multi-byte fields matters (little-endian); the code reads bytes, so any alignment works. */
#include "dequant.h"

static const DqType types[] = {
    [GGML_F32] = {"F32", 1, 4, 1},      [GGML_F16] = {"F16", 1, 2, 1},      [GGML_Q4_0] = {"Q4_0", 32, 18, 1},
    [GGML_Q4_1] = {"Q4_1", 32, 20, 0},  [GGML_Q5_0] = {"Q5_0", 32, 22, 0},  [GGML_Q5_1] = {"Q5_1", 32, 24, 0},
    [GGML_Q8_0] = {"Q8_0", 32, 34, 1},  [GGML_Q8_1] = {"Q8_1", 32, 36, 0},  [GGML_Q2_K] = {"Q2_K", 256, 84, 0},
    [GGML_Q3_K] = {"Q3_K", 256, 110, 0}, [GGML_Q4_K] = {"Q4_K", 256, 144, 1}, [GGML_Q5_K] = {"Q5_K", 256, 176, 0},
    [GGML_Q6_K] = {"Q6_K", 256, 210, 1}, [GGML_Q8_K] = {"Q8_K", 256, 292, 0}, [GGML_I8] = {"I8", 1, 1, 0},
    [GGML_I16] = {"I16", 1, 2, 0},      [GGML_I32] = {"I32", 1, 4, 0},      [GGML_I64] = {"I64", 1, 8, 0},
    [GGML_F64] = {"F64", 1, 8, 0},      [GGML_BF16] = {"BF16", 1, 2, 0},
};

const DqType *dq_type(uint32_t type)
{
    if (type >= sizeof types / sizeof types[0] || !types[type].name)
        return NULL;
    return &types[type];
}

uint64_t dq_row_bytes(uint32_t type, uint64_t n)
{
    const DqType *t = dq_type(type);
    if (!t || n % t->block || n / t->block > UINT64_MAX / t->bytes)
        return 0;
    return n / t->block * t->bytes;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

float dq_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 0x3FF, bits;
    if (exp == 31) {
        bits = sign | 0x7F800000u | man << 13; /* inf, or NaN with its payload */
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | man << 13;
    } else if (man) { /* subnormal: shift the mantissa up until its leading 1 is the implicit bit */
        uint32_t e = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            e--;
        }
        bits = sign | e << 23 | (man & 0x3FF) << 13;
    } else {
        bits = sign;
    }
    union { uint32_t u; float f; } v = {bits};
    return v.f;
}

static void row_f32(const uint8_t *s, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++, s += 4) {
        union { uint32_t u; float f; } v = {(uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                                            (uint32_t)s[3] << 24};
        y[i] = v.f;
    }
}

static void row_f16(const uint8_t *s, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        y[i] = dq_half_to_float(rd16(s + 2 * i));
}

static void row_q8_0(const uint8_t *b, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 32, b += 34) {
        float d = dq_half_to_float(rd16(b));
        for (int j = 0; j < 32; j++)
            y[i + j] = (float)(int8_t)b[2 + j] * d;
    }
}

static void row_q4_0(const uint8_t *b, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 32, b += 18) {
        float d = dq_half_to_float(rd16(b));
        for (int j = 0; j < 16; j++) {
            y[i + j] = (float)((b[2 + j] & 15) - 8) * d;
            y[i + j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}

/* Q4_K packs eight 6-bit scales and eight 6-bit mins in 12 bytes: groups 0-3 in the low 6 bits of bytes 0-3
 * (scales) and 4-7 (mins); groups 4-7 take 4 low bits from bytes 8-11 (scale: low nibble, min: high nibble) and
 * their 2 high bits from the top of bytes 0-3 (scales) and 4-7 (mins). */
static void q4k_scale_min(const uint8_t *s, int g, uint8_t *sc, uint8_t *m)
{
    if (g < 4) {
        *sc = s[g] & 63;
        *m = s[g + 4] & 63;
    } else {
        *sc = (uint8_t)((s[g + 4] & 15) | (s[g - 4] >> 6) << 4);
        *m = (uint8_t)((s[g + 4] >> 4) | (s[g] >> 6) << 4);
    }
}

static void row_q4_k(const uint8_t *b, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 256, b += 144) {
        float d = dq_half_to_float(rd16(b)), dmin = dq_half_to_float(rd16(b + 2));
        const uint8_t *scales = b + 4, *q = b + 16;
        /* 64 elements per step: group 2k from the low nibbles of 32 bytes, group 2k+1 from their high nibbles */
        for (int k = 0; k < 4; k++, q += 32) {
            uint8_t sc, m;
            q4k_scale_min(scales, 2 * k, &sc, &m);
            float d1 = d * (float)sc, m1 = dmin * (float)m;
            q4k_scale_min(scales, 2 * k + 1, &sc, &m);
            float d2 = d * (float)sc, m2 = dmin * (float)m;
            float *o = y + i + 64 * k;
            for (int l = 0; l < 32; l++) {
                o[l] = d1 * (float)(q[l] & 15) - m1;
                o[l + 32] = d2 * (float)(q[l] >> 4) - m2;
            }
        }
    }
}

static void row_q6_k(const uint8_t *b, float *y, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 256, b += 210) {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        float d = dq_half_to_float(rd16(b + 208));
        /* two halves of 128: each takes 64 ql bytes (two nibbles each), 32 qh bytes (four 2-bit fields each) and
         * 8 scales, one per 16 outputs */
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8) {
            float *o = y + i + 128 * h;
            for (int l = 0; l < 32; l++) {
                int g = l / 16;
                int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                o[l] = d * (float)sc[g] * (float)q1;
                o[l + 32] = d * (float)sc[g + 2] * (float)q2;
                o[l + 64] = d * (float)sc[g + 4] * (float)q3;
                o[l + 96] = d * (float)sc[g + 6] * (float)q4;
            }
        }
    }
}

int dq_row(uint32_t type, const void *src, float *dst, uint64_t n)
{
    const uint8_t *s = src;
    switch (type) {
    case GGML_F32: row_f32(s, dst, n); return 1;
    case GGML_F16: row_f16(s, dst, n); return 1;
    case GGML_Q8_0: row_q8_0(s, dst, n); return 1;
    case GGML_Q4_0: row_q4_0(s, dst, n); return 1;
    case GGML_Q4_K: row_q4_k(s, dst, n); return 1;
    case GGML_Q6_K: row_q6_k(s, dst, n); return 1;
    default: return 0;
    }
}
