"""gguf_write.py - writes GGUF files (versions 2 and 3, little-endian) for efichat's tests, from ggml's
docs/gguf.md, with numpy quantisers for F32, F16, Q8_0, Q4_0, Q4_K and Q6_K. Written for testing the C reader:
every part of the layout can be overridden (offsets, counts, types, alignment), so a malformed file is one
argument away. The quantisers only need to produce valid blocks; they are simpler than ggml's (no search for the
best scales), and tests/formats/ggml_oracle.py decodes what they write.

    kv = [("general.architecture", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b"]))]
    tensors = [Tensor("token_embd.weight", Q8_0, [64, 2], quantize(Q8_0, x))]
    open(path, "wb").write(gguf_bytes(kv, tensors))
"""
import struct
import numpy as np

MAGIC = b"GGUF"
# metadata value types (gguf_type)
U8, I8, U16, I16, U32, I32, F32V, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32V: "<f", BOOL: "<?", U64: "<Q",
              I64: "<q", F64: "<d"}
# tensor types (ggml_type) and their (elements per block, bytes per block)
F32, F16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K = 0, 1, 2, 8, 12, 13, 14
BLOCK = {F32: (1, 4), F16: (1, 2), Q4_0: (32, 18), Q8_0: (32, 34), Q4_K: (256, 144), Q5_K: (256, 176),
         Q6_K: (256, 210)}
TYPE_NAME = {F32: "F32", F16: "F16", Q4_0: "Q4_0", Q8_0: "Q8_0", Q4_K: "Q4_K", Q5_K: "Q5_K", Q6_K: "Q6_K"}


class Tensor:
    """name, ggml type, ne (ggml order: row length first), the encoded bytes; offset None = next aligned spot.
    n_dims and info_offset, when given, are written into the tensor info instead of the true values."""

    def __init__(self, name, ggml_type, ne, data, offset=None, n_dims=None, info_offset=None):
        self.name, self.type, self.ne, self.data, self.offset = name, ggml_type, list(ne), bytes(data), offset
        self.n_dims = len(self.ne) if n_dims is None else n_dims
        self.info_offset = info_offset


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def encode_value(vtype, value):
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        elem_type, items = value
        out = struct.pack("<IQ", elem_type, len(items))
        return out + b"".join(encode_value(elem_type, v) for v in items)
    return struct.pack(SCALAR_FMT[vtype], value)


