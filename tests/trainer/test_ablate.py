#!/usr/bin/env python3
"""test_ablate.py - tools/ablate.py on a table of two tiny settings: one row per setting, each row's numbers are the
ones its runs printed (the parameter count and the best selection loss from build/train, the val loss from
`efichat-cli eval --split val` of the model it kept), a second call appends under the same header, and a table
that sets an option ablate.py fixes (the seed), a --select-frac of 1 or an unknown --only name are refused. With
--select-frac 0 the row is the last step's model (the trainer's --keep final): no selection loss, val of that model."""
import json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BUILD, PY, ROOT, TINY, Report, need_train, write_corpus

rep = Report()
need_train(rep)
BUILD_DIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
CLI = os.path.join(BUILD_DIR, "efichat-cli")
if not os.access(CLI, os.X_OK):
    print(f"SKIP: {CLI} missing (run make)")
    sys.exit(0)
TINY_ARGS = [str(a) for a in TINY if a not in ("--sample-every", "0")]


def ablate(tmp, *args):
    cmd = [PY, os.path.join(ROOT, "tools", "ablate.py"), "--build", BUILD_DIR, "--work", os.path.join(tmp, "work"),
           "--threads", "2", *[str(a) for a in args]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


with tempfile.TemporaryDirectory() as tmp:
    p = lambda n: os.path.join(tmp, n)
    write_corpus(p("d.txt"))
    with open(p("t.json"), "w") as f:
        json.dump([{"name": "tiny", "args": TINY_ARGS}, {"name": "tiny-drop", "args": " ".join(TINY_ARGS) +
                                                         " --dropout 0.2"}], f)
    common = ["--data", p("d.txt"), "--table", p("t.json"), "--results", p("r.md"), "--steps", 20,
              "--eval-every", 5, "--select-frac", 0.25]
    r = ablate(tmp, *common)
    rep.case(r.returncode == 0, "ablate-runs", r.stderr)
    text = open(p("r.md")).read() if os.path.exists(p("r.md")) else ""
    rows = [l for l in text.splitlines() if l.startswith("| tiny")]
    rep.case(len(rows) == 2 and text.count("| setting |") == 1, "ablate-one-row-per-setting", text)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name = cells[0]
        log = open(os.path.join(tmp, "work", name + ".log")).read()
        params = re.search(r"= (\d+) parameters", log).group(1)
        select = re.search(r"best select ([0-9.]+)", log).group(1)
        ev = subprocess.run([CLI, "eval", "--model", os.path.join(tmp, "work", name + ".bin"), "--data", p("d.txt"),
                             "--split", "val"], capture_output=True, text=True)
        val = re.search(r"loss ([0-9.]+) nats/byte", ev.stdout).group(1)
        want = [cells[2].replace(",", ""), cells[3], cells[5], cells[6]]
        rep.case(want == [params, "20", select, val] and "--seed" in log.splitlines()[0] + r.stdout,
                 f"ablate-row-is-measured-{name}",
                 f"row {want}, measured params {params}, steps 20, select {select}, val {val}")
    rows_a = rows
    r2 = ablate(tmp, *common, "--only", "tiny")
    text = open(p("r.md")).read()
    rows = [l for l in text.splitlines() if l.startswith("| tiny")]
    same = lambda row: [c for i, c in enumerate(row.split("|")[1:8]) if i != 4]  # all but wall time and date
    rep.case(r2.returncode == 0 and len(rows) == 3 and text.count("| setting |") == 1 and
             same(rows[2]) == same(rows_a[0]), "ablate-appends-and-repeats", text)
    # --select-frac 0: a fixed step count; the row's model is the final one, scored on val
    r0 = ablate(tmp, "--data", p("d.txt"), "--table", p("t.json"), "--results", p("r0.md"), "--steps", 20,
                "--eval-every", 5, "--select-frac", 0, "--only", "tiny")
    text0 = open(p("r0.md")).read() if os.path.exists(p("r0.md")) else ""
    rows0 = [l for l in text0.splitlines() if l.startswith("| tiny")]
    ok0 = r0.returncode == 0 and len(rows0) == 1
    if ok0:
        cells = [c.strip() for c in rows0[0].strip("|").split("|")]
        log = open(os.path.join(tmp, "work", "tiny.log")).read()
        ev = subprocess.run([CLI, "eval", "--model", os.path.join(tmp, "work", "tiny.bin"), "--data", p("d.txt"),
                             "--split", "val"], capture_output=True, text=True)
        val = re.search(r"loss ([0-9.]+) nats/byte", ev.stdout).group(1)
        ok0 = (cells[5] == "-" and cells[6] == val and "final model" in cells[7] and "--keep final" in r0.stdout
               and "(logged only: --out is the final model)" in log)
    rep.case(ok0, "ablate-select-frac-0-is-the-final-model", f"rc {r0.returncode}: {text0} {r0.stderr}")
    with open(p("seed.json"), "w") as f:
        json.dump([{"name": "s", "args": ["--seed", "5"]}], f)
    bad = [("ablate-refuses-fixed-option", ["--data", p("d.txt"), "--table", p("seed.json")],
            "sets --seed, which ablate.py fixes"),
           ("ablate-refuses-select-frac-1", ["--data", p("d.txt"), "--table", p("t.json"), "--select-frac", 1],
            "--select-frac must be in [0, 1)"),
           ("ablate-refuses-unknown-only", ["--data", p("d.txt"), "--table", p("t.json"), "--only", "nope"],
            "unknown settings: nope")]
    for name, args, phrase in bad:
        rb = ablate(tmp, *args, "--results", p("bad.md"))
        rep.case(rb.returncode != 0 and phrase in rb.stderr and not os.path.exists(p("bad.md")), name,
                 f"rc {rb.returncode}: {rb.stderr.strip()!r}")
rep.exit()
