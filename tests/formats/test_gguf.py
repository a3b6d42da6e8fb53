"""GGUF reading and dequantisation: files written by tools/gguf_write.py, read by src/formats/ (formats-tool,
under ASan/UBSan).

- every tensor type (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K), from quantised data and from random blocks (every bit
  pattern of the quants, negative Q6_K scales, subnormal and extreme f16 scales): the C dequantiser equals the
  numpy oracle (tests/formats/ggml_oracle.py) bit for bit, for all six types
- the quantisers of the writer decode back within half a quantisation step (checks writer and oracle agree)
- hand-computed blocks: a few values per format worked out by hand from the layout
- metadata of every value type, arrays of numbers and of strings, 1- to 4-dimensional tensors, GGUF v2 and v3,
  general.alignment 64, a file without tensors
- llama and qwen2 configs (hyper-parameters, head_count_kv default, tied output, qwen2 biases, tokenizer
  scores/types/special ids that agree with the vocabulary)
"""
import os, struct, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formatscheck import case, exit_code, tool  # noqa: E402
import ggml_oracle  # noqa: E402
from gguf_write import *  # noqa: E402,F401,F403

rng = np.random.default_rng(11)
TYPES = [F32, F16, Q8_0, Q4_0, Q4_K, Q6_K]


def random_blocks(t, nblocks):
    """Random bytes for whole blocks, with every f16 scale finite (NaN/Inf scales would only test NaN payloads)."""
    per, size = BLOCK[t]
    if t == F32:
        return rng.standard_normal(nblocks).astype("<f4").tobytes()
    raw = rng.integers(0, 256, (nblocks, size), dtype=np.uint8)
    halves = {F16: [0], Q8_0: [0], Q4_0: [0], Q4_K: [0, 2], Q6_K: [208]}[t]
    for at in halves:
        h = raw[:, at:at + 2].copy().view("<u2")
        h &= np.uint16(0xBFFF)  # exponent <= 0b01111 keeps it finite: |x| < 2 (subnormals included)
        raw[:, at:at + 2] = h.view(np.uint8).reshape(-1, 2)
    return raw.tobytes()


def c_dequant(d, name, data, t, ne):
    path = os.path.join(d, name + ".gguf")
    open(path, "wb").write(gguf_bytes([("general.name", STRING, name)], [Tensor(name, t, ne, data)]))
    out = os.path.join(d, name + ".f32")
    rc, text = tool("dequant", path, name, out)
    if rc != 0:
        return None, text
    return np.fromfile(out, dtype=np.float32), text


