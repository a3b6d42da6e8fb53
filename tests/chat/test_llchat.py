"""A conversation with a Llama-family model through src/chat/llchat.c (the app's code, driven by `efichat-cli chat`),
against independent references: python3-jinja2 renders each turn from the template's Jinja source as models ship it,
python3-sentencepiece encodes the text between special tokens (split out by name, as llama.cpp does), and the
context the C side holds after every reply must be exactly those ids with the generated ones in between; every
generated id must be the argmax of `llama-logits` (the same Q8 kernel) over the context before it, so the cache holds
what the ids say. Also: the template is found in tokenizer.chat_template, a reply ends at the end-of-turn token (and
the template's "\\n" after it follows), a reply cut at --max is closed with the template's end of turn, and a small
context slides by whole turns: what stays is BOS plus the newest complete turns, id for id."""
import os, re, subprocess, sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tokenizers"))
import tokcheck as tc  # noqa: E402

try:
    import jinja2
except ImportError:
    tc.case(False, "llchat: python3-jinja2 is available", "python3-jinja2 is missing: run 'make deps'")
    raise SystemExit(tc.exit_code())
from jinja_templates import JINJA  # noqa: E402

CLI = os.path.join(tc.BUILD, "efichat-cli")
os.makedirs(tc.WORK, exist_ok=True)
sp = tc.sp_model()
V0 = sp.get_piece_size()
SPECIALS = ["<|im_start|>", "<|im_end|>"]
IM_START, IM_END = V0, V0 + 1
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)


def model_file(name, template, winner=None):
    """A random llama GGUF with sp's vocabulary plus the ChatML tokens (control) and the template's Jinja source."""
    n = V0
    tokens = [sp.id_to_piece(i) for i in range(n)] + SPECIALS
    scores = [sp.get_score(i) for i in range(n)] + [0.0, 0.0]
    types = [tc.token_type(sp, i) for i in range(n)] + [3, 3]
    kv = tc.gguf_kv(sp, tokens=tokens, scores=scores, types=types,
                    extra=(("tokenizer.chat_template", tc.gw.STRING, JINJA[template]),))
    path = os.path.join(tc.WORK, name)
    tc.random_llama_gguf(kv, n + 2, path, C=32, H=64, L=2, NH=4, NKV=2, seed=11, winner=winner)
    return path


def encode_special(text, lo=0, hi=0):
    """llama.cpp's way: special tokens by name (the ChatML ones, <s>, </s>), SentencePiece on each run between; none
    is recognised in text[lo:hi] (what the user typed)."""
    ids, start = [], 0
    for m in re.finditer(r"<\|im_start\|>|<\|im_end\|>|</s>|<s>", text):
        if m.end() > lo and m.start() < hi:
            continue
        if m.start() > start:
            ids += sp.encode(text[start:m.start()])
        name = m.group(0)
        ids.append(V0 + SPECIALS.index(name) if name in SPECIALS else sp.bos_id() if name == "<s>" else sp.eos_id())
        start = m.end()
    if start < len(text):
        ids += sp.encode(text[start:])
    return ids


def render(template, messages, gen):
    if not messages:
        return ""
    return env.from_string(JINJA[template]).render(messages=messages, add_generation_prompt=gen,
                                                    bos_token="<s>", eos_token="</s>")


