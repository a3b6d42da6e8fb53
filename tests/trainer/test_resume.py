#!/usr/bin/env python3
"""test_resume.py - checkpoints resume exactly and runs are deterministic, on a tiny config:
N steps in one run == N/2 steps, then --resume for the other N/2 (identical model and checkpoint bytes);
the same seed and thread count give identical checkpoints; so do 1 and 2 threads (every sum has a fixed order).
All of it three times: without dropout, then with --dropout 0.2 (the masks hash (seed, step, layer, site, element),
so a resume and any thread count must redraw them exactly), then with --select-frac 0.25 (selection on the held-out
slice, val scored once at step 20 by the resumed run); those checks' names end in -dropout and -select."""
import os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TINY, Report, need_train, read, train, write_corpus

rep = Report()
need_train(rep)


def check(tmp, data, extra, sfx):
    """every check below, with the trainer options `extra` added, its files in tmp and its names ending in sfx"""
    common = ["--data", data, "--steps", 20, "--eval-every", 5, "--eval-batches", 2, "--log-every", 5, *TINY, *extra]
    p = lambda n: os.path.join(tmp, n)

    # one run of 20 steps
    r = train(*common, "--threads", 2, "--out", p("full.bin"), "--checkpoint", p("full.ck"), "--csv", p("full.csv"))
    rep.case(r.returncode == 0, f"resume-full-run{sfx}", r.stderr)
    # 10 steps, stop, then resume for the other 10
    r = train(*common, "--threads", 2, "--out", p("half.bin"), "--checkpoint", p("half.ck"), "--csv", p("half.csv"),
              "--stop-at", 10)
    rep.case(r.returncode == 0 and "step 10/20" in r.stdout, f"resume-first-half{sfx}", r.stderr)
    r = train(*common, "--threads", 2, "--out", p("half.bin"), "--checkpoint", p("half.ck"), "--csv", p("half.csv"),
              "--resume", p("half.ck"))
    rep.case(r.returncode == 0 and "(resumed)" in r.stdout, f"resume-second-half{sfx}", r.stderr)
    rep.case(read(p("full.ck")) == read(p("half.ck")), f"resume-checkpoint-bytes-identical{sfx}",
             "20 steps != 10 + resume + 10 (checkpoint)")
    rep.case(read(p("full.bin")) == read(p("half.bin")), f"resume-model-bytes-identical{sfx}",
             "20 steps != 10 + resume + 10 (model file)")
    no_speed = lambda path: [l.rsplit(",", 1)[0] for l in read(path).decode().splitlines()]  # tokens/s varies
    rep.case(no_speed(p("full.csv")) == no_speed(p("half.csv")), f"resume-csv-continues{sfx}",
             "the resumed CSV (tokens/s aside) differs from the one-run CSV")
    rep.case(not os.path.exists(p("full.ck.tmp")) and not os.path.exists(p("full.bin.tmp")),
             f"resume-no-temporary-files-left{sfx}", "a .tmp file remained")

    # determinism: the same seed and threads, twice; then 1 thread
    r2 = train(*common, "--threads", 2, "--out", p("again.bin"), "--checkpoint", p("again.ck"))
    rep.case(r2.returncode == 0 and read(p("again.ck")) == read(p("full.ck")),
             f"determinism-same-seed-same-threads{sfx}", "two identical runs gave different checkpoints")
    r1 = train(*common, "--threads", 1, "--out", p("one.bin"), "--checkpoint", p("one.ck"))
    rep.case(r1.returncode == 0 and read(p("one.ck")) == read(p("full.ck")), f"determinism-1-vs-2-threads{sfx}",
             "1 and 2 threads gave different checkpoints")
    r3 = train(*common, "--threads", 2, "--out", p("seed.bin"), "--checkpoint", p("seed.ck"), "--seed", 99)
    rep.case(r3.returncode == 0 and read(p("seed.ck")) != read(p("full.ck")), f"determinism-seed-matters{sfx}",
             "a different seed gave the same checkpoint")


with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "d.txt")
    write_corpus(data)
    for sub, extra, sfx in (("plain", [], ""), ("dropout", ["--dropout", "0.2"], "-dropout"),
                            ("select", ["--select-frac", "0.25"], "-select")):
        os.mkdir(os.path.join(tmp, sub))
        check(os.path.join(tmp, sub), data, extra, sfx)
rep.exit()
