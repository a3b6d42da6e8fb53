#!/usr/bin/env python3
"""test_parity.py - build/train against PyTorch on tiny configs (tools/train_parity.py does the work): logits, loss,
every parameter gradient within max abs 1e-4 or relative 1e-3, and 10 AdamW steps whose losses agree to 1e-4.
The dropout configs (P 0.1 and 0.3) hold torch to the same tolerances under the masks the trainer dumps, and check
the masks: dropped fraction within 5 binomial sd of P, no two sites or steps alike."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PY, ROOT, TRAIN, Report, need_train

rep = Report()
need_train(rep)
configs = [("2 threads, L2 C32 T16", "2", "--layers 2 --heads 2 --dim 32 --ctx 16 --hidden 96 --batch 4", "0"),
           ("1 thread, odd head size 24, T37", "1", "--layers 3 --heads 3 --dim 72 --ctx 37 --hidden 200 --batch 3",
            "0"),
           ("2 threads, head size 128, T99", "2", "--layers 1 --heads 2 --dim 256 --ctx 99 --hidden 64 --batch 2", "0"),
           ("dropout 0.1, 2 threads, L2 C32 T16", "2",
            "--layers 2 --heads 2 --dim 32 --ctx 16 --hidden 96 --batch 4", "0.1"),
           ("dropout 0.3, 1 thread, odd head size 24, T37", "1",
            "--layers 3 --heads 3 --dim 72 --ctx 37 --hidden 200 --batch 3", "0.3"),
           ("dropout 0.3, 2 threads, head size 128, T99", "2",
            "--layers 1 --heads 2 --dim 256 --ctx 99 --hidden 64 --batch 2", "0.3")]
for label, threads, cfg, dropout in configs:
    r = subprocess.run([PY, os.path.join(ROOT, "tools", "train_parity.py"), "--train", TRAIN, "--threads", threads,
                        "--config", cfg, "--dropout", dropout], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("PASS: ") or line.startswith("FAIL: "):
            kind, rest = line.split(": ", 1)
            name, _, why = rest.partition(": ")
            rep.case(kind == "PASS", f"{name} ({label})", why)
        else:
            print(line)
    if r.returncode != 0 and "FAIL" not in r.stdout:
        rep.case(False, f"parity ({label})", r.stderr.strip()[-500:])
rep.exit()
