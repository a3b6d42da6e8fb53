"""The Llama family (src/llama.c) against the float64 numpy reference (tools/llama_reference.py) on random models:
logits within 1e-4 (max abs, relative to the largest logit when that exceeds 1) for plain multi-head attention,
grouped-query attention with 2 and 1 key/value heads, both rotary pairings, q/k/v biases, tied and separate output
matrices, and a feed past the context (the window slides twice). SSE2 and AVX give the same bits, a token id past the
vocabulary is refused with nothing fed. (The double-precision rotary set-up math is checked against libm in
tests/unit/test_math_d.c.)"""
import os, subprocess, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import ROOT, case, exit_code  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))
import llama_reference as ref  # noqa: E402

RUNNER = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"), "tests", "llama-logits")
TOL = 1e-4


def has_avx():
    return any("avx" in line.split() for line in open("/proc/cpuinfo") if line.startswith("flags"))


def run(model_path, tokens, d, kernel):
    tp, op = os.path.join(d, "tok.bin"), os.path.join(d, f"out-{kernel}.bin")
    np.array(tokens, "<i4").tofile(tp)
    r = subprocess.run([RUNNER, model_path, tp, op, kernel], capture_output=True, text=True)
    return r, (np.fromfile(op, "<f4") if r.returncode == 0 else None)


CASES = [
    ("mha_adjacent_untied", dict()),
    ("gqa2_adjacent_tied", dict(kv_heads=2, tied=True)),
    ("gqa1_halves_bias", dict(kv_heads=1, rope="halves", bias=True)),
    ("mha_halves_bias_tied", dict(rope="halves", bias=True, tied=True, rope_base=1e6)),
    ("gqa2_head16_odd_sizes", dict(dim=48, hidden=100, heads=6, kv_heads=2, head_dim=16, vocab=70)),
]

rng = np.random.default_rng(7)
with tempfile.TemporaryDirectory() as d:
    for name, kw in CASES:
        m = ref.random_model(rng, **kw)
        path = os.path.join(d, name + ".llt")
        ref.write_container(m, path)
        tokens = list(rng.integers(0, m["vocab"], 60))  # ctx 24: the window slides at 24 and at 36, 48
        r, got = run(path, tokens, d, "sse2")
        if got is None:
            case(False, f"llama_runs_{name}", r.stderr.strip())
            continue
        got = got.reshape(len(tokens), m["vocab"]).astype(np.float64)
        want = ref.logits(m, tokens)
        err = np.abs(got - want).max() / max(1.0, np.abs(want).max())
        print(f"   {name}: max error {err:.2e} over {len(tokens)} positions ({r.stdout.strip()})")
        case(err <= TOL, f"llama_logits_match_reference_{name}", f"max error {err:.2e}")
        case("slides 3" in r.stdout, f"llama_window_slides_{name}", r.stdout.strip())
        if has_avx():
            _, avx = run(path, tokens, d, "avx")
            case(avx is not None and np.array_equal(avx, got.astype(np.float32).ravel()),
                 f"llama_sse2_and_avx_bit_identical_{name}", "the float kernels differ")
    r, _ = run(path, [0, 1, m["vocab"]], d, "sse2")
    case(r.returncode == 3 and "past the model's vocabulary" in r.stderr, "llama_token_past_vocab_refused",
         f"rc {r.returncode} {r.stderr.strip()}")
sys.exit(exit_code())
