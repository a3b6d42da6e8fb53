#!/usr/bin/env python3
"""ablate.py - trains each named setting of a table with build/train (one seed, one step budget; the end of the
train split held out with --select-frac to choose the --out model, or with --select-frac 0 the last step's model,
a fixed step count, via the trainer's --keep final), scores that model with `build/efichat-cli eval --split val`,
and appends one Markdown row per setting to a results file.
It never writes a number it did not measure: a run that fails is reported and gets no row.

Usage: tools/ablate.py --data FILE [--table TABLE.json] [--results FILE.md] [--steps N] [--seed S]
                       [--select-frac F] [--eval-every K] [--threads N] [--only NAME,NAME] [--work DIR] [--dry-run]
TABLE.json: [{"name": "dropout-0.1", "args": ["--dropout", "0.1"]}, ...] ("args" may be one string); each
setting's options come after BASE's, so they override it (the trainer keeps an option's last value)."""
import argparse, datetime, json, os, re, shlex, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The default model's architecture and optimizer (mk/trainer.mk's TRAIN_ARGS) minus the run length.
BASE = ["--layers", "4", "--heads", "4", "--dim", "256", "--ctx", "256", "--batch", "16", "--lr", "1.5e-3",
        "--warmup", "100"]
# The questions of issue 13: does dropout help the default model, and at which P.
SETTINGS = [
    {"name": "baseline", "args": []},
    {"name": "dropout-0.1", "args": ["--dropout", "0.1"]},
    {"name": "dropout-0.2", "args": ["--dropout", "0.2"]},
]
# ablate.py sets these itself, the same for every setting, so a table may not.
FIXED = {"--data", "--out", "--csv", "--checkpoint", "--resume", "--steps", "--stop-at", "--seed", "--select-frac",
         "--eval-every", "--threads", "--dump", "--gradcheck", "--sample-every", "--keep"}
HEADER = ("| setting | options | params | steps | wall s | select loss | val loss | run |\n"
          "|---|---|---:|---:|---:|---:|---:|---|\n")


def die(msg):
    sys.exit(f"ablate: error: {msg}")


def load_table(path):
    """the settings of a JSON table, checked: a list of {name, args}, unique names, no option ablate.py fixes"""
    if path is None:
        table = SETTINGS
    else:
        try:
            with open(path) as f:
                table = json.load(f)
        except (OSError, ValueError) as e:
            die(f"cannot read the table {path}: {e}")
    if not isinstance(table, list) or not table:
        die("the table must be a non-empty JSON list of {\"name\": ..., \"args\": [...]}")
    out, seen = [], set()
    for s in table:
        if not isinstance(s, dict) or set(s) - {"name", "args"} or not isinstance(s.get("name"), str) \
                or not re.fullmatch(r"[A-Za-z0-9._-]+", s["name"]):
            die(f"bad setting {s!r}: want {{\"name\": \"letters-digits._\", \"args\": [...]}}")
        args = s.get("args", [])
        args = shlex.split(args) if isinstance(args, str) else args
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            die(f"setting {s['name']}: args must be a list of strings or one string")
        fixed = sorted(set(args) & FIXED)
        if fixed:
            die(f"setting {s['name']} sets {', '.join(fixed)}, which ablate.py fixes for every setting")
        if s["name"] in seen:
            die(f"setting {s['name']} appears twice")
        seen.add(s["name"])
        out.append({"name": s["name"], "args": args})
    return out


def commit():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (r.stdout.strip() or "unknown") + ("+dirty" if dirty else "")


