"""tokcheck.py - what the tests in tests/tokenizers share: the sanitized tok-tool, a PASS/FAIL reporter, a small
SentencePiece BPE model (byte fallback) trained on the start of tinyshakespeare and exported the two ways efichat
reads it (llama2.c tokenizer.bin as llama2.c's tokenizer.py writes it; GGUF tokenizer.ggml.* as llama.cpp's
converter writes it), the test lines, and a Python transcription of llama2.c run.c's encode as the llama2.c oracle.
The model is trained once per build folder (a few seconds) from DATA; nothing is downloaded."""
import os, struct, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"))
TOOL = os.path.join(BUILD, "tests", "tok-tool")
WORK = os.path.join(BUILD, "tests", "tokenizers")
# the Makefile's DATA default, relative to the checkout
DATA = os.environ.get("EFICHAT_DATA", os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gguf_write as gw  # noqa: E402

VOCAB = 1000
TRAIN_BYTES = 300_000
N_LINES = 2000
failures = 0

# Lines the corpus lacks: letters outside ASCII (some in the training text's alphabet, most not: byte fallback),
# emoji (4-byte UTF-8), runs of spaces, leading and trailing spaces, tabs, digits, pieces that look like control
# tokens (which text must never produce).
EXTRA_LINES = [
    "Ça va? Déjà vu, naïve façade — coöperate, Straße, smørrebrød.",
    "Привет, мир! Γειά σου κόσμε. שלום עולם. مرحبا بالعالم",
    "日本語のテキストと中文文本，한국어 텍스트도.",
    "Emoji: 😀🎉👍🏽 and a family 👨‍👩‍👧‍👦 then ✓ ✗ ★ ♥ €100 £5 ¥7",
    "   three leading spaces, two  inner  gaps, trailing   ",
    "\ttab\tseparated\tfields\t",
    " ",
    "x",
    "<s> not a BOS </s> nor EOS <unk> <0x41>",
    "KING RICHARD III: 1234567890 numbers 3.14159",
    "ﬁﬂ ligatures, ½ fractions, Ⅻ numerals, ＡＢＣ fullwidth",
    "a\u0301 combining accent, e\u0308, zero\u200bwidth space",
    "🤖🦀🧪🪐",
    "MIXED case And PUNCTUATION!!! ??? ... ;;; ---",
]


def case(ok, name, why=""):
    """One PASS/FAIL line for tests/run_tests.py."""
    global failures
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


def exit_code():
    return 1 if failures else 0


def tool(*args):
    """(exit status, stdout) of tok-tool; sanitizer reports go to stderr and end with a non-0/1 status."""
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, errors="replace")
    if p.returncode not in (0, 1):
        sys.stdout.write(p.stderr[-3000:])
    return p.returncode, p.stdout


def test_lines():
    """The first N_LINES lines of DATA, then EXTRA_LINES."""
    with open(DATA, encoding="utf-8") as f:
        lines = f.read().split("\n")[:N_LINES]
    return lines + EXTRA_LINES


def write_lines(path, lines):
    with open(path, "wb") as f:
        f.write("\n".join(lines).encode() + b"\n")


