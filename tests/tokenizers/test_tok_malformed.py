"""test_tok_malformed.py - malformed tokenizer data is refused with one clear error line and status 1, never a crash
(tok-tool runs under ASan/UBSan): duplicate pieces, an empty piece, byte-fallback tokens missing or misplaced,
scores or token types that do not match the vocabulary, NaN scores, special ids past the vocabulary, a cut file."""
import os, struct
import tokcheck as tc
import gguf_write as gw

sp = tc.sp_model()
tc.write_models(sp)
n = sp.get_piece_size()
bad_dir = os.path.join(tc.WORK, "malformed")
os.makedirs(bad_dir, exist_ok=True)


def expect(kind, name, data, expected):
    path = os.path.join(bad_dir, name + (".bin" if kind == "l2c" else ".gguf"))
    with open(path, "wb") as f:
        f.write(data)
    rc, out = tc.tool("info", kind, path)
    line = next((l for l in out.splitlines() if l.startswith("error: ")), "")
    tc.case(rc == 1 and expected in line and len(out.splitlines()) == 1, f"{kind}: {name} refused",
            f"status {rc}, wanted one error line with '{expected}', got: {out[-300:]!r}")


# ---- llama2.c tokenizer.bin
P = tc.l2c_pieces(sp)


def l2c(pieces, **kw):
    return tc.l2c_bytes(pieces, **kw)


expect("l2c", "duplicate", l2c(P[:500] + [P[400]] + P[501:]), "tokens 400 and 500 are both")
expect("l2c", "empty-piece", l2c(P[:600] + [(b"", 0.0)] + P[601:]), "token 600 has an empty piece")
expect("l2c", "byte-token-renamed", l2c(P[:68] + [(b"<0x4G>", 0.0)] + P[69:]), "token 68 should be the byte piece for 65")
expect("l2c", "byte-tokens-shifted", l2c(P[:3] + P[4:259] + [P[3]] + P[259:]), "token 3 should be the byte piece for 0")
expect("l2c", "too-few-tokens", l2c(P[:200]), "only 200 tokens")
expect("l2c", "nan-score", l2c(P[:700] + [(P[700][0], float("nan"))] + P[701:]), "score of token 700")
expect("l2c", "cut-short", l2c(P)[:-3], "the vocabulary is missing or cut short")
expect("l2c", "piece-over-max", l2c(P, max_len=4), "outside 0..max_token_length")
expect("l2c", "empty-file", b"", "the vocabulary is missing or cut short")

# ---- GGUF tokenizer.ggml.*
T = [sp.id_to_piece(i) for i in range(n)]
S = [sp.get_score(i) for i in range(n)]
Y = [tc.token_type(sp, i) for i in range(n)]


def gguf(**kw):
    return gw.gguf_bytes(tc.gguf_kv(sp, **kw), [])


def without(key):
    return gw.gguf_bytes([e for e in tc.gguf_kv(sp) if e[0] != key], [])


expect("gguf", "duplicate", gguf(tokens=T[:500] + [T[400]] + T[501:]), "tokens 400 and 500 are both")
expect("gguf", "empty-piece", gguf(tokens=T[:600] + [""] + T[601:]), "token 600 has an empty piece")
expect("gguf", "byte-token-missing", gguf(tokens=T[:68] + ["<0x4G>"] + T[69:]), "255 of the 256 byte pieces")
no_bytes = [f"<b{i}>" if t.startswith("<0x") else t for i, t in enumerate(T)]
expect("gguf", "no-byte-tokens-no-unk", gw.gguf_bytes([e for e in tc.gguf_kv(sp, tokens=no_bytes)
                                                        if e[0] != "tokenizer.ggml.unknown_token_id"], []),
       "0 byte pieces and no unknown token")
expect("gguf", "scores-short", gguf(scores=S[:-1]), f"tokenizer.ggml.scores holds {n - 1} entries for {n} tokens")
expect("gguf", "types-long", gguf(types=Y + [1]), f"tokenizer.ggml.token_type holds {n + 1} entries for {n} tokens")
expect("gguf", "scores-not-f32", gw.gguf_bytes([e if e[0] != "tokenizer.ggml.scores" else
                                                (e[0], gw.ARRAY, (gw.I32, [0] * n)) for e in tc.gguf_kv(sp)], []),
       "tokenizer.ggml.scores must be array of f32")  # the GGUF reader's check, before the tokenizer's
