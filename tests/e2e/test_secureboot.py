#!/usr/bin/env python3
"""test_secureboot.py - efichat with Secure Boot on (issue 8), judged by the real firmware: Debian's OVMF builds
that enforce it (tools/qemu_run.sh SECURE_BOOT=snakeoil | ms).

snakeoil (Debian's test key in db), one boot with three disks in boot order: the unsigned plain image, the same
image signed by `make sign` with the snakeoil key and then one byte of its code changed, and the signed image. The
firmware must refuse the first two (Access Denied) and start the third, which reports "secure boot on" and answers.

ms (Microsoft's keys, what PCs ship with), the default shim image: shim's "Verification failed" and MokManager
(OCR), the hash enrolled with key events as a user would (ENROLL.txt), MokManager's reboot, efichat ready with
Secure Boot on, a reply, the F1 help showing the state, then a reset that goes straight to the chat. The screens
go to docs/secureboot/ for docs/secureboot.md. Every wait has a deadline; QEMU is killed on every way out."""
import os, re, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import BUILD, LOGS, ROOT, Cases, Machine, check, info, make_image, read_esp_file

EFI = os.path.join(BUILD, "efichat.efi")
IMG = os.path.join(BUILD, "efichat.img")
SNAKEOIL_KEY = "/usr/share/ovmf/PkKek-1-snakeoil.key"   # Debian's test key, passphrase "snakeoil"
SNAKEOIL_CERT = "/usr/share/ovmf/PkKek-1-snakeoil.pem"
SHOTS = os.path.join(ROOT, "docs", "secureboot")
READY_S = 300      # QEMU start (or a reset) to "efichat: ready"
SCREEN_S = 120     # one firmware/MokManager screen to the next
REPLY_S = 300
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"
PROMPT = "Who goes there?"


def sb_line(m, since, until):
    k = re.search(r"efichat: secure boot ([^\r\n]*)\r?\n", m.text(since, until))
    check(k is not None, "no 'efichat: secure boot' line before ready")
    return k.group(1)


def typed_reply(m, since):
    m.type_text(PROMPT)
    m.send_key("ret")
    since = m.wait_for(re.escape(f"{PROMPT}\r\n\r\n"), 60, since).end()
    return int(m.wait_for(REPLY_RX, REPLY_S, since).group(1))


# ---------------------------------------------------------------------------------------------------------------
# snakeoil: our own key in db

def signed_images(cases):
    """Builds the three plain (no shim) images under build/e2e/: unsigned, tampered, signed. Returns their paths."""
    work = os.path.join(LOGS, "sb-snakeoil")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    key = os.path.join(work, "snakeoil.key")   # the test key without its passphrase, for sbsign; never committed
    out = {}

    def sign():
        subprocess.run(["openssl", "rsa", "-in", SNAKEOIL_KEY, "-passin", "pass:snakeoil", "-out", key], check=True,
                       capture_output=True, timeout=60)
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={BUILD}", "sign", f"KEY={key}",
                            f"CERT={SNAKEOIL_CERT}"], capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"make sign failed: {(r.stdout + r.stderr)[-400:]}")
        signed = os.path.join(BUILD, "efichat.signed.efi")
        r = subprocess.run(["sbverify", "--cert", SNAKEOIL_CERT, signed], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"sbverify rejects make sign's output: {r.stderr.strip()}")
        out["signed"] = signed

    def tamper():
        import pefile
        with open(out["signed"], "rb") as f:
            data = bytearray(f.read())
        text = [s for s in pefile.PE(data=bytes(data)).sections if s.Name.rstrip(b"\0") == b".text"][0]
        at = text.PointerToRawData + text.SizeOfRawData // 2
        data[at] ^= 0x01
        bad = os.path.join(work, "efichat.tampered.efi")
        with open(bad, "wb") as f:
            f.write(data)
        r = subprocess.run(["sbverify", "--cert", SNAKEOIL_CERT, bad], capture_output=True, timeout=60)
        check(r.returncode != 0, "sbverify accepts the binary with a changed code byte")
        out["tampered"] = bad

    def usage():
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={BUILD}", "sign"],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode != 0 and "KEY=" in r.stdout + r.stderr, f"make sign without a key: {r.stdout}{r.stderr}")
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={BUILD}", "sign",
                            f"KEY={SNAKEOIL_KEY}"], capture_output=True, text=True, timeout=120)
        check(r.returncode != 0 and "CERT is missing" in r.stdout + r.stderr,
              f"make sign with KEY alone: {r.stdout}{r.stderr}")

    def disk_layouts():
        # make disk KEY= CERT= puts the signed binary behind shim (grubx64.efi), or alone with SHIM=0 (BOOTX64.EFI);
        # the images go to the work folder (DISK_IMG), build/efichat.img stays as it is
        with open(out["signed"], "rb") as f:
            want = f.read()
        for shim, esp_path in ((1, "/EFI/BOOT/grubx64.efi"), (0, "/EFI/BOOT/BOOTX64.EFI")):
            img = os.path.join(work, f"make-disk-shim{shim}.img")
            r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={BUILD}", f"DISK_IMG={img}",
                                "disk", f"SHIM={shim}", f"KEY={key}", f"CERT={SNAKEOIL_CERT}"],
                               capture_output=True, text=True, timeout=300)
            check(r.returncode == 0, f"make disk SHIM={shim} KEY= CERT= failed: {(r.stdout + r.stderr)[-400:]}")
            check(read_esp_file(img, esp_path) == want, f"SHIM={shim}: {esp_path} is not build/efichat.signed.efi")

    cases.run("secure boot: make sign KEY= CERT= writes a binary sbverify accepts (snakeoil key)", sign)
    cases.run("secure boot: make disk KEY= CERT= puts it behind shim, or alone with SHIM=0", disk_layouts,
              needs=["secure boot: make sign KEY= CERT= writes a binary sbverify accepts (snakeoil key)"])
    cases.run("secure boot: one changed code byte makes sbverify reject it", tamper,
              needs=["secure boot: make sign KEY= CERT= writes a binary sbverify accepts (snakeoil key)"])
    cases.run("secure boot: make sign without KEY and CERT says what to give", usage)
    if "tampered" not in out:
        return None
    return {name: make_image(os.path.join(work, f"{name}.img"), app, {}, shim=False)
            for name, app in (("unsigned", EFI), ("tampered", out["tampered"]), ("signed", out["signed"]))}


