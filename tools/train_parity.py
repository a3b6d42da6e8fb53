#!/usr/bin/env python3
"""train_parity.py - checks build/train against PyTorch (float64) on a tiny config.

Runs the trainer with --dump, rebuilds the same GPT in torch from the dumped initial parameters, feeds it the dumped
batches and compares: the logits, the loss and the gradient of EVERY parameter tensor at step 1, then the loss of
every AdamW step and the final parameters. With --dropout P the trainer also dumps every step's masks and torch
applies the same ones (inverted dropout, as nanoGPT places it), and the masks themselves are checked: the dropped
fraction within 5 binomial standard deviations of P, and no two sites or steps sharing a mask.
Prints one 'PASS: name' / 'FAIL: name: why' line per check and exits non-zero iff one failed.
Usage: train_parity.py [--train build/train] [--data FILE] [--steps 10] [--threads 2] [--dropout 0]
"""
import argparse, math, os, struct, subprocess, sys, tempfile

import numpy as np
import torch
import torch.nn.functional as F

PER_LAYER = ["ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b", "ln2_w", "ln2_b",
             "fc_w", "fc_b", "fcproj_w", "fcproj_b"]
DECAYED = {"qkv_w", "proj_w", "fc_w", "fcproj_w"}
TOL_ABS, TOL_REL = 1e-4, 1e-3


def shapes(L, C, T, H):
    """(name, shape) in model file order (docs/model-format.md)."""
    out = [("wte", (256, C)), ("wpe", (T, C))]
    per = {"ln1_w": (C,), "ln1_b": (C,), "qkv_w": (3 * C, C), "qkv_b": (3 * C,), "proj_w": (C, C),
           "proj_b": (C,), "ln2_w": (C,), "ln2_b": (C,), "fc_w": (H, C), "fc_b": (H,), "fcproj_w": (C, H),
           "fcproj_b": (C,)}
    for l in range(L):
        out += [(f"{n}.{l}", per[n]) for n in PER_LAYER]
    return out + [("lnf_w", (C,)), ("lnf_b", (C,))]


def unflatten(flat, shp):
    params, off = {}, 0
    for name, s in shp:
        n = int(np.prod(s))
        params[name] = flat[off:off + n].reshape(s)
        off += n
    assert off == len(flat)
    return params


