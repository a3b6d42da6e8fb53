"""Format version 2 (int8 matrices, docs/model-format.md) against an independent writer and against version 1.

- `efichat-cli quantize` writes, byte for byte, the file this test builds itself with numpy from the float file
  (per row: scale = max|w| / 127, value = round-half-even(w * (127 / max|w|)), float32 arithmetic), and the same
  bytes every run.
- The Q8 kernel gives the same logits, bit for bit, on the float file and on its int8 file (random models and the
  default model): the int8 values are exactly what Q8 computes at load time from the floats, so the app's default
  replies (Q8) do not change when it embeds the int8 file.
- The float kernels on an int8 file run float32(value * scale): their logits equal, bit for bit, those of a
  version 1 file holding exactly those floats (written here), SSE2 equals AVX, step equals batch for Q8, and the
  numpy reference reading the int8 file itself agrees to 1e-4.
"""
import os, struct, subprocess, sys, tempfile, zlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import CLI, ROOT, case, exit_code, logits, random_model  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))
import reference  # noqa: E402

TEXT = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        b"First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")
INT8 = set(reference.INT8_MATRICES)


def tensors(cfg):
    """(name, shape) of every tensor in file order."""
    g, lay = reference.shapes(cfg)
    out = [(n, g[n]) for n in reference.NAMES_GLOBAL_PRE]
    for _ in range(cfg["layers"]):
        out += [(n, lay[n]) for n in reference.NAMES_LAYER]
    return out + [(n, g[n]) for n in reference.NAMES_GLOBAL_POST]


def read_v1(path):
    data = open(path, "rb").read()
    _, _, _, _, vocab, ctx, dim, layers, heads, hidden = struct.unpack_from("<10I", data, 0)
    cfg = dict(vocab=vocab, ctx=ctx, dim=dim, layers=layers, heads=heads, hidden=hidden)
    flat, off, out = np.frombuffer(data, "<f4", offset=128), 0, []
    for name, shape in tensors(cfg):
        n = int(np.prod(shape))
        out.append((name, flat[off:off + n].reshape(shape)))
        off += n
    return data[:128], out


def write(header, version, dtype, payload, path):
    h = bytearray(header)
    struct.pack_into("<I", h, 4, version)
    struct.pack_into("<I", h, 12, dtype)
    struct.pack_into("<QI", h, 40, len(payload), zlib.crc32(payload))
    open(path, "wb").write(bytes(h) + payload)


def quantise_rows(w):
    """Independent per-row int8 quantisation in float32 (numpy's rint is round-half-even, like cvtss2si)."""
    m = np.abs(w).max(1)
    inv = np.where(m > 0, np.float32(127) / np.where(m > 0, m, 1), 0).astype(np.float32)
    q = np.rint((w * inv[:, None]).astype(np.float32)).astype(np.int8)
    return q, (m / np.float32(127)).astype(np.float32)


def numpy_int8_file(v1_path, out_path, dequant_path):
    """The int8 file built here from the float file, and a version 1 file of its dequantised floats."""
    header, ts = read_v1(v1_path)
    p2, p1 = bytearray(), bytearray()
    for name, w in ts:
        if name in INT8:
            q, s = quantise_rows(w)
            p2 += s.astype("<f4").tobytes() + q.tobytes() + bytes(-q.size % 4)
            p1 += (q.astype(np.float32) * s[:, None]).astype("<f4").tobytes()
        else:
            p2 += w.astype("<f4").tobytes()
            p1 += w.astype("<f4").tobytes()
    write(header, 2, 1, bytes(p2), out_path)
    write(header, 1, 0, bytes(p1), dequant_path)


def cli(*args):
    return subprocess.run([CLI, *args], capture_output=True)


with tempfile.TemporaryDirectory() as d:
    text = os.path.join(d, "t.txt")
    open(text, "wb").write(TEXT)
    models = []
    for name, dim, layers, heads, ctx, hidden in [("c64", 64, 2, 4, 64, 256), ("c15odd", 15, 2, 3, 48, 45),
                                                  ("c100", 100, 2, 5, 48, 300)]:
        path = os.path.join(d, name + ".bin")
        random_model(path, dim, layers, heads, ctx, hidden, seed=11)
        models.append((name, path))
    default = os.path.join(ROOT, "models", "shakespeare.bin")
    if os.path.exists(default):
        models.append(("default", default))

    for name, v1 in models:
        v2, mine, deq = (os.path.join(d, name + s) for s in ("-int8.bin", "-numpy-int8.bin", "-dequant.bin"))
        r = cli("quantize", "--in", v1, "--out", v2)
        case(r.returncode == 0, f"quantize_runs_{name}", r.stderr.decode())
        again = os.path.join(d, name + "-again.bin")
        cli("quantize", "--in", v1, "--out", again)
        got = open(v2, "rb").read()
        case(got == open(again, "rb").read(), f"quantize_deterministic_{name}", "two runs wrote different bytes")
        numpy_int8_file(v1, mine, deq)
        want = open(mine, "rb").read()
        diff = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), None)
        case(got == want, f"quantize_matches_numpy_writer_{name}",
             f"lengths {len(got)} vs {len(want)}, first differing byte {diff}")
        print(f"   {name}: {os.path.getsize(v1)} -> {len(got)} bytes")

        # Q8: the same bits on both files (the default model: on a shorter text, it is the slow one)
        t = text
        q1 = logits(v1, t, os.path.join(d, "q1"), "batch", "q8")
        q2 = logits(v2, t, os.path.join(d, "q2"), "batch", "q8")
        case(np.array_equal(q1, q2), f"q8_v1_and_v2_bit_identical_{name}", f"{int((q1 != q2).sum())} logits differ")
        q2s = logits(v2, t, os.path.join(d, "q2s"), "step", "q8-sse2")
        case(np.array_equal(q2, q2s), f"q8_v2_step_sse2_equals_batch_best_{name}", "step/sse2 and batch/best differ")

        # float kernels on the int8 file: exactly the dequantised floats, SSE2 == AVX
        f2 = logits(v2, t, os.path.join(d, "f2"), "batch", "sse2")
        fd = logits(deq, t, os.path.join(d, "fd"), "batch", "sse2")
        case(np.array_equal(f2, fd), f"float_on_v2_equals_v1_of_dequantised_{name}",
             f"{int((f2 != fd).sum())} logits differ")
        if subprocess.run([CLI, "bench", "--model", v1, "--seconds", "0.01", "--kernel", "avx"],
                          capture_output=True).returncode == 0:
            fa = logits(v2, t, os.path.join(d, "fa"), "batch", "avx")
            case(np.array_equal(f2, fa), f"v2_sse2_and_avx_bit_identical_{name}", f"{int((f2 != fa).sum())} differ")
        if name != "default":  # the float64 reference reads the int8 file on its own
            cfg, ts = reference.load(v2)
            ref = reference.logits_with_overflow(cfg, ts, list(TEXT))
            diff = np.abs(f2 - ref).max() if len(TEXT) <= cfg["ctx"] else \
                np.abs(logits(v2, t, os.path.join(d, "f2s"), "step", "sse2") - ref).max()
            case(diff <= 1e-4, f"v2_parity_with_reference_{name}", f"max abs diff {diff:.3g}")

    # quantize reads float files only, and names the problem in one line
    r = cli("quantize", "--in", os.path.join(d, "c64-int8.bin"), "--out", os.path.join(d, "x.bin"))
    err = r.stderr.decode().strip()
    case(r.returncode == 2 and "already int8" in err and len(err.splitlines()) == 1, "quantize_refuses_int8_input",
         err)
sys.exit(exit_code())
