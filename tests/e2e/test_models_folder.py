#!/usr/bin/env python3
"""test_models_folder.py - models on the stick (issue 11 item 5): \\efichat\\models holding a 150 MB GGUF, its
truncated copy, a llama2.c checkpoint with tokenizer.bin and its own X.tokenizer.bin, and a copy of it named in
capitals (tools/make_model_fixtures.py), with an efichat.cfg in CR LF. Six boots of one image that the guest writes
(built under build/e2e/), and one of a small image:

  1. 512 MiB: the picker lists the three files and the built-in model, model=gone.gguf preselects the first; Down and
     Enter pick the GGUF, which loads with progress lines; efichat.cfg then says model=llama-150m.gguf, every other
     byte kept; the GGUF runs and answers.
  2. 96 MiB: model= preselects the GGUF; Enter gives "needs N MiB, M MiB free" and the built-in model answers.
  3. the disk write-protected (a USB stick with its lock on): model= (edited on the host) preselects tiny-l2c.bin;
     Home and Enter pick the truncated GGUF: "cannot remember the model" (read-only), the file is read and handed
     over, the GGUF reader refuses it, and the built-in model answers.
  4. no screen (-vga none): the numbered list on the serial console; Up typed as VT100 and the digit 3 pick the
     llama2.c checkpoint, which comes with its own X.tokenizer.bin, runs and answers.
  5. the digit 2 picks the GGUF and Esc right behind it cancels the load; the built-in model answers.
  6. the digit 4 picks Z-UPPER.BIN (a copy of the checkpoint without its own X.tokenizer.bin): tokenizer.bin comes
     with it.
  7. (another image) one llama2.c file alone, without its tokenizer: no picker, the file is read, the missing
     tokenizer is an error line, and the built-in model answers.
  8. (another image) no key at the picker: after picker_wait=2 seconds the remembered mine.bin loads by itself; it is
     an efichat-format model (no tokenizer), run as the GPT model.

In boot 1 the GGUF's greedy reply must be the host CLI's `chat` reply byte for byte.

Cases named "llama:" need the Llama engine (src/efi/llama_app.c) behind models_choose: the GGUF and the llama2.c
checkpoint run and answer, the truncated GGUF is refused with its reader's line.
QEMU is killed on every way out; every wait has a deadline."""
import os, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efiqemu
from efiqemu import BUILD, LOGS, ROOT, Cases, Machine, check, esp_offset, info, read_esp_file

EFI = os.path.join(BUILD, "efichat.efi")
FIXTURES = os.path.join(BUILD, "e2e", "model-fixtures")
IMG = os.path.join(LOGS, "models-folder.img")
GGUF, TRUNC, L2C = "llama-150m.gguf", "llama-150m-truncated.gguf", "tiny-l2c.bin"
L2C_TOK, UPPER = "tiny-l2c.tokenizer.bin", "Z-UPPER.BIN"   # the pair's own tokenizer; a copy whose is tokenizer.bin
CFG = b"# written by tests/e2e/test_models_folder.py\r\nmax_reply=12\r\nmodel=gone.gguf\r\ntemp=0\r\n"
READY_S, PICKER_S, LOAD_S, REPLY_S, KEY_S = 300, 300, 300, 120, 30
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"
MIB = 1 << 20


def mib_up(n):
    return (n + MIB - 1) // MIB


def fixtures():
    """The fixture files (made once per build folder, again when the script changes: about 6 s)."""
    want = [GGUF, TRUNC, L2C, "tokenizer.bin"]
    script = os.path.join(ROOT, "tools", "make_model_fixtures.py")
    paths = [os.path.join(FIXTURES, f) for f in want]
    if not all(os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(script) for p in paths):
        subprocess.run([sys.executable, script, "--out", FIXTURES], check=True, timeout=300, capture_output=True)
    return {f: os.path.join(FIXTURES, f) for f in want}