def run_setting(s, a, train, cli):
    """trains and scores one setting; returns its table row, or None after printing why there is none"""
    out, csv, log = (os.path.join(a.work, s["name"] + ext) for ext in (".bin", ".csv", ".log"))
    cmd = [train, "--data", a.data, *BASE, *s["args"], "--steps", str(a.steps), "--seed", str(a.seed),
           "--select-frac", str(a.select_frac), "--eval-every", str(a.eval_every), "--sample-every", "0",
           "--out", out, "--csv", csv]
    if a.select_frac == 0:
        cmd += ["--keep", "final"]  # the periodic evals (on val) only draw the CSV's curve; nothing chooses by them
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    print("ablate: " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    if a.dry_run:
        return None
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    wall = time.monotonic() - t0
    with open(log, "w") as f:
        f.write(r.stdout + r.stderr)
    params = re.search(r"= (\d+) parameters", r.stdout)
    if a.select_frac > 0:
        done = re.search(r"^done: step (\d+), train loss [0-9.na]+, best select ([0-9.]+|inf)", r.stdout, re.M)
    else:
        done = re.search(r"^done: step (\d+), train loss [0-9.na]+, best val [0-9.inf]+ \(logged only: --out is "
                         r"the final model\)", r.stdout, re.M)
    if r.returncode != 0 or not params or not done:
        print(f"ablate: {s['name']}: the trainer failed (status {r.returncode}, log {log}): no row\n{r.stderr}",
              file=sys.stderr)
        return None
    e = subprocess.run([cli, "eval", "--model", out, "--data", a.data, "--split", "val"], capture_output=True,
                       text=True)
    val = re.search(r"^loss ([0-9.]+) nats/byte over (\d+) bytes", e.stdout, re.M)
    if e.returncode != 0 or not val:
        print(f"ablate: {s['name']}: efichat-cli eval failed (status {e.returncode}): no row\n{e.stderr}",
              file=sys.stderr)
        return None
    opts = " ".join(s["args"]) or "(BASE)"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"| {s['name']} | `{opts}` | {int(params.group(1)):,} | {int(done.group(1)):,} | {wall:.1f} | "
            f"{done.group(2) if a.select_frac > 0 else '-'} | {val.group(1)} | {os.path.basename(a.data)}, seed "
            f"{a.seed}, {f'select-frac {a.select_frac}' if a.select_frac > 0 else 'final model'}, {when}, "
            f"{commit()} |\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the corpus (split as build/train and efichat-cli split it)")
    ap.add_argument("--table", help="a JSON table of settings (default: the SETTINGS in this file)")
    ap.add_argument("--results", default=os.path.join(ROOT, "build", "ablations.md"),
                    help="the Markdown file rows are appended to (default build/ablations.md)")
    ap.add_argument("--steps", type=int, default=1000, help="the step budget of every setting (default 1000)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--select-frac", type=float, default=0.1,
                    help="the end of the train split held out to choose --out (default 0.1); 0: the last step's "
                    "model (--keep final), the select column is '-'")
    ap.add_argument("--eval-every", type=int, default=250, help="selection evals (default 250)")
    ap.add_argument("--threads", type=int, default=0, help="trainer threads (default: the trainer's)")
    ap.add_argument("--only", default="", help="comma-separated setting names to run (default all)")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "ablate"), help="models, CSVs and logs")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="where train and efichat-cli are")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a = ap.parse_args()
    if not 0 <= a.select_frac < 1:
        die("--select-frac must be in [0, 1) (0: the last step's model, chosen by no eval)")
    if a.steps < 1 or a.eval_every < 1:
        die("--steps and --eval-every must be at least 1")
    table = load_table(a.table)
    if a.only:
        want = a.only.split(",")
        unknown = sorted(set(want) - {s["name"] for s in table})
        if unknown:
            die(f"--only names unknown settings: {', '.join(unknown)}")
        table = [s for s in table if s["name"] in want]
    train, cli = os.path.join(a.build, "train"), os.path.join(a.build, "efichat-cli")
    for tool in (train, cli):
        if not os.access(tool, os.X_OK) and not a.dry_run:
            die(f"{tool} is missing: run make")
    if not os.path.isfile(a.data):
        die(f"no data at {a.data} (docs/training.md says where to get tinyshakespeare.txt)")
    os.makedirs(a.work, exist_ok=True)
    failed = 0
    for s in table:
        row = run_setting(s, a, train, cli)
        if row is None:
            failed += not a.dry_run
            continue
        fresh = not os.path.exists(a.results) or os.path.getsize(a.results) == 0
        with open(a.results, "a") as f:
            if fresh:
                f.write(f"Rows appended by tools/ablate.py, one per real run; base options `{' '.join(BASE)}`.\n\n"
                        + HEADER)
            f.write(row)
        print(f"ablate: {s['name']}: {row.strip()}", flush=True)
    if not a.dry_run:
        print(f"ablate: {len(table) - failed} rows appended to {a.results} (data {a.data}, seed {a.seed}, "
              f"{a.steps} steps, --select-frac {a.select_frac}){f', {failed} settings failed' if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
