#!/usr/bin/env python3
"""test_chat.py - one boot of build/efichat.img (AHCI disk, std VGA, a USB keyboard and no PS/2 controller) driven
like a user: hotkeys, a typed prompt, the reply, Esc, Ctrl+L, screenshots. Cases (issue 5): a ready, d hotkeys + OCR,
b prompt and reply, f screenshot to docs/screenshot.png, h (USB half), c golden against efichat-cli in a new
conversation at temperature 0, e Esc, and Ctrl+L. The one boot is shared because each boot costs tens of seconds under TCG; a case that cannot run because an
earlier one failed is reported as failed. QEMU is killed on every way out (and by a watchdog)."""
import os, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import (APP_PATH, BUILD, LOGS, ROOT, Cases, Machine, check, cli_generate, extract_embedded_model, info,
                     read_esp_file)

IMG = os.path.join(BUILD, "efichat.img")
EFI = os.path.join(BUILD, "efichat.efi")
READY_S = 300      # QEMU start to "efichat: ready": ~15 s alone, much more when the two cores are busy
REPLY_S = 300      # one reply of at most 400 tokens
KEY_S = 30         # a hotkey to its settings line
PROMPT = "Good morrow, my lord. What news from Verona?"   # at temp 0.80: the screenshot's conversation
PROMPT2 = "And what of Romeo?"
GOLDEN_PROMPT = "Who is there?"                            # at temp 0: the golden
USER = "YOU"       # the default speaker name (src/chat/settings.c)
RAW_PROMPT = "ROMEO:"
MAX_REPLY = 400    # settings_default(): tokens per reply
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"   # to the line end: serial arrives in pieces


def settings_rx(temp, top_k, top_p):
    return re.escape(f"efichat: settings temp={temp} top_k={top_k} top_p={top_p}") + r"\r?\n"


def serial_bytes(m, start, end):
    """Serial output as the app meant it: the mirror sends every '\\n' as '\\r\\n'."""
    with m.cond:
        return bytes(m.buf[start:end]).replace(b"\r\n", b"\n")


def send_and_reply(m, text, since):
    """Types text and Enter; waits for the reply line. Returns (tokens, ms, serial offset of the reply line, the
    time Enter was pressed in seconds after QEMU started)."""
    m.type_text(text)
    t_enter = time.monotonic()
    m.send_key("ret")
    r = m.wait_for(REPLY_RX, REPLY_S, since)
    return int(r.group(1)), int(r.group(2)), r.start(), t_enter - m.t_start


def reply_after(m, framed, since, line_start, tokens):
    """The reply bytes: between the mirrored framed message and the reply line (the mirror adds one '\\n' before
    that line when the reply did not end with one)."""
    wire = framed.replace(b"\n", b"\r\n")
    with m.cond:
        at = bytes(m.buf).find(wire, since)
    check(at >= 0, f"the framed message {framed!r} never appeared on serial")
    got = serial_bytes(m, at + len(wire), line_start)
    check(got[:tokens] and got[tokens:] in (b"", b"\n"),
          f"{len(got)} bytes between the message and the reply line, tokens={tokens}: {got[-80:]!r}")
    return got[:tokens], at + len(wire)


def ocr_until(m, name, want, rows=None, psm=11, scale=2, tries=3):
    """OCR of the screen, retried while the regex `want` is not in it (the screen may lag the serial line)."""
    text = ""
    for i in range(tries):
        time.sleep(0.3 + i)
        text = m.ocr_screen(name, rows=rows, psm=psm, scale=scale)
        if re.search(want, text):
            break
    return text


