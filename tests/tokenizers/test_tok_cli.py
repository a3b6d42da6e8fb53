"""test_tok_cli.py - the tokenizers through efichat-cli: `tokenize` gives SentencePiece's ids (GGUF tokenizer, or
the model's own GGUF metadata) and run.c's ids (tokenizer.bin) for a multi-line text; `llama-generate --temp 0`
encodes the prompt as SentencePiece does, every generated id is the argmax of llama-logits' row for the sequence
so far (so prompt, feeding and greedy choice agree), a run shorter than --max ends on a stop token, and the printed
continuation is exactly the bytes of the generated pieces."""
import os, subprocess
import numpy as np
import tokcheck as tc

CLI = os.path.join(tc.BUILD, "efichat-cli")
sp = tc.sp_model()
l2c, gguf = tc.write_models(sp)
pieces = tc.l2c_pieces(sp)
V = sp.get_piece_size()


def cli(*args):
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, errors="replace", text=True)


with open(tc.DATA, encoding="utf-8") as f:
    text = "".join(f.readlines()[2000:2040]) + "Ünïcödé ✓ 😀\n"
text_path = os.path.join(tc.WORK, "cli_text.txt")
with open(text_path, "w", encoding="utf-8") as f:
    f.write(text)
want_sp = [sp.bos_id()] + sp.encode(text)

r = cli("tokenize", "--tokenizer", gguf, "--text-file", text_path)
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
tc.case(got == want_sp, f"cli tokenize --tokenizer GGUF: {len(want_sp)} ids of a 41-line text equal SentencePiece's",
        r.stderr[-300:] or f"first difference at {next((i for i, (a, b) in enumerate(zip(got, want_sp)) if a != b), None)}")

r = cli("tokenize", "--tokenizer", l2c, "--text-file", text_path)
want_rc = tc.runc_encode(pieces, text)
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
tc.case(got == want_rc, f"cli tokenize --tokenizer tokenizer.bin: {len(want_rc)} ids equal run.c's", r.stderr[-300:])
# long texts as one sequence (merges across lines, thousands of symbols): the first 60 KB against SentencePiece, the
# first 6 KB against run.c's transcription (quadratic in Python)
with open(tc.DATA, "rb") as f:
    head = f.read(60000).decode("utf-8", "ignore")
for size, path, name, want_fn in ((60000, gguf, "SentencePiece", lambda x: [sp.bos_id()] + sp.encode(x)),
                                  (6000, l2c, "run.c", lambda x: tc.runc_encode(pieces, x))):
    long_path = os.path.join(tc.WORK, f"long{size}.txt")
    with open(long_path, "w", encoding="utf-8") as f:
        f.write(head[:size])
    want = want_fn(head[:size])
    r = cli("tokenize", "--tokenizer", path, "--text-file", long_path)
    got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
    tc.case(got == want, f"cli tokenize: the first {size} bytes as one text, {len(want)} ids, equal {name}'s",
            r.stderr[-300:])
r = cli("tokenize", "--tokenizer", l2c, "--text-file", text_path, "--bos", "0")
tc.case(r.returncode == 0 and [int(x) for x in r.stdout.split()] == want_rc[1:], "cli tokenize --bos 0 leaves out BOS",
        r.stderr[-300:])

model = os.path.join(tc.WORK, "llama_random.gguf")
tc.random_llama_gguf(tc.gguf_kv(sp), V, model)
r = cli("tokenize", "--model", model, "--text-file", text_path)
tc.case(r.returncode == 0 and [int(x) for x in r.stdout.split()] == want_sp,
        "cli tokenize --model GGUF uses the model's own tokenizer", r.stderr[-300:])


def check_generate(name, model, prompt, want_prompt, extra=(), kernel=None):
    mx = 24
    kern = ("--kernel", kernel) if kernel else ()
    extra = tuple(extra) + kern
    r = cli("llama-generate", "--model", model, "--prompt", prompt, "--max", mx, "--temp", "0", "--ids", "1", *extra)
    if r.returncode != 0:
        tc.case(False, f"{name}: llama-generate runs", r.stderr[-500:])
        return
    lines = {l.split(":")[0]: [int(x) for x in l.split(":")[1].split()] for l in r.stderr.splitlines() if ":" in l}
    p, g = lines.get("prompt ids"), lines.get("generated ids", [])
    tc.case(p == want_prompt, f"{name}: the prompt is encoded as the oracle does", f"{p} vs {want_prompt}")
    ids_path = os.path.join(tc.WORK, "gen_ids.bin")
    out_path = os.path.join(tc.WORK, "gen_logits.bin")
    np.array(p + g, "<i4").tofile(ids_path)
    r2 = cli("llama-logits", "--model", model, "--tokens-file", ids_path, "--out", out_path, *kern)
    if r2.returncode != 0:
        tc.case(False, f"{name}: llama-logits runs", r2.stderr[-500:])
        return
    lg = np.fromfile(out_path, "<f4").reshape(len(p) + len(g), -1)
    greedy = [int(np.argmax(lg[len(p) - 1 + k])) for k in range(len(g) + 1)]
    tc.case(greedy[:len(g)] == g, f"{name}: each of {len(g)} generated ids is llama-logits' argmax", f"{greedy} vs {g}")
    if len(g) < mx:
        stop = {1, 2} if "tokenizer.bin" in name else {sp.eos_id()}
        tc.case(greedy[len(g)] in stop, f"{name}: the run ended on a stop token", f"next would be {greedy[len(g)]}")
    want = b"".join(tc.piece_bytes(sp.id_to_piece(i)) for i in g) + b"\n"
    got = subprocess.run([CLI, "llama-generate", "--model", model, "--prompt", prompt, "--max", str(mx), *extra],
                         capture_output=True).stdout
    tc.case(got == want, f"{name}: stdout is the continuation's bytes ({len(want) - 1} bytes)", f"{got!r} vs {want!r}")


