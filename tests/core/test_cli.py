"""efichat-cli: every command on a random model, and bad arguments or files -> one line on stderr, exit status 2."""
import math, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import CLI, ROOT, case, exit_code  # noqa: E402


def run(*args):
    """Runs efichat-cli; a hang (past 60 s) comes back as status -9."""
    try:
        return subprocess.run([CLI] + list(args), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -9, b"", b"timed out after 60 s")


with tempfile.TemporaryDirectory() as d:
    model = os.path.join(d, "m.bin")
    r = run("random-model", "--out", model, "--dim", "32", "--layers", "2", "--heads", "2", "--ctx", "32")
    case(r.returncode == 0 and os.path.getsize(model) > 128, "random_model_writes_a_file", r.stderr.decode())

    r = run("info", "--model", model)
    out = r.stdout.decode()
    case(r.returncode == 0 and "dim 32" in out and "parameters 34688" in out, "info_prints_config", out)

    r = run("generate", "--model", model, "--prompt", "Hello", "--max", "50", "--temp", "0.8", "--seed", "3")
    r2 = run("generate", "--model", model, "--prompt", "Hello", "--max", "50", "--temp", "0.8", "--seed", "3")
    r3 = run("generate", "--model", model, "--prompt", "Hello", "--max", "50", "--temp", "0.8", "--seed", "4")
    case(r.returncode == 0 and len(r.stdout) == 50 and r.stdout == r2.stdout and r.stdout != r3.stdout,
         "generate_streams_max_bytes_reproducibly_by_seed", repr(r.stdout[:20]))
    long_prompt = "x" * 500  # 15x the context: must slide, not fail
    r = run("generate", "--model", model, "--prompt", long_prompt, "--max", "10", "--temp", "0")
    case(r.returncode == 0 and len(r.stdout) == 10, "overlong_prompt_slides", r.stderr.decode())

    data = os.path.join(d, "data.txt")
    text = (b"ROMEO:\nBut, soft! what light through yonder window breaks?\n\n" * 40)[:2000]
    open(data, "wb").write(text)
    r = run("eval", "--model", model, "--data", data, "--split", "val")
    out = r.stdout.decode().split()
    # val = last 10% = 200 bytes -> 199 predicted bytes (the first has no history)
    ok = r.returncode == 0 and out[0] == "loss" and out[2] == "nats/byte" and out[4] == "199"
    loss = float(out[1]) if ok else 0
    case(ok and 0 < loss < 20 and math.isfinite(loss), "eval_val_scores_each_byte_once", r.stdout.decode())
    r = run("eval", "--model", model, "--data", data, "--split", "train")
    case(r.returncode == 0 and " 1799 bytes" in r.stdout.decode(), "eval_train_split_is_first_90_percent",
         r.stdout.decode())
    r = run("eval", "--model", model, "--data", data, "--split", "all")
    r2 = run("eval", "--model", model, "--data", data, "--split", "all")
    case(r.returncode == 0 and " 1999 bytes" in r.stdout.decode() and r.stdout == r2.stdout,
         "eval_all_is_deterministic", r.stdout.decode())
    # the same windows and targets in numpy float64 (tools/reference.py, its own reader of the file): the printed
    # loss (4 decimals) within 2e-4 of it; 2000 bytes over a 32-byte context is 11 windows of val, 112 of train
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import reference  # noqa: E402
    cfg, tens = reference.load(model)
    for split, nbytes in (("val", 199), ("train", 1799)):
        want, scored = reference.split_loss(cfg, tens, text, split)
        r = run("eval", "--model", model, "--data", data, "--split", split)
        out = r.stdout.decode().split()
        case(r.returncode == 0 and scored == nbytes and len(out) > 4 and out[4] == str(nbytes) and
             abs(float(out[1]) - want) <= 2e-4, f"eval_{split}_matches_numpy_reference",
             f"cli {r.stdout.decode().strip()} numpy {want:.6f} over {scored}")

    r = run("bench", "--model", model, "--seconds", "0.05")
    case(r.returncode == 0 and "decode" in r.stdout.decode() and "prefill" in r.stdout.decode(),
         "bench_prints_prefill_and_decode", r.stdout.decode())

    # finite weights so large that the forward pass overflows (valid CRC): stop with one line, never "loss nan"
    import struct, zlib
    huge = os.path.join(d, "huge.bin")
    b = bytearray(open(model, "rb").read())
    n = (len(b) - 128) // 4
    w = [x * 1e30 for x in struct.unpack(f"<{n}f", b[128:])]
    b[128:] = struct.pack(f"<{n}f", *w)
    b[48:52] = struct.pack("<I", zlib.crc32(b[128:]))
    open(huge, "wb").write(b)
    for cmd in (["eval", "--data", data], ["generate", "--prompt", "Hi", "--max", "5"]):
        r = run(cmd[0], "--model", huge, *cmd[1:])
        err = r.stderr.decode().strip()
        case(r.returncode == 2 and len(err.splitlines()) == 1 and "NaN or infinite logit" in err
             and b"nan" not in r.stdout.lower(), f"huge_weights_{cmd[0]}_fails_with_one_line",
             f"rc {r.returncode}, stdout {r.stdout[:80]!r}, stderr {err!r}")

    # the int8 form (format version 2): written by quantize, it runs every command the float file runs
    model8 = os.path.join(d, "m8.bin")
    r = run("quantize", "--in", model, "--out", model8)
    case(r.returncode == 0 and r.stdout == b"" and 128 < os.path.getsize(model8) < os.path.getsize(model),
         "quantize_writes_a_smaller_file", r.stderr.decode())
    r = run("info", "--model", model8)
    out = r.stdout.decode()
    case(r.returncode == 0 and "format version 2, dtype int8" in out and "parameters 34688" in out,
         "info_prints_int8_config", out)
    for kernel in ("sse2", "q8"):
        r = run("generate", "--model", model8, "--prompt", "Hello", "--max", "20", "--temp", "0", "--kernel", kernel)
        case(r.returncode == 0 and len(r.stdout) == 20, f"generate_runs_int8_model_{kernel}", r.stderr.decode())
        r = run("eval", "--model", model8, "--data", data, "--kernel", kernel)
        case(r.returncode == 0 and r.stdout.startswith(b"loss "), f"eval_runs_int8_model_{kernel}", r.stderr.decode())

    # an int8 file whose row scales are finite but huge: the same one line as the float file's huge weights
    huge8 = os.path.join(d, "huge8.bin")
    b = bytearray(open(model8, "rb").read())
    C, L, H = 32, 2, 128
    shapes = [(256 * C, 0), (32 * C, 0)] + [(C, 0), (C, 0), (3 * C, C), (3 * C, 0), (C, C), (C, 0), (C, 0), (C, 0),
                                            (H, C), (H, 0), (C, H), (C, 0)] * L + [(C, 0), (C, 0)]
    off = 128
    for rows, cols in shapes:  # every float (a matrix's row scales too) times 1e30; the int8 values stay
        fl = struct.unpack_from(f"<{rows}f", b, off)
        struct.pack_into(f"<{rows}f", b, off, *[x * 1e30 for x in fl])
        off += 4 * rows + rows * cols + (-(rows * cols)) % 4
    b[48:52] = struct.pack("<I", zlib.crc32(b[128:]))
    open(huge8, "wb").write(b)
    for cmd in (["eval", "--data", data], ["generate", "--prompt", "Hi", "--max", "5"]):
        r = run(cmd[0], "--model", huge8, *cmd[1:])
        err = r.stderr.decode().strip()
        case(off == len(b) and r.returncode == 2 and len(err.splitlines()) == 1 and "NaN or infinite logit" in err
             and b"nan" not in r.stdout.lower(), f"huge_int8_scales_{cmd[0]}_fails_with_one_line",
             f"rc {r.returncode}, stdout {r.stdout[:80]!r}, stderr {err!r}")

    # every command explains itself: --help prints its usage on stdout, exit 0, and runs nothing
    for cmd in ["generate", "eval", "bench", "info", "quantize", "random-model", "logits"]:
        r = run(cmd, "--help")
        out = r.stdout.decode()
        case(r.returncode == 0 and out.startswith(f"usage: efichat-cli {cmd} ") and r.stderr == b"",
             f"help_{cmd}", f"rc {r.returncode}, stdout {out!r}, stderr {r.stderr!r}")
    r = run("--help")
    case(r.returncode == 0 and all(c in r.stdout.decode() for c in ["generate", "logits", "quantize", "random-model"]),
         "help_lists_every_command", r.stdout.decode())

    corrupt = os.path.join(d, "bad.bin")
    b = bytearray(open(model, "rb").read())
    b[-5] ^= 0xFF
    open(corrupt, "wb").write(b)
    corrupt8 = os.path.join(d, "bad8.bin")
    b = bytearray(open(model8, "rb").read())
    b[len(b) // 2] ^= 0x01  # inside an int8 matrix
    open(corrupt8, "wb").write(b)
    empty = os.path.join(d, "empty.txt")
    open(empty, "wb").close()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)  # no writer ever opens it: reading it would block forever
    bad = [
        ("no_command", []),
        ("unknown_command", ["frobnicate"]),
        ("unknown_option", ["generate", "--model", model, "--prompt", "a", "--bogus", "1"]),
        ("missing_value", ["generate", "--model", model, "--prompt"]),
        ("missing_model", ["generate", "--prompt", "a"]),
        ("model_not_found", ["info", "--model", os.path.join(d, "nope.bin")]),
        ("corrupt_model", ["generate", "--model", corrupt, "--prompt", "a"]),
        ("corrupt_int8_model", ["generate", "--model", corrupt8, "--prompt", "a"]),
        ("quantize_corrupt_model", ["quantize", "--in", corrupt, "--out", os.path.join(d, "q.bin")]),
        ("quantize_int8_model", ["quantize", "--in", model8, "--out", os.path.join(d, "q.bin")]),
        ("quantize_without_out", ["quantize", "--in", model]),
        ("temp_not_a_number", ["generate", "--model", model, "--prompt", "a", "--temp", "hot"]),
        ("topp_out_of_range", ["generate", "--model", model, "--prompt", "a", "--top-p", "1.5"]),
        ("bad_split", ["eval", "--model", model, "--data", data, "--split", "test"]),
        ("empty_data", ["eval", "--model", model, "--data", empty]),
        ("stray_argument", ["info", "model.bin"]),
        ("directory_as_data", ["eval", "--model", model, "--data", d]),
        ("fifo_as_data", ["eval", "--model", model, "--data", fifo]),
        ("directory_as_model", ["info", "--model", d]),
        ("fifo_as_model", ["info", "--model", fifo]),
    ]
    for name, args in bad:
        r = run(*args)
        err = r.stderr.decode().strip()
        case(r.returncode == 2 and err and r.stdout == b"" and (name == "no_command" or len(err.splitlines()) == 1),
             "bad_input_" + name, f"rc {r.returncode}, stderr {err!r}")
        if name in ("corrupt_model", "corrupt_int8_model", "quantize_corrupt_model"):
            case("checksum" in err, f"{name}_error_names_the_problem", err)
        if name.startswith(("directory_", "fifo_")):
            case("not a regular file" in err, f"{name}_error_names_the_problem", err)

sys.exit(exit_code())
