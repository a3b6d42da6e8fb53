#!/usr/bin/env python3
"""test_keep.py - --keep final: --out is the model of the schedule's last step (model selection by a fixed step
count), while periodic evals still draw the loss curve. On a tiny config whose val gets worse as training goes on
(train is a word stream, val random letters of the same alphabet), so the best-eval model and the last one differ:
- --out equals, byte for byte, the model of a run with no periodic eval at all, and not --keep best's model;
- the logged val losses are --keep best's, value for value (evals do not disturb training);
- with --select-frac, val is scored once on that final model (the same number an eval-free run prints);
- a run stopped and resumed writes the same --out; a bad --keep value is refused."""
import os, random, re, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TINY, Report, need_train, read, train

rep = Report()
need_train(rep)


def val_col(path, col):
    rows = [l.split(",") for l in read(path).decode().splitlines()[1:]]
    return {int(r[0]): r[col] for r in rows if r[col]}


with tempfile.TemporaryDirectory() as tmp:
    p = lambda n: os.path.join(tmp, n)
    r = random.Random(3)
    n = 6000
    ntrain = n * 9 // 10
    words = ["the king ", "my lord ", "to be or not ", "speak thee "]
    a = ""
    while len(a) < ntrain:
        a += r.choice(words)
    raw = (a[:ntrain] + "".join(r.choice("thekingmylordtobeornotspeak  ") for _ in range(n - ntrain))).encode()
    with open(p("k.txt"), "wb") as f:
        f.write(raw)
    base = ["--data", p("k.txt"), *TINY, "--batch", 8, "--steps", 120, "--lr", 1e-2, "--warmup", 10,
            "--eval-batches", 4, "--log-every", 10, "--threads", 2]

    rf = train(*base, "--eval-every", 10, "--keep", "final", "--out", p("final.bin"), "--csv", p("final.csv"))
    rb = train(*base, "--eval-every", 10, "--out", p("best.bin"), "--csv", p("best.csv"))
    r0 = train(*base, "--eval-every", 0, "--out", p("none.bin"))
    ok = rf.returncode == rb.returncode == r0.returncode == 0
    rep.case(ok, "keep-runs", f"{rf.stderr}{rb.stderr}{r0.stderr}")
    if ok:
        vf, vb = val_col(p("final.csv"), 2), val_col(p("best.csv"), 2)
        best_step = min(vb, key=lambda k: float(vb[k]))
        print(f"# best periodic val at step {best_step} ({vb[best_step]}), last step 120 ({vb.get(120)})")
        rep.case(best_step != 120, "keep-setup-best-is-not-last",
                 f"val is best at the last step: the corpus cannot tell --keep final from --keep best")
        rep.case(read(p("final.bin")) == read(p("none.bin")) != read(p("best.bin")), "keep-final-out-is-last-step",
                 "--keep final's --out is not the eval-free run's model (or equals --keep best's)")
        rep.case(len(vf) == 12 and vf == vb, "keep-final-logs-the-same-curve", f"final {vf} best {vb}")
        rep.case("(logged only: --out is the final model)" in rf.stdout and "logged only" not in rb.stdout,
                 "keep-final-done-line-says-so", rf.stdout[-300:])

    # with a selection slice: val once, on the final model
    sel = [*base, "--select-frac", 0.25]
    rs = train(*sel, "--eval-every", 10, "--keep", "final", "--out", p("sf.bin"), "--csv", p("sf.csv"))
    rz = train(*sel, "--eval-every", 0, "--out", p("sz.bin"))
    vs = re.findall(r"^val ([0-9.]+): the --out model \(the final model: --keep final\)", rs.stdout, re.M)
    vz = re.findall(r"^val ([0-9.]+): the --out model \(the final model: no eval chose one\)", rz.stdout, re.M)
    rep.case(rs.returncode == 0 and rz.returncode == 0 and read(p("sf.bin")) == read(p("sz.bin")) and
             len(vs) == 1 and vs == vz and len(val_col(p("sf.csv"), 2)) == 12,
             "keep-final-with-select-scores-the-final-model", f"val lines {vs} vs {vz}: {rs.stderr}{rz.stderr}")

    # stop at 60, resume: the same --out as one run
    half = ["--eval-every", 10, "--keep", "final", "--out", p("h.bin"), "--checkpoint", p("h.ck")]
    r1 = train(*base, *half, "--stop-at", 60)
    r2 = train(*base, *half, "--resume", p("h.ck"))
    rep.case(r1.returncode == 0 and r2.returncode == 0 and os.path.exists(p("h.bin")) and
             read(p("h.bin")) == read(p("final.bin")), "keep-final-resume-exact", f"{r1.stderr}{r2.stderr}")

    rx = train(*base, "--keep", "last", "--out", p("x.bin"))
    rep.case(rx.returncode == 1 and "--keep wants best or final, got 'last'" in rx.stderr and
             not os.path.exists(p("x.bin")), "keep-bad-value-refused", rx.stderr.strip())
rep.exit()
