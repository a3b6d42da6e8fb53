#!/usr/bin/env python3
"""reference.py - the efichat model in numpy (float64), reading the model file on its own (docs/model-format.md).
Version 1 (float32) and version 2 (int8 matrices: each weight is float32(int8 * float32 scale), one rounding) files.

It is the yardstick for the C core: same file, same architecture, computed in double precision without a KV cache.
  reference.py info MODEL
  reference.py logits MODEL TEXTFILE OUT.npy      logits at every position, with the core's sliding-window policy
  reference.py eval MODEL DATA [train|val]         nats/byte of a split, windows as `efichat-cli eval` (README.md)
Library use: load(path) -> (cfg, tensors); forward(cfg, tensors, tokens) -> (n, 256) logits of a window;
logits_with_overflow(cfg, tensors, tokens) -> logits the core must produce when fed tokens one at a time.
"""
import struct, sys, zlib
import numpy as np

MAGIC, VERSION, VERSION_INT8, HEADER = 0x4D434645, 1, 2, 128
INT8_MATRICES = ("qkv_w", "proj_w", "fc_w", "fcproj_w")  # stored as int8 rows with one float32 scale each in v2
NAMES_GLOBAL_PRE = ["wte", "wpe"]
NAMES_LAYER = ["ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b", "ln2_w", "ln2_b",
               "fc_w", "fc_b", "fcproj_w", "fcproj_b"]
NAMES_GLOBAL_POST = ["lnf_w", "lnf_b"]


def shapes(cfg):
    V, T, C, H = cfg["vocab"], cfg["ctx"], cfg["dim"], cfg["hidden"]
    layer = {"ln1_w": (C,), "ln1_b": (C,), "qkv_w": (3 * C, C), "qkv_b": (3 * C,), "proj_w": (C, C),
             "proj_b": (C,), "ln2_w": (C,), "ln2_b": (C,), "fc_w": (H, C), "fc_b": (H,), "fcproj_w": (C, H),
             "fcproj_b": (C,)}
    return {"wte": (V, C), "wpe": (T, C), "lnf_w": (C,), "lnf_b": (C,)}, layer


def load(path):
    data = open(path, "rb").read()
    if len(data) < HEADER:
        raise ValueError("shorter than the header")
    magic, version, hbytes, dtype, vocab, ctx, dim, layers, heads, hidden = struct.unpack_from("<10I", data, 0)
    payload_bytes, crc = struct.unpack_from("<QI", data, 40)
    if magic != MAGIC or hbytes != HEADER or (version, dtype) not in ((VERSION, 0), (VERSION_INT8, 1)):
        raise ValueError("not an efichat v1 float32 or v2 int8 model")
    name = data[64:128].split(b"\0")[0].decode("utf-8", "replace")
    cfg = dict(vocab=vocab, ctx=ctx, dim=dim, layers=layers, heads=heads, hidden=hidden, name=name, version=version)
    payload = data[HEADER:]
    if len(payload) != payload_bytes or zlib.crc32(payload) != crc:
        raise ValueError("payload length or checksum mismatch")
    g, lay = shapes(cfg)
    off = 0  # bytes into the payload
    t = {"layers": []}

    def take(shape, nm=""):
        nonlocal off
        n = int(np.prod(shape))
        if version == VERSION_INT8 and nm in INT8_MATRICES:
            rows = shape[0]
            scale = np.frombuffer(payload, "<f4", rows, off)
            q = np.frombuffer(payload, np.int8, n, off + 4 * rows).reshape(shape)
            pad = payload[off + 4 * rows + n:off + 4 * rows + n + (-n) % 4]
            if np.signbit(scale).any() or (q == -128).any() or any(pad):
                raise ValueError(f"{nm}: negative scale, -128 or non-zero padding")
            off += 4 * rows + n + len(pad)
            return (q.astype(np.float32) * scale[:, None]).astype(np.float64)  # float32 product, one rounding
        a = np.frombuffer(payload, "<f4", n, off).astype(np.float64).reshape(shape)
        off += 4 * n
        return a

    for nm in NAMES_GLOBAL_PRE:
        t[nm] = take(g[nm])
    for _ in range(layers):
        t["layers"].append({nm: take(lay[nm], nm) for nm in NAMES_LAYER})
    for nm in NAMES_GLOBAL_POST:
        t[nm] = take(g[nm])
    assert off == len(payload)
    return cfg, t


