"""llama2.c files (src/formats/llama2c.c through formats-tool, under ASan/UBSan): model files of the three kinds
and tokenizer.bin, written here from llama2.c's export.py / tokenizer.py layouts.

- legacy (shared and separate classifier), version 1 and version 2 (int8 groups) read with the right config, and
  every tensor kind's view (layers 0 and last) holds exactly the bytes written for it
- tokenizer.bin with the vocabulary given and counted, an empty token and UTF-8 bytes
- 30 malformed files, each refused with its own error line and no sanitizer report
"""
import os, struct, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formatscheck import case, exit_code, expect_error, tool  # noqa: E402

MAGIC = 0x616b3432
rng = np.random.default_rng(7)
PER_LAYER = ["rms_att_weight", "wq", "wk", "wv", "wo", "rms_ffn_weight", "w1", "w2", "w3"]
LEGACY_ORDER = ["token_embedding_table", "rms_att_weight", "wq", "wk", "wv", "wo", "rms_ffn_weight", "w1", "w2", "w3",
                "rms_final_weight", "freq_cis_real", "freq_cis_imag", "wcls"]
V1_ORDER = ["rms_att_weight", "rms_ffn_weight", "rms_final_weight", "token_embedding_table", "wq", "wk", "wv", "wo",
            "w1", "w2", "w3", "wcls"]
NORMS = ["rms_att_weight", "rms_ffn_weight", "rms_final_weight"]


