"""corecheck.py - what the core's Python tests share: the CLI's path, a PASS/FAIL reporter, and raw logits."""
import os, subprocess
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"), "efichat-cli")
failures = 0


def case(ok, name, why=""):
    """One PASS/FAIL line for tests/run_tests.py."""
    global failures
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


def exit_code():
    return 1 if failures else 0


def q8_kernels():
    """Every Q8 path this CPU runs (q8-sse2 always, q8-avx2 and q8-vnni by /proc/cpuinfo): the same bits on each."""
    flags = set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    out = ["q8-sse2"]
    if "avx2" in flags:
        out.append("q8-avx2")
        if {"avx512f", "avx512bw", "avx512_vnni"} <= flags:
            out.append("q8-vnni")
    return out


def random_model(path, dim, layers, heads, ctx, hidden=None, seed=1):
    args = [CLI, "random-model", "--out", path, "--dim", str(dim), "--layers", str(layers), "--heads", str(heads),
            "--ctx", str(ctx), "--seed", str(seed)]
    subprocess.run(args + (["--hidden", str(hidden)] if hidden else []), check=True)


def logits(model, text_path, out, mode, kernel=None):
    """(n, 256) float64 logits of the core for the bytes of text_path, fed one at a time ('step') or at once."""
    extra = ["--kernel", kernel] if kernel else []
    subprocess.run([CLI, "logits", "--model", model, "--text-file", text_path, "--out", out, "--mode", mode] + extra,
                   check=True)
    return np.fromfile(out, dtype=np.float32).reshape(-1, 256).astype(np.float64)
