#!/usr/bin/env python3
"""test_gradcheck.py - finite differences (h = 1e-2, central) agree with build/train's analytic gradient at the
largest-gradient parameter and 3 random ones of every tensor and layer: |a - n| <= 1e-4 + 1e-2 |n|. Then again
under --dropout 0.1: every forward of the check uses the same step-1 masks, so the loss stays smooth. (At P 0.3 the
1/(1-P) factors grow h = 1e-2's own truncation error and one of the 112 points lands 10% past the tolerance while
torch agrees to 1e-7: test_parity.py checks P 0.3.)"""
import os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TINY, Report, need_train, train, write_corpus

rep = Report()
need_train(rep)
with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "d.txt")
    write_corpus(data)
    runs = [(sfx, train("--data", data, "--gradcheck", 3, "--threads", 2, *TINY, *extra))
            for sfx, extra in (("", []), ("-dropout", ["--dropout", "0.1"]))]
for sfx, r in runs:
    rows = [l.split() for l in r.stdout.splitlines() if l.startswith("gradcheck ")]
    expected = (3 + 1) * (4 + 12 * 2)  # (3 random + the largest) x (4 global tensors + 12 per layer x 2 layers)
    rep.case(r.returncode == 0 and len(rows) == expected,
             f"gradcheck-ran-every-tensor{sfx}", f"rc {r.returncode}, {len(rows)} rows: {r.stderr.strip()}")
    worst, bad = 0.0, []
    for _, tensor, layer, idx, _, a, _, n in rows:
        a, n = float(a), float(n)
        err = abs(a - n)
        worst = max(worst, err)
        if err > 1e-4 + 1e-2 * abs(n):
            bad.append(f"{tensor}[{layer}][{idx}] analytic {a:.6g} numeric {n:.6g}")
    print(f"# {len(rows)} parameters checked{' with dropout 0.1' if sfx else ''}, worst abs error {worst:.3g}")
    rep.case(not bad, f"gradcheck-finite-differences{sfx}", "; ".join(bad[:5]))
rep.exit()
