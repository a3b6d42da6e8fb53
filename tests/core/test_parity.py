"""Core vs the numpy float64 reference (tools/reference.py), logits at every position.

Three random models (one with dims that are not powers of two and a head size that is not a multiple of 8), a byte
sequence 2.5x longer than the context so the sliding window is exercised: step-by-step decode and batched prefill.
Tolerance: max |core - reference| <= 1e-4. Why: logits here are O(1-10); float32 accumulation over at most a few
hundred terms per dot product leaves errors around 1e-6..1e-5, so 1e-4 catches any real bug (a wrong mask, head or
position is off by >1e-2) without flaking on rounding.
Also: step-by-step decode with the KV cache equals one batched feed (full recomputation of the window) to 1e-5.
"""
import os, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import ROOT, case, exit_code, logits, random_model  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))
import reference  # noqa: E402

TOL = 1e-4
CONFIGS = [  # name, dim, layers, heads, ctx, hidden
    ("c32", 32, 2, 4, 32, 128),
    ("c36odd", 36, 3, 3, 24, 100),
    ("c64", 64, 1, 2, 48, 256),
]
TEXT = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        b"First Citizen:\nYou are all resolved rather to die than to famish?\n")

with tempfile.TemporaryDirectory() as d:
    for i, (name, dim, layers, heads, ctx, hidden) in enumerate(CONFIGS):
        model = os.path.join(d, name + ".bin")
        random_model(model, dim, layers, heads, ctx, hidden, seed=7 + i)
        n = int(ctx * 2.5)
        text = os.path.join(d, name + ".txt")
        open(text, "wb").write(TEXT[:n])
        cfg, t = reference.load(model)
        ref = reference.logits_with_overflow(cfg, t, list(TEXT[:n]))
        step = logits(model, text, os.path.join(d, "s.f32"), "step")
        diff = np.abs(step - ref).max()
        case(diff <= TOL, f"parity_step_{name}_{n}_tokens_ctx{ctx}", f"max abs diff {diff:.3g} > {TOL}")
        print(f"   {name}: step max abs diff {diff:.3g} over {n} positions (ctx {ctx})")
        # batched prefill of one full window vs the reference (no overflow within one window)
        open(text, "wb").write(TEXT[:ctx])
        batch = logits(model, text, os.path.join(d, "b.f32"), "batch")
        diff = np.abs(batch - ref[:ctx]).max()
        case(diff <= TOL, f"parity_batch_{name}", f"max abs diff {diff:.3g} > {TOL}")
        stepw = step[:ctx]
        diff = np.abs(batch - stepw).max()
        case(diff <= 1e-5, f"kv_cache_decode_equals_full_recompute_{name}", f"max abs diff {diff:.3g}")
        # the overflow path in one batched call too (chunks cross the window boundary)
        open(text, "wb").write(TEXT[:n])
        batch_all = logits(model, text, os.path.join(d, "b2.f32"), "batch")
        diff = np.abs(batch_all - ref).max()
        case(diff <= TOL, f"parity_batch_overflow_{name}", f"max abs diff {diff:.3g} > {TOL}")
        # every kernel computes the same bits (SSE2 is what QEMU runs; the host may pick AVX)
        sse = logits(model, text, os.path.join(d, "k.f32"), "batch", "sse2")
        same = np.array_equal(sse, batch_all)
        case(same, f"sse2_kernel_bit_identical_to_default_{name}",
               f"{int((sse != batch_all).sum())} logits differ")

sys.exit(exit_code())
