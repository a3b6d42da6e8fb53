"""The CLI and the core built with clang's UndefinedBehaviorSanitizer, run through every kernel.

The unit tests use GCC's sanitizers, which do not check pointer arithmetic on NULL (even a zero offset is undefined
in C); clang's do, and that is how model_q8_bytes was found doing `NULL + 0`. Every finding aborts the run.
"""
import glob, os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corecheck import ROOT, case, exit_code, q8_kernels, random_model  # noqa: E402

# The core and the file readers (Makefile CORE_SRCS, mk/formats.mk), and the CLI's own files.
CORE = ["src/modelfile.c", "src/model.c", "src/modelq8.c", "src/parallel.c", "src/llama.c", "src/kernels.c", "src/q8.c", "src/q8att.c", "src/gelu.c", "src/quantize.c",
        "src/sampler.c", "src/ecmath.c"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "src/formats/*.c"))) \
    + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "src/tokenizers/*.c")))
CLI_SRCS = ["src/cli/efichat_cli.c", "src/cli/pool.c", "src/cli/formats_info.c", "src/chat/llchat.c", "src/chat/template.c",
            "src/cli/llama_cmds.c"]
# The core's numeric flags (Makefile CORE_FLAGS); no -Werror: clang 14 warns about GCC-only attributes.
FLAGS = ["-std=c11", "-O1", "-g", "-fno-math-errno", "-ffp-contract=off", "-fno-strict-aliasing", "-msse2",
         "-Wno-unknown-attributes", "-fsanitize=undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

clang = shutil.which("clang")
if not clang:
    case(False, "ubsan_clang_built", "clang is missing: run 'make deps' (apt-get install clang)")
    sys.exit(exit_code())

with tempfile.TemporaryDirectory() as d:
    cli = os.path.join(d, "efichat-cli")
    objs = []
    for src in CORE:  # the core is freestanding, as in the app
        obj = os.path.join(d, os.path.basename(src) + ".o")
        subprocess.run([clang] + FLAGS + ["-ffreestanding", "-c", os.path.join(ROOT, src), "-o", obj], check=True)
        objs.append(obj)
    r = subprocess.run([clang] + FLAGS + ["-pthread", "-I" + os.path.join(ROOT, "src"),
                                          ] + [os.path.join(ROOT, c) for c in CLI_SRCS]
                       + objs + ["-lm", "-o", cli], capture_output=True, text=True)
    case(r.returncode == 0, "ubsan_clang_built", r.stderr[-2000:])
    if r.returncode:
        sys.exit(exit_code())
    model = os.path.join(d, "m.bin")
    random_model(model, 64, 2, 4, 32, 256, seed=3)
    text = os.path.join(d, "t.txt")
    open(text, "wb").write(b"To be, or not to be, that is the question:\n" * 2)  # longer than ctx: the window slides
    model8 = os.path.join(d, "m8.bin")  # its int8 form (format version 2), written by the clang-built CLI
    r = subprocess.run([cli, "quantize", "--in", model, "--out", model8], capture_output=True, text=True)
    case(r.returncode == 0 and "runtime error" not in r.stderr, "ubsan_clang_quantize", r.stderr[-1500:])
    for kernel in ["sse2"] + q8_kernels():
        for cmd in (["eval", "--model", model, "--data", text],
                    ["generate", "--model", model, "--prompt", "Hi", "--max", "40", "--temp", "0"],
                    ["eval", "--model", model8, "--data", text],
                    ["eval", "--model", model, "--data", text, "--threads", "3"]):
            r = subprocess.run([cli] + cmd + ["--kernel", kernel], capture_output=True, text=True, errors="replace",
                               timeout=120)
            bad = "runtime error" in r.stderr or r.returncode != 0
            tag = "_int8" if cmd[2] == model8 else "_threads3" if "--threads" in cmd else ""
            case(not bad, f"ubsan_clang_{cmd[0]}{tag}_{kernel}", f"status {r.returncode}: {r.stderr[-1500:]}")
sys.exit(exit_code())
