#!/usr/bin/env python3
"""test_dropout.py - what --dropout P does to a run, on a tiny config (torch parity under the same masks is in
test_parity.py, resume and thread-count exactness in test_resume.py):
- --dropout 0 is the default, byte for byte;
- with the learning rate at 0 the parameters never move, so P = 0.3 must change every training loss while the
  validation losses and the samples stay those of P = 0 (dropout is off in evaluation and sampling);
- with a real learning rate P = 0.3 trains a different model, and the validation loss it logs is torch's loss of
  the saved model on the same windows without dropout (within 1e-5);
- the checkpoint records P, and resuming with another P says so."""
import os, re, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, TINY, TRAIN, Report, need_train, read, train, write_corpus

sys.path.insert(0, os.path.join(ROOT, "tools"))
import numpy as np
import torch
import torch.nn.functional as F
from train_parity import forward, shapes, unflatten

rep = Report()
need_train(rep)


def losses(csv):
    """{step: (train loss, val loss or None)} from a --csv log (6 decimals)"""
    rows = [l.split(",") for l in read(csv).decode().splitlines()[1:]]
    return {int(r[0]): (r[1], r[2] or None) for r in rows}


def train_bytes(*args):
    """train() for runs that print samples: an untrained model samples bytes that are not UTF-8"""
    r = subprocess.run([TRAIN] + [str(a) for a in args], capture_output=True, timeout=600)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1"))


def val_loss_torch(model, data, L, NH, C, T, H, B, eval_batches):
    """train.c's evaluate() in float64 torch, no dropout: the mean loss over `eval_batches` batches of
    non-overlapping val windows spread evenly over the split"""
    params = np.frombuffer(read(model), dtype="<f4", offset=128).astype(np.float64)
    p = {k: torch.tensor(v.copy()) for k, v in unflatten(params, shapes(L, C, T, H)).items()}
    raw = read(data)
    ntrain = len(raw) * 9 // 10
    nwin = (len(raw) - ntrain - 1) // T
    use = min(eval_batches * B, nwin)
    starts = [ntrain + (k * nwin // use) * T for k in range(use)]
    inp = torch.tensor([list(raw[s:s + T]) for s in starts])
    tgt = torch.tensor([list(raw[s + 1:s + T + 1]) for s in starts])
    with torch.no_grad():
        return F.cross_entropy(forward(p, inp, L, NH).view(-1, 256), tgt.view(-1)).item()


def samples(stdout):
    return re.findall(r"--- sample at step \d+ \(temperature [0-9.]+\):\n(.*?)\n---", stdout, re.S)


with tempfile.TemporaryDirectory() as tmp:
    p = lambda n: os.path.join(tmp, n)
    write_corpus(p("d.txt"))
    base = ["--data", p("d.txt"), "--eval-batches", 2, "--threads", 2, *TINY]

    # the default is no dropout
    r0 = train(*base, "--steps", 8, "--eval-every", 4, "--out", p("a.bin"), "--checkpoint", p("a.ck"))
    r1 = train(*base, "--steps", 8, "--eval-every", 4, "--out", p("b.bin"), "--checkpoint", p("b.ck"),
               "--dropout", 0)
    rep.case(r0.returncode == 0 and r1.returncode == 0 and read(p("a.ck")) == read(p("b.ck")),
             "dropout-0-is-the-default", f"rc {r0.returncode}/{r1.returncode} {r0.stderr}{r1.stderr}")

    # lr 0: the same parameters at every step, with and without dropout
    frozen = [*base, "--steps", 6, "--eval-every", 2, "--lr", 0, "--log-every", 1, "--sample-every", 3,
              "--sample-len", 60, "--temp", 0.8]
    f0 = train_bytes(*frozen, "--out", p("f0.bin"), "--csv", p("f0.csv"))
    f3 = train_bytes(*frozen, "--out", p("f3.bin"), "--csv", p("f3.csv"), "--dropout", 0.3)
    l0 = losses(p("f0.csv")) if f0.returncode == 0 else {}
    l3 = losses(p("f3.csv")) if f3.returncode == 0 else {}
    ok = f0.returncode == 0 and f3.returncode == 0 and len(l0) == 6 and len(l3) == 6
    rep.case(ok, "dropout-frozen-runs", f"{f0.stderr}{f3.stderr} {l0} {l3}")
    rep.case(ok and all(l0[s][0] != l3[s][0] for s in l0), "dropout-changes-every-training-loss",
             f"P 0: {[l0[s][0] for s in sorted(l0)]}, P 0.3: {[l3[s][0] for s in sorted(l3)]}")
    v0 = [l0[s][1] for s in sorted(l0) if l0[s][1]]
    v3 = [l3[s][1] for s in sorted(l3) if l3[s][1]]
    rep.case(ok and len(v0) == 3 and v0 == v3, "dropout-off-in-validation", f"P 0: {v0}, P 0.3: {v3}")
    s0, s3 = samples(f0.stdout), samples(f3.stdout)
    rep.case(ok and len(s0) == 2 and s0 == s3, "dropout-off-in-samples", f"P 0: {s0!r}, P 0.3: {s3!r}")
    print(f"# frozen parameters, step-1 training loss: P 0 {l0.get(1)}, P 0.3 {l3.get(1)}")

    # a real learning rate: a different model
    r3 = train(*base, "--steps", 8, "--eval-every", 8, "--out", p("c.bin"), "--checkpoint", p("c.ck"),
               "--csv", p("c.csv"), "--dropout", 0.3)
    rep.case(r3.returncode == 0 and read(p("c.ck"))[256:] != read(p("a.ck"))[256:],
             "dropout-trains-a-different-model", f"rc {r3.returncode} {r3.stderr}")  # parameters and moments
    if r3.returncode == 0:  # --out holds the step-8 model, the one step 8's validation scored
        logged = float(losses(p("c.csv"))[8][1])
        ref = val_loss_torch(p("c.bin"), p("d.txt"), L=2, NH=2, C=32, T=16, H=64, B=4, eval_batches=2)
        rep.case(abs(logged - ref) <= 1e-5, "dropout-validation-is-the-undropped-loss",
                 f"trainer logged {logged:.6f}, torch without dropout {ref:.6f}")
        print(f"# validation at step 8 under --dropout 0.3: trainer {logged:.6f}, torch without dropout {ref:.6f}")

    # the checkpoint holds P (f32 at header byte 84; 0 there is what checkpoints held before the option)
    ck0, ck3 = read(p("a.ck")), read(p("c.ck"))
    rep.case(struct.unpack_from("<f", ck0, 84)[0] == 0.0 and struct.unpack_from("<f", ck3, 84)[0] == struct.unpack(
        "<f", struct.pack("<f", 0.3))[0], "dropout-recorded-in-checkpoint", "header byte 84 is not the run's P")
    rr = train(*base, "--steps", 10, "--eval-every", 4, "--out", p("c.bin"), "--checkpoint", p("c.ck"),
               "--resume", p("c.ck"), "--dropout", 0.1)
    rep.case(rr.returncode == 0 and "checkpoint trained with --dropout 0.3, this run uses 0.1" in rr.stderr,
             "dropout-resume-with-another-p-says-so", f"rc {rr.returncode}: {rr.stderr.strip()!r}")
rep.exit()
