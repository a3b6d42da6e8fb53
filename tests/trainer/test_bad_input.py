#!/usr/bin/env python3
"""test_bad_input.py - build/train refuses bad input with a clear message on stderr, exit status 1, and leaves
every output file (model, checkpoint, CSV) exactly as it was: missing, empty, too-short data or data that is not a
regular file (a directory; a FIFO, which must not block); corrupt, truncated,
foreign or mismatched checkpoints; checkpoints of the old format (version 1); header fields changed without the CRC
(the CRC covers the header); values no run can resume from under a valid CRC (RNG state 0, best val -1 or NaN,
dropout 1 or NaN, select frac 1 or NaN, a NaN parameter or moment); impossible dimensions; a dropout probability
outside [0, 1); a --select-frac outside [0, 1) or one that leaves the slice or the bytes to train on shorter than a
window; a resume with another --select-frac than the checkpoint's, or whose --out is not the model it selected."""
import os, shutil, struct, sys, tempfile, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TINY, Report, need_train, read, train, write_corpus

rep = Report()
need_train(rep)


with tempfile.TemporaryDirectory() as tmp:
    p = lambda n: os.path.join(tmp, n)
    write_corpus(p("d.txt"))
    open(p("empty.txt"), "wb").close()
    with open(p("short.txt"), "wb") as f:
        f.write(b"x" * 100)  # 90 train / 10 val bytes: the val split cannot hold ctx+1 = 17
    base = ["--steps", 4, "--eval-every", 2, "--eval-batches", 1, *TINY]
    r = train("--data", p("d.txt"), "--out", p("good.bin"), "--checkpoint", p("good.ck"), *base)
    rep.case(r.returncode == 0, "bad-input-setup-good-run", r.stderr)
    r = train("--data", p("d.txt"), "--out", p("sel.bin"), "--checkpoint", p("sel.ck"), *base, "--select-frac", 0.25)
    rep.case(r.returncode == 0, "bad-input-setup-select-run", r.stderr)
    good_ck = read(p("good.ck"))

    def corrupt(name, fn):
        b = bytearray(good_ck)
        fn(b)
        with open(p(name), "wb") as f:
            f.write(bytes(b))
        return p(name)

    flipped = corrupt("flip.ck", lambda b: b.__setitem__(len(b) // 2, b[len(b) // 2] ^ 0x40))
    truncated = corrupt("trunc.ck", lambda b: b.__delitem__(slice(len(b) - 100, None)))
    magic = corrupt("magic.ck", lambda b: b.__setitem__(0, ord("X")))
    version = corrupt("version.ck", lambda b: b.__setitem__(4, 9))
    def resealed(name, fn):
        """A checkpoint changed by fn with its CRC made valid again: header (CRC field as zero), then payload."""
        def change(b):
            fn(b)
            b[72:76] = b"\0\0\0\0"
            b[72:76] = struct.pack("<I", zlib.crc32(bytes(b)))
        return corrupt(name, change)

    nparams = struct.unpack_from("<Q", good_ck, 64)[0]
    hdr = 256
    # header fields changed, CRC left as written: the CRC now covers them
    step_changed = corrupt("step.ck", lambda b: struct.pack_into("<Q", b, 40, 3))
    rng_changed = corrupt("rng.ck", lambda b: struct.pack_into("<Q", b, 48, 0))
    seed_changed = corrupt("seed.ck", lambda b: struct.pack_into("<Q", b, 56, 7))
    best_changed = corrupt("best.ck", lambda b: struct.pack_into("<f", b, 80, -1.0))
    dropout_changed = corrupt("dropout.ck", lambda b: struct.pack_into("<f", b, 84, 0.5))
    select_changed = corrupt("select.ck", lambda b: struct.pack_into("<f", b, 88, 0.25))
    # the old format: its header was outside the CRC
    v1 = corrupt("v1.ck", lambda b: struct.pack_into("<I", b, 4, 1))
    # valid CRC, values no run can continue from
    rng_zero = resealed("rng0.ck", lambda b: struct.pack_into("<Q", b, 48, 0))
    best_negative = resealed("bestneg.ck", lambda b: struct.pack_into("<f", b, 80, -1.0))
    best_nan = resealed("bestnan.ck", lambda b: struct.pack_into("<f", b, 80, float("nan")))
    dropout_one = resealed("dropout1.ck", lambda b: struct.pack_into("<f", b, 84, 1.0))
    dropout_nan = resealed("dropoutnan.ck", lambda b: struct.pack_into("<f", b, 84, float("nan")))
    select_one = resealed("select1.ck", lambda b: struct.pack_into("<f", b, 88, 1.0))
    select_nan = resealed("selectnan.ck", lambda b: struct.pack_into("<f", b, 88, float("nan")))
    nan_param = resealed("nanparam.ck", lambda b: struct.pack_into("<f", b, hdr + 4 * 5, float("nan")))
    inf_param = resealed("infparam.ck", lambda b: struct.pack_into("<f", b, hdr + 4 * (nparams - 1), float("inf")))
    nan_moment = resealed("nanm.ck", lambda b: struct.pack_into("<f", b, hdr + 4 * (nparams + 3), float("nan")))
    neg_v = resealed("negv.ck", lambda b: struct.pack_into("<f", b, hdr + 4 * (2 * nparams + 3), -1.0))
    more = ["--steps", "6"]  # past the checkpoint's 4 steps, so a checkpoint that is let through trains on
    same = resealed("same.ck", lambda b: None)  # resealing alone changes nothing: the helper itself is right
    with open(p("tiny.ck"), "wb") as f:
        f.write(b"EFCK")
    os.mkfifo(p("fifo"))  # no writer ever opens it: reading it would block forever

    cases = [  # name, args, a phrase the message must contain
        ("missing-data", ["--data", p("nope.txt")], "cannot open data file"),
        ("empty-data", ["--data", p("empty.txt")], "is empty"),
        ("too-short-data", ["--data", p("short.txt")], "too short"),
        ("directory-as-data", ["--data", tmp], "not a regular file"),
        ("fifo-as-data", ["--data", p("fifo")], "not a regular file"),
        ("corrupt-checkpoint", ["--data", p("d.txt"), "--resume", flipped], "corrupt"),
        ("truncated-checkpoint", ["--data", p("d.txt"), "--resume", truncated], "truncated"),
        ("foreign-file-as-checkpoint", ["--data", p("d.txt"), "--resume", magic], "not an efichat"),
        ("header-only-checkpoint", ["--data", p("d.txt"), "--resume", p("tiny.ck")], "not an efichat"),
        ("newer-checkpoint-version", ["--data", p("d.txt"), "--resume", version], "version"),
        ("missing-checkpoint", ["--data", p("d.txt"), "--resume", p("none.ck")], "cannot open checkpoint"),
        ("checkpoint-step-outside-crc", ["--data", p("d.txt"), "--resume", step_changed, *more], "corrupt"),
        ("checkpoint-rng-outside-crc", ["--data", p("d.txt"), "--resume", rng_changed, *more], "corrupt"),
        ("checkpoint-seed-outside-crc", ["--data", p("d.txt"), "--resume", seed_changed, *more], "corrupt"),
        ("checkpoint-best-val-outside-crc", ["--data", p("d.txt"), "--resume", best_changed, *more], "corrupt"),
        ("checkpoint-dropout-outside-crc", ["--data", p("d.txt"), "--resume", dropout_changed, *more], "corrupt"),
        ("checkpoint-select-frac-outside-crc", ["--data", p("d.txt"), "--resume", select_changed, *more], "corrupt"),
        ("checkpoint-version-1", ["--data", p("d.txt"), "--resume", v1, *more], "version 1"),
        ("checkpoint-rng-zero", ["--data", p("d.txt"), "--resume", rng_zero, *more], "RNG state is 0"),
        ("checkpoint-best-val-negative", ["--data", p("d.txt"), "--resume", best_negative, *more], "best val"),
        ("checkpoint-best-val-nan", ["--data", p("d.txt"), "--resume", best_nan, *more], "best val"),
        ("checkpoint-dropout-one", ["--data", p("d.txt"), "--resume", dropout_one, *more], "dropout"),
        ("checkpoint-dropout-nan", ["--data", p("d.txt"), "--resume", dropout_nan, *more], "dropout"),
        ("checkpoint-select-frac-one", ["--data", p("d.txt"), "--resume", select_one, *more], "select frac"),
        ("checkpoint-select-frac-nan", ["--data", p("d.txt"), "--resume", select_nan, *more], "select frac"),
        ("checkpoint-nan-parameter", ["--data", p("d.txt"), "--resume", nan_param, *more], "parameter is NaN"),
        ("checkpoint-inf-parameter", ["--data", p("d.txt"), "--resume", inf_param, *more], "parameter is NaN or infinite"),
        ("checkpoint-nan-moment", ["--data", p("d.txt"), "--resume", nan_moment, *more], "moment"),
        ("checkpoint-negative-second-moment", ["--data", p("d.txt"), "--resume", neg_v, *more], "moment"),
        ("mismatched-checkpoint-dim", ["--data", p("d.txt"), "--resume", p("good.ck"), "--dim", "48"], "dim"),
        ("mismatched-checkpoint-batch", ["--data", p("d.txt"), "--resume", p("good.ck"), "--batch", "3"], "batch"),
        ("heads-not-dividing-dim", ["--data", p("d.txt"), "--heads", "3"], "heads"),
        ("zero-layers", ["--data", p("d.txt"), "--layers", "0"], "--layers"),
        ("ctx-over-limit", ["--data", p("d.txt"), "--ctx", "9000"], "--ctx"),
        ("non-numeric-dim", ["--data", p("d.txt"), "--dim", "big"], "--dim"),
        ("unknown-option", ["--data", p("d.txt"), "--dimm", "8"], "unknown option"),
        ("dropout-one", ["--data", p("d.txt"), "--dropout", "1"], "--dropout wants a probability in [0, 1)"),
        ("dropout-negative", ["--data", p("d.txt"), "--dropout", "-0.1"], "--dropout"),
        ("dropout-not-a-number", ["--data", p("d.txt"), "--dropout", "nan"], "--dropout"),
        ("select-frac-one", ["--data", p("d.txt"), "--select-frac", "1"],
         "--select-frac wants a fraction of the train split in [0, 1)"),
        ("select-frac-negative", ["--data", p("d.txt"), "--select-frac", "-0.1"], "--select-frac"),
        ("select-frac-not-a-number", ["--data", p("d.txt"), "--select-frac", "nan"], "--select-frac"),
        ("select-slice-too-short", ["--data", p("d.txt"), "--select-frac", "0.001"], "to select on"),
        ("select-leaves-too-little-to-train", ["--data", p("d.txt"), "--select-frac", "0.999"], "to train on"),
        ("resume-select-with-f0-checkpoint", ["--data", p("d.txt"), "--resume", p("good.ck"), "--select-frac",
                                              "0.25", *more], "held out --select-frac 0, this run asks for 0.25"),
        ("resume-f0-with-select-checkpoint", ["--data", p("d.txt"), "--resume", p("sel.ck"), *more],
         "held out --select-frac 0.25, this run asks for 0"),
        ("resume-select-out-not-a-model", ["--data", p("d.txt"), "--resume", p("sel.ck"), "--select-frac", "0.25",
                                           *more], "is not a model file of this run's shape"),
        ("missing-out", ["--data", p("d.txt"), "--no-out"], "--out"),
    ]
    rep.case(read(same) == good_ck, "bad-input-reseal-helper-is-exact", "resealing changed the checkpoint")
    for name, args, phrase in cases:
        # existing outputs that a failed run must not touch
        for f, content in (("out.bin", b"old model"), ("out.ck", b"old checkpoint"), ("out.csv", b"old csv")):
            with open(p(f), "wb") as fh:
                fh.write(content)
        outs = ["--checkpoint", p("out.ck"), "--csv", p("out.csv")]
        if "--no-out" in args:
            args = [a for a in args if a != "--no-out"]
        else:
            outs += ["--out", p("out.bin")]
        if "--resume" in args:  # resuming writes to the checkpoint it read from: it must survive a refusal too
            outs[1] = args[args.index("--resume") + 1]
            before = read(outs[1]) if os.path.exists(outs[1]) else None
        # options after the case's own: the last value of a repeated option wins, so put the case last
        r = train(*base, *outs, *args, timeout=60)
        untouched = read(p("out.bin")) == b"old model" and read(p("out.csv")) == b"old csv"
        if "--resume" in args:
            untouched = untouched and (read(outs[1]) if os.path.exists(outs[1]) else None) == before
        else:
            untouched = untouched and read(p("out.ck")) == b"old checkpoint"
        leftovers = [f for f in os.listdir(tmp) if f.endswith(".tmp")]
        ok = r.returncode == 1 and phrase in r.stderr and "error" in r.stderr and untouched and not leftovers
        rep.case(ok, f"bad-input-{name}",
                 f"rc {r.returncode}, untouched {untouched}, leftovers {leftovers}, stderr: {r.stderr.strip()!r}")
rep.exit()
