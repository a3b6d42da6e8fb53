#!/usr/bin/env python3
"""bench_torch_train.py - PyTorch's training tokens/s for the same GPT, batch and optimizer as build/train
(float32, AdamW, clipping), the reference side of tools/bench_train.sh. Set OPENBLAS_NUM_THREADS before it starts.
Usage: bench_torch_train.py --data FILE [--threads N --steps N --layers L --heads H --dim C --ctx T --batch B]
Prints 'torch: X tokens/s (...)'."""
import argparse, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_parity import DECAYED, forward, shapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    for k, v in (("layers", 4), ("heads", 4), ("dim", 256), ("ctx", 256), ("batch", 16)):
        ap.add_argument(f"--{k}", type=int, default=v)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    data = np.frombuffer(open(a.data, "rb").read(), dtype=np.uint8)
    ntrain = len(data) * 9 // 10
    shp = shapes(a.layers, a.dim, a.ctx, 4 * a.dim)
    p = {}
    for name, s in shp:
        base = name.split(".")[0]
        if base.endswith("_b"):
            p[name] = torch.zeros(s)
        elif base.startswith("ln"):
            p[name] = torch.ones(s)
        else:
            p[name] = torch.randn(s) * 0.02
        p[name].requires_grad_(True)
    params = [p[n] for n, _ in shp]
    opt = torch.optim.AdamW([{"params": [p[n] for n, _ in shp if n.split(".")[0] in DECAYED], "weight_decay": 0.1},
                             {"params": [p[n] for n, _ in shp if n.split(".")[0] not in DECAYED],
                              "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.default_rng(0)
    B, T = a.batch, a.ctx
    timed, tokens = 0.0, 0
    for step in range(a.steps):
        offs = rng.integers(0, ntrain - T, B)
        x = torch.tensor(np.stack([data[o:o + T] for o in offs]).astype(np.int64))
        y = torch.tensor(np.stack([data[o + 1:o + T + 1] for o in offs]).astype(np.int64))
        t0 = time.perf_counter()
        logits = forward(p, x, a.layers, a.heads)
        loss = F.cross_entropy(logits.view(-1, 256), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        if step >= 2:
            timed += dt
            tokens += B * T
    print(f"torch: {tokens / timed:.1f} tokens/s (torch threads {a.threads}, OPENBLAS_NUM_THREADS "
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, {a.steps - 2} timed steps, loss {loss.item():.4f})")


if __name__ == "__main__":
    main()
