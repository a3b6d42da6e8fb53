#!/usr/bin/env python3
"""llama2c_random.py --dim C --layers L --out DIR - a random llama2.c checkpoint (legacy header: dim, hidden_dim,
n_layers, n_heads, n_kv_heads, vocab_size, seq_len as int32, then the float32 tensors in run.c's order) and a
256-token tokenizer.bin (max token length, then score, length and bytes per token), for timing llama2.c's run.c
beside efichat (tools/bench_llama2c.sh). hidden_dim = 8C/3 rounded, so the three SwiGLU matrices cost what
GPT-2's two 4C ones cost: the same matrix FLOPs per token as efichat's model of that dim. Speed only."""
import argparse, os, struct
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=0, help="default 8C/3 rounded")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    C, L, V, T, hs = a.dim, a.layers, a.vocab, a.ctx, a.dim // a.heads
    H = a.hidden or (8 * C + 2) // 3
    rng = np.random.default_rng(C)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.bin"), "wb") as f:
        f.write(struct.pack("<7i", C, H, L, a.heads, a.heads, V, T))
        emb = rng.normal(0, 0.05, (V, C)).astype("<f4")
        emb[1] = 0  # token 1 (BOS) ends run.c's generation: its logit 0 never wins the greedy choice over 255 others
        f.write(emb.tobytes())
        for n in (L * C, L * C * C, L * C * C, L * C * C, L * C * C, L * C, L * H * C, L * C * H, L * H * C,
                  C, T * hs // 2, T * hs // 2):
            f.write(rng.normal(0, 0.05, n).astype("<f4").tobytes())
    with open(os.path.join(a.out, "tokenizer.bin"), "wb") as f:
        f.write(struct.pack("<i", 1))
        for i in range(V):
            f.write(struct.pack("<fi", 0.0, 1) + bytes([i % 256 if i % 256 >= 32 else 32]))


if __name__ == "__main__":
    main()
