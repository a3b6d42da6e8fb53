"""ggml_oracle.py - numpy decoders of ggml's block formats, written from the block layouts (ggml-common.h) as
the oracle for src/formats/dequant.c. Arithmetic is float32 in the order ggml's reference code uses, so equal
bits are expected: Q4_K x = (d*sc)*q - (dmin*m); Q6_K x = (d*sc)*q; Q8_0/Q4_0 x = q*d."""
import numpy as np

F32, F16, Q4_0, Q8_0, Q4_K, Q6_K = 0, 1, 2, 8, 12, 14
BLOCK = {F32: (1, 4), F16: (1, 2), Q4_0: (32, 18), Q8_0: (32, 34), Q4_K: (256, 144), Q6_K: (256, 210)}


def _half(b, at):
    return b[:, at:at + 2].copy().view("<f2").astype(np.float32)  # exact: every f16 is a float32


def dequantize(ggml_type, raw, n):
    """n float32 values from the bytes of whole blocks."""
    raw = np.frombuffer(raw, dtype=np.uint8)
    if ggml_type == F32:
        return raw.view("<f4")[:n].astype(np.float32)
    if ggml_type == F16:
        return raw.view("<f2")[:n].astype(np.float32)
    per, size = BLOCK[ggml_type]
    b = raw[:n // per * size].reshape(-1, size)
    if ggml_type == Q8_0:
        d = _half(b, 0)
        return (b[:, 2:].view(np.int8).astype(np.float32) * d).reshape(-1)
    if ggml_type == Q4_0:
        d = _half(b, 0)
        q = np.concatenate([b[:, 2:] & 15, b[:, 2:] >> 4], 1).astype(np.int32) - 8
        return (q.astype(np.float32) * d).reshape(-1)
    if ggml_type == Q4_K:
        d, dmin = _half(b, 0), _half(b, 2)
        s = b[:, 4:16].astype(np.uint32)
        sc = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 15) | (s[:, 0:4] >> 6) << 4], 1)
        m = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | (s[:, 4:8] >> 6) << 4], 1)
        qs = b[:, 16:].reshape(-1, 4, 32)
        q = np.stack([qs & 15, qs >> 4], 2).reshape(-1, 8, 32).astype(np.float32)  # group 2k, 2k+1
        step = d * sc.astype(np.float32)
        off = dmin * m.astype(np.float32)
        return (step[:, :, None] * q - off[:, :, None]).astype(np.float32).reshape(-1)
    if ggml_type == Q6_K:
        ql = b[:, 0:128].reshape(-1, 2, 64).astype(np.int32)
        qh = b[:, 128:192].reshape(-1, 2, 32).astype(np.int32)
        sc = b[:, 192:208].view(np.int8).astype(np.float32).reshape(-1, 16)
        d = _half(b, 208)
        q = np.stack([(ql[:, :, :32] & 15) | (qh & 3) << 4, (ql[:, :, 32:] & 15) | (qh >> 2 & 3) << 4,
                      (ql[:, :, :32] >> 4) | (qh >> 4 & 3) << 4, (ql[:, :, 32:] >> 4) | (qh >> 6 & 3) << 4], 2)
        q = (q - 32).astype(np.float32).reshape(-1, 16, 16)  # (block, group of 16, element)
        return ((d * sc)[:, :, None] * q).astype(np.float32).reshape(-1)
    raise ValueError(ggml_type)
