"""test_spm_gguf.py - the GGUF SentencePiece tokenizer (tokenizer.ggml.model "llama") against SentencePiece itself:
a BPE model with byte fallback trained on the start of tinyshakespeare, exported to GGUF; 2,000 lines of the text
plus lines of non-ASCII letters and emoji must encode to exactly SentencePiece's ids (BOS first) and decode back to
the same bytes, under ASan/UBSan."""
import os
import tokcheck as tc

sp = tc.sp_model()
_, gguf = tc.write_models(sp)
lines = tc.test_lines()
text_path = os.path.join(tc.WORK, "lines.txt")
tc.write_lines(text_path, lines)

rc, out = tc.tool("info", "gguf", gguf)
tc.case(rc == 0 and out.startswith(f"vocab {sp.get_piece_size()} bos {sp.bos_id()} eos {sp.eos_id()}"),
        "gguf: the tokenizer builds, with SentencePiece's special ids", out)

got = tc.tool_encode("gguf", gguf, text_path)
if got:
    ids, good, bad = got
    want = [[sp.bos_id()] + sp.encode(l) for l in lines]
    same = sum(a == b for a, b in zip(ids, want))
    first = next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), None)
    tc.case(len(ids) == len(want) and same == len(want),
            f"gguf: {len(want)} lines encode to SentencePiece's ids ({same} equal)",
            "" if first is None else f"line {first} {lines[first]!r}: got {ids[first]}, want {want[first]}")
    extra = len(tc.EXTRA_LINES)
    tc.case(ids[-extra:] == want[-extra:], f"gguf: the {extra} non-ASCII, emoji and whitespace lines match")
    tc.case(bad == 0 and good == len(lines), f"gguf: {len(lines)} lines decode back to their bytes",
            f"{bad} differ")
    tc.case(all(sp.decode(w[1:]) == l for w, l in zip(want, lines)),
            "gguf: SentencePiece itself decodes its ids back to each line (the oracle round-trips too)")
    control = {sp.bos_id(), sp.eos_id(), sp.unk_id()}
    tc.case(not any(set(i[1:]) & control for i in ids), "gguf: no control or unknown token comes from text")
raise SystemExit(tc.exit_code())