def snakeoil(cases, images):
    needs = ["secure boot: one changed code byte makes sbverify reject it"]
    if images is None:
        for name in ("unsigned refused", "tampered refused", "signed ready", "signed answers"):
            cases.fail(f"secure boot (snakeoil): {name}", "not run, the images could not be made")
        return
    # Boot order: unsigned (SATA port 0), tampered (port 1), signed (port 2). OVMF tries each in turn.
    extra = []
    for port, name in ((1, "tampered"), (2, "signed")):
        extra += ["-drive", f"if=none,id=sb{port},format=raw,file={images[name]},snapshot=on",
                  "-device", f"ide-hd,drive=sb{port},bus=ide.{port},bootindex={port}"]
    with Machine(images["unsigned"], "secureboot-snakeoil", keyboard="usb", secure_boot="snakeoil", extra=extra,
                 max_life=900) as m:
        st = {}

        def refused(port):
            def run():
                r = m.wait_for(rf"BdsDxe: (failed to load|starting) Boot\w+ [^\r\n]*Sata\(0x{port},[^\r\n]*\r\n",
                               READY_S)
                check(r.group(1) == "failed to load" and r.group(0).rstrip().endswith("Access Denied"),
                      f"the firmware did not refuse the disk on port {port}: {r.group(0)!r}")
            return run

        def ready():
            r = m.wait_for(r"efichat: ready", READY_S)
            boot = m.wait_for(r"BdsDxe: starting Boot\w+ [^\r\n]*Sata\(0x2,", 1)
            check(m.text(0, r.start()).count("efichat: screen") == 1, "efichat started more than once")
            st["ready"] = r.end()
            state = sb_line(m, boot.end(), r.end())
            check(state == "on", f"efichat says secure boot {state!r}, want 'on' (no shim on this image)")
            info(f"snakeoil: QEMU start to ready {m.arrival(r.start()):.1f} s (after two refused disks)")

        def answers():
            tokens = typed_reply(m, st["ready"])
            check(tokens > 0, "an empty reply")

        cases.run("secure boot (snakeoil): the unsigned efichat is refused", refused(0), needs=needs)
        cases.run("secure boot (snakeoil): the signed efichat with one code byte changed is refused", refused(1),
                  needs=needs)
        cases.run("secure boot (snakeoil): the signed efichat starts with 'secure boot on'", ready, needs=needs)
        cases.run("secure boot (snakeoil): and answers a prompt", answers,
                  needs=["secure boot (snakeoil): the signed efichat starts with 'secure boot on'"])


# ---------------------------------------------------------------------------------------------------------------
# Microsoft's keys: shim, MokManager, hash enrolment

