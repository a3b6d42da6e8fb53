#!/usr/bin/env python3
"""run_tests.py - runs every test program and script, counts their PASS/FAIL lines, ends with 'N passed, N failed'.

Protocol for a test program: print one line 'PASS: name' or 'FAIL: name: why' per case, exit 0 iff no case failed;
'SKIP: why' (exit 0) when a tool it needs is absent, which counts as neither and is named in the summary.
A program that exits non-zero without a FAIL line counts as one failure (a crash); one that prints no PASS line and
no FAIL line counts as one failure too (a test that ran nothing cannot pass).
Found automatically: BUILD/tests/test_* (host unit programs) and tests/**/test_*.py (run with this Python).
"""
import argparse, os, subprocess, sys, time, glob

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="", help="substring filter on the program path")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    progs = sorted(p for p in glob.glob(os.path.join(args.build, "tests", "test_*"))
                   if os.access(p, os.X_OK) and not p.endswith(".d"))
    scripts = sorted(glob.glob("tests/**/test_*.py", recursive=True))
    cmds = [[p] for p in progs] + [[sys.executable, s] for s in scripts]
    cmds = [c for c in cmds if args.only in c[-1]]
    env = dict(os.environ, EFICHAT_BUILD=args.build, EFICHAT_PY=sys.executable)
    passed = failed = 0
    skipped = []
    for cmd in cmds:
        name = cmd[-1]
        t0 = time.time()
        print(f"== {name}", flush=True)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                                errors="replace")
        p = f = k = 0
        for line in proc.stdout:
            sys.stdout.write("   " + line)
            sys.stdout.flush()
            if line.startswith("PASS:"):
                p += 1
            elif line.startswith("FAIL:"):
                f += 1
            elif line.startswith("SKIP:"):
                k += 1
        rc = proc.wait()
        if rc != 0 and f == 0:
            print(f"   FAIL: {name} exited with status {rc} without naming a failed case")
            f += 1
        if p == 0 and f == 0 and not (k and rc == 0):
            print(f"   FAIL: {name} ran no test case")
            f += 1
        print(f"   ({p} passed, {f} failed, {time.time() - t0:.1f} s)", flush=True)
        passed += p
        failed += f
        skipped += [name] if k else []
    print(f"{passed} passed, {failed} failed" + (f", {len(skipped)} skipped ({', '.join(skipped)})" if skipped else ""))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
