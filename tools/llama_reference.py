#!/usr/bin/env python3
"""llama_reference.py - the Llama family in numpy float64, written from the papers and the formats' docs (RMSNorm,
RoPE, SwiGLU, grouped-query attention), as the independent reference for src/llama.c. Also writes the flat test
container that tests/core/llama_logits.c reads (not a model format: the shape, then float32 tensors in order).

A model is a dict: shape keys (dim, hidden, layers, heads, kv_heads, head_dim, vocab, ctx, rope_base, eps,
rope: "adjacent" | "halves", bias: bool, tied: bool) and tensors (embed, output, out_norm, and per layer l the keys
"l.attn_norm", "l.wq", "l.wk", "l.wv", "l.wo", "l.ffn_norm", "l.w_gate", "l.w_up", "l.w_down", "l.bq", "l.bk", "l.bv"),
each matrix (out, in)."""
import struct
import numpy as np

LAYER = ("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_up", "w_down")


def random_model(rng, dim=32, hidden=80, layers=2, heads=4, kv_heads=4, head_dim=8, vocab=64, ctx=24,
                 rope="adjacent", bias=False, tied=False, rope_base=10000.0, eps=1e-5):
    m = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, head_dim=head_dim, vocab=vocab,
             ctx=ctx, rope=rope, bias=bias, tied=tied, rope_base=rope_base, eps=eps)
    f = lambda *s: rng.normal(0, 0.3, s).astype(np.float32)
    Q, KV = heads * head_dim, kv_heads * head_dim
    m["embed"] = f(vocab, dim)
    m["output"] = m["embed"] if tied else f(vocab, dim)
    m["out_norm"] = (1 + f(dim)).astype(np.float32)
    for l in range(layers):
        m[f"{l}.attn_norm"], m[f"{l}.ffn_norm"] = (1 + f(dim)).astype(np.float32), (1 + f(dim)).astype(np.float32)
        m[f"{l}.wq"], m[f"{l}.wk"], m[f"{l}.wv"], m[f"{l}.wo"] = f(Q, dim), f(KV, dim), f(KV, dim), f(dim, Q)
        m[f"{l}.w_gate"], m[f"{l}.w_up"], m[f"{l}.w_down"] = f(hidden, dim), f(hidden, dim), f(dim, hidden)
        if bias:
            m[f"{l}.bq"], m[f"{l}.bk"], m[f"{l}.bv"] = f(Q), f(KV), f(KV)
    return m


def write_container(m, path):
    hdr = b"LLT1" + struct.pack("<11i", m["dim"], m["hidden"], m["layers"], m["heads"], m["kv_heads"], m["head_dim"],
                                m["vocab"], m["ctx"], 1 if m["rope"] == "halves" else 0, int(m["bias"]),
                                int(m["tied"]))
    hdr += struct.pack("<2f", m["rope_base"], m["eps"])
    parts = [m["embed"]] + ([] if m["tied"] else [m["output"]]) + [m["out_norm"]]
    for l in range(m["layers"]):
        parts += [m[f"{l}.{n}"] for n in LAYER]
        if m["bias"]:
            parts += [m[f"{l}.bq"], m[f"{l}.bk"], m[f"{l}.bv"]]
    with open(path, "wb") as fh:
        fh.write(hdr + b"".join(np.ascontiguousarray(p, "<f4").tobytes() for p in parts))


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * w


def rotate(v, pos, m):
    """RoPE on one head vector v (HD): pair i turns by pos * base^(-2i/HD)."""
    hd = len(v)
    theta = pos * m["rope_base"] ** (-np.arange(0, hd, 2) / hd)
    c, s = np.cos(theta), np.sin(theta)
    if m["rope"] == "adjacent":
        a, b = v[0::2].copy(), v[1::2].copy()
        out = np.empty_like(v)
        out[0::2], out[1::2] = a * c - b * s, a * s + b * c
    else:
        a, b = v[: hd // 2], v[hd // 2:]
        out = np.concatenate([a * c - b * s, a * s + b * c])
    return out


def logits(m, tokens):
    """Logits (n, V) for each token fed in turn; past ctx the newest ctx//2 tokens are encoded again from 0."""
    g = lambda k: m[k].astype(np.float64)
    L, T, HD, NH, NKV = m["layers"], m["ctx"], m["head_dim"], m["heads"], m["kv_heads"]
    cache, hist, out = [], [], []

    def step(tok):
        pos = len(cache)
        x = g("embed")[tok].copy()
        kv = []
        for l in range(L):
            p = f"{l}."
            xn = rmsnorm(x, g(p + "attn_norm"), m["eps"])
            q, k, v = g(p + "wq") @ xn, g(p + "wk") @ xn, g(p + "wv") @ xn
            if m["bias"]:
                q, k, v = q + g(p + "bq"), k + g(p + "bk"), v + g(p + "bv")
            q = np.concatenate([rotate(q[h * HD:(h + 1) * HD], pos, m) for h in range(NH)])
            k = np.concatenate([rotate(k[h * HD:(h + 1) * HD], pos, m) for h in range(NKV)])
            kv.append((k, v))
            keys = np.array([c[l][0] for c in cache] + [k])
            vals = np.array([c[l][1] for c in cache] + [v])
            att = []
            for h in range(NH):
                j = h // (NH // NKV)
                sc = keys[:, j * HD:(j + 1) * HD] @ q[h * HD:(h + 1) * HD] / np.sqrt(HD)
                a = np.exp(sc - sc.max())
                att.append((a / a.sum()) @ vals[:, j * HD:(j + 1) * HD])
            x = x + g(p + "wo") @ np.concatenate(att)
            xn = rmsnorm(x, g(p + "ffn_norm"), m["eps"])
            gt, up = g(p + "w_gate") @ xn, g(p + "w_up") @ xn
            x = x + g(p + "w_down") @ (gt / (1 + np.exp(-gt)) * up)
        cache.append(kv)
        hist.append(tok)
        return g("output") @ rmsnorm(x, g("out_norm"), m["eps"])

    for t in tokens:
        if len(cache) == T:
            keep = hist[T - T // 2:]
            cache.clear()
            hist.clear()
            for kt in keep:
                step(kt)
        out.append(step(t))
    return np.array(out)