def weights(C=16, H=32, L=2, NH=4, NKV=2, V=32, T=8):
    HD, L_ = C // NH, L
    KV = NKV * HD
    shapes = {"token_embedding_table": (V, C), "rms_att_weight": (L_, C), "wq": (L_, C, C), "wk": (L_, KV, C),
              "wv": (L_, KV, C), "wo": (L_, C, C), "rms_ffn_weight": (L_, C), "w1": (L_, H, C), "w2": (L_, C, H),
              "w3": (L_, H, C), "rms_final_weight": (C,), "freq_cis_real": (T, HD // 2), "freq_cis_imag": (T, HD // 2),
              "wcls": (V, C)}
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def q80(w, gs):
    """export.py's quantize_q80: symmetric int8 per group of gs, scale = max|w| / 127."""
    g = w.reshape(-1, gs)
    scale = (np.abs(g).max(1) / 127).astype(np.float32)
    q = np.round(g / scale[:, None]).astype(np.int8)
    return q.tobytes() + scale.astype("<f4").tobytes()


def model_file(version, w, dims, shared=True, gs=8):
    """(file bytes, {tensor: [bytes of each layer's copy]}) in the export's layout."""
    C, H, L, NH, NKV, V, T = dims
    parts = {}
    for k, a in w.items():
        copies = list(a) if k in PER_LAYER else [a]
        quant = version == 2 and k not in NORMS
        parts[k] = [q80(c, gs) if quant else c.astype("<f4").tobytes() for c in copies]
    if version == 0:
        out = struct.pack("<7i", C, H, L, NH, NKV, V if shared else -V, T)
        order = LEGACY_ORDER
    else:
        out = struct.pack("<Ii7iB", MAGIC, version, C, H, L, NH, NKV, V, T, int(shared))
        if version == 2:
            out += struct.pack("<i", gs)
        out += bytes(256 - len(out))
        order = V1_ORDER
    for k in order:
        if k == "wcls" and shared:
            continue
        out += b"".join(parts[k])
    return out, parts


DIMS = (16, 32, 2, 4, 2, 32, 8)


def check_models(d):
    w = weights()
    for version, shared in [(0, True), (0, False), (1, True), (1, False), (2, True), (2, False)]:
        name = f"v{version}_{'shared' if shared else 'separate'}"
        data, parts = model_file(version, w, DIMS, shared)
        path = os.path.join(d, name + ".bin")
        open(path, "wb").write(data)
        rc, out = tool("llama2c", path)
        want = (f"llama2c version {version} dim 16 hidden 32 layers 2 heads 4 kv_heads 2 vocab 32 seq_len 8 head_dim 4 "
                f"group_size {8 if version == 2 else 0} shared_classifier {int(shared)}")
        case(rc == 0 and out.splitlines()[0] == want, f"llama2c_{name}_config", out[-300:])
        kinds = [k for k in (LEGACY_ORDER if version == 0 else V1_ORDER) if not (k == "wcls" and shared)]
        bad = []
        for k in kinds:
            for layer in ([0, 1] if k in PER_LAYER else [0]):
                dump = os.path.join(d, "dump")
                rc, out = tool("l2c-dump", path, k, layer, dump)
                if rc != 0 or open(dump, "rb").read() != parts[k][layer]:
                    bad.append(f"{k}[{layer}]")
        rc, out = tool("l2c-dump", path, "wcls", 0, os.path.join(d, "dump"))
        absent_ok = (rc == 1) == shared
        case(not bad and absent_ok, f"llama2c_{name}_every_tensor_view_holds_its_bytes", f"wrong: {bad}, wcls rc {rc}")


def tokenizer_file(tokens, scores=None, max_len=None):
    max_len = max(len(t) for t in tokens) if max_len is None else max_len
    out = struct.pack("<I", max_len)
    for i, t in enumerate(tokens):
        out += struct.pack("<fI", scores[i] if scores else -float(i), len(t)) + t
    return out


TOKENS = [b"<unk>", b"\n<s>\n", b"\n</s>\n", b"", " h\u00e9".encode(), b"\xf0\x9f\x98\x80", b"a"]


def check_tokenizer(d):
    path = os.path.join(d, "tokenizer.bin")
    open(path, "wb").write(tokenizer_file(TOKENS))
    for vocab in (0, len(TOKENS)):
        rc, out = tool("tokenizer", path, vocab)
        lines = out.splitlines()
        ok = rc == 0 and lines[0] == f"tokenizer tokens {len(TOKENS)} max_token_length 6"
        ok = ok and lines[1:] == [f"token {i} {-float(i):g} {len(t)} {t.hex()}" for i, t in enumerate(TOKENS)]
        case(ok, f"tokenizer_reads_every_token_vocab_{vocab}", out[-300:])


def patch(data, fmt, at, *values):
    b = bytearray(data)
    struct.pack_into(fmt, b, at, *values)
    return bytes(b)


def malformed_models():
    w = weights()
    legacy, _ = model_file(0, w, DIMS)
    v1, _ = model_file(1, w, DIMS)
    v2, parts2 = model_file(2, w, DIMS)
    separate, _ = model_file(0, w, DIMS, shared=False)
    wq_at = 28 + 4 * (32 * 16 + 2 * 16)  # legacy: after the embedding and both layers' rms_att
    wk_v2 = 256 + 4 * (2 * 16 * 2 + 16) + len(parts2["token_embedding_table"][0]) + 2 * len(parts2["wq"][0])
    wk_scales_l1 = wk_v2 + len(parts2["wk"][0]) + 8 * 16  # layer 1's scales follow its 8x16 int8 values
    return [
        ("legacy_header_cut", legacy[:20], "llama2.c file shorter than its header: the header needs 28 bytes, the "
         "file has 20"),
        ("v1_header_cut", v1[:100], "the header needs 256 bytes, the file has 100"),
        ("magic_only", v1[:6], "the header needs 256 bytes, the file has 6"),
        ("version_3", patch(v1, "<i", 4, 3), "unsupported llama2.c export version: this build reads versions 1 and "
         "2 (and the legacy format), the file says 3"),
        ("dim_0", patch(legacy, "<i", 0, 0), "bad llama2.c dimensions: dim is 0, outside 1..65536"),
        ("layers_negative", patch(v1, "<i", 16, -2), "n_layers is -2, outside 1..1024"),
        ("vocab_int_min", patch(legacy, "<i", 20, -2 ** 31), "vocab_size is -2147483648, outside 1..16777216"),
        ("v1_vocab_negative", patch(v1, "<i", 28, -32), "vocab_size is -32, outside"),
        ("hidden_huge", patch(legacy, "<i", 4, 2 ** 30), "hidden_dim is 1073741824, outside 1..1048576"),
        ("heads_not_dividing_dim", patch(legacy, "<i", 12, 3), "bad llama2.c head counts: dim 16, n_heads 3"),
        ("kv_heads_not_dividing_heads", patch(legacy, "<i", 16, 3), "n_heads 4, n_kv_heads 3"),
        ("odd_head_width", patch(patch(legacy, "<i", 0, 12), "<i", 12, 4), "dim 12, n_heads 4"),
        ("shared_flag_2", patch(v1, "<B", 36, 2), "bad llama2.c header: the shared-classifier byte is 2"),
        ("header_padding", patch(v1, "<B", 200, 1), "the header's padding is not zero at byte 200"),
        ("v2_padding_after_group", patch(v2, "<B", 41, 7), "not zero at byte 41"),
        ("group_size_0", patch(v2, "<i", 37, 0), "bad llama2.c group size: 0 must be positive and divide dim and "
         "hidden_dim"),
        ("group_size_negative", patch(v2, "<i", 37, -8), "-8 must be positive"),
        ("group_not_dividing_hidden", patch(patch(v2, "<i", 37, 16), "<i", 12, 40), "16 must be positive and divide"),
        ("payload_cut", legacy[:-1], "llama2.c file cut short: the header's tensors need bytes: "),
        ("trailing_byte", v1 + b"\0", "llama2.c file has trailing bytes"),
        ("separate_classifier_positive_vocab", patch(separate, "<i", 20, 32), "(a separate classifier without a "
         "negative vocab_size?)"),
        ("nan_weight", patch(legacy, "<f", wq_at + 4 * (16 * 16 + 5), float("nan")),
         "NaN or Inf in a llama2.c tensor: wq index 5 layer 1"),
        ("inf_scale", patch(v2, "<f", wk_scales_l1, float("inf")), "NaN or Inf in a llama2.c tensor: wk scale 0 layer 1"),
        ("negative_scale", patch(v2, "<f", wk_scales_l1 + 4, -1.0), "bad llama2.c int8 data: wk negative scale 1 layer 1"),
        ("int8_minus_128", patch(v2, "<b", wk_v2 + 3, -128), "bad llama2.c int8 data: wk holds -128 at index 3 layer 0"),
    ]


def malformed_tokenizers():
    good = tokenizer_file(TOKENS)
    second = 4 + 8 + len(TOKENS[0])  # where token 1's score starts
    return [
        ("tok_empty", b"", 0, "the tokenizer header needs 4 bytes, the file has 0"),
        ("tok_max_len_0", patch(good, "<i", 0, 0), 0, "bad llama2.c tokenizer: max_token_length 0 is outside 1..4096"),
        ("tok_longer_than_max", tokenizer_file(TOKENS, max_len=5), 0, "token 2 has length 6, outside "
         "0..max_token_length 5"),
        ("tok_negative_length", patch(good, "<i", second + 4, -1), 0, "token 1 has length -1"),
        ("tok_bytes_cut", good[:-1], 0, "llama2.c file cut short: the bytes of token 6"),
        ("tok_missing_entry", good, 8, "token 7 of 8 has no score and length"),
        ("tok_trailing", good + b"\0\0", 7, "llama2.c file has trailing bytes: bytes after token 7: 2"),
        ("tok_nan_score", patch(good, "<f", second, float("nan")), 0, "NaN or Inf in a llama2.c tensor: the score of "
         "token 1"),
        ("tok_vocab_too_big", good, 2 ** 25, "vocab_size above 16777216"),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        check_models(d)
        check_tokenizer(d)
        for name, data, expected in malformed_models():
            path = os.path.join(d, name + ".bin")
            open(path, "wb").write(data)
            expect_error(f"llama2c_refuses_{name}", path, "llama2c", expected)
        for name, data, vocab, expected in malformed_tokenizers():
            path = os.path.join(d, name + ".bin")
            open(path, "wb").write(data)
            rc, out = tool("tokenizer", path, vocab)
            line = next((l for l in out.splitlines() if l.startswith("error: ")), "")
            case(rc == 1 and expected in line, f"tokenizer_refuses_{name}", f"status {rc}, wanted '{expected}', got "
                 f"{out[-300:]!r}")
    sys.exit(exit_code())