def layernorm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(u):
    return 0.5 * u * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (u + 0.044715 * u ** 3)))


def forward(cfg, t, tokens):
    """Logits (n, 256) for a window of n <= ctx tokens at positions 0..n-1."""
    n, C, NH = len(tokens), cfg["dim"], cfg["heads"]
    hs = C // NH
    assert n <= cfg["ctx"]
    x = t["wte"][tokens] + t["wpe"][:n]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for L in t["layers"]:
        a = layernorm(x, L["ln1_w"], L["ln1_b"])
        qkv = a @ L["qkv_w"].T + L["qkv_b"]
        q, k, v = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]
        out = np.empty((n, C))
        for h in range(NH):
            sl = slice(h * hs, (h + 1) * hs)
            s = q[:, sl] @ k[:, sl].T / np.sqrt(hs) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, sl] = s @ v[:, sl]
        x = x + out @ L["proj_w"].T + L["proj_b"]
        m = layernorm(x, L["ln2_w"], L["ln2_b"])
        x = x + gelu(m @ L["fc_w"].T + L["fc_b"]) @ L["fcproj_w"].T + L["fcproj_b"]
    return layernorm(x, t["lnf_w"], t["lnf_b"]) @ t["wte"].T


def logits_with_overflow(cfg, t, tokens):
    """What the core yields feeding tokens one by one: when T tokens are cached and one more comes, only the newest
    T//2 are kept (re-encoded from position 0). Row i = logits after token i, recomputed over its window."""
    T = cfg["ctx"]
    start, rows = 0, []
    for i in range(len(tokens)):
        if i - start == T:          # cache full before token i: keep the newest T//2
            start = i - T // 2
        window = tokens[start:i + 1]
        rows.append(forward(cfg, t, window)[-1])
    return np.array(rows)


def split_loss(cfg, t, data, split):
    """Mean nats/byte the way `efichat-cli eval` defines it: train = the first floor(0.9 N) bytes, val the rest;
    windows of T inputs start every T - T//2 bytes and each scores only the targets the one before did not."""
    cut = len(data) * 9 // 10
    D = data[:cut] if split == "train" else data[cut:]
    T = cfg["ctx"]
    step, total, scored, first, s = T - T // 2, 0.0, 0, 1, 0
    while first < len(D):
        n = min(len(D) - 1 - s, T)                  # inputs s .. s+n-1 predict s+1 .. s+n
        lg = forward(cfg, t, list(D[s:s + n]))
        for j in range(first, s + n + 1):
            row = lg[j - 1 - s]
            mx = row.max()
            total += np.log(np.exp(row - mx).sum()) + mx - row[D[j]]
            scored += 1
        first, s = s + n + 1, s + step
    return total / scored, scored


def main(argv):
    if len(argv) >= 2 and argv[0] == "info":
        cfg, _ = load(argv[1])
        print(cfg)
        return 0
    if len(argv) == 4 and argv[0] == "logits":
        cfg, t = load(argv[1])
        toks = list(open(argv[2], "rb").read())
        np.save(argv[3], logits_with_overflow(cfg, t, toks))
        return 0
    if len(argv) in (3, 4) and argv[0] == "eval" and (len(argv) == 3 or argv[3] in ("train", "val")):
        cfg, t = load(argv[1])
        loss, n = split_loss(cfg, t, open(argv[2], "rb").read(), argv[3] if len(argv) == 4 else "val")
        print(f"loss {loss:.6f} nats/byte over {n} bytes (numpy float64)")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
