#!/usr/bin/env python3
"""make_model_fixtures.py --out DIR [--seed N] - model files for "models on the stick" (tests/e2e/test_models_folder.py):

  llama-150m.gguf            a random GGUF v3, architecture llama (dim 768, 12 layers, 12 heads, hidden 2304, ctx 256,
                             untied output), Q8_0 matrices and F32 norms, ~150 MB, with a SentencePiece-style vocabulary
                             of 32,000 (<unk> <s> </s>, the 256 byte tokens, then distinct pieces) and its scores and
                             token types; weights ~N(0, 0.02) so logits stay finite
  llama-150m-truncated.gguf  the same file cut 16 MiB into its tensor data (a reader must refuse it)
  tiny-l2c.bin               a llama2.c checkpoint (legacy header, float32; dim 64, 2 layers, vocab 512)
  tokenizer.bin              its tokenizer (llama2.c's tokenizer.bin layout)

Deterministic by --seed; a few seconds (numpy, one tensor at a time). The GGUF and tokenizer.bin layouts come from
tools/gguf_write.py and tests/tokenizers/tokcheck.py, the ones the format tests use."""
import argparse, itertools, os, string, sys, time
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tokenizers"))
import gguf_write as gw  # noqa: E402
import tokcheck  # noqa: E402  (tokenizer.bin bytes and the random llama2.c checkpoint)

GGUF_NAME = "llama-150m.gguf"
TRUNCATED_NAME = "llama-150m-truncated.gguf"
L2C_NAME = "tiny-l2c.bin"
TOKENIZER_NAME = "tokenizer.bin"
C, L, NH, H, V, CTX = 768, 12, 12, 2304, 32000, 256
CUT_INTO_DATA = 16 << 20


def spm_vocab(n):
    """(pieces, scores, types) in a SentencePiece model's order: <unk> <s> </s>, <0x00>..<0xFF>, then "\u2581" (the
    word start alone, so every word start merges) and pieces of one, two and three letters, each as a word start
    ("\u2581ab") and a word inside ("ab"), shorter ones scoring higher, until there are n."""
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["\u2581"]
    types = [2, 3, 3] + [6] * 256 + [1]
    words = ("".join(t) for k in (1, 2, 3) for t in itertools.product(string.ascii_lowercase, repeat=k))
    for w in words:
        for p in ("\u2581" + w, w):
            if len(pieces) < n:
                pieces.append(p)
                types.append(1)
    assert len(pieces) == n and len(set(pieces)) == n, "the pieces must be distinct"
    scores = [0.0] * 259 + [-float(i) for i in range(n - 259)]
    return pieces, scores, types


def gguf_fixture(path, seed):
    rng = np.random.default_rng(seed)
    pieces, scores, types = spm_vocab(V)
    kv = [("general.architecture", gw.STRING, "llama"), ("general.name", gw.STRING, "efichat-fixture-150m"),
          ("llama.vocab_size", gw.U32, V), ("llama.embedding_length", gw.U32, C), ("llama.block_count", gw.U32, L),
          ("llama.feed_forward_length", gw.U32, H), ("llama.context_length", gw.U32, CTX),
          ("llama.attention.head_count", gw.U32, NH), ("llama.attention.head_count_kv", gw.U32, NH),
          ("llama.rope.freq_base", gw.F32V, 10000.0), ("llama.attention.layer_norm_rms_epsilon", gw.F32V, 1e-5),
          ("tokenizer.ggml.model", gw.STRING, "llama"), ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, pieces)),
          ("tokenizer.ggml.scores", gw.ARRAY, (gw.F32V, scores)),
          ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, types)), ("tokenizer.ggml.bos_token_id", gw.U32, 1),
          ("tokenizer.ggml.eos_token_id", gw.U32, 2), ("tokenizer.ggml.unknown_token_id", gw.U32, 0)]
    tensors = []

    def matrix(name, rows, cols):  # ggml order: ne = [row length, rows]
        x = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02)
        tensors.append(gw.Tensor(name, gw.Q8_0, [cols, rows], gw.quantize(gw.Q8_0, x)))

    def norm(name):
        tensors.append(gw.Tensor(name, gw.F32, [C], np.ones(C, "<f4").tobytes()))

    matrix("token_embd.weight", V, C)
    norm("output_norm.weight")
    matrix("output.weight", V, C)
    for l in range(L):
        p = f"blk.{l}."
        norm(p + "attn_norm.weight")
        for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
            matrix(p + t + ".weight", C, C)
        norm(p + "ffn_norm.weight")
        matrix(p + "ffn_gate.weight", H, C)
        matrix(p + "ffn_up.weight", H, C)
        matrix(p + "ffn_down.weight", C, H)
    data = gw.gguf_bytes(kv, tensors)
    with open(path, "wb") as f:
        f.write(data)
    return data, len(data) - sum(len(t.data) for t in tensors)


def l2c_fixture(model_path, tok_path, seed):
    tokcheck.random_llama2c(512, model_path, C=64, H=172, L=2, NH=4, T=256, seed=seed)
    # llama2.c's layout: <unk>, BOS and EOS as its exporter renames them, the 256 bytes (id = byte + 3), then pieces
    pieces = [(b"<unk>", 0.0), (b"\n<s>\n", 0.0), (b"\n</s>\n", 0.0)] + [(f"<0x{b:02X}>".encode(), 0.0)
                                                                       for b in range(256)] + [(b" ", 0.0)]
    words = ("".join(t) for k in (1, 2) for t in itertools.product(string.ascii_lowercase, repeat=k))
    for w in words:
        for p in (" " + w, w):
            if len(pieces) < 512:
                pieces.append((p.encode(), -float(len(pieces))))
    with open(tok_path, "wb") as f:
        f.write(tokcheck.l2c_bytes(pieces))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.monotonic()
    data, header = gguf_fixture(os.path.join(a.out, GGUF_NAME), a.seed)
    with open(os.path.join(a.out, TRUNCATED_NAME), "wb") as f:
        f.write(data[:header + CUT_INTO_DATA])
    l2c_fixture(os.path.join(a.out, L2C_NAME), os.path.join(a.out, TOKENIZER_NAME), a.seed)
    print(f"{GGUF_NAME}: {len(data)} bytes ({len(data) / 1e6:.1f} MB, metadata {header} bytes); "
          f"{TRUNCATED_NAME}: {header + CUT_INTO_DATA} bytes; {L2C_NAME} + {TOKENIZER_NAME}; "
          f"{time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
