"""The AArch64 build of the core (NEON) against the x86-64 one (SSE2, AVX), bit for bit, under qemu-user.

build/aarch64/efichat-cli is the host CLI cross-compiled (mk/aarch64.mk) and run with qemu-aarch64. Checked:
- the AArch64 core objects (CLI and UEFI builds) hold no fused multiply-add (fmadd/fmla...): one would round
  differently from SSE2;
- expf, tanh, sqrt, float->int rounding, min/max, horizontal sums and the kernels over a sweep of inputs
  (tests/core/vec4_dump.c) give the same bits on both CPUs, except a NaN the arithmetic creates (inf - inf), whose
  sign differs (x86's default NaN is 0xFFC00000, AArch64's 0x7FC00000): the model never makes one;
- random-model and quantize write the same bytes; logits (step and batch feeding, 1 and 2 threads) of random models
  and of the committed models/shakespeare.bin are equal for the float kernels (NEON vs SSE2 and AVX) and for q8
  (NEON integer paths, plain and SDOT, vs SSE2 and AVX2), on float (version 1) and int8 (version 2) files; SDOT is
  picked from ID_AA64ISAR0_EL1 (on under -cpu max, off and refused on a Cortex-A53);
- logits of the GPT and the Llama family against the numpy float64 references directly (1e-4);
- greedy generation equals tests/golden/greedy_200.txt and the x86 CLI's text for the default model;
- the Llama family (a random llama2.c file): float and q8 logits equal on both CPUs;
- the host unit tests (tests/unit/, but test_sampler: ~230 s emulated) pass when built for AArch64, UBSan trapping.
Skipped (one SKIP line) only when the cross tools or qemu-aarch64 are absent: `make deps` installs both.
"""
import glob, os, shutil, subprocess, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import CLI, ROOT, case, exit_code  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"))
AA64 = os.path.join(BUILD, "aarch64")
QEMU = shutil.which("qemu-aarch64")
OBJDUMP = shutil.which("aarch64-linux-gnu-objdump")
GOLDEN = os.path.join(ROOT, "tests", "golden", "greedy_200.txt")
SHAKESPEARE = os.path.join(ROOT, "models", "shakespeare.bin")
TEXT = (b"First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        b"First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n")
FUSED = ("fmadd", "fmsub", "fnmadd", "fnmsub", "fmla", "fmls")


def x86(*args):
    return subprocess.run([CLI] + list(args), check=True, capture_output=True).stdout


def arm(*args):
    return subprocess.run([QEMU, os.path.join(AA64, "efichat-cli")] + list(args), check=True,
                          capture_output=True).stdout


def logits(run, d, model, mode, kernel=None, threads=None):
    out = os.path.join(d, "l.f32")
    extra = (["--kernel", kernel] if kernel else []) + (["--threads", str(threads)] if threads else [])
    run("logits", "--model", model, "--text-file", os.path.join(d, "t.txt"), "--out", out, "--mode", mode, *extra)
    return np.fromfile(out, dtype=np.uint32)


def same_bits(name, a, b):
    n = int(np.argmax(a != b)) if a.shape == b.shape and (a != b).any() else -1
    case(a.shape == b.shape and n < 0, name,
         f"shapes {a.shape} vs {b.shape}" if a.shape != b.shape else f"first difference at float {n}")


def check_math():
    bad = []
    objs = sorted(glob.glob(os.path.join(AA64, "core", "*.o")) + glob.glob(os.path.join(AA64, "efi", "core", "*.o")))
    for o in objs:
        dis = subprocess.run([OBJDUMP, "-d", o], check=True, capture_output=True, text=True).stdout
        bad += [f"{os.path.basename(o)}: {ln.strip()}" for ln in dis.splitlines()
                if any(f"\t{f}\t" in ln or f"\t{f} " in ln for f in FUSED)]
    case(len(objs) >= 7 and not bad, "aarch64_core_has_no_fused_multiply_add",  # the CLI's core and the UEFI app's
         "; ".join(bad[:3]) or f"only {len(objs)} objects")
    with tempfile.TemporaryDirectory() as d:
        xa, aa = os.path.join(d, "x"), os.path.join(d, "a")
        subprocess.run([os.path.join(AA64, "vec4-dump-x86"), xa], check=True)
        subprocess.run([QEMU, os.path.join(AA64, "vec4-dump"), aa], check=True)
        x, a = np.fromfile(xa, dtype=np.uint32), np.fromfile(aa, dtype=np.uint32)
        fresh_nan = (x == 0xFFC00000) & (a == 0x7FC00000)
        diff = (x != a) & ~fresh_nan if x.shape == a.shape else np.ones(1, bool)
        print(f"   vec4 sweep: {x.size} words, {int(fresh_nan.sum())} fresh NaNs differ only by sign")
        case(x.size > 1000000 and not diff.any(), "aarch64_math_sweep_bit_identical",
             f"{int(diff.sum())} words differ, first at {int(np.argmax(diff))}")


def check_units():
    """tests/unit/ built for AArch64 (mk/aarch64.mk, UBSan trapping): their PASS/FAIL lines, renamed."""
    progs = sorted(glob.glob(os.path.join(AA64, "tests", "test_*")))
    case(len(progs) >= 3, "aarch64_unit_programs_built", f"only {progs}")
    for prog in progs:
        name = os.path.basename(prog)
        r = subprocess.run([QEMU, prog], capture_output=True, text=True, errors="replace")
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("PASS:", "FAIL:"))]
        for ln in lines:
            kind, rest = ln.split(":", 1)
            rest = rest.strip().split(":", 1)
            case(kind == "PASS", f"aarch64_unit_{name}_{rest[0]}", rest[1].strip() if len(rest) > 1 else "")
        if r.returncode != 0 and not any(ln.startswith("FAIL:") for ln in lines):
            case(False, f"aarch64_unit_{name}", f"exited with status {r.returncode} (a UBSan trap is SIGILL)")