expect("gguf", "scores-missing", without("tokenizer.ggml.scores"), "tokenizer.ggml.scores is missing")
expect("gguf", "nan-score", gguf(scores=S[:700] + [float("nan")] + S[701:]), "token 700 has a NaN or infinite score")
expect("gguf", "bos-past-vocab", gw.gguf_bytes([e if e[0] != "tokenizer.ggml.bos_token_id" else (e[0], gw.U32, n)
                                                for e in tc.gguf_kv(sp)], []),
       f"tokenizer.ggml.bos_token_id is {n}, past the vocabulary of {n}")
expect("gguf", "model-missing", without("tokenizer.ggml.model"), "tokenizer.ggml.model is missing")
expect("gguf", "model-unknown", gguf(model="wordpiece"), "tokenizer.ggml.model is 'wordpiece'")
expect("gguf", "tokens-missing", without("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens is missing")
expect("gguf", "tokens-not-strings", gw.gguf_bytes([e if e[0] != "tokenizer.ggml.tokens" else
                                                    (e[0], gw.ARRAY, (gw.U32, list(range(n))))
                                                    for e in tc.gguf_kv(sp)], []),
       "tokenizer.ggml.tokens must be array of string")
expect("gguf", "tokens-empty", gguf(tokens=[], scores=[], types=[]), "tokenizer.ggml.tokens is missing, empty")

# ---- GGUF byte-level BPE (tokenizer.ggml.model "gpt2"): a small vocabulary of the 256 byte characters and 3 merges


def byte_chars():
    """GPT-2's bytes_to_unicode, in byte order."""
    keep = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b]
    out, n = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + n)
            n += 1
    return [out[b] for b in range(256)]


BT = byte_chars() + ["\u0120t", "he", "\u0120the", "<|endoftext|>"]
BM = ["\u0120 t", "h e", "\u0120t he"]


def bpe(tokens=BT, merges=BM, pre="gpt2", drop=()):
    kv = [("tokenizer.ggml.model", gw.STRING, "gpt2"), ("tokenizer.ggml.pre", gw.STRING, pre),
          ("tokenizer.ggml.tokens", gw.ARRAY, (gw.STRING, tokens)),
          ("tokenizer.ggml.token_type", gw.ARRAY, (gw.I32, [1] * (len(tokens) - 1) + [3])),
          ("tokenizer.ggml.merges", gw.ARRAY, (gw.STRING, merges)),
          ("tokenizer.ggml.eos_token_id", gw.U32, len(tokens) - 1)]
    return gw.gguf_bytes([e for e in kv if e[0] not in drop], [])


path = os.path.join(bad_dir, "bpe-sound.gguf")
with open(path, "wb") as f:
    f.write(bpe())
rc, out = tc.tool("info", "gguf", path)
tc.case(rc == 0 and "add_bos 0 space_prefix 0" in out, "gpt2: a small sound byte-level vocabulary builds", out)
expect("gguf", "bpe-merges-missing", bpe(drop=("tokenizer.ggml.merges",)), "tokenizer.ggml.merges is missing")
expect("gguf", "bpe-merges-empty", bpe(merges=[]), "tokenizer.ggml.merges is missing, empty")
expect("gguf", "bpe-merge-no-space", bpe(merges=BM[:1] + ["he"] + BM[2:]), "merge 1 'he' is not two pieces")
expect("gguf", "bpe-merge-half-unknown", bpe(merges=BM + ["x yz"]), "merge 3 'x yz': a half is not a token")
expect("gguf", "bpe-merge-result-unknown", bpe(merges=BM + ["t h"]), "merge 3 't h': the merged piece is not a token")
expect("gguf", "bpe-byte-missing", bpe(tokens=BT[:65] + ["AA"] + BT[66:]), "no token for byte 65")
expect("gguf", "bpe-pre-unknown", bpe(pre="falcon"), "tokenizer.ggml.pre is 'falcon'")
expect("gguf", "bpe-duplicate", bpe(tokens=BT[:257] + [BT[256]] + BT[258:]), "tokens 256 and 257 are both")

# a vocabulary without byte pieces but with an unknown token is sound: unknown characters become <unk>
path = os.path.join(bad_dir, "no-byte-tokens-with-unk.gguf")
with open(path, "wb") as f:
    f.write(gguf(tokens=no_bytes))
rc, out = tc.tool("info", "gguf", path)
tc.case(rc == 0, "gguf: no byte pieces but an unknown token: accepted", out)
raise SystemExit(tc.exit_code())
