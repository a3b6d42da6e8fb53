#!/usr/bin/env python3
"""test_files.py - the files a user puts next to the app, and the other ways in: case i of issue 5 (a corrupt
\\efichat\\model.bin is reported, then the embedded model answers), the PS/2 half of case h (no USB keyboard), the
image booted as a USB stick, and a valid model.bin plus efichat.cfg overriding the embedded model and settings.
Two boots of image variants built here under build/e2e/ with tools/mkimage.sh; QEMU killed on every way out."""
import os, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efiqemu
from efiqemu import BUILD, LOGS, ROOT, Cases, Machine, check, extract_embedded_model, info

EFI = os.path.join(BUILD, "efichat.efi")
CLI = os.path.join(BUILD, "efichat-cli")
README = os.path.join(BUILD, "disk", "README.txt")
READY_S, REPLY_S = 300, 300
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"
PROMPT = "Speak, friend"
OVERRIDE_NAME = "e2e-override-model"


def make_image(name, files):
    """An image like build/efichat.img (shim in front of efichat) plus files {ESP path: host path}; returns its
    path."""
    return efiqemu.make_image(os.path.join(LOGS, f"{name}.img"), EFI, files)


def typed_reply(m, since):
    """Types PROMPT and Enter on the keyboard; returns the reply's token count once the framed message and the reply
    line are on serial."""
    m.type_text(PROMPT)
    m.send_key("ret")
    since = m.wait_for(re.escape(f"YOU:\r\n{PROMPT}\r\n\r\n"), 60, since).end()
    return int(m.wait_for(REPLY_RX, REPLY_S, since).group(1))


def main():
    cases = Cases()
    for path, hint in ((EFI, "make efi"), (CLI, "make cli"), (README, "make disk")):
        if not os.path.exists(path):
            cases.fail("e2e files: images", f"{path} missing ({hint})")
            return 1
    os.makedirs(LOGS, exist_ok=True)

    # a model file whose payload has one byte flipped: the header is fine, the CRC is not
    embedded = os.path.join(LOGS, "embedded-model.bin")
    embedded_name = extract_embedded_model(EFI, embedded)
    corrupt = os.path.join(LOGS, "corrupt-model.bin")
    with open(embedded, "rb") as f:
        data = bytearray(f.read())
    data[128 + (len(data) - 128) // 2] ^= 0x40
    with open(corrupt, "wb") as f:
        f.write(data)
    bad_img = make_image("corrupt-model", {"efichat/README.txt": README, "efichat/model.bin": corrupt})

    with Machine(bad_img, "corrupt-model-usb-stick-ps2", keyboard="ps2", disk_bus="usb", max_life=700) as m:
        st = {}

        def usb_stick():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            boot = m.wait_for(r"BdsDxe: starting [^\r\n]*\r?\n", 1)
            check("USB" in boot.group(0), f"firmware booted {boot.group(0).strip()!r}, not the USB stick")
            info(f"USB stick: QEMU start to ready {m.arrival(r.start()):.1f} s")
            st["ready"] = r.end()

        def i_corrupt():
            head = m.text(0, st["ready"])
            e = re.search(r"efichat: error: ([^\r\n]*)", head)
            check(e, "no 'efichat: error:' line before ready")
            info(f"error line: {e.group(0)!r}")
            check(re.search(r"model\.bin", e.group(1)) and re.search(r"checksum|corrupt", e.group(1)),
                  "the error line does not name model.bin and the checksum")
            check(re.search(r"efichat: model " + re.escape(embedded_name), head),
                  f"the embedded model {embedded_name!r} was not loaded after the error")
            tokens = typed_reply(m, st["ready"])
            check(tokens > 0, f"the embedded model gave {tokens} tokens")
            st["typed"] = True   # typed_reply saw the framed prompt, typed on the only keyboard: PS/2

        cases.run("disk: the image boots as a USB stick (usb-storage on xHCI)", usb_stick)
        U = ["disk: the image boots as a USB stick (usb-storage on xHCI)"]
        cases.run("i: a corrupt efichat/model.bin gives an error line, then the embedded model answers", i_corrupt,
                  needs=U)
        cases.run("h: a PS/2 keyboard types (no USB keyboard)", lambda: check(st.get("typed"), "nothing typed"),
                  needs=["i: a corrupt efichat/model.bin gives an error line, then the embedded model answers"])

    # a valid model of our own and a config file with one good value of each kind and one unknown key
    small = os.path.join(LOGS, "override-model.bin")
    subprocess.run([CLI, "random-model", "--out", small, "--dim", "32", "--layers", "1", "--heads", "2", "--ctx",
                    "64", "--seed", "3", "--name", OVERRIDE_NAME], check=True, timeout=60, capture_output=True)
    cfg = os.path.join(LOGS, "efichat.cfg")
    with open(cfg, "w") as f:
        f.write("# written by tests/e2e/test_files.py\ntemp=0.5\ntop_k=20\ntop_p=0.9\nuser_name=TESTER\n"
                "q8=0\nno_such_key=1\n")
    good_img = make_image("override", {"efichat/README.txt": README, "efichat/model.bin": small,
                                       "efichat/efichat.cfg": cfg})
    with Machine(good_img, "override", keyboard="usb", max_life=500) as m:
        st = {}

        def model_override():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            st["head"], st["ready"] = m.text(0, r.end()), r.end()
            check(re.search(r"efichat: model " + OVERRIDE_NAME, st["head"]),
                  "the model line does not name efichat/model.bin's model")
            check(not re.search(r"efichat: error: [^\r\n]*model", st["head"]), "an error about the valid model")
            check(re.search(r"efichat: model [^\r\n]* kernel=(sse2|avx)", st["head"]),
                  "q8=0 in efichat.cfg did not select a float kernel")

        def cfg_override():
            head = st["head"]
            check(re.search(r"efichat: settings temp=0.50 top_k=20 top_p=0.90\r?\n", head),
                  "the settings line does not show temp=0.5 top_k=20 top_p=0.9 from efichat.cfg")
            check(re.search(r"efichat: error: [^\r\n]*no_such_key", head), "the unknown key was not reported")
            m.type_text("Hi")
            m.send_key("ret")
            m.wait_for(re.escape("TESTER:\r\nHi\r\n\r\n"), 60, st["ready"])
            m.wait_for(REPLY_RX, REPLY_S, st["ready"])

        cases.run("files: a valid efichat/model.bin replaces the embedded model", model_override)
        cases.run("files: efichat/efichat.cfg sets temp, top_k, top_p, user_name; an unknown key is reported",
                  cfg_override, needs=["files: a valid efichat/model.bin replaces the embedded model"])
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