def check_model(d, name, model, threads=True):
    """Float and q8 logits of one model file, every path on both CPUs."""
    for mode in ("step", "batch"):
        a = logits(arm, d, model, mode, "neon")
        same_bits(f"aarch64_neon_eq_x86_sse2_{mode}_{name}", a, logits(x86, d, model, mode, "sse2"))
        same_bits(f"aarch64_neon_eq_x86_best_{mode}_{name}", a, logits(x86, d, model, mode))  # AVX where it runs
        q = logits(arm, d, model, mode, "q8")
        same_bits(f"aarch64_q8_eq_x86_q8_{mode}_{name}", q, logits(x86, d, model, mode, "q8"))
        same_bits(f"aarch64_q8_eq_x86_q8_sse2_{mode}_{name}", q, logits(x86, d, model, mode, "q8-sse2"))
        for path in ("q8-neon", "q8-dot"):  # -cpu max has SDOT, so q8 alone already took q8-dot
            same_bits(f"aarch64_{path}_eq_x86_q8_{mode}_{name}", logits(arm, d, model, mode, path), q)
    if threads:
        same_bits(f"aarch64_two_threads_eq_one_{name}", logits(arm, d, model, "batch", "neon", 2),
                  logits(arm, d, model, "batch", "neon", 1))