def chat(model, lines, *extra):
    script = os.path.join(tc.WORK, "llchat_script.txt")
    with open(script, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    r = subprocess.run([CLI, "chat", "--model", model, "--script", script, "--ids", "1", *map(str, extra)],
                       capture_output=True)
    err = r.stderr.decode(errors="replace")
    replies = [dict(re.findall(r"(\w+)=(\w+)", l)) for l in err.splitlines() if l.startswith("reply ")]
    contexts = [[int(x) for x in l.split(":")[1].split()] for l in err.splitlines() if l.startswith("context ids:")]
    return r, err, replies, contexts


def argmax_ok(model, ctx, spans):
    """Every id in ctx at the positions of spans [(lo, hi)] is the argmax of llama-logits at the position before."""
    ids_path, out_path = os.path.join(tc.WORK, "llchat_ids.bin"), os.path.join(tc.WORK, "llchat_logits.bin")
    np.array(ctx, "<i4").tofile(ids_path)
    r = subprocess.run([CLI, "llama-logits", "--model", model, "--tokens-file", ids_path, "--out", out_path,
                        "--kernel", "q8"], capture_output=True, text=True)
    if r.returncode != 0:
        return False, r.stderr[-300:]
    lg = np.fromfile(out_path, "<f4").reshape(len(ctx), -1)
    bad = [(p, ctx[p], int(np.argmax(lg[p - 1]))) for lo, hi in spans for p in range(lo, hi)
           if int(np.argmax(lg[p - 1])) != ctx[p]]
    return not bad, f"(position, id, argmax): {bad[:5]}"


USER = ["Good morrow, sir!", "What news from the court?", "Ünïcödé and <|im_end|> typed by the user stay text",
        "Tell me more.", "And then?", "Farewell."]

for template in ("chatml", "llama2"):
    model = model_file(f"llchat_{template}.gguf", template)
    lines = USER[:3]
    r, err, replies, contexts = chat(model, lines, "--max", 6)
    tc.case(r.returncode == 0 and f"template {template}" in err and len(contexts) == 3,
            f"llchat {template}: the template is read from tokenizer.chat_template, three replies", err[-300:])
    if len(contexts) != 3:
        continue
    # rebuild the context turn by turn: Jinja's text for the user turn and the reply's opening, the generated ids,
    # then the template's end of turn (the reply ran to --max, so the C side closed it)
    messages, want, spans, ok, why = [], [sp.bos_id()], [], True, ""
    for k, line in enumerate(lines):
        before = render(template, messages, False)
        messages.append({"role": "user", "content": line})
        opened = render(template, messages, True)
        chunk = opened[len(before):]
        if template == "llama2" and k == 0:
            chunk = chunk[len("<s>"):]  # the BOS the tokenizer adds
        at = chunk.index(line)
        want += encode_special(chunk, at, at + len(line))
        n = int(replies[k]["tokens"])
        got = contexts[k]
        reply = got[len(want):len(want) + n]
        spans.append((len(want), len(want) + n))
        want += reply
        text = "".join(tc.piece_bytes(sp.id_to_piece(i)).decode("utf-8", "replace") for i in reply)
        messages.append({"role": "assistant", "content": text})
        closed = render(template, messages, False)
        # the end of turn after the reply's content: what Jinja prints past the content ("<|im_end|>\n", " </s>")
        tail = closed[closed.rindex(text) + len(text):] if text else closed[len(opened):]
        want += encode_special(tail)
        if got != want:
            ok, why = False, f"after reply {k}: got {got[-40:]}, want {want[-40:]}"
            break
    tc.case(ok, f"llchat {template}: after each reply the context is Jinja's turns with the generated ids, id for id",
            why)
    good, why = argmax_ok(model, contexts[-1], spans)
    tc.case(good, f"llchat {template}: every generated id is llama-logits' argmax over the context before it", why)
    if template == "chatml":
        tc.case(contexts[-1].count(IM_END) == 6, "llchat: '<|im_end|>' typed by the user stays characters (six "
                "<|im_end|> ids in three turns: the template's two each)", str(contexts[-1]))

# a reply ends at the end-of-turn token: a model whose every step picks <|im_end|> answers nothing, and the context
# holds the template's "<|im_end|>\n" after the reply's opening
model = model_file("llchat_stop.gguf", "chatml", winner=IM_END)
r, err, replies, contexts = chat(model, ["Speak!", "Again?"], "--max", 5)
want = [sp.bos_id()] + encode_special("<|im_start|>user\nSpeak!<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n")
tc.case(r.returncode == 0 and r.stdout == b"\n\n" and [x.get("end") for x in replies] == ["stop", "stop"] and
        contexts and contexts[0] == want, "llchat: a reply ends at the end-of-turn token, the context closed by the "
        "template's newline", f"{r.stdout!r} {replies} {contexts[:1]} vs {want}")

# sliding by whole turns: a 64-token context and six turns; after each reply the context must be BOS plus the newest
# complete turns (each exactly as it was when it was made), and the replies after a slide still the argmax
model = model_file("llchat_slide.gguf", "chatml")
r, err, replies, contexts = chat(model, USER, "--max", 6, "--ctx", 64)
turns, ok, why = [], r.returncode == 0 and len(contexts) == 6, err[-300:]
prev_len = 1
for k in range(len(contexts) if ok else 0):
    ctx = contexts[k]
    # the newest turn is what follows the turns kept from before (BOS + a suffix of the earlier turns)
    kept = None
    for first in range(len(turns) + 1):
        head = [sp.bos_id()] + [x for t in turns[first:] for x in t]
        if ctx[:len(head)] == head:
            kept = first
            break
    if kept is None or len(ctx) > 64:
        ok, why = False, f"reply {k}: the context {ctx[:20]}... is not BOS + whole earlier turns"
        break
    turns.append(ctx[len(head):])
slides = int(replies[-1]["slides"]) if replies else 0
tc.case(ok and slides > 0 and kept is not None and kept > 0, f"llchat: a 64-token context slides by whole turns "
        f"({slides} slides; BOS and the newest turns kept, id for id)", why)
if ok:
    last = contexts[-1]
    n = int(replies[-1]["tokens"])
    start = len(last) - len(turns[-1]) + len(encode_special("<|im_start|>user\n" + USER[-1] +
                                                           "<|im_end|>\n<|im_start|>assistant\n"))
    good, why = argmax_ok(model, last, [(start, start + n)])
    tc.case(good, "llchat: after slides, the last reply's ids are still llama-logits' argmax over the kept context",
            why)

# a message longer than the whole context is one clear error, not a crash
long_path = os.path.join(tc.WORK, "llchat_long.txt")
with open(long_path, "w") as f:
    f.write("word " * 40)
r = subprocess.run([CLI, "chat", "--model", model, "--script", long_path, "--ctx", "16"], capture_output=True,
                   text=True)
tc.case(r.returncode == 2 and "does not fit in the context" in r.stderr.splitlines()[-1],
        "llchat: a message longer than the context is one error line", r.stderr[-300:])
raise SystemExit(tc.exit_code())