def forward(p, idx, L, NH, drop=None):
    """drop: None, or (P, masks) with masks as read_dump gives them (1 kept, 0 dropped): every dropped tensor
    becomes tensor * mask / (1 - P), nanoGPT's inverted dropout with the trainer's masks in place of torch's RNG."""
    B, T = idx.shape
    C = p["wte"].shape[1]
    d = (lambda z, key: z) if drop is None else (lambda z, key: z * torch.tensor(drop[1][key]) / (1.0 - drop[0]))
    x = d(p["wte"][idx] + p["wpe"][:T], "emb")
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        a = F.layer_norm(x, (C,), p[f"ln1_w.{l}"], p[f"ln1_b.{l}"], 1e-5)
        q, k, v = (a @ p[f"qkv_w.{l}"].T + p[f"qkv_b.{l}"]).split(C, dim=2)
        q, k, v = (z.view(B, T, NH, C // NH).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = d(att.masked_fill(~mask, float("-inf")).softmax(dim=-1), f"att.{l}")
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + d(y @ p[f"proj_w.{l}"].T + p[f"proj_b.{l}"], f"att_resid.{l}")
        m = F.layer_norm(x, (C,), p[f"ln2_w.{l}"], p[f"ln2_b.{l}"], 1e-5)
        h = F.gelu(m @ p[f"fc_w.{l}"].T + p[f"fc_b.{l}"], approximate="tanh")
        x = x + d(h @ p[f"fcproj_w.{l}"].T + p[f"fcproj_b.{l}"], f"mlp_resid.{l}")
    x = F.layer_norm(x, (C,), p["lnf_w"], p["lnf_b"], 1e-5)
    return x @ p["wte"].T


def read_dump(path):
    with open(path, "rb") as f:
        raw = f.read()
    B, T, L, NH, C, H, steps, P = struct.unpack_from("<8I", raw, 0)
    (dropout,) = struct.unpack_from("<f", raw, 32)
    off = 36

    def floats(n):
        nonlocal off
        a = np.frombuffer(raw, dtype="<f4", count=n, offset=off).astype(np.float64)
        off += 4 * n
        return a

    def bytes_(n):
        nonlocal off
        a = np.frombuffer(raw, dtype=np.uint8, count=n, offset=off).astype(np.int64)
        off += n
        return a

    def masks():
        """one step's masks, in the order train.c's dump_masks writes them"""
        out = {"emb": bytes_(B * T * C).reshape(B, T, C).astype(np.float64)}
        for l in range(L):
            out[f"att.{l}"] = bytes_(B * NH * T * T).reshape(B, NH, T, T).astype(np.float64)
            out[f"att_resid.{l}"] = bytes_(B * T * C).reshape(B, T, C).astype(np.float64)
            out[f"mlp_resid.{l}"] = bytes_(B * T * C).reshape(B, T, C).astype(np.float64)
        return out

    d = {"B": B, "T": T, "L": L, "NH": NH, "C": C, "H": H, "steps": steps, "P": P, "dropout": float(dropout)}
    d["init"] = floats(P)
    d["logits"] = floats(B * T * 256).reshape(B, T, 256)
    d["grads"] = floats(P)
    d["batches"] = []
    for _ in range(steps):
        inp = bytes_(B * T).reshape(B, T)
        tgt = bytes_(B * T).reshape(B, T)
        loss, lr, norm = floats(3)
        d["batches"].append((inp, tgt, loss, lr, norm, masks() if dropout > 0 else None))
    d["final"] = floats(P)
    assert off == len(raw), "dump has trailing bytes"
    return d


def check_masks(d, report):
    """The dumped masks look like dropout at rate P: the dropped fraction over every step and site is within 5
    binomial standard deviations of P, each site's within 6, and no two sites or steps share a mask."""
    P = d["dropout"]
    all_masks = [m for *_, m in d["batches"]]
    kept = sum(float(v.sum()) for m in all_masks for v in m.values())
    n = sum(v.size for m in all_masks for v in m.values())
    frac, sd = 1.0 - kept / n, math.sqrt(P * (1 - P) / n)
    report(abs(frac - P) <= 5 * sd, "dropout-masks-dropped-fraction",
           f"{frac:.5f} of {n} elements dropped, P = {P:.5f} (5 sd = {5 * sd:.5f})")
    print(f"# dropout masks: {frac:.5f} of {n} elements dropped over {len(all_masks)} steps, P = {P:.5f}")
    worst = max(abs((1.0 - v.mean()) - P) / math.sqrt(P * (1 - P) / v.size) for m in all_masks for v in m.values())
    report(worst <= 6.0, "dropout-masks-each-site-fraction", f"one site is {worst:.1f} sd from P")
    flat = [(i, k, v.ravel()) for i, m in enumerate(all_masks) for k, v in m.items()]
    same = []
    for a in range(len(flat)):
        for b in range(a + 1, len(flat)):
            (i, k, u), (j, q, v) = flat[a], flat[b]
            m = min(len(u), len(v))
            if np.array_equal(u[:m], v[:m]):
                same.append(f"step {i + 1} {k} = step {j + 1} {q}")
    report(not same, "dropout-masks-independent", "; ".join(same[:3]))


def close(a, b):
    """max abs difference, and whether it is within TOL_ABS or TOL_REL of the reference's scale"""
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return diff, diff <= TOL_ABS or diff <= TOL_REL * scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default=os.path.join(os.environ.get("EFICHAT_BUILD", "build"), "train"))
    ap.add_argument("--data", default="")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", default="--layers 2 --heads 2 --dim 32 --ctx 16 --hidden 96 --batch 4")
    ap.add_argument("--dropout", default="0")
    args = ap.parse_args()
    torch.set_num_threads(1)
    fails = 0

    def report(ok, name, why=""):
        nonlocal fails
        print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}", flush=True)
        fails += not ok

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if not data:
            data = os.path.join(tmp, "data.txt")
            rng = np.random.default_rng(7)
            words = ["to", "be", "or", "not", "the", "king", "my", "lord", "speak", "thee", "ROMEO:", "\n"]
            with open(data, "w") as f:
                f.write(" ".join(rng.choice(words, 4000)))
        dump = os.path.join(tmp, "dump.bin")
        model = os.path.join(tmp, "m.bin")
        cmd = [args.train, "--data", data, "--out", model, "--dump", dump, "--steps", str(args.steps),
               "--warmup", "3", "--lr", "3e-3", "--eval-every", "0", "--sample-every", "0",
               "--threads", str(args.threads), "--seed", "5", "--dropout", args.dropout] + args.config.split()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            report(False, "parity-run", f"train exited {r.returncode}: {r.stderr.strip()}")
            return 1
        d = read_dump(dump)
        with open(model, "rb") as f:
            mf = f.read()
        model_params = np.frombuffer(mf, dtype="<f4", offset=128).astype(np.float64)

    L, NH, C, T, H = d["L"], d["NH"], d["C"], d["T"], d["H"]
    shp = shapes(L, C, T, H)
    p = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in unflatten(d["init"], shp).items()}

    P = d["dropout"]
    if P > 0:
        check_masks(d, report)

    # step 1: logits, loss and every gradient
    inp, tgt, loss_c, _, norm_c, masks = d["batches"][0]
    logits = forward(p, torch.tensor(inp), L, NH, (P, masks) if P > 0 else None)
    diff, ok = close(d["logits"], logits.detach().numpy())
    report(ok, "parity-logits", f"max abs diff {diff:.3g}")
    loss = F.cross_entropy(logits.view(-1, 256), torch.tensor(tgt).view(-1))
    report(abs(loss.item() - loss_c) <= 1e-5, "parity-loss", f"C {loss_c:.7f} torch {loss.item():.7f}")
    loss.backward()
    grads_c = unflatten(d["grads"], shp)
    worst, bad = 0.0, []
    for name, _ in shp:
        diff, ok = close(grads_c[name], p[name].grad.numpy())
        worst = max(worst, diff)
        if not ok:
            bad.append(f"{name} (max abs diff {diff:.3g})")
    report(not bad, f"parity-grads-all-{len(shp)}-tensors", ", ".join(bad))
    print(f"# step-1 gradients: worst max abs diff {worst:.3g} over {len(shp)} tensors")
    total_norm = math.sqrt(sum(float((p[n].grad ** 2).sum()) for n, _ in shp))
    report(abs(total_norm - norm_c) <= 1e-4 * max(1.0, total_norm), "parity-grad-norm",
           f"C {norm_c:.6f} torch {total_norm:.6f}")

    # AdamW steps with the trainer's schedule (lr per step from the dump), clipping at 1.0
    for n, _ in shp:
        p[n].grad = None
    decay = [p[n] for n, _ in shp if n.split(".")[0] in DECAYED]
    nodecay = [p[n] for n, _ in shp if n.split(".")[0] not in DECAYED]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=1.0, betas=(0.9, 0.95), eps=1e-8)
    worst_loss = 0.0
    for i, (inp, tgt, loss_c, lr, _, masks) in enumerate(d["batches"]):
        logits = forward(p, torch.tensor(inp), L, NH, (P, masks) if P > 0 else None)
        loss = F.cross_entropy(logits.view(-1, 256), torch.tensor(tgt).view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p[n] for n, _ in shp], 1.0)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        worst_loss = max(worst_loss, abs(loss.item() - loss_c))
    report(worst_loss <= 1e-4, f"parity-{len(d['batches'])}-adamw-step-losses", f"max diff {worst_loss:.3g}")
    print(f"# AdamW losses: max diff {worst_loss:.3g} over {len(d['batches'])} steps")
    final = np.concatenate([p[n].detach().numpy().ravel() for n, _ in shp])
    diff, ok = close(d["final"], final)
    report(ok, "parity-params-after-adamw", f"max abs diff {diff:.3g}")
    report(np.array_equal(model_params, d["final"]), "model-file-holds-final-params", "payload differs from dump")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