def check_llama(d):
    """The Llama family (llama2.c file from tools/llama2c_random.py, dim 36: head size 12, odd hidden size): its
    logits for token ids, float and q8, on both CPUs."""
    out = os.path.join(d, "llama")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "llama2c_random.py"), "--dim", "36", "--layers", "2",
                    "--heads", "3", "--ctx", "32", "--out", out], check=True)
    model, ids = os.path.join(out, "model.bin"), os.path.join(d, "ids.i32")
    np.frombuffer(TEXT[:40], dtype=np.uint8).astype("<i4").tofile(ids)   # 40 tokens: the window slides at 32

    def run(cli, kernel):
        o = os.path.join(d, "ll.f32")
        cli("llama-logits", "--model", model, "--tokens-file", ids, "--out", o, "--kernel", kernel)
        return np.fromfile(o, dtype=np.uint32)
    a = run(arm, "neon")
    same_bits("aarch64_llama_neon_eq_x86_sse2", a, run(x86, "sse2"))
    if subprocess.run([CLI, "llama-logits", "--model", model, "--tokens-file", ids, "--out", os.devnull, "--kernel",
                       "avx"], capture_output=True).returncode == 0:
        same_bits("aarch64_llama_neon_eq_x86_avx", a, run(x86, "avx"))
    q = run(arm, "q8")
    same_bits("aarch64_llama_q8_eq_x86_q8", q, run(x86, "q8"))
    same_bits("aarch64_llama_q8_eq_x86_q8_sse2", q, run(x86, "q8-sse2"))
    case(not np.array_equal(q, a), "aarch64_llama_q8_is_really_quantised", "q8 logits equal float logits")