def sp_model():
    """The trained SentencePiece processor (trained into WORK on first use)."""
    import sentencepiece as spm
    os.makedirs(WORK, exist_ok=True)
    prefix = os.path.join(WORK, f"sp{VOCAB}")
    if not os.path.exists(prefix + ".model"):
        with open(DATA, "rb") as f:
            text = f.read(TRAIN_BYTES).decode("utf-8", "ignore")
        train = os.path.join(WORK, "train.txt")
        with open(train, "w", encoding="utf-8") as f:
            f.write(text)
        # llama2.c's train_vocab.py settings, with whitespace kept as is (Llama 2's tokenizer keeps it too)
        spm.SentencePieceTrainer.train(
            input=train, model_prefix=prefix, model_type="bpe", vocab_size=VOCAB, character_coverage=1.0,
            byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True,
            normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
            num_threads=1, input_sentence_size=0, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def token_type(sp, i):
    """llama.cpp's token type of piece i (as its SentencePiece converter assigns them)."""
    if sp.is_unknown(i):
        return 2
    if sp.is_control(i):
        return 3
    if sp.is_unused(i):
        return 5
    if sp.is_byte(i):
        return 6
    return 1


def l2c_pieces(sp):
    """(bytes, score) per token as llama2.c's tokenizer.py exports them: BOS/EOS renamed, U+2581 back to spaces."""
    out = []
    for i in range(sp.get_piece_size()):
        t = sp.id_to_piece(i)
        if i == sp.bos_id():
            t = "\n<s>\n"
        elif i == sp.eos_id():
            t = "\n</s>\n"
        out.append((t.replace("\u2581", " ").encode("utf-8"), sp.get_score(i)))
    return out


def l2c_bytes(pieces, max_len=None):
    """tokenizer.bin: u32 max token length, then per token f32 score, i32 length, bytes."""
    m = max(len(b) for b, _ in pieces) if max_len is None else max_len
    return struct.pack("<I", m) + b"".join(struct.pack("<fi", s, len(b)) + b for b, s in pieces)


def gguf_kv(sp, tokens=None, scores=None, types=None, model="llama", extra=()):
    """tokenizer.ggml.* entries of a GGUF for sp; any part can be replaced to make a malformed file."""
    n = sp.get_piece_size()
    tokens = [sp.id_to_piece(i) for i in range(n)] if tokens is None else tokens
    scores = [sp.get_score(i) for i in range(n)] if scores is None else scores
    types = [token_type(sp, i) for i in range(n)] if types is None else types
    kv = [("general.architecture", gw.STRING, "llama"), ("tokenizer.ggml.model", gw.STRING, model),
          ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, tokens)),
          ("tokenizer.ggml.scores", gw.ARRAY, (gw.F32V, scores)),
          ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, types)),
          ("tokenizer.ggml.bos_token_id", gw.U32, sp.bos_id()), ("tokenizer.ggml.eos_token_id", gw.U32, sp.eos_id()),
          ("tokenizer.ggml.unknown_token_id", gw.U32, sp.unk_id())]
    return [e for e in kv if e[2] is not None] + list(extra)


def write_models(sp):
    """(tokenizer.bin path, tokenizer GGUF path) for sp, written into WORK."""
    l2c = os.path.join(WORK, f"tok{VOCAB}.bin")
    gg = os.path.join(WORK, f"tok{VOCAB}.gguf")
    with open(l2c, "wb") as f:
        f.write(l2c_bytes(l2c_pieces(sp)))
    with open(gg, "wb") as f:
        f.write(gw.gguf_bytes(gguf_kv(sp), []))
    return l2c, gg


def runc_encode(pieces, text, bos=True):
    """llama2.c run.c's encode, transcribed: BOS 1, the dummy prefix " ", each UTF-8 character (a lead byte and at
    most 3 continuation bytes) looked up, else its bytes as tokens byte + 3; then merge the best-scoring adjacent
    pair (first on ties, scores above -1e10 only) until none is in the vocabulary. BOS takes part in merges."""
    index = {b: i for i, (b, _) in enumerate(pieces)}
    tokens = [1] if bos else []
    if text:
        tokens.append(index[b" "])
    data = text.encode("utf-8")
    buf = b""
    for k, c in enumerate(data):
        if c & 0xC0 != 0x80:
            buf = b""
        buf += bytes([c])
        if k + 1 < len(data) and data[k + 1] & 0xC0 == 0x80 and len(buf) < 4:
            continue
        if buf in index:
            tokens.append(index[buf])
        else:
            tokens.extend(b + 3 for b in buf)
        buf = b""
    while True:
        best, best_id, best_at = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            j = index.get(pieces[tokens[i]][0] + pieces[tokens[i + 1]][0], -1)
            if j != -1 and pieces[j][1] > best:
                best, best_id, best_at = pieces[j][1], j, i
        if best_at == -1:
            return tokens
        tokens[best_at:best_at + 2] = [best_id]


def tool_encode(kind, path, text_path):
    """(list of id lists, roundtrip good, roundtrip bad) from tok-tool encode, or None with a FAIL line."""
    rc, out = tool("encode", kind, path, text_path)
    lines = out.splitlines()
    if rc != 0 or not lines or not lines[-1].startswith("roundtrip "):
        case(False, f"{kind}: tok-tool encode runs", f"status {rc}, output tail {out[-300:]!r}")
        return None
    good, bad = map(int, lines[-1].split()[1:])
    return [[int(x) for x in l.split()] for l in lines[:-1]], good, bad


