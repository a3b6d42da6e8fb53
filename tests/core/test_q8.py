"""The Q8 kernel (per-row int8 weights, int8 activations, exact integer sums) against the float kernel.

Q8 trades a little accuracy for speed under QEMU's software CPU, so it is checked by how much the next-byte
distribution moves, not by bits: mean KL(float || q8) <= 0.005 nats per position (measured ~0.0002-0.0012 on
random models) and the greedy choice agrees on >= 90% of positions. Q8's own results must be exactly reproducible:
one batched feed equals one-token-at-a-time feeding bit for bit, across the sliding window too, and every integer
path this CPU has (SSE2, AVX2, AVX-512 VNNI) gives the same bits (exact integer sums).
"""
import os, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import case, exit_code, logits, q8_kernels, random_model  # noqa: E402

TEXT = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        b"First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")


def log_softmax(x):
    x = x - x.max(1, keepdims=True)
    return x - np.log(np.exp(x).sum(1, keepdims=True))


with tempfile.TemporaryDirectory() as d:
    text = os.path.join(d, "t.txt")
    open(text, "wb").write(TEXT)
    for name, dim, layers, heads, ctx, hidden in [("c64", 64, 2, 4, 64, 256), ("c100", 100, 2, 5, 48, 300)]:
        model = os.path.join(d, name + ".bin")
        random_model(model, dim, layers, heads, ctx, hidden, seed=5)
        f = logits(model, text, os.path.join(d, "f"), "batch")
        q = logits(model, text, os.path.join(d, "q"), "batch", "q8")
        qs = logits(model, text, os.path.join(d, "qs"), "step", "q8")
        lf, lq = log_softmax(f), log_softmax(q)
        kl = (np.exp(lf) * (lf - lq)).sum(1).mean()
        agree = (f.argmax(1) == q.argmax(1)).mean()
        print(f"   {name}: mean KL {kl:.5f} nats, greedy agreement {agree:.3f} over {len(f)} positions")
        case(kl <= 0.005, f"q8_close_to_float_kl_{name}", f"mean KL {kl:.5f}")
        case(agree >= 0.9, f"q8_greedy_agrees_{name}", f"agreement {agree:.3f}")
        case(np.array_equal(q, qs), f"q8_step_equals_batch_bitwise_{name}", "step and batch feeds differ")
        case(not np.array_equal(q, f), f"q8_is_really_quantised_{name}", "q8 logits equal float logits")
        for k in q8_kernels():
            q2 = logits(model, text, os.path.join(d, "q2"), "batch", k)
            case(np.array_equal(q, q2), f"q8_best_path_equals_{k}_bitwise_{name}", "the integer paths differ")

sys.exit(exit_code())