def status_bar(w, h, rgb):
    """Rows of the status bar: the lowest band whose background (the pixel at x=2) differs from the transcript's
    (the pixel at 2,0); the cell grid need not reach the bottom of the screen, so the band may end above it."""
    px = lambda x, y: rgb[3 * (w * y + x):3 * (w * y + x) + 3]
    main, y1 = px(2, 0), h
    while y1 > 0 and px(2, y1 - 1) == main:
        y1 -= 1
    band, y0 = px(2, y1 - 1), y1 - 1
    while y0 > 0 and px(2, y0 - 1) == band:
        y0 -= 1
    check(0 < y0 < y1 and y1 - y0 < h // 4, f"no status bar found (rows {y0}..{y1})")
    return y0, y1


# The font's zero is dotted, and tesseract reads it as 0, 6, 8 or 9 depending on the scale; its 8 and 9 it reads
# right. So the temperature is checked as "x.9x" after F3, and "x.8x" before it (the default 0.80): the screen
# changed from 0.8 to 0.9 in the digit that matters.
TEMP_OCR = r"temp\s*[0689Oo][.,]{}[0689Oo]"


def main():
    cases = Cases()
    for path, hint in ((IMG, "make disk"), (EFI, "make efi")):
        if not os.path.exists(path):
            cases.fail("e2e chat: boot", f"{path} missing ({hint})")
            return 1
    os.makedirs(LOGS, exist_ok=True)
    model = os.path.join(LOGS, "embedded-model.bin")
    with Machine(IMG, "chat", keyboard="usb", disk_bus="sata", max_life=900) as m:
        st = {}

        def a_ready():
            r = m.wait_for(r"efichat: ready", READY_S)
            boot = m.wait_for(r"BdsDxe: starting", 1)
            t_ready, t_app = m.arrival(r.start()), m.arrival(boot.start())
            info(f"QEMU start to ready {t_ready:.1f} s; app start (BdsDxe: starting) to ready {t_ready - t_app:.1f} s")
            st["ready"] = r.end()
            k = re.search(r"efichat: model [^\r\n]* kernel=(\w+)", m.text(0, r.end()))
            check(k is not None, "no 'efichat: model ... kernel=' line before ready")
            st["kernel"] = k.group(1)
            check(st["kernel"] == "q8", f"the default kernel is {st['kernel']}, not q8")
            check(re.search(settings_rx("0.80", 40, "0.95"), m.text(0, r.end())) is not None,
                  "no default settings line before ready")

        def d_hotkeys():
            since = st["ready"]
            before = ocr_until(m, "settings-default", TEMP_OCR.format(8), rows=status_bar, psm=7, scale=1)
            check(re.search(TEMP_OCR.format(8), before), f"status bar OCR shows no 'temp 0.80': {before!r}")
            for key, want in (("f3", ("0.90", 40, "0.95")), ("f5", ("0.90", 80, "0.95")),
                              ("f7", ("0.90", 80, "1.00"))):
                m.send_key(key)
                since = m.wait_for(settings_rx(*want), KEY_S, since).end()
            text = ocr_until(m, "hotkeys", TEMP_OCR.format(9), rows=status_bar, psm=7, scale=1)
            check(re.search(TEMP_OCR.format(9), text), f"status bar OCR shows no 'temp 0.90': {text!r}")
            info(f"status bar (OCR): {text.strip()!r}")
            # F2, F4, F6 step back to the defaults for the conversation of the screenshot
            for key, want in (("f2", ("0.80", 80, "1.00")), ("f4", ("0.80", 40, "1.00")),
                              ("f6", ("0.80", 40, "0.95"))):
                m.send_key(key)
                since = m.wait_for(settings_rx(*want), KEY_S, since).end()
            st["defaults"] = since

        def b_prompt():
            since = st["defaults"]
            tokens, ms, line, t_enter = send_and_reply(m, PROMPT, since)
            check(tokens > 0, f"tokens={tokens}")
            framed = f"{USER}:\n{PROMPT}\n\n".encode()
            reply, start = reply_after(m, framed, since, line, tokens)
            info(f"reply at temp 0.80: {tokens} tokens in {ms} ms: {reply[:160]!r}")
            st.update(typed=framed)
            t0, t1, t_line = m.arrival(start), m.arrival(line - 1), m.arrival(line)
            info(f"reply streamed at {tokens / max(t1 - t0, 1e-3):.1f} tokens/s (serial arrival times); "
                 f"the app says {tokens * 1000 / max(ms, 1):.1f} tokens/s including the prompt")
            # ms runs from Enter to the last token: it cannot exceed what the wall clock saw, nor be far below the
            # time the reply took to stream out
            check(ms / 1000 <= t_line - t_enter + 1.0 and ms / 1000 >= 0.5 * (t1 - t0) - 0.2,
                  f"ms={ms}, but Enter to the reply line took {t_line - t_enter:.2f} s on the wall clock and the "
                  f"reply streamed for {t1 - t0:.2f} s")

        def f_screenshot():
            send_and_reply(m, PROMPT2, m.mark())   # a second exchange: a conversation, not a single reply
            text = ocr_until(m, "conversation", r"morrow")
            png = os.path.join(LOGS, "conversation.png")
            check(re.search(r"Good\s+morrow", text) and re.search(r"Verona", text),
                  f"OCR does not show the typed prompt: {text[:300]!r}")
            os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
            os.replace(png, os.path.join(ROOT, "docs", "screenshot.png"))

        def c_golden():
            # a new conversation at temperature 0: eight F2 presses from 0.80, each with its own settings line
            since = m.mark()
            m.send_key("ctrl", "l")
            since = m.wait_for(r"efichat: new conversation\r?\n", KEY_S, since).end()
            for _ in range(8):
                m.send_key("f2")
            since = m.wait_for(settings_rx("0.00", 40, "0.95"), KEY_S, since).end()
            tokens, ms, line, _ = send_and_reply(m, GOLDEN_PROMPT, since)
            framed = f"{USER}:\n{GOLDEN_PROMPT}\n\n".encode()   # the whole context: the conversation is new
            reply, _ = reply_after(m, framed, since, line, tokens)
            info(f"reply at temp 0: {tokens} tokens: {reply[:160]!r}")
            # the app QEMU booted, which may be older than build/efichat.efi when the image was not rebuilt
            name = extract_embedded_model(read_esp_file(IMG, APP_PATH), model)
            want = cli_generate(model, framed.decode(), tokens, st["kernel"])
            check(want == reply, f"model {name}: QEMU {reply[:80]!r} != CLI {want[:80]!r}")
            # the reply ended by the play-mode rule (a blank line) or at the maximum, never early
            check(reply.endswith(b"\n\n") or tokens == MAX_REPLY, "the reply ended early")

        def e_esc():
            since = m.mark()
            m.send_key("ctrl", "l")
            since = m.wait_for(r"efichat: new conversation", KEY_S, since).end()
            m.send_key("f8")
            since = m.wait_for(r"efichat: mode raw", KEY_S, since).end()
            m.type_text(RAW_PROMPT)
            m.send_key("ret")
            wire = RAW_PROMPT.encode()
            start = m.wait_for(re.escape(wire), KEY_S, since).end()
            # let the reply stream a little, then Esc
            m.wait_for(rb"[\s\S]{20}", REPLY_S, start)
            seen = m.mark() - start
            m.send_key("esc")
            r = m.wait_for(REPLY_RX, REPLY_S, start)
            tokens = int(r.group(1))
            info(f"Esc after ~{seen} bytes on serial: the reply stopped at {tokens} tokens of {MAX_REPLY}")
            check(0 < tokens < MAX_REPLY // 2, f"tokens={tokens}: Esc did not stop the reply")
            st["after_esc"] = r.end()

        def ctrl_l():
            since = m.mark()
            m.send_key("ctrl", "l")
            m.wait_for(r"efichat: new conversation", KEY_S, since)
            text = ocr_until(m, "cleared", r"New\s+conversation")
            check(re.search(r"New\s+conversation", text), f"OCR shows no 'New conversation' note: {text[:300]!r}")
            check(not re.search(RAW_PROMPT, text), "the old conversation is still on screen")

        A = ["a: boot to 'efichat: ready' (USB keyboard, AHCI disk)"]
        D = ["d: F3/F5/F7 change the settings line and the status bar (OCR); F2/F4/F6 step back"]
        B = ["b: a typed prompt gets a streamed reply with its reply line"]
        cases.run(A[0], a_ready)
        cases.run(D[0], d_hotkeys, needs=A)
        cases.run(B[0], b_prompt, needs=D)
        cases.run("f: screenshot after a conversation to docs/screenshot.png, prompt on screen (OCR)",
                  f_screenshot, needs=B)
        # b typed its prompt on the only keyboard this machine has; what the app fed the model is that text
        cases.run("h: a USB keyboard types (PS/2 controller off)",
                  lambda: check(st.get("typed", b"").find(PROMPT.encode()) > 0, "the typed prompt was not seen"),
                  needs=B)
        cases.run("c: golden: the temperature-0 reply equals efichat-cli generate", c_golden, needs=A)
        cases.run("e: Esc stops a long reply", e_esc, needs=A)
        cases.run("Ctrl+L starts a new conversation", ctrl_l, needs=A)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