def check_reference(d):
    """The AArch64 CLI against the float64 numpy references directly (not only through x86): the GPT family
    (tools/reference.py) past its context, and the Llama family (tools/llama_reference.py) on a GQA model with q/k/v
    biases and half-offset rotary pairs; max |arm - reference| <= 1e-4 as in test_parity.py / test_llama.py."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import reference, llama_reference
    model, text = os.path.join(d, "ref.bin"), os.path.join(d, "t.txt")
    subprocess.run([CLI, "random-model", "--out", model, "--dim", "36", "--layers", "2", "--heads", "3", "--ctx", "24",
                    "--hidden", "100", "--seed", "11"], check=True)
    open(text, "wb").write(TEXT[:60])
    cfg, t = reference.load(model)
    ref = reference.logits_with_overflow(cfg, t, list(TEXT[:60]))
    got = logits(arm, d, model, "step", "neon").view(np.float32).reshape(ref.shape)
    diff = np.abs(got - ref).max()
    case(diff <= 1e-4, "aarch64_gpt_logits_match_numpy_reference", f"max abs diff {diff:.3g}")
    m = llama_reference.random_model(np.random.default_rng(3), kv_heads=2, rope="halves", bias=True)
    path, ids, out = os.path.join(d, "l.llt"), os.path.join(d, "l.ids"), os.path.join(d, "l.f32")
    llama_reference.write_container(m, path)
    tokens = list(range(0, 60, 2))
    np.array(tokens, "<i4").tofile(ids)
    runner = os.path.join(AA64, "tests", "llama-logits")
    r = subprocess.run([QEMU, runner, path, ids, out, "neon"], capture_output=True, text=True)
    if r.returncode:
        case(False, "aarch64_llama_logits_match_numpy_reference", r.stderr[-300:])
        return
    want = llama_reference.logits(m, tokens)
    err = np.abs(np.fromfile(out, "<f4").reshape(want.shape) - want).max() / max(1.0, np.abs(want).max())
    case(err <= 1e-4, "aarch64_llama_logits_match_numpy_reference", f"max error {err:.3g}")


def check_dot_detection(d):
    """Q8's SDOT path is chosen from ID_AA64ISAR0_EL1: on by default under -cpu max, off (and refused) on a
    Cortex-A53, which has no dot product; both give the x86 bits."""
    model = os.path.join(d, "m36.bin")
    subprocess.run([CLI, "random-model", "--out", model, "--dim", "36", "--layers", "2", "--heads", "3", "--ctx", "32",
                    "--seed", "4"], check=True)
    cli = os.path.join(AA64, "efichat-cli")

    def bench(cpu, kernel):
        return subprocess.run([QEMU, "-cpu", cpu, cli, "bench", "--model", model, "--seconds", "0.05", "--kernel",
                               kernel], capture_output=True, text=True)
    r = bench("max", "q8")
    case("q8 (neon-dot)" in r.stdout, "aarch64_q8_picks_sdot_on_cpu_max", r.stdout[:200] + r.stderr[-200:])
    r = bench("cortex-a53", "q8")
    case("q8 (neon)" in r.stdout, "aarch64_q8_plain_neon_on_cortex_a53", r.stdout[:200] + r.stderr[-200:])
    r = bench("cortex-a53", "q8-dot")
    case(r.returncode != 0 and "q8-dot" in r.stderr, "aarch64_q8_dot_refused_without_sdot", r.stderr[-200:])


def main():
    if not QEMU or not OBJDUMP:
        why = "qemu-aarch64 (qemu-user)" if not QEMU else "aarch64-linux-gnu-objdump (gcc-aarch64-linux-gnu)"
        print(f"SKIP: aarch64: {why} is not installed; `make deps` installs it")
        return 0
    need = [p for p in (os.path.join(AA64, "efichat-cli"), os.path.join(AA64, "vec4-dump"),
                        os.path.join(AA64, "vec4-dump-x86")) if not os.path.exists(p)]
    if need:   # the tools are there, so a missing build is a failure, not a skip
        case(False, "aarch64_built", "missing " + ", ".join(need) + " (make test-build)")
        return exit_code()
    check_math()
    check_units()
    with tempfile.TemporaryDirectory() as d:
        check_dot_detection(d)
        check_reference(d)
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "t.txt"), "wb").write(TEXT)
        for name, dim, layers, heads, ctx, hidden, seed in [("c32", 32, 2, 4, 32, 128, 7),
                                                             ("c36odd", 36, 3, 3, 24, 100, 8),
                                                             ("c100", 100, 2, 5, 48, 300, 5)]:
            rx, ra = os.path.join(d, name + ".bin"), os.path.join(d, name + "-arm.bin")
            args = ["--dim", str(dim), "--layers", str(layers), "--heads", str(heads), "--ctx", str(ctx),
                    "--hidden", str(hidden), "--seed", str(seed)]
            x86("random-model", "--out", rx, *args)
            arm("random-model", "--out", ra, *args)
            case(open(rx, "rb").read() == open(ra, "rb").read(), f"aarch64_random_model_same_bytes_{name}")
            check_model(d, name, rx, threads=name == "c32")
        # the default model: float file, its int8 file (written by each CPU: the same bytes), greedy text
        if os.path.exists(SHAKESPEARE):
            open(os.path.join(d, "t.txt"), "wb").write(TEXT[:48])
            check_model(d, "shakespeare", SHAKESPEARE, threads=False)
            qx, qa = os.path.join(d, "q-x86.bin"), os.path.join(d, "q-arm.bin")
            x86("quantize", "--in", SHAKESPEARE, "--out", qx)
            arm("quantize", "--in", SHAKESPEARE, "--out", qa)
            case(open(qx, "rb").read() == open(qa, "rb").read(), "aarch64_quantize_same_bytes_shakespeare")
            same_bits("aarch64_q8_eq_x86_q8_step_shakespeare_int8", logits(arm, d, qa, "step", "q8"),
                      logits(x86, d, qx, "step", "q8"))
            gen = ["generate", "--model", SHAKESPEARE, "--prompt", "ROMEO:", "--max", "120", "--temp", "0"]
            case(arm(*gen) == x86(*gen, "--kernel", "sse2"), "aarch64_greedy_text_eq_x86_shakespeare")
            case(arm(*gen, "--kernel", "q8") == x86(*gen, "--kernel", "q8"),
                 "aarch64_greedy_text_eq_x86_q8_shakespeare")
        else:
            print("   models/shakespeare.bin is not committed here: its checks are left out")
        check_llama(d)
        g = os.path.join(d, "g.bin")
        arm("random-model", "--out", g, "--dim", "48", "--layers", "2", "--heads", "4", "--ctx", "64", "--seed", "42")
        want = open(GOLDEN, "rb").read()
        for kern in ([], ["--kernel", "neon"]):
            got = arm("generate", "--model", g, "--prompt", "ROMEO:", "--max", "200", "--temp", "0", *kern)
            case(got == want, "aarch64_greedy_golden_200" + ("_neon" if kern else ""), "differs from the golden")
    return exit_code()


if __name__ == "__main__":
    sys.exit(main())
