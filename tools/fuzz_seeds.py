#!/usr/bin/env python3
"""fuzz_seeds.py - writes the committed seed corpora of tests/fuzz/corpus/ (a handful of small files per target).
Run from the repository root after `make cli`: python3 tools/fuzz_seeds.py. The output is deterministic, so
running it again changes nothing unless this script or the formats changed. Seeds stay a few KB: the fuzzer
mutates small files fast, and every byte of a seed is replayed by `make test`."""
import os, shutil, struct, subprocess, sys, zlib

OUT = "tests/fuzz/corpus"
CLI = os.path.join(os.environ.get("BUILD", "build"), "efichat-cli")


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def random_model(path, dim, layers, heads, ctx, hidden, seed):
    subprocess.run([CLI, "random-model", "--out", path, "--dim", str(dim), "--layers", str(layers), "--heads",
                    str(heads), "--ctx", str(ctx), "--hidden", str(hidden), "--seed", str(seed),
                    "--name", "fuzz-seed"], check=True)
    with open(path, "rb") as f:
        return f.read()


def with_payload(model, payload):
    """The model with a new payload, its CRC made right (offset 48)."""
    header = bytearray(model[:128])
    struct.pack_into("<I", header, 48, zlib.crc32(payload))
    return bytes(header) + payload


