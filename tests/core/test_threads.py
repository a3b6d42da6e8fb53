"""--threads N gives the same bits as one thread (issue 10: work split by output rows and heads, no sum across workers).

Raw logits of the CLI (`logits`, float32 bytes compared exactly) for 1, 2, 3 and 4 threads, every kernel (sse2, avx
where the CPU has it, every Q8 path it has: q8-sse2, q8-avx2, q8-vnni), fed one token at a time and in one batch past the context (the window slides),
on an awkward random model (dim 36, head size 12: qkv has 108 rows, the MLP 100, no thread count divides them all)
and on the default model. Then greedy generation with --threads 1 and 3 (prompt + 200 bytes overflow the context),
and --threads 3 on the greedy golden of test_golden.py.
"""
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import CLI, ROOT, case, exit_code, q8_kernels, random_model  # noqa: E402

DEFAULT = os.path.join(ROOT, "models", "shakespeare.bin")
GOLDEN = os.path.join(ROOT, "tests", "golden", "greedy_200.txt")
TEXT = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        b"First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n") * 2


def raw_logits(d, model, text, mode, kernel, threads):
    out = os.path.join(d, "lg.bin")
    subprocess.run([CLI, "logits", "--model", model, "--text-file", text, "--out", out, "--mode", mode, "--kernel",
                    kernel, "--threads", str(threads)], check=True)
    return open(out, "rb").read()


def has_avx():
    r = subprocess.run([CLI, "bench", "--model", DEFAULT, "--seconds", "0.01"], capture_output=True, text=True)
    return "kernel avx" in r.stdout


def generate(model, threads, extra=()):
    return subprocess.run([CLI, "generate", "--model", model, "--prompt", "ROMEO:", "--max", "200", "--temp", "0",
                           "--threads", str(threads)] + list(extra), check=True, capture_output=True).stdout


with tempfile.TemporaryDirectory() as d:
    text = os.path.join(d, "t.txt")
    open(text, "wb").write(TEXT)  # 364 bytes: past the default model's 256 and the random model's 48
    awkward = os.path.join(d, "c36.bin")
    random_model(awkward, 36, 2, 3, 48, 100, seed=9)
    kernels = ["sse2"] + q8_kernels() + (["avx"] if has_avx() else [])
    for name, model in (("c36_hs12", awkward), ("default", DEFAULT)):
        for kernel in kernels:
            for mode in ("step", "batch"):
                one = raw_logits(d, model, text, mode, kernel, 1)
                for t in (2, 3, 4):
                    many = raw_logits(d, model, text, mode, kernel, t)
                    first = next((i // 1024 for i in range(0, len(one), 4) if one[i:i + 4] != many[i:i + 4]), -1)
                    case(one == many and len(one) == len(TEXT) * 1024,
                         f"logits_bitwise_{name}_{kernel}_{mode}_threads{t}_vs_1",
                         f"first differing position {first} of {len(TEXT)}")
    g1, g3 = generate(DEFAULT, 1), generate(DEFAULT, 3)
    case(g1 == g3 and len(g1) == 200, "greedy_default_threads3_equals_threads1", f"{g1[:60]!r} vs {g3[:60]!r}")
    gm = os.path.join(d, "g.bin")
    subprocess.run([CLI, "random-model", "--out", gm, "--dim", "48", "--layers", "2", "--heads", "4", "--ctx", "64",
                    "--seed", "42"], check=True)
    case(generate(gm, 3) == open(GOLDEN, "rb").read(), "greedy_golden_200_threads3", "differs from the golden")
sys.exit(exit_code())
