#!/usr/bin/env python3
"""test_select.py - --select-frac F holds the end of the train split out for model selection, on tiny configs:
- no training window ever reads a byte of the selection slice or of val (every batch of a --dump is located in the
  corpus; a run with F = 0 on the same corpus must reach into the slice, or the check could not see a leak);
- the logged selection losses are torch's losses of the step's model on the slice's windows, and --out is the
  model of the lowest one, on a corpus built so that the slice and val disagree about the best step;
- val is scored once, at the last step, on the --out model (torch agrees), and never by a run that stops early;
- F = 0 is the default byte for byte; the checkpoint records F; a resume (the best model lying before the resume
  point, so it is read back from --out) is byte-exact, 1 and 2 threads agree; a resume with another F or without
  the --out model is refused."""
import os, random, re, struct, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, TINY, Report, need_train, read, train, write_corpus

sys.path.insert(0, os.path.join(ROOT, "tools"))
import numpy as np
import torch
import torch.nn.functional as F
from train_parity import forward, read_dump, shapes, unflatten

rep = Report()
need_train(rep)
SEL = 0.25  # exact in float32, so the slice below is the trainer's floor(F * ntrain) without rounding doubt
L, NH, C, T, H = 2, 2, 32, 16, 64


def parts(n, frac=SEL):
    """(nfit, ntrain): trained on [0, nfit), selection slice [nfit, ntrain), val [ntrain, n)"""
    ntrain = n * 9 // 10
    return ntrain - int(frac * ntrain), ntrain


def csv_rows(path):
    lines = read(path).decode().splitlines()
    return lines[0], [l.split(",") for l in lines[1:]]