def model_seeds(tmp):
    small = random_model(os.path.join(tmp, "a.bin"), 2, 1, 1, 4, 2, 1)
    write("model", "dim2-1layer.bin", small)
    # two heads, two layers, a context of 3 that the harness overflows (the slide)
    write("model", "dim2-2heads-2layers.bin", random_model(os.path.join(tmp, "b.bin"), 2, 2, 2, 3, 3, 2))
    # an MLP 16 wide: rows long enough for the AVX kernel's 8-lane loop, so the harness compares it with SSE2
    write("model", "dim4-hidden16.bin", random_model(os.path.join(tmp, "c.bin"), 4, 1, 2, 3, 16, 3))
    # the int8 forms (format version 2) of both: fc_w and fcproj_w of the first end off a 4-byte boundary (padding)
    for name, src in (("dim2-2heads-2layers", "b.bin"), ("dim4-hidden16", "c.bin")):
        out = os.path.join(tmp, name + "-int8.bin")
        subprocess.run([CLI, "quantize", "--in", os.path.join(tmp, src), "--out", out], check=True)
        with open(out, "rb") as f:
            write("model", name + "-int8.bin", f.read())
    # finite but huge weights: they overflow to non-finite logits, which must be reported, never used
    payload = bytearray(small[128:])
    for i in range(0, len(payload) // 4, 7):
        struct.pack_into("<f", payload, 4 * i, 3e38)
    write("model", "huge-weights.bin", with_payload(small, bytes(payload)))
    write("model", "header-only.bin", small[:128])
    write("model", "truncated.bin", small[:-100])


def config_seeds():
    write("config", "all-keys.cfg", b"# every key once\ntemp=0.80\ntop_k=40\ntop_p=0.95\nseed=12345\nfont_px=22\n"
          b"user_name=ROMEO\nmode=play\nmax_reply=300\nscreen=1024x768\ninput=auto\nblt=0\navx=1\nkeylog=0\nq8=1\n")
    write("config", "bom-crlf.cfg", b"\xef\xbb\xbftemp = 1.5\r\n; a comment\r\nmode=raw\r\ninput=serial\r\nscreen=800x600")
    write("config", "bad-values.cfg", b"temp=2.01\ntop_k=257\ntop_p=0.01\nfont_px=9\nmax_reply=0\nuser_name=A:B\n"
          b"screen=1024\nnope=1\njust a line\n=\nseed=-1\ntemp=0.999\nuser_name=" + b"x" * 40 + b"\n")
    write("config", "empty.cfg", b"")


def vt100_seeds():
    no_pause, pause_all = b"\0" * 8, b"\xff" * 8
    write("vt100", "arrows-fkeys.bin", no_pause + b"\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1b[5~\x1b[6~\x1b[2~\x1b[3~"
          b"\x1bOP\x1bOQ\x1b[15~\x1b[24~\x1b[1;5P\x1b[1;2A\x1b[3;5~")
    write("vt100", "text-utf8.bin", no_pause + "hé ✓ 😀\r\nline\nx\x7f\x08\x01\x0c\r".encode())
    write("vt100", "bad-utf8.bin", no_pause + b"\xe0\x80\x8d\xe0\x80\x9b\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf\xf0\x90\x80A\xff")
    write("vt100", "lone-esc.bin", pause_all + b"\x1b\x1b[\x1b[1;\x1bO\xe2\x9c")


def key(scan=0, cp=0, mods=0):
    return bytes([scan, (mods & 7) | ((cp >> 16) << 3), cp & 0xFF, (cp >> 8) & 0xFF])


def keys_seeds():
    typed = b"".join(key(cp=ord(c)) for c in "To be, or not") + key(cp=0xE9) + key(cp=0x1F600) + key(cp=0xD800)
    edit = key(0x04) + key(0x04) + key(cp=8) + key(0x08) + key(0x05) + key(cp=ord("X")) + key(0x06)
    write("keys", "type-edit-enter.bin", typed + edit + key(cp=13))
    history = b"".join(key(cp=ord(c)) for c in "one") + key(cp=13) + key(cp=ord("t")) + key(cp=13) + \
        key(0x01) + key(0x01) + key(0x01) + key(0x02) + key(cp=ord("!")) + key(cp=13, mods=1)
    write("keys", "history.bin", history)
    hotkeys = b"".join(key(s) for s in range(0x0B, 0x18)) + key(cp=ord("l"), mods=4) + key(cp=ord("=") , mods=4) + \
        key(cp=9) + key(cp=0x0C) + key(0x50, cp=65)
    write("keys", "hotkeys.bin", hotkeys)
    write("keys", "long-line.bin", key(cp=0x4E2D) * 410 + key(cp=13))


def transcript_seeds():
    def op(code, arg=None, data=b""):
        return bytes([code]) + (bytes([arg]) if arg is not None else b"") + data
    text = b"To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer"
    script = op(0, 0) + op(1, len(text), text) + op(0, 1) + op(1, 40, b"  wrapped words and averyveryverylongword!")
    write("transcript", "turns-wrap.bin", b"\x00\x00\x28" + script + op(2, 7) + op(3, 10) + op(3, 0x85) + op(7, 3))
    # a small block (4 KiB) and many turns: the oldest are dropped again and again
    many = b"".join(op(5, k % 4, b"turn %d: " % k + "héllo wörld ".encode() * 3 + b"\0") for k in range(40))
    write("transcript", "drop-oldest.bin", b"\x00\x00\x10" + many + op(3, 5) + op(4) + op(6) + op(5, 1, b"after\0"))
    write("transcript", "narrow-utf8.bin", b"\x10\x00\x01" + op(0, 1) + op(1, 9, "a\u00e9\u2713\xed".encode()[:9])
          + op(2, 0) + op(2, 3) + op(1, 4, b"\xf0\x9f\x98\x80"))


def checkpoint_seed(version=2, step=10, rng=0x9E3779B97F4A7C15, best=float("inf")):
    # the harness's run: 1 layer, heads 1, dim 1, ctx 2, hidden 1, batch 1, T 2 -> 276 parameters
    nparams = 256 + 2 + 16 + 2
    params = struct.pack("<%df" % nparams, *[((i * 37) % 19 - 9) * 0.01 for i in range(nparams)])
    m = struct.pack("<%df" % nparams, *[((i * 11) % 7 - 3) * 1e-4 for i in range(nparams)])
    v = struct.pack("<%df" % nparams, *[((i * 13) % 5) * 1e-6 for i in range(nparams)])
    h = bytearray(256)
    struct.pack_into("<10I", h, 0, 0x4B434645, version, 256, 1, 1, 1, 2, 1, 1, 2)
    struct.pack_into("<4Q", h, 40, step, rng, 1, nparams)
    struct.pack_into("<If", h, 76, 100, best)
    crc = zlib.crc32(params + m + v, zlib.crc32(bytes(h)))
    struct.pack_into("<I", h, 72, crc)
    return bytes(h) + params + m + v


def checkpoint_seeds():
    write("checkpoint", "valid.ckpt", checkpoint_seed())
    write("checkpoint", "rng-zero.ckpt", checkpoint_seed(rng=0))
    write("checkpoint", "best-negative.ckpt", checkpoint_seed(best=-1.0))
    write("checkpoint", "version1.ckpt", checkpoint_seed(version=1)[:256])


def gguf_seeds():
    """Small GGUF files: a llama and a qwen2 model (Q4_0 matrices), every metadata type with K-quant, Q8_0 and
    F16 tensors, and a version 2 file without tensors."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import gguf_write as g
    rng = np.random.default_rng(1)

    def model(arch, qtype, bias):
        C, H, NH, NKV, V = 32, 32, 2, 1, 4
        kv = [("general.architecture", g.STRING, arch), (arch + ".embedding_length", g.U32, C),
              (arch + ".block_count", g.U32, 1), (arch + ".feed_forward_length", g.U32, H),
              (arch + ".context_length", g.U32, 16), (arch + ".attention.head_count", g.U32, NH),
              (arch + ".attention.head_count_kv", g.U32, NKV),
              (arch + ".attention.layer_norm_rms_epsilon", g.F32V, 1e-5),
              ("tokenizer.ggml.tokens", g.ARRAY, (g.STRING, ["a", "b", "c", "d"]))]
        HD = C // NH
        shapes = [("token_embd.weight", [C, V]), ("output_norm.weight", [C]), ("blk.0.attn_norm.weight", [C]),
                  ("blk.0.attn_q.weight", [C, C]), ("blk.0.attn_k.weight", [C, NKV * HD]),
                  ("blk.0.attn_v.weight", [C, NKV * HD]), ("blk.0.attn_output.weight", [C, C]),
                  ("blk.0.ffn_norm.weight", [C]), ("blk.0.ffn_gate.weight", [C, H]), ("blk.0.ffn_up.weight", [C, H]),
                  ("blk.0.ffn_down.weight", [H, C])]
        if bias:
            shapes += [("blk.0.attn_q.bias", [C]), ("blk.0.attn_k.bias", [NKV * HD]), ("blk.0.attn_v.bias", [NKV * HD])]
        tensors = []
        for name, ne in shapes:
            t = qtype if len(ne) == 2 else g.F32
            x = rng.standard_normal((int(np.prod(ne[1:])), ne[0])).astype(np.float32)
            tensors.append(g.Tensor(name, t, ne, g.quantize(t, x)))
        return g.gguf_bytes(kv, tensors)

    write("gguf", "llama-q4_0.gguf", model("llama", g.Q4_0, False))
    write("gguf", "qwen2-q4_0.gguf", model("qwen2", g.Q4_0, True))
    x = rng.standard_normal((1, 256)).astype(np.float32)
    kv = [("general.alignment", g.U32, 64), ("a.i8", g.I8, -1), ("a.u16", g.U16, 7), ("a.i16", g.I16, -7),
          ("a.i32", g.I32, -1), ("a.bool", g.BOOL, True), ("a.u64", g.U64, 1), ("a.i64", g.I64, -1),
          ("a.f64", g.F64, 0.5), ("a.u8s", g.ARRAY, (g.U8, [1, 2])), ("a.strs", g.ARRAY, (g.STRING, ["x", ""]))]
    tensors = [g.Tensor(n, t, [256], g.quantize(t, x)) for n, t in [("k4", g.Q4_K), ("k6", g.Q6_K), ("q8", g.Q8_0),
                                                                           ("f16", g.F16)]]
    write("gguf", "metadata-kquants.gguf", g.gguf_bytes(kv, tensors, alignment=64))
    write("gguf", "v2-no-tensors.gguf", g.gguf_bytes([("general.name", g.STRING, "x")], [], version=2))


def llama2c_seeds():
    """Tiny llama2.c files of each kind (dim 4, one layer) and a tokenizer.bin."""
    import numpy as np
    rng = np.random.default_rng(2)
    C, H, L, NH, NKV, V, T = 4, 8, 1, 2, 1, 4, 2
    sizes = [V * C, L * C, L * C * C, L * 2 * C, L * 2 * C, L * C * C, L * C, L * H * C, L * C * H, L * H * C, C,
             T, T]  # tok, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_real, freq_imag
    floats = [rng.standard_normal(n).astype("<f4") for n in sizes]
    write("llama2c", "legacy.bin", struct.pack("<7i", C, H, L, NH, NKV, V, T) + b"".join(f.tobytes() for f in floats))
    head = struct.pack("<Ii7iB", 0x616b3432, 1, C, H, L, NH, NKV, V, T, 1)
    order = [1, 6, 10, 0, 2, 3, 4, 5, 7, 8, 9]
    write("llama2c", "v1.bin", head + bytes(256 - len(head)) + b"".join(floats[i].tobytes() for i in order))
    head = struct.pack("<Ii7iBi", 0x616b3432, 2, C, H, L, NH, NKV, V, T, 1, 2)
    body = b"".join(floats[i].tobytes() for i in (1, 6, 10))
    for i in (0, 2, 3, 4, 5, 7, 8, 9):
        grp = floats[i].reshape(-1, 2)
        scale = (np.abs(grp).max(1) / 127).astype("<f4")
        body += np.round(grp / scale[:, None]).astype(np.int8).tobytes() + scale.tobytes()
    write("llama2c", "v2-int8.bin", head + bytes(256 - len(head)) + body)
    toks = [b"<unk>", b"\n<s>\n", b" a", b""]
    write("llama2c", "tokenizer.bin", struct.pack("<I", 5) + b"".join(struct.pack("<fI", -i, len(t)) + t
                                                                      for i, t in enumerate(toks)))


def main():
    if not os.access(CLI, os.X_OK):
        sys.exit(f"{CLI} is missing: run 'make cli' first")
    tmp = os.path.join(os.environ.get("BUILD", "build"), "fuzz-seeds")
    os.makedirs(tmp, exist_ok=True)
    shutil.rmtree(OUT, ignore_errors=True)
    model_seeds(tmp)
    config_seeds()
    vt100_seeds()
    keys_seeds()
    transcript_seeds()
    checkpoint_seeds()
    gguf_seeds()
    llama2c_seeds()


if __name__ == "__main__":
    main()
