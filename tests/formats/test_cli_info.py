"""`efichat-cli info` on GGUF and llama2.c files: the config and tensor list for files the readers accept, one
error line on stderr and status 2 (the CLI's convention) for those they refuse, and efichat models as before."""
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formatscheck import BUILD, case, exit_code  # noqa: E402
from test_gguf import llama_file  # noqa: E402
from test_llama2c import DIMS, model_file, weights  # noqa: E402

CLI = os.path.join(BUILD, "efichat-cli")


def info(path):
    return subprocess.run([CLI, "info", "--model", path], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "q.gguf")
    open(path, "wb").write(llama_file(arch="qwen2"))
    r = info(path)
    ok = r.returncode == 0 and "format GGUF version 3, alignment 32" in r.stdout
    ok = ok and ("model qwen2: dim 64, hidden 96, layers 2, heads 4 (kv 2, head size 16), vocab 40, ctx 128, rope base "
                 "500000, rms eps 1e-06, q/k/v biases") in r.stdout
    ok = ok and "  blk.1.attn_v.bias F32 (32) 128 bytes" in r.stdout and "  qwen2.block_count = 2 (u32)" in r.stdout
    case(ok, "cli_info_gguf_qwen2_config_metadata_and_tensors", r.stdout[-500:] + r.stderr)

    path = os.path.join(d, "gemma.gguf")
    open(path, "wb").write(llama_file(arch="gemma"))
    r = info(path)
    case(r.returncode == 0 and "model: not runnable by this build: unsupported model architecture" in r.stdout,
         "cli_info_gguf_describes_an_architecture_it_cannot_run", r.stdout[-300:])

    path = os.path.join(d, "bad.gguf")
    open(path, "wb").write(llama_file()[:-100])
    r = info(path)
    err = r.stderr.strip()
    case(r.returncode == 2 and r.stdout == "" and len(err.splitlines()) == 1 and "GGUF tensor data out of range" in err,
         "cli_info_gguf_refused_in_one_line", f"rc {r.returncode}, {err!r}")

    path = os.path.join(d, "v2.bin")
    open(path, "wb").write(model_file(2, weights(), DIMS, shared=False)[0])
    r = info(path)
    ok = r.returncode == 0 and "format llama2.c version 2 (int8 groups, runq.c)" in r.stdout
    ok = ok and "separate classifier, group size 8" in r.stdout and "  wk (8, 16) per layer int8" in r.stdout
    case(ok, "cli_info_llama2c_v2", r.stdout + r.stderr)

    path = os.path.join(d, "junk.bin")
    open(path, "wb").write(b"\x01" * 100)
    r = info(path)
    err = r.stderr.strip()
    case(r.returncode == 2 and "not an efichat, GGUF or llama2.c model" in err and len(err.splitlines()) == 1,
         "cli_info_unknown_file_in_one_line", err)

    path = os.path.join(d, "efichat.bin")
    subprocess.run([CLI, "random-model", "--out", path, "--dim", "32", "--layers", "1", "--heads", "2", "--ctx", "16"],
                   check=True)
    r = info(path)
    case(r.returncode == 0 and "dim 32" in r.stdout and "format version 1" in r.stdout, "cli_info_efichat_unchanged",
         r.stdout + r.stderr)

sys.exit(exit_code())
