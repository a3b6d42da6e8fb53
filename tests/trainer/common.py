"""common.py - helpers for the trainer tests: where build/train is, a small deterministic corpus, a runner that
prints PASS/FAIL lines in tests/run_tests.py's protocol."""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("EFICHAT_BUILD", "build")
TRAIN = os.path.join(ROOT, BUILD, "train") if not os.path.isabs(BUILD) else os.path.join(BUILD, "train")
PY = os.environ.get("EFICHAT_PY", sys.executable)
TINY = ["--layers", "2", "--heads", "2", "--dim", "32", "--ctx", "16", "--hidden", "64", "--batch", "4",
        "--sample-every", "0"]


def write_corpus(path, n=6000):
    """A deterministic byte corpus with some structure (no dataset needed)."""
    words = [b"to", b"be", b"or", b"not", b"the", b"king", b"my", b"lord", b"speak", b"thee", b"ROMEO:\n"]
    out, x = bytearray(), 12345
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[(x >> 16) % len(words)] + b" "
    with open(path, "wb") as f:
        f.write(bytes(out[:n]))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def train(*args, timeout=600):
    """Runs build/train; a run past timeout (a hang) comes back as status -9 with 'timed out' on stderr."""
    cmd = [TRAIN] + [str(a) for a in args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -9, "", f"timed out after {timeout} s")


class Report:
    def __init__(self):
        self.failed = 0

    def case(self, ok, name, why=""):
        print(f"PASS: {name}" if ok else f"FAIL: {name}: {why}", flush=True)
        self.failed += not ok

    def exit(self):
        sys.exit(1 if self.failed else 0)


def need_train(rep):
    if not os.access(TRAIN, os.X_OK):
        rep.case(False, "train-binary", f"{TRAIN} missing: run make train-bin")
        rep.exit()