def mokmanager(cases):
    os.makedirs(SHOTS, exist_ok=True)
    # keyboard=both: OVMF's warm reset (MokManager's "Reboot") pulses the i8042 reset line; without a PS/2
    # controller (i8042=off) the firmware spins for ever at that point.
    with Machine(IMG, "secureboot-ms", keyboard="both", secure_boot="ms", max_life=1200) as m:
        st = {"since": 0}
        n = [0]

        def screen(text, name, want, moves=(), wait=SCREEN_S):
            """Waits for `text` (a regex) on serial (the firmware mirrors its console there), presses the `moves`
            keys (so the picture shows the entry about to be chosen), lets the screen settle, keeps it as
            docs/secureboot/NN-name.png and checks that the OCR finds every phrase of `want` on it, compared as
            letters and digits only (tesseract splits and merges words of this bitmap font; page layout mode, since
            sparse-text mode misses a list entry drawn inside its own box)."""
            r = m.wait_for(text, wait, st["since"])
            time.sleep(0.5)
            keys(*moves)
            st["since"] = m.mark()
            time.sleep(1.0)
            n[0] += 1
            got = m.ocr_screen(f"sb-{n[0]:02d}-{name}", channels=(0,), psm=3,
                               keep=os.path.join(SHOTS, f"{n[0]:02d}-{name}.png"))
            squash = lambda t: re.sub(r"[^a-z0-9]", "", t.lower())
            missing = [p for p in want if squash(p) not in squash(got)]
            check(not missing, f"OCR of the {name} screen lacks {missing}: {' '.join(got.split())!r}")

        def keys(*names):
            for k in names:
                m.send_key(k, gap=0.4)

        def shim_refuses():
            screen(r"Verification failed", "verification-failed", ["Verification failed", "Security Violation"])
            check("efichat: screen" not in m.text(), "efichat ran although its hash is not enrolled")
            keys("ret")
            screen(r"Press any key to perform MOK management", "press-any-key", ["perform MOK management"])
            keys("spc")
            # the menu: Continue boot / Enroll key from disk / Enroll hash from disk
            screen(r"Enroll hash from disk", "mok-menu", ["Continue boot", "Enroll key from disk", "Enroll hash"],
                   moves=("down", "down"))

        def enrol():
            keys("ret")
            screen(r"EFICHAT", "select-volume", ["will have its hash Enrolled", "EFICHAT"])   # the stick's volume
            keys("ret")
            screen(r"efichat/", "select-efi", ["EFI", "efichat"])                             # EFI/ efichat/
            keys("ret")
            screen(r"BOOT/", "select-boot", ["BOOT"], moves=("down",))                        # ../ BOOT/
            keys("ret")
            screen(r"grubx64\.efi", "select-grubx64", ["grubx64"], moves=("down", "down", "down"))
            keys("ret")                                                   # ../ BOOTX64.EFI mmx64.efi grubx64.efi
            screen(r"View key 0", "enroll-mok", ["View key 0", "Continue"], moves=("down",))
            keys("ret")                                                   # View key 0 / Continue
            screen(r"Enroll the key\(s\)\?[^\r\n]*No[^\r\n]*Yes", "confirm", ["Enroll the key"], moves=("down",))
            keys("ret")                                                   # No / Yes
            screen(r"Reboot", "reboot", ["Reboot"])
            st["reboot"] = m.mark()
            keys("ret")

        def chat_after():
            r = m.wait_for(r"efichat: ready", READY_S, st["reboot"])
            between = m.text(st["reboot"], r.start())
            check("Verification failed" not in between and "MOK management" not in between,
                  "shim still refused efichat after the enrolment")
            state = sb_line(m, st["reboot"], r.end())
            check(state == "on, started by shim", f"efichat says secure boot {state!r}")
            st["ready"] = r.end()
            tokens = typed_reply(m, st["ready"])
            check(tokens > 0, "an empty reply")
            st["since"] = m.mark()

        def help_shows_state():
            keys("f1")
            time.sleep(1.5)
            n[0] += 1
            got = m.ocr_screen(f"sb-{n[0]:02d}-chat-help", keep=os.path.join(SHOTS, f"{n[0]:02d}-chat-help.png"))
            flat = " ".join(got.split())
            check(re.search(r"Secure Boot\s+on, started by shim", flat), f"F1 help lacks the Secure Boot line: {flat!r}")
            keys("esc")

        def second_boot():
            at = m.mark()
            t0 = time.monotonic()
            m.qmp("system_reset")
            r = m.wait_for(r"efichat: ready", READY_S, at)
            between = m.text(at, r.start())
            check("Verification failed" not in between and "MOK management" not in between,
                  "the second boot did not go straight to the chat")
            check(sb_line(m, at, r.end()) == "on, started by shim", "the second boot lost the Secure Boot state")
            info(f"ms + shim, enrolled: reset to ready {m.arrival(r.start()) - (t0 - m.t_start):.1f} s")

        cases.run("secure boot (ms): shim says Verification failed, then MokManager (OCR)", shim_refuses)
        cases.run("secure boot (ms): enrol efichat's hash from disk with MokManager, reboot", enrol,
                  needs=["secure boot (ms): shim says Verification failed, then MokManager (OCR)"])
        cases.run("secure boot (ms): after the reboot efichat is ready with Secure Boot on and answers", chat_after,
                  needs=["secure boot (ms): enrol efichat's hash from disk with MokManager, reboot"])
        cases.run("secure boot (ms): F1 help shows 'Secure Boot on, started by shim' (OCR)", help_shows_state,
                  needs=["secure boot (ms): after the reboot efichat is ready with Secure Boot on and answers"])
        cases.run("secure boot (ms): a second boot goes straight to the chat", second_boot,
                  needs=["secure boot (ms): after the reboot efichat is ready with Secure Boot on and answers"])


def main():
    cases = Cases()
    for path, hint in ((IMG, "make disk"), (EFI, "make efi")):
        if not os.path.exists(path):
            cases.fail("secure boot", f"{path} missing ({hint})")
            return 1
    snakeoil(cases, signed_images(cases))
    mokmanager(cases)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