def random_llama_gguf(tok_kv, V, path, arch="llama", C=32, H=64, L=1, NH=4, NKV=2, seed=5, winner=None):
    """A GGUF model (llama or qwen2) with random float32 weights and the vocabulary of tok_kv (tokenizer.ggml.*
    entries): enough to drive llama-generate. winner: a token id that wins every step (positive embeddings, the
    blocks' outputs zeroed so the residual stays positive, and an output matrix that is zero but for that row)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    kv = [("general.architecture", gw.STRING, arch), (f"{arch}.embedding_length", gw.U32, C),
          (f"{arch}.block_count", gw.U32, L), (f"{arch}.feed_forward_length", gw.U32, H),
          (f"{arch}.context_length", gw.U32, 128), (f"{arch}.attention.head_count", gw.U32, NH),
          (f"{arch}.attention.head_count_kv", gw.U32, NKV), (f"{arch}.rope.freq_base", gw.F32V, 10000.0),
          (f"{arch}.attention.layer_norm_rms_epsilon", gw.F32V, 1e-5)]
    kv += [e for e in tok_kv if e[0] != "general.architecture"]
    HD = C // NH
    tensors = []

    def add(name, rows, cols, norm=False, zero=False, x=None):
        if x is None:
            x = (1 + 0.1 * rng.standard_normal(cols)) if norm else 0.3 * rng.standard_normal((rows, cols))
        if zero:
            x = np.zeros_like(x)
        tensors.append(gw.Tensor(name, gw.F32, [cols] + ([rows] if rows > 1 or not norm else []),
                                 np.asarray(x, np.float32).tobytes()))

    emb = 0.3 * rng.standard_normal((V, C))
    out = 0.3 * rng.standard_normal((V, C))
    if winner is not None:
        emb, out = np.abs(emb) + 0.1, np.zeros((V, C))
        out[winner] = 1.0
    add("token_embd.weight", V, C, x=emb)
    add("output_norm.weight", 1, C, norm=True, x=np.ones(C) if winner is not None else None)
    add("output.weight", V, C, x=out)
    for l in range(L):
        p = f"blk.{l}."
        add(p + "attn_norm.weight", 1, C, norm=True)
        add(p + "attn_q.weight", NH * HD, C)
        add(p + "attn_k.weight", NKV * HD, C)
        add(p + "attn_v.weight", NKV * HD, C)
        add(p + "attn_output.weight", C, NH * HD, zero=winner is not None)
        add(p + "ffn_norm.weight", 1, C, norm=True)
        add(p + "ffn_gate.weight", H, C)
        add(p + "ffn_up.weight", H, C)
        add(p + "ffn_down.weight", C, H, zero=winner is not None)
        if arch == "qwen2":
            add(p + "attn_q.bias", 1, NH * HD, norm=True, x=0.1 * rng.standard_normal(NH * HD))
            add(p + "attn_k.bias", 1, NKV * HD, norm=True, x=0.1 * rng.standard_normal(NKV * HD))
            add(p + "attn_v.bias", 1, NKV * HD, norm=True, x=0.1 * rng.standard_normal(NKV * HD))
    with open(path, "wb") as f:
        f.write(gw.gguf_bytes(kv, tensors))


def random_llama2c(V, path, C=32, H=64, L=1, NH=4, T=64, seed=6):
    """A legacy llama2.c checkpoint (run.c's header and tensor order, shared classifier) with random weights."""
    import numpy as np
    rng = np.random.default_rng(seed)
    hs = C // NH
    sizes = [V * C, L * C, L * C * C, L * C * C, L * C * C, L * C * C, L * C, L * H * C, L * C * H, L * H * C, C,
             T * hs // 2, T * hs // 2]
    norms = {1, 6, 10}
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", C, H, L, NH, NH, V, T))
        for k, n in enumerate(sizes):
            x = 1 + 0.1 * rng.standard_normal(n) if k in norms else 0.3 * rng.standard_normal(n)
            f.write(np.asarray(x, "<f4").tobytes())


def piece_bytes(piece):
    """What a token adds to the text (no BOS rule): <0xNN> is that byte, U+2581 a space."""
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        return bytes([int(piece[3:5], 16)])
    return piece.replace("\u2581", " ").encode("utf-8")
