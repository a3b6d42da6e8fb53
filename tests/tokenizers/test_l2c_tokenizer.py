"""test_l2c_tokenizer.py - the llama2.c tokenizer.bin path against a Python transcription of run.c's encode
(tokcheck.runc_encode): the same SentencePiece model exported as llama2.c's tokenizer.py does, 2,000 lines of
tinyshakespeare plus non-ASCII and emoji lines must give run.c's ids exactly and decode back to their bytes. It also
measures how often run.c's algorithm equals SentencePiece itself (reported, not asserted beyond a floor)."""
import os
import tokcheck as tc

sp = tc.sp_model()
l2c, _ = tc.write_models(sp)
pieces = tc.l2c_pieces(sp)
lines = tc.test_lines()
text_path = os.path.join(tc.WORK, "lines.txt")
tc.write_lines(text_path, lines)

rc, out = tc.tool("info", "l2c", l2c)
tc.case(rc == 0 and out.startswith(f"vocab {len(pieces)} bos 1 eos 2"), "llama2.c: tokenizer.bin builds", out)

got = tc.tool_encode("l2c", l2c, text_path)
if got:
    ids, good, bad = got
    want = [tc.runc_encode(pieces, l) for l in lines]
    same = sum(a == b for a, b in zip(ids, want))
    first = next((i for i, (a, b) in enumerate(zip(ids, want)) if a != b), None)
    tc.case(len(ids) == len(want) and same == len(want),
            f"llama2.c: {len(want)} lines encode to run.c's ids ({same} equal)",
            "" if first is None else f"line {first} {lines[first]!r}: got {ids[first]}, want {want[first]}")
    tc.case(bad == 0 and good == len(lines), f"llama2.c: {len(lines)} lines decode back to their bytes",
            f"{bad} differ")
    spm = [[sp.bos_id()] + sp.encode(l) for l in lines]
    agree = sum(a == b for a, b in zip(ids, spm))
    print(f"llama2.c path equals SentencePiece on {agree} of {len(lines)} lines")
    tc.case(agree >= len(lines) * 0.95, f"llama2.c: equals SentencePiece on {agree}/{len(lines)} lines (>= 95%)")
raise SystemExit(tc.exit_code())
