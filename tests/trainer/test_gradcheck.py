#!/usr/bin/env python3
"""test_gradcheck.py - finite differences (h = 1e-2, central) agree with build/train's analytic gradient at the
largest-gradient parameter and 3 random ones of every tensor and layer: |a - n| <= 1e-4 + 1e-2 |n|."""
import os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TINY, Report, need_train, train, write_corpus

rep = Report()
need_train(rep)
with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "d.txt")
    write_corpus(data)
    r = train("--data", data, "--gradcheck", 3, "--threads", 2, *TINY)
rows = [l.split() for l in r.stdout.splitlines() if l.startswith("gradcheck ")]
expected = (3 + 1) * (4 + 12 * 2)  # (3 random + the largest) x (4 global tensors + 12 per layer x 2 layers)
rep.case(r.returncode == 0 and len(rows) == expected,
         "gradcheck-ran-every-tensor", f"rc {r.returncode}, {len(rows)} rows: {r.stderr.strip()}")
worst, bad = 0.0, []
for _, tensor, layer, idx, _, a, _, n in rows:
    a, n = float(a), float(n)
    err = abs(a - n)
    worst = max(worst, err)
    if err > 1e-4 + 1e-2 * abs(n):
        bad.append(f"{tensor}[{layer}][{idx}] analytic {a:.6g} numeric {n:.6g}")
print(f"# {len(rows)} parameters checked, worst abs error {worst:.3g}")
rep.case(not bad, "gradcheck-finite-differences", "; ".join(bad[:5]))
rep.exit()