def gguf_bytes(kv, tensors, version=3, alignment=32, n_kv=None, n_tensors=None, pad_data=True):
    """The file: header, kv (key, type, value), tensor infos, padding, data. Offsets left None are assigned in
    order at multiples of `alignment` (which must match general.alignment when kv sets it)."""
    out = bytearray(MAGIC + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                        len(kv) if n_kv is None else n_kv))
    for key, vtype, value in kv:
        out += gguf_string(key) + struct.pack("<I", vtype) + encode_value(vtype, value)
    pos = 0
    for t in tensors:
        if t.offset is None:
            t.offset = pos
        pos = max(pos, -(-(t.offset + len(t.data)) // alignment) * alignment)
        out += gguf_string(t.name) + struct.pack("<I", t.n_dims)
        out += b"".join(struct.pack("<Q", n) for n in t.ne[:t.n_dims]) + struct.pack("<IQ", t.type, t.offset if t.info_offset is None
                                                                                  else t.info_offset)
    if pad_data:
        out += bytes(-len(out) % alignment)
    data = bytearray(pos)
    for t in tensors:
        end = t.offset + len(t.data)
        if end > len(data):
            data += bytes(end - len(data))
        data[t.offset:end] = t.data
    return bytes(out + data)


# ---- quantisers: float32 array (rows, n) -> block bytes, rows concatenated

def _f16(x):
    return np.asarray(x, dtype=np.float32).astype("<f2")


def quantize(ggml_type, x):
    x = np.asarray(x, dtype=np.float32)
    x = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)
    block = BLOCK[ggml_type][0]
    assert x.shape[1] % block == 0, "rows must be whole blocks"
    if ggml_type == F32:
        return x.astype("<f4").tobytes()
    if ggml_type == F16:
        return x.astype("<f2").tobytes()
    blocks = x.reshape(-1, block)
    if ggml_type == Q8_0:
        return _q8_0_blocks(blocks)
    return b"".join({Q4_0: _q4_0, Q4_K: _q4_k, Q6_K: _q6_k}[ggml_type](b) for b in blocks)


def _q8_0(b):
    d = _f16(np.abs(b).max() / 127)
    df = np.float32(d)
    q = np.clip(np.round(b / df), -127, 127).astype(np.int8) if df else np.zeros(32, np.int8)
    return d.tobytes() + q.tobytes()


def _q8_0_blocks(blocks):
    """_q8_0 on every block at once, the same bytes (the scale divided in float64 as the scalar code does), ~60x
    faster: tools/make_model_fixtures.py quantises a 150 MB model with it."""
    n = blocks.shape[0]
    d = (np.abs(blocks).max(1).astype(np.float64) / 127).astype("<f2")
    df = d.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(df != 0, np.clip(np.round(blocks / df), -127, 127), 0).astype(np.int8)
    out = np.empty((n, 34), np.uint8)
    out[:, :2] = d.view(np.uint8).reshape(n, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def _q4_0(b):
    m = b[np.argmax(np.abs(b))]  # the value of largest magnitude, with its sign
    d = _f16(m / -8)
    df = np.float32(d)
    q = np.clip(np.floor(b / df + 8.5), 0, 15).astype(np.uint8) if df else np.full(32, 8, np.uint8)
    return d.tobytes() + (q[:16] | q[16:] << 4).astype(np.uint8).tobytes()


def _q4_k(b):
    g = b.reshape(8, 32)
    lo = np.minimum(g.min(1), 0)
    scale = (g.max(1) - lo) / 15
    mins = -lo
    d, dmin = _f16(scale.max() / 63), _f16(mins.max() / 63)
    sc = np.clip(np.round(scale / np.float32(d)), 0, 63).astype(np.uint8) if np.float32(d) else np.zeros(8, np.uint8)
    m = np.clip(np.round(mins / np.float32(dmin)), 0, 63).astype(np.uint8) if np.float32(dmin) else np.zeros(8, np.uint8)
    step = np.float32(d) * sc.astype(np.float32)
    off = np.float32(dmin) * m.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(step[:, None] > 0, np.round((g + off[:, None]) / step[:, None]), 0)
    q = np.clip(q, 0, 15).astype(np.uint8)
    scales = np.zeros(12, np.uint8)
    scales[0:4] = sc[0:4] | (sc[4:8] >> 4) << 6
    scales[4:8] = m[0:4] | (m[4:8] >> 4) << 6
    scales[8:12] = (sc[4:8] & 15) | (m[4:8] & 15) << 4
    qs = (q[0::2] | q[1::2] << 4).reshape(-1)  # 32 bytes per pair of groups: low nibble group 2k, high 2k+1
    return d.tobytes() + dmin.tobytes() + scales.tobytes() + qs.astype(np.uint8).tobytes()


def _q6_k(b):
    g = b.reshape(16, 16)
    big = g[np.arange(16), np.argmax(np.abs(g), 1)]
    scale = big / -32  # the largest magnitude maps to -32, like the 4-bit formats' sign trick
    d = _f16(np.abs(scale).max() / 127)
    df = np.float32(d)
    sc = np.clip(np.round(scale / df), -128, 127).astype(np.int8) if df else np.zeros(16, np.int8)
    step = df * sc.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(step[:, None] != 0, np.round(g / step[:, None]), 0)
    q = (np.clip(q, -32, 31) + 32).astype(np.uint8).reshape(2, 4, 32)  # (half, quarter, l)
    ql = np.concatenate([(q[:, 0] & 15) | (q[:, 2] & 15) << 4, (q[:, 1] & 15) | (q[:, 3] & 15) << 4], 1)
    qh = (q[:, 0] >> 4) | (q[:, 1] >> 4) << 2 | (q[:, 2] >> 4) << 4 | (q[:, 3] >> 4) << 6
    return ql.astype(np.uint8).tobytes() + qh.astype(np.uint8).tobytes() + sc.tobytes() + d.tobytes()