def same_bits(a, b):
    return a is not None and a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def check_dequant(d):
    for t in TYPES:
        per, size = BLOCK[t]
        n = max(per, 256) * 2
        x = (rng.standard_normal((3, n)) * rng.choice([0.01, 1.0, 50.0], (3, 1))).astype(np.float32)
        x[0, :7] = 0  # zeros and a constant run inside a block
        data = quantize(t, x)
        oracle = ggml_oracle.dequantize(t, data, x.size)
        got, text = c_dequant(d, "q_" + TYPE_NAME[t], data, t, [n, 3])
        case(same_bits(got, oracle), f"dequant_{TYPE_NAME[t]}_quantised_equals_oracle_bitwise", text[-200:])
        # half a step: Q8_0 amax/127/2, Q4_0 amax/8/2, Q4_K (range/15)/2 plus the 6-bit scale rounding, Q6_K similar
        err = np.abs(oracle.reshape(x.shape) - x).max() / np.abs(x).max()
        limit = {F32: 0, F16: 1e-3, Q8_0: 0.01, Q4_0: 0.07, Q4_K: 0.1, Q6_K: 0.03}[t]
        case(err <= limit, f"quantise_{TYPE_NAME[t]}_roundtrip_error_{err:.4f}_within_{limit}", f"error {err}")
        nel = 64 * 256
        raw = random_blocks(t, nel // per)
        oracle = ggml_oracle.dequantize(t, raw, nel)
        got, text = c_dequant(d, "r_" + TYPE_NAME[t], raw, t, [nel // 4, 4])
        case(same_bits(got, oracle), f"dequant_{TYPE_NAME[t]}_random_blocks_equal_oracle_bitwise", text[-200:])


def check_hand_blocks(d):
    """Values worked out by hand from the block layouts, independent of the oracle."""
    # Q8_0: d = 0.5 (f16 0x3800), q = -3 -> -1.5
    b = struct.pack("<H", 0x3800) + bytes([0xFD]) + bytes(31)
    got, _ = c_dequant(d, "h_q8", b, Q8_0, [32])
    case(got is not None and got[0] == -1.5 and got[1] == 0, "hand_q8_0_block", str(got[:2] if got is not None else None))
    # Q4_0: d = 2 (0x4000); byte 0 = 0x1F: x[0] = (15-8)*2 = 14, x[16] = (1-8)*2 = -14
    b = struct.pack("<H", 0x4000) + bytes([0x1F]) + bytes([0x88] * 15)
    got, _ = c_dequant(d, "h_q4", b, Q4_0, [32])
    case(got is not None and got[0] == 14 and got[16] == -14 and got[1] == 0, "hand_q4_0_block",
         str(got[[0, 1, 16]] if got is not None else None))
    # Q4_K: d = 1, dmin = 0.5; group 0: scale byte0 = 2, min byte4 = 4; group 5: scale = low nibble of byte 9 (3)
    # plus top bits of byte 1 (0b01 -> 16): 19, min = high nibble of byte 9 (1) plus top bits of byte 5 (0b10 -> 32):
    # 33. qs[0] = 0x07: x[0] = 1*2*7 - 0.5*4 = 12; group 5 is the high nibbles of qs[64..95]: qs[64] = 0xA0
    # gives x[160] = 19*10 - 0.5*33 = 173.5
    scales = bytearray(12)
    scales[0], scales[4] = 2, 4
    scales[1] = 0b01 << 6
    scales[5] = 0b10 << 6
    scales[9] = 0x13
    qs = bytearray(128)
    qs[0], qs[64] = 0x07, 0xA0
    b = struct.pack("<HH", 0x3C00, 0x3800) + bytes(scales) + bytes(qs)
    got, _ = c_dequant(d, "h_q4k", b, Q4_K, [256])
    case(got is not None and got[0] == 12 and got[160] == 173.5, "hand_q4_k_block",
         str(got[[0, 160]] if got is not None else None))
    # Q6_K: d = 0.25 (0x3400); scale[0] = -4; ql[0] = 0x0F, qh[0] = 0b11 -> q = 63 - 32 = 31: x[0] = 0.25*-4*31 = -31
    # x[64] (third quarter: high nibble of ql[0] = 0, bits 4-5 of qh[0] = 0) -> q = -32 with scale[4] = 3: -24
    ql = bytearray(128)
    ql[0] = 0x0F
    qh = bytearray(64)
    qh[0] = 0b11
    sc = bytearray(16)
    sc[0], sc[4] = 0xFC, 3
    b = bytes(ql) + bytes(qh) + bytes(sc) + struct.pack("<H", 0x3400)
    got, _ = c_dequant(d, "h_q6k", b, Q6_K, [256])
    case(got is not None and got[0] == -31 and got[64] == -24, "hand_q6_k_block",
         str(got[[0, 64]] if got is not None else None))
    # F16: subnormal 0x0001 = 2^-24, -inf, max 65504
    b = struct.pack("<HHH", 0x0001, 0xFC00, 0x7BFF) + bytes(2)
    got, _ = c_dequant(d, "h_f16", b, F16, [4])
    case(got is not None and got[0] == 2.0 ** -24 and got[1] == -np.inf and got[2] == 65504, "hand_f16_values",
         str(got))


def check_metadata(d):
    kv = [("general.architecture", STRING, "test"), ("a.u8", U8, 255), ("a.i8", I8, -128), ("a.u16", U16, 65535),
          ("a.i16", I16, -32768), ("a.u32", U32, 4000000000), ("a.i32", I32, -5), ("a.f32", F32V, 1.5),
          ("a.bool", BOOL, True), ("a.str", STRING, "h\u00e9llo"), ("a.u64", U64, 2 ** 64 - 1), ("a.i64", I64, -2),
          ("a.f64", F64, 2.5), ("a.arr_u8", ARRAY, (U8, [1, 2, 3])), ("a.arr_f64", ARRAY, (F64, [])),
          ("a.arr_str", ARRAY, (STRING, ["x", "", "yz"])), ("general.alignment", U32, 64)]
    tensors = [Tensor("t1", F32, [3], bytes(12)), Tensor("t2", F16, [2, 3], bytes(12)),
               Tensor("t3", Q8_0, [32, 1, 2], bytes(68)), Tensor("t4", F32, [1, 2, 1, 2], bytes(16))]
    for version in (2, 3):
        path = os.path.join(d, f"meta{version}.gguf")
        open(path, "wb").write(gguf_bytes(kv, tensors, version=version, alignment=64))
        rc, out = tool("gguf", path)
        lines = out.splitlines()
        ok = rc == 0 and lines[0].startswith(f"gguf version {version} alignment 64 kv 17 tensors 4")
        types = [l.split()[3] for l in lines if l.startswith("kv ")]
        ok = ok and types == [str(t) for _, t, _ in kv]
        ok = ok and "kv a.arr_str type 9 elem 8 count 3" in lines and "kv a.arr_f64 type 9 elem 12 count 0" in lines
        ok = ok and "tensor t3 Q8_0 (32, 1, 2) offset 128 bytes 68" in lines
        ok = ok and "tensor t4 F32 (1, 2, 1, 2) offset 256 bytes 16" in lines
        ok = ok and any(l.startswith("config error: unsupported model architecture") for l in lines)
        data_offset = int(lines[0].split()[-1]) if rc == 0 else -1
        ok = ok and data_offset % 64 == 0
        case(ok, f"gguf_v{version}_every_value_type_and_4_tensor_ranks", out[-600:])
    path = os.path.join(d, "empty.gguf")
    open(path, "wb").write(gguf_bytes([("general.name", STRING, "nothing")], [], pad_data=False))
    rc, out = tool("gguf", path)
    case(rc == 0 and "tensors 0" in out and "config error: unsupported model architecture: general.architecture is "
         "missing" in out, "gguf_without_tensors_or_padding", out)


def llama_file(arch="llama", C=64, H=96, L=2, NH=4, NKV=2, V=40, qtype=Q8_0, tied=False, bias=None, drop=(),
               extra_kv=(), skip_kv=(), override=None):
    """A small random model of the architecture; tensors of qtype where rows allow (norms F32)."""
    HD = C // NH
    kv = [("general.architecture", STRING, arch), (f"{arch}.embedding_length", U32, C),
          (f"{arch}.block_count", U32, L), (f"{arch}.feed_forward_length", U32, H),
          (f"{arch}.context_length", U32, 128), (f"{arch}.attention.head_count", U32, NH),
          (f"{arch}.attention.head_count_kv", U32, NKV), (f"{arch}.rope.freq_base", F32V, 500000.0),
          (f"{arch}.attention.layer_norm_rms_epsilon", F32V, 1e-6),
          ("tokenizer.ggml.tokens", ARRAY, (STRING, [f"t{i}" for i in range(V)])),
          ("tokenizer.ggml.scores", ARRAY, (F32V, [-float(i) for i in range(V)])),
          ("tokenizer.ggml.token_type", ARRAY, (I32, [1] * V)), ("tokenizer.ggml.bos_token_id", U32, 1),
          ("tokenizer.ggml.eos_token_id", U32, V - 1)]
    kv = [e for e in kv if e[0].split(".", 1)[-1] not in skip_kv and e[0] not in skip_kv] + list(extra_kv)
    shapes = {"token_embd.weight": [C, V], "output_norm.weight": [C]}
    if not tied:
        shapes["output.weight"] = [C, V]
    for l in range(L):
        p = f"blk.{l}."
        shapes.update({p + "attn_norm.weight": [C], p + "attn_q.weight": [C, NH * HD], p + "attn_k.weight": [C, NKV * HD],
                       p + "attn_v.weight": [C, NKV * HD], p + "attn_output.weight": [NH * HD, C],
                       p + "ffn_norm.weight": [C], p + "ffn_gate.weight": [C, H], p + "ffn_up.weight": [C, H],
                       p + "ffn_down.weight": [H, C]})
        if bias if bias is not None else arch == "qwen2":
            shapes.update({p + "attn_q.bias": [NH * HD], p + "attn_k.bias": [NKV * HD], p + "attn_v.bias": [NKV * HD]})
    tensors = []
    for name, ne in shapes.items():
        if name in drop:
            continue
        t = F32 if len(ne) == 1 or ne[0] % BLOCK[qtype][0] else qtype
        if override and name in override:
            t, ne = override[name]
        x = rng.standard_normal((int(np.prod(ne[1:])), ne[0])).astype(np.float32) * 0.1
        data = quantize(t, x) if t in (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K) else bytes(ne[0] // 256 * 176 * x.shape[0])
        tensors.append(Tensor(name, t, ne, data))
    return gguf_bytes(kv, tensors)


def check_configs(d):
    cases = [
        ("llama_gqa_q8_0", dict(), "config arch llama dim 64 hidden 96 layers 2 heads 4 kv_heads 2 head_dim 16 vocab 40 "
         "ctx 128 rope_base 500000 rms_eps 1e-06 qkv_bias 0 tied_output 0"),
        ("llama_q4_k_tied", dict(C=256, H=512, NH=8, NKV=8, qtype=Q4_K, tied=True),
         "config arch llama dim 256 hidden 512 layers 2 heads 8 kv_heads 8 head_dim 32 vocab 40 ctx 128 "
         "rope_base 500000 rms_eps 1e-06 qkv_bias 0 tied_output 1"),
        ("qwen2_q6_k_biases", dict(arch="qwen2", C=256, H=256, NH=2, NKV=1, qtype=Q6_K, L=1),
         "config arch qwen2 dim 256 hidden 256 layers 1 heads 2 kv_heads 1 head_dim 128 vocab 40 ctx 128 "
         "rope_base 500000 rms_eps 1e-06 qkv_bias 1 tied_output 0"),
        ("llama_defaults_kv_heads_and_rope_base", dict(NKV=4, skip_kv=("attention.head_count_kv", "rope.freq_base"),
                                                      qtype=Q4_0),
         "config arch llama dim 64 hidden 96 layers 2 heads 4 kv_heads 4 head_dim 16 vocab 40 ctx 128 "
         "rope_base 10000 rms_eps 1e-06 qkv_bias 0 tied_output 0"),
    ]
    for name, kw, want in cases:
        path = os.path.join(d, name + ".gguf")
        open(path, "wb").write(llama_file(**kw))
        rc, out = tool("gguf", path)
        case(rc == 0 and want in out.splitlines(), f"config_{name}", out[-400:])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        check_dequant(d)
        check_hand_blocks(d)
        check_metadata(d)
        check_configs(d)
    sys.exit(exit_code())