def put_esp_file(image, host_path, path):
    subprocess.run(["mcopy", "-o", "-i", f"{image}@@{esp_offset(image)}", host_path, "::" + path], check=True,
                   timeout=60, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"), capture_output=True)


def picker_lines(m, since):
    """The picker's entries {K: (name, MiB)} once its first 'choice' line is there; and that line's end."""
    n = int(m.wait_for(r"efichat: picker (\d+) entries\r?\n", PICKER_S, since).group(1))
    first = m.wait_for(r"efichat: picker choice ([^\r\n]*)\r?\n", KEY_S, since)
    entries = {int(k): (name, int(mib)) for k, name, mib in
               re.findall(r"efichat: picker (\d+) ([^\r\n]*) (\d+)\r?\n", m.text(since, first.start()))}
    check(len(entries) == n, f"'picker {n} entries' but {len(entries)} entry lines")
    return entries, first


def answers(m, since, model=None):
    """A typed line gets a reply line; model: the name the model line before ready must start with."""
    r = m.wait_for(r"efichat: ready\r?\n", READY_S, since)
    if model:
        line = re.search(r"efichat: model ([^\r\n]*)", m.text(since, r.end()))
        check(line and line.group(1).startswith(model), f"the model line is {line and line.group(0)!r}, not {model}")
    m.type_text("Hi")
    m.send_key("ret")
    tokens = int(m.wait_for(REPLY_RX, REPLY_S, r.end()).group(1))
    check(tokens > 0, f"tokens={tokens}")


def main():
    cases = Cases()
    if not os.path.exists(EFI):
        cases.fail("models: image", f"{EFI} missing (make efi)")
        return 1
    os.makedirs(LOGS, exist_ok=True)
    st = {}

    def image():
        fx = fixtures()
        cfg = os.path.join(LOGS, "models-folder.cfg")
        with open(cfg, "wb") as f:
            f.write(CFG)
        files = {f"efichat/models/{name}": path for name, path in fx.items()}
        files[f"efichat/models/{L2C_TOK}"] = fx["tokenizer.bin"]   # X.tokenizer.bin: X's own, never listed
        files[f"efichat/models/{UPPER}"] = fx[L2C]                 # .BIN in capitals is a model too
        files["efichat/efichat.cfg"] = cfg
        efiqemu.make_image(IMG, EFI, files, disk_mb=256)
        st["sizes"] = {name: os.path.getsize(path) for name, path in fx.items()}

    cases.run("models: image with \\efichat\\models (150 MB GGUF, truncated copy, llama2.c pair) and efichat.cfg",
              image)
    IMAGE = ["models: image with \\efichat\\models (150 MB GGUF, truncated copy, llama2.c pair) and efichat.cfg"]
    sizes = st.get("sizes", {})

    # ---- boot 1: pick the GGUF with Down and Enter, watch it load
    if all(cases.status.values()):
        with Machine(IMG, "models-pick", keyboard="usb", snapshot=False, max_life=600) as m:
            def picker_lists():
                entries, first = picker_lines(m, 0)
                info(f"picker entries: {entries}")
                st["builtin"] = entries[max(entries)][0][len("built-in: "):]
                want = [(TRUNC, mib_up(sizes[TRUNC])), (GGUF, mib_up(sizes[GGUF])), (L2C, mib_up(sizes[L2C])),
                        (UPPER, mib_up(sizes[L2C]))]
                check([entries.get(k) for k in (1, 2, 3, 4)] == want, f"entries 1..4 are {entries}, not {want}")
                check(len(entries) == 5 and entries[5][0].startswith("built-in: "), "no built-in entry last")
                check(first.group(1) == TRUNC, f"model=gone.gguf preselected {first.group(1)!r}, not the first")
                st["first"] = first.end()

            def pick_and_load():
                m.send_key("down")
                since = m.wait_for(r"efichat: picker choice " + re.escape(GGUF) + r"\r?\n", KEY_S, st["first"]).end()
                m.send_key("ret")
                since = m.wait_for(r"efichat: picker selected " + re.escape(GGUF) + r"\r?\n", KEY_S, since).end()
                done = m.wait_for(r"efichat: loaded " + re.escape(GGUF) + r" MiB=(\d+) ms=(\d+)\r?\n", LOAD_S, since)
                ms = int(done.group(2))
                check(int(done.group(1)) == mib_up(sizes[GGUF]), f"loaded MiB={done.group(1)}")
                progress = re.findall(r"efichat: load " + re.escape(GGUF) + r" (\d+)/(\d+) MiB (\d+) MiB/s eta (\d+) s",
                                      m.text(since, done.start()))
                info(f"loaded {mib_up(sizes[GGUF])} MiB in {ms} ms; {len(progress)} progress lines, last "
                     f"{progress[-1] if progress else None}")
                check(len(progress) >= ms // 1000 - 1 and len(progress) <= ms // 500 + 1,
                      f"{len(progress)} progress lines for a {ms} ms load (wanted about 2 a second)")
                check(all(int(t) == mib_up(sizes[GGUF]) for _, t, _, _ in progress), "a progress line's total is off")
                check([int(d) for d, _, _, _ in progress] == sorted(int(d) for d, _, _, _ in progress),
                      "progress went backwards")
                m.wait_for(r"efichat: chosen " + re.escape(GGUF) + r" MiB=\d+\r?\n", KEY_S, done.end())
                st["loaded"] = done.end()

            def llama_answers():
                # greedy (temp=0): the reply on serial is the host's `efichat-cli chat` reply byte for byte (the same
                # llchat code, Q8 kernel, 12 tokens), as the serial port shows bytes
                answers(m, st["loaded"], model=GGUF + " family=gguf llama")
                got = re.search(r"Hi\r\n(.*)\r\nefichat: reply tokens=", m.text(st["loaded"]), re.S)
                check(got, "no reply between the echoed line and the reply line")
                script = os.path.join(LOGS, "models-hi.txt")
                with open(script, "w") as f:
                    f.write("Hi")
                r = subprocess.run([os.path.join(BUILD, "efichat-cli"), "chat", "--model", fixtures()[GGUF],
                                    "--script", script, "--max", "12", "--kernel", "q8"], capture_output=True,
                                   timeout=300)
                check(r.returncode == 0, f"efichat-cli chat: {r.stderr[-300:]!r}")
                want = bytes(b if b >= 0x20 and b != 0x7F or b in (9, 10) else 0x3F for b in r.stdout[:-1])
                want = want.replace(b"\n", b"\r\n").decode("utf-8", "replace")
                info(f"reply {got.group(1)!r}")
                check(got.group(1) == want, f"QEMU replied {got.group(1)!r}, the host {want!r}")

            P = ["models: the picker lists the 4 model files by name (not tokenizers; .BIN too) and the built-in model; "
                 "a vanished model= preselects the first"]
            cases.run(P[0], picker_lists, needs=IMAGE)
            cases.run("models: Down and Enter pick the 150 MB GGUF; it loads with progress lines and a loaded line",
                      pick_and_load, needs=P)
            L = ["models: Down and Enter pick the 150 MB GGUF; it loads with progress lines and a loaded line"]
            cases.run("llama: the 150 MB GGUF runs (its model line) and answers a typed line with the host's greedy "
                      "reply", llama_answers, needs=L)

        def remembered():
            got = read_esp_file(IMG, "/efichat/efichat.cfg")
            want = CFG.replace(b"model=gone.gguf", b"model=" + GGUF.encode())
            check(got == want, f"efichat.cfg is {got!r}, wanted {want!r}")

        cases.run("models: the pick is remembered as model=NAME in efichat.cfg, every other byte kept", remembered,
                  needs=["models: Down and Enter pick the 150 MB GGUF; it loads with progress lines and a loaded line"])
    else:
        cases.fail("models: boot 1", "not run, the image was not made")

    # ---- boot 2: too little memory for the remembered GGUF
    R = ["models: the pick is remembered as model=NAME in efichat.cfg, every other byte kept"]
    if all(cases.status.get(n) for n in R):
        with Machine(IMG, "models-small-memory", keyboard="usb", mem="96M", max_life=500) as m:
            def no_room():
                entries, first = picker_lines(m, 0)
                check(first.group(1) == GGUF, f"model={GGUF} preselected {first.group(1)!r}")
                m.send_key("ret")
                e = m.wait_for(r"efichat: error: " + re.escape(GGUF) + r" needs (\d+) MiB, (\d+) MiB free\r?\n",
                               LOAD_S, first.end())
                info(e.group(0).strip())
                check(int(e.group(1)) == mib_up(sizes[GGUF]) and int(e.group(2)) < int(e.group(1)),
                      f"needs {e.group(1)}, free {e.group(2)}")
                check(not re.search(r"efichat: load(ed)? ", m.text(first.end())), "a load began anyway")
                st["no_room"] = e.end()

            cases.run("models: with 96 MiB the remembered GGUF is refused: 'NAME needs N MiB, M MiB free'", no_room)
            cases.run("models: after the refusal the built-in model answers",
                      lambda: answers(m, st["no_room"], model=st["builtin"]),
                      needs=["models: with 96 MiB the remembered GGUF is refused: 'NAME needs N MiB, M MiB free'"])
    else:
        cases.fail("models: boot 2 (96 MiB)", f"not run, needs {R[0]}")

    # ---- boot 3: write-protected stick, the truncated GGUF picked with Home
    if all(cases.status.get(n) for n in R):
        cfg = os.path.join(LOGS, "models-folder-l2c.cfg")
        with open(cfg, "wb") as f:
            f.write(CFG.replace(b"model=gone.gguf", b"model=" + L2C.encode()))
        put_esp_file(IMG, cfg, "/efichat/efichat.cfg")
        with Machine(IMG, "models-readonly", keyboard="usb", disk_bus="usb", readonly=True, max_life=500) as m:
            def truncated_read():
                entries, first = picker_lines(m, 0)
                check(first.group(1) == L2C, f"model={L2C} preselected {first.group(1)!r}")
                m.send_key("home")
                since = m.wait_for(r"efichat: picker choice " + re.escape(TRUNC) + r"\r?\n", KEY_S, first.end()).end()
                m.send_key("ret")
                e = m.wait_for(r"efichat: error: cannot remember the model in \\efichat\\efichat\.cfg: ([^\r\n]*)\r?\n",
                               LOAD_S, since)
                info(e.group(0).strip())
                check("read-only" in e.group(1), f"the phrase is {e.group(1)!r}")
                d = m.wait_for(r"efichat: loaded " + re.escape(TRUNC) + r" MiB=(\d+) ms=\d+\r?\n", LOAD_S, since)
                check(int(d.group(1)) == mib_up(sizes[TRUNC]), f"MiB={d.group(1)}")
                c = m.wait_for(r"efichat: chosen " + re.escape(TRUNC) + r" MiB=\d+\r?\n", KEY_S, d.end())
                st["trunc"] = c.end()

            def llama_refuses_truncated():
                e = m.wait_for(r"efichat: error: " + re.escape(TRUNC) + r": ([^\r\n]*)\r?\n", KEY_S, st["trunc"])
                info(e.group(0).strip())
                check("out of range" in e.group(1) and "built-in" in e.group(1), f"the reason is {e.group(1)!r}")
                answers(m, e.end(), model=st["builtin"])

            T = ["models: read-only stick: Home and Enter pick the truncated GGUF; 'cannot remember' line; the file "
                 "is read and handed over"]
            cases.run(T[0], truncated_read)
            cases.run("llama: the truncated GGUF is refused with its error line, then the built-in model answers",
                      llama_refuses_truncated, needs=T)
    else:
        cases.fail("models: boot 3 (read-only, truncated)", f"not run, needs {R[0]}")
    # ---- boot 4: no screen, the picker on the serial console; Up as a VT100 sequence, then a digit picks the pair
    T = ["models: read-only stick: Home and Enter pick the truncated GGUF; 'cannot remember' line; the file "
         "is read and handed over"]
    if all(cases.status.get(n) for n in T):
        with Machine(IMG, "models-serial", keyboard="usb", extra=["-vga", "none"], max_life=500) as m:
            def serial_pick():
                entries, first = picker_lines(m, 0)
                check(first.group(1) == L2C, f"model={L2C} preselected {first.group(1)!r}")
                listing = m.text(0, first.start())
                check(re.search(r"> 3\) " + re.escape(L2C) + r"  1 MiB", listing) and re.search(r"  1\) " + re.escape(TRUNC),
                                                                                              listing),
                      f"no numbered list on the text console: {listing[-400:]!r}")
                m.serial_write("\x1b[A")
                since = m.wait_for(r"efichat: picker choice " + re.escape(GGUF) + r"\r?\n", KEY_S, first.end()).end()
                m.serial_write("3")
                since = m.wait_for(r"efichat: picker selected " + re.escape(L2C) + r"\r?\n", KEY_S, since).end()
                c = m.wait_for(r"efichat: chosen " + re.escape(L2C) + r" MiB=1 tokenizer=" + re.escape(L2C_TOK) +
                               r" tokenizer_bytes=(\d+)\r?\n", LOAD_S, since)
                check(int(c.group(1)) == sizes["tokenizer.bin"], f"tokenizer_bytes={c.group(1)}")
                r = m.wait_for(r"efichat: ready\r?\n", READY_S, c.end())
                check(re.search(r"efichat: model " + re.escape(L2C) + " family=llama2.c", m.text(c.end(), r.end())),
                      "the llama2.c model does not run")
                m.serial_write("Hi\r")
                m.wait_for(REPLY_RX, REPLY_S, r.end())

            cases.run("llama: text console: numbered list, Up (VT100) and a digit pick the llama2.c pair, with its own "
                      "X.tokenizer.bin; it runs and answers", serial_pick)
    else:
        cases.fail("models: boot 4 (serial console)", f"not run, needs {T[0]}")
    # ---- boot 5: a digit picks the GGUF and Esc, queued right behind it, cancels the load
    if all(cases.status.get(n) for n in T):
        with Machine(IMG, "models-cancel", keyboard="usb", max_life=500) as m:
            def esc_cancels():
                entries, first = picker_lines(m, 0)
                m.send_key("2", gap=0)
                m.send_key("esc")
                since = m.wait_for(r"efichat: picker selected " + re.escape(GGUF) + r"\r?\n", KEY_S, first.end()).end()
                c = m.wait_for(r"efichat: load cancelled\r?\n", LOAD_S, since)
                r = m.wait_for(r"efichat: ready\r?\n", READY_S, c.end())
                check(not re.search(r"efichat: (loaded|chosen) ", m.text(since, r.end())), "the load went on")
                answers(m, c.end(), model=st["builtin"])

            cases.run("models: Esc during the load cancels it, then the built-in model answers",
                      esc_cancels)
    else:
        cases.fail("models: boot 5 (Esc)", f"not run, needs {T[0]}")
    # ---- boot 6: the digit 4 picks the capitals copy, whose tokenizer is tokenizer.bin
    if all(cases.status.get(n) for n in T):
        with Machine(IMG, "models-fallback-tokenizer", keyboard="usb", max_life=500) as m:
            def fallback_tokenizer():
                entries, first = picker_lines(m, 0)
                m.send_key("4")
                since = m.wait_for(r"efichat: picker selected " + re.escape(UPPER) + r"\r?\n", KEY_S, first.end()).end()
                c = m.wait_for(r"efichat: chosen " + re.escape(UPPER) + r" MiB=1 tokenizer=tokenizer\.bin "
                               r"tokenizer_bytes=(\d+)\r?\n", LOAD_S, since)
                check(int(c.group(1)) == sizes["tokenizer.bin"], f"tokenizer_bytes={c.group(1)}")

            cases.run("models: a .BIN without its own X.tokenizer.bin comes with tokenizer.bin", fallback_tokenizer)
    else:
        cases.fail("models: boot 6 (tokenizer.bin)", f"not run, needs {T[0]}")

    # ---- boot 7: a folder with one llama2.c file and no tokenizer: no picker, the file is the choice, and the missing
    # tokenizer is one error line before the built-in model answers
    if all(cases.status.get(n) for n in IMAGE):
        lone = efiqemu.make_image(os.path.join(LOGS, "models-lone.img"), EFI,
                                  {f"efichat/models/{L2C}": os.path.join(FIXTURES, L2C)})
        with Machine(lone, "models-lone", keyboard="usb", max_life=500) as m:
            def lone_file():
                r = m.wait_for(r"efichat: ready\r?\n", READY_S)
                head = m.text(0, r.end())
                check("efichat: picker" not in head, "a picker for one file")
                check(re.search(r"efichat: loaded " + re.escape(L2C) + r" MiB=1 ", head), "the one file was not read")
                e = re.search(r"efichat: error: " + re.escape(L2C) + r" has no tokenizer[^\r\n]*", head)
                check(e, "no error line for the missing tokenizer")
                info(e.group(0))
                check("efichat: chosen" not in head, "a file without its tokenizer was handed over")
                answers(m, r.start())

            cases.run("models: one file is taken without a picker; a llama2.c file without tokenizer.bin is one error "
                      "line, then the built-in model answers", lone_file)

    # ---- boot 8: no key at the picker: after picker_wait seconds the remembered entry loads by itself; it is an
    # efichat-format model (magic EFCM, no tokenizer), which runs on the GPT path
    if all(cases.status.get(n) for n in IMAGE):
        mine = os.path.join(LOGS, "mine.bin")
        subprocess.run([os.path.join(BUILD, "efichat-cli"), "random-model", "--out", mine, "--dim", "64", "--layers",
                        "2", "--heads", "2", "--ctx", "64", "--name", "e2e-folder-model"], check=True, timeout=60,
                       capture_output=True)
        cfg = os.path.join(LOGS, "models-auto.cfg")
        with open(cfg, "wb") as f:
            f.write(b"picker_wait=2\nmodel=mine.bin\n")
        auto = efiqemu.make_image(os.path.join(LOGS, "models-auto.img"), EFI,
                                  {"efichat/models/mine.bin": mine, f"efichat/models/{L2C}": os.path.join(FIXTURES, L2C),
                                   "efichat/models/tokenizer.bin": os.path.join(FIXTURES, "tokenizer.bin"),
                                   "efichat/efichat.cfg": cfg})
        with Machine(auto, "models-auto", keyboard="usb", max_life=500) as m:
            def auto_pick():
                entries, first = picker_lines(m, 0)
                check(first.group(1) == "mine.bin", f"model=mine.bin preselected {first.group(1)!r}")
                m.wait_for(r"efichat: picker wait 2 s", KEY_S, 0)
                a = m.wait_for(r"efichat: picker auto mine\.bin\r?\n", 60, first.end())
                c = m.wait_for(r"efichat: chosen mine\.bin MiB=\d+\r?\n", LOAD_S, a.end())
                answers(m, c.end(), model="e2e-folder-model")

            cases.run("models: with no key the picker loads its selection after picker_wait seconds; an efichat-format "
                      "file in \\efichat\\models runs as the GPT model", auto_pick)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