def loss_torch(model, raw, lo, hi, B, eval_batches):
    """train.c's evaluate() on raw[lo, hi) in float64 torch: non-overlapping windows of T, all of them when
    eval_batches is 0, else eval_batches * B of them spread evenly"""
    params = np.frombuffer(read(model), dtype="<f4", offset=128).astype(np.float64)
    p = {k: torch.tensor(v.copy()) for k, v in unflatten(params, shapes(L, C, T, H)).items()}
    nwin = (hi - lo - 1) // T
    use = nwin if eval_batches == 0 else min(eval_batches * B, nwin)
    starts = [lo + (k * nwin // use) * T for k in range(use)]
    inp = torch.tensor([list(raw[s:s + T]) for s in starts])
    tgt = torch.tensor([list(raw[s + 1:s + T + 1]) for s in starts])
    with torch.no_grad():
        return F.cross_entropy(forward(p, inp, L, NH).view(-1, 256), tgt.view(-1)).item()


with tempfile.TemporaryDirectory() as tmp:
    p = lambda n: os.path.join(tmp, n)

    # 1. batches: lowercase to train on, uppercase in the slice, digits in val; 17-byte windows of random letters
    # are unique, so each window of a batch names its offset
    r = random.Random(7)
    n = 2000
    nfit, ntrain = parts(n)
    raw = bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(nfit)) + \
        bytes(r.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(ntrain - nfit)) + \
        bytes(r.choice(b"0123456789") for _ in range(n - ntrain))
    with open(p("abc.txt"), "wb") as f:
        f.write(raw)
    where = {}
    for o in range(n - T):
        where.setdefault(raw[o:o + T + 1], []).append(o)

    def offsets(dump):
        """every training window's start offset in the corpus (None for a window the corpus does not hold)"""
        d = read_dump(dump)
        out = []
        for inp, tgt, *_ in d["batches"]:
            for b in range(d["B"]):
                w = bytes(inp[b].tolist()) + bytes(tgt[b, -1:].tolist())
                ok = bytes(tgt[b].tolist()) == w[1:] and len(where.get(w, [])) == 1
                out.append(where[w][0] if ok else None)
        return out

    run = ["--data", p("abc.txt"), *TINY, "--batch", 16, "--steps", 400, "--eval-every", 100, "--eval-batches", 1,
           "--threads", 2]
    rs = train(*run, "--select-frac", SEL, "--out", p("abc.bin"), "--dump", p("abc.dump"))
    r0 = train(*run, "--out", p("abc0.bin"), "--dump", p("abc0.dump"))
    if rs.returncode == 0 and r0.returncode == 0:
        o_sel, o_0 = offsets(p("abc.dump")), offsets(p("abc0.dump"))
        last = max((o for o in o_sel if o is not None), default=-1)
        bad = [o for o in o_sel if o is None or o + T >= nfit]
        rep.case(not bad, "select-no-batch-reads-slice-or-val",
                 f"{len(bad)} of {len(o_sel)} windows reach byte {nfit} or later (or are not corpus windows): "
                 f"{bad[:5]}")
        # the last window that fits (bytes nfit-T-1 .. nfit-1) was drawn: a leak of one byte would have shown
        rep.case(last == nfit - T - 1, "select-batches-reach-the-slice-edge",
                 f"highest window start {last}, the last one that fits is {nfit - T - 1}")
        into = [o for o in o_0 if o is not None and o + T >= nfit]
        rep.case(into and all(o + T < ntrain for o in o_0 if o is not None), "select-f0-trains-on-the-slice-not-val",
                 f"F = 0: {len(into)} windows reach into [{nfit}, {ntrain}), highest start "
                 f"{max(o for o in o_0 if o is not None)}")
    else:
        rep.case(False, "select-batch-runs", f"rc {rs.returncode}/{r0.returncode}: {rs.stderr}{r0.stderr}")

    # 2. selection: train and val are one word stream, the slice random letters of the same alphabet; the more
    # the model learns the words, the better val and (past the first steps) the worse the slice
    r = random.Random(1)
    n = 6000
    nfit, ntrain = parts(n)
    words = ["the king ", "my lord ", "to be or not ", "speak thee "]
    a = ""
    while len(a) < n:
        a += r.choice(words)
    raw = (a[:nfit] + "".join(r.choice("thekingmylordtobeornotspeak  ") for _ in range(ntrain - nfit)) +
           a[nfit:nfit + n - ntrain]).encode()
    with open(p("e.txt"), "wb") as f:
        f.write(raw)
    base = ["--data", p("e.txt"), *TINY, "--batch", 8, "--steps", 120, "--lr", 1e-2, "--warmup", 10,
            "--eval-batches", 4, "--select-frac", SEL]
    full = [*base, "--eval-every", 10, "--log-every", 10]
    rf = train(*full, "--threads", 2, "--out", p("full.bin"), "--checkpoint", p("full.ck"), "--csv", p("full.csv"))
    rep.case(rf.returncode == 0, "select-full-run", rf.stderr)
    models = {}
    for k in range(10, 121, 10):  # the model at step k: no eval, so --out holds the step-k model
        rk = train(*base, "--eval-every", 0, "--stop-at", k, "--threads", 2, "--out", p(f"m{k}.bin"))
        if rk.returncode == 0:
            models[k] = p(f"m{k}.bin")
        if k == 60:
            rep.case(rk.returncode == 0 and not re.search(r"^val ", rk.stdout, re.M) and
                     "val not scored (it is, once, at step 120)" in rk.stdout, "select-early-stop-scores-no-val",
                     f"rc {rk.returncode}: {rk.stdout[-300:]!r}")
    if rf.returncode == 0 and len(models) == 12:
        head, rows = csv_rows(p("full.csv"))
        logged = {int(row[0]): float(row[2]) for row in rows if row[2]}
        sel_t = {k: loss_torch(m, raw, nfit, ntrain, 8, 4) for k, m in models.items()}
        val_t = {k: loss_torch(m, raw, ntrain, n, 8, 0) for k, m in models.items()}
        worst = max(abs(logged.get(k, 1e9) - sel_t[k]) for k in models)
        rep.case(worst <= 1e-5, "select-losses-are-the-slice", f"max |logged - torch on the slice| {worst:.2e}")
        k_sel, k_val = min(logged, key=logged.get), min(val_t, key=val_t.get)
        print(f"# best step by the slice {k_sel} ({logged[k_sel]:.4f}), by val {k_val} ({val_t[k_val]:.4f})")
        rep.case(k_sel != k_val and k_sel not in (10, 120), "select-slice-and-val-disagree",
                 f"best by the slice at step {k_sel}, by val at {k_val}: the corpus does not test the choice")
        rep.case(read(p("full.bin")) == read(models[k_sel]) != read(models[k_val]), "select-out-is-best-by-slice",
                 f"--out is not the step-{k_sel} model")
        # val: one line, one CSV cell (the last row), the --out model's loss on every val window
        lines = re.findall(r"^val ([0-9.]+): .*scored once$", rf.stdout, re.M)
        vals = [(int(row[0]), row[3]) for row in rows if row[3]]
        ref = loss_torch(p("full.bin"), raw, ntrain, n, 8, 0)
        rep.case(head == "step,train_loss,select_loss,val_loss,lr,tokens_per_s" and len(lines) == 1 and
                 len(vals) == 1 and vals[0][0] == 120 and abs(float(vals[0][1]) - ref) <= 1e-5,
                 "select-val-scored-once-on-out-model",
                 f"header {head!r}, val lines {lines}, val cells {vals}, torch {ref:.6f}")
        progress = [l for l in rf.stdout.splitlines() if l.startswith("step ")]
        rep.case(progress and all("  select " in l and "  val " not in l for l in progress),
                 "select-progress-names-the-slice", progress[:2])
        ck = read(p("full.ck"))
        rep.case(struct.unpack_from("<f", ck, 88)[0] == SEL, "select-frac-recorded-in-checkpoint",
                 "header byte 88 is not the run's F")
    else:
        rep.case(False, "select-step-models", f"{len(models)} of 12 step models")

    # 3. resume past the best step (20): the best model comes back from --out; 1 thread == 2 threads
    half = ["--out", p("h.bin"), "--checkpoint", p("h.ck"), "--csv", p("h.csv"), "--threads", 2]
    r1 = train(*full, *half, "--stop-at", 60)
    open(p("h60.ck"), "wb").write(read(p("h.ck")))
    r2 = train(*full, *half, "--resume", p("h.ck"))
    no_speed = lambda path: [l.rsplit(",", 1)[0] for l in read(path).decode().splitlines()]
    rep.case(r1.returncode == 0 and r2.returncode == 0 and read(p("h.ck")) == read(p("full.ck")) and
             read(p("h.bin")) == read(p("full.bin")) and no_speed(p("h.csv")) == no_speed(p("full.csv")),
             "select-resume-exact", f"60 + resume + 60 != 120 steps: {r1.stderr}{r2.stderr}")
    rt = train(*full, "--threads", 1, "--out", p("t1.bin"), "--checkpoint", p("t1.ck"))
    rep.case(rt.returncode == 0 and read(p("t1.ck")) == read(p("full.ck")), "select-determinism-1-vs-2-threads",
             rt.stderr)
    rm = train(*full, "--out", p("elsewhere.bin"), "--checkpoint", p("h60.ck"), "--resume", p("h60.ck"))
    rep.case(rm.returncode == 1 and "pass the --out of the run that wrote the checkpoint" in rm.stderr and
             not os.path.exists(p("elsewhere.bin")), "select-resume-needs-the-out-model", rm.stderr.strip())
    ro = train(*full, "--out", p("h.bin"), "--checkpoint", p("h60.ck"), "--resume", p("h60.ck"), "--select-frac", 0.1)
    rep.case(ro.returncode == 1 and "held out --select-frac 0.25, this run asks for 0.1" in ro.stderr,
             "select-resume-with-another-f-refused", ro.stderr.strip())

    # 4. F = 0 is the default, byte for byte
    write_corpus(p("d.txt"))
    plain = ["--data", p("d.txt"), *TINY, "--steps", 12, "--eval-every", 4, "--eval-batches", 2, "--threads", 2]
    ra = train(*plain, "--out", p("a.bin"), "--checkpoint", p("a.ck"), "--csv", p("a.csv"))
    rb = train(*plain, "--out", p("b.bin"), "--checkpoint", p("b.ck"), "--csv", p("b.csv"), "--select-frac", 0)
    rep.case(ra.returncode == 0 and rb.returncode == 0 and read(p("a.ck")) == read(p("b.ck")) and
             read(p("a.bin")) == read(p("b.bin")) and no_speed(p("a.csv")) == no_speed(p("b.csv")) and
             csv_rows(p("a.csv"))[0] == "step,train_loss,val_loss,lr,tokens_per_s" and "select" not in ra.stdout,
             "select-frac-0-is-the-default", f"{ra.stderr}{rb.stderr}")
rep.exit()