prompt = "ROMEO: O, she doth teach the torches to burn bright!"
check_generate("llama-generate GGUF", model, prompt, [sp.bos_id()] + sp.encode(prompt))
check_generate("llama-generate GGUF --kernel q8", model, prompt, [sp.bos_id()] + sp.encode(prompt), kernel="q8")
model2c = os.path.join(tc.WORK, "llama2c_random.bin")
tc.random_llama2c(V, model2c)
check_generate("llama-generate llama2.c + tokenizer.bin", model2c, prompt, tc.runc_encode(pieces, prompt),
               ("--tokenizer", l2c))
r = cli("llama-generate", "--model", model2c, "--prompt", prompt)
tc.case(r.returncode == 2 and "give --tokenizer" in r.stderr, "llama-generate: a llama2.c model without --tokenizer "
        "is one error line", r.stderr)
# stopping: a model whose every step picks EOS prints nothing; one whose every step picks a token the file names as
# tokenizer.ggml.eot_token_id stops there too
for name, winner, extra in (("EOS", sp.eos_id(), ()), ("end of turn", 700, (("tokenizer.ggml.eot_token_id", tc.gw.U32, 700),))):
    stop_model = os.path.join(tc.WORK, f"llama_stop_{winner}.gguf")
    tc.random_llama_gguf(tc.gguf_kv(sp, extra=extra), V, stop_model, winner=winner)
    r = cli("llama-generate", "--model", stop_model, "--prompt", prompt, "--max", 10, "--ids", 1)
    tc.case(r.returncode == 0 and r.stdout == "\n" and "generated ids:\n" in r.stderr + "\n",
            f"llama-generate stops at once when {name} ({winner}) wins", f"{r.stdout!r} {r.stderr[-300:]!r}")
# `generate` and `bench` take a Llama-family file too (they hand it to llama-generate / llama-bench); sampling over the
# 1,000-token vocabulary: top-k 1 is greedy, a seed repeats its draws, other seeds differ
greedy = cli("llama-generate", "--model", model, "--prompt", prompt, "--max", 12)
via = cli("generate", "--model", model, "--prompt", prompt, "--max", 12)
tc.case(greedy.returncode == 0 and via.stdout == greedy.stdout, "generate --model GGUF is llama-generate",
        f"{via.stdout!r} vs {greedy.stdout!r} {via.stderr[-200:]}")
b = cli("bench", "--model", model, "--tokens", 20)
tc.case(b.returncode == 0 and "decode" in b.stdout and "tokens/s" in b.stdout, "bench --model GGUF is llama-bench",
        b.stdout + b.stderr[-200:])
k1 = cli("llama-generate", "--model", model, "--prompt", prompt, "--max", 12, "--temp", 1, "--top-k", 1, "--seed", 5)
runs = [cli("llama-generate", "--model", model, "--prompt", prompt, "--max", 24, "--temp", 1.2, "--seed", s).stdout
        for s in (5, 5, 6, 7)]
tc.case(k1.stdout == greedy.stdout and runs[0] == runs[1] and len({runs[0], runs[2], runs[3]}) == 3,
        "llama-generate sampling: top-k 1 is greedy, a seed repeats its draws, three seeds give three texts",
        f"{k1.stdout!r} {runs!r}")

# a template's text with SentencePiece's control tokens in it: --special 1 maps "<s>" and "</s>" to their ids and
# encodes each run of text between as SentencePiece encodes it alone (its dummy prefix again after a special token,
# as llama.cpp's tokenizer does); typed without --special they stay characters
special_text = "Hello there</s>world<s> x"
special_path = os.path.join(tc.WORK, "spm_special.txt")
with open(special_path, "w", encoding="utf-8") as f:
    f.write(special_text)
r = cli("tokenize", "--tokenizer", gguf, "--text-file", special_path, "--special", 1)
want = [sp.bos_id()] + sp.encode("Hello there") + [sp.eos_id()] + sp.encode("world") + [sp.bos_id()] + sp.encode(" x")
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
tc.case(got == want, "tokenize --special 1: <s> and </s> in the text are their ids, the runs between SentencePiece's",
        f"{got} vs {want} {r.stderr[-200:]}")
r = cli("tokenize", "--tokenizer", gguf, "--text-file", special_path)
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
tc.case(got == [sp.bos_id()] + sp.encode(special_text), "tokenize: without --special, </s> in a text is characters "
        "(SentencePiece's ids of the whole text)", f"{got}")
raise SystemExit(tc.exit_code())
