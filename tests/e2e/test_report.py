#!/usr/bin/env python3
"""test_report.py - the real-machine kit of issue 9 (items 2-4) in QEMU: \\efichat\\report.txt at start and after
the first reply, F10 screenshots (BMP decoded with PIL, compared with QEMU's own screendump, the typed prompt found
by OCR), F9's power-off answer ending QEMU, and a write-protected stick that gets one error line and still chats.
Two boots: a private copy of build/efichat.img under build/e2e/ booted without snapshot (so what the app writes lands
in the file and mtools reads it back), then the same copy as a read-only USB stick. QEMU killed on every way out."""
import io, os, re, shutil, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import BUILD, LOGS, Cases, Machine, check, info, ocr, ocr_ready, read_esp_file, write_png

IMG = os.path.join(BUILD, "efichat.img")
READY_S, REPLY_S, KEY_S = 300, 300, 30
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"
WRITTEN_RX = r"efichat: report written \\efichat\\report\.txt\r?\n"
PROMPT = "Speak, friend"
POWER_OFF_S = 30


def report_fields(text):
    """report.txt as {key: value}; checks the CR LF line ends on the way."""
    check(text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "report.txt lines do not end in CR LF")
    fields = {}
    for line in text.split("\r\n")[1:]:
        if line:
            k, sep, v = line.partition(": ")
            check(sep, f"report.txt line without 'key: value': {line!r}")
            fields[k] = v
    return fields


def decode_bmp(data):
    """(width, height, rgb bytes) of a BMP, decoded by PIL; checks it is a plain 24-bit BMP."""
    from PIL import Image
    check(data[:2] == b"BM" and int.from_bytes(data[28:30], "little") == 24, "not a 24-bit BMP")
    with Image.open(io.BytesIO(data)) as im:
        check(im.format == "BMP" and im.mode == "RGB", f"PIL reads {im.format} {im.mode}")
        return im.size[0], im.size[1], im.tobytes()


def main():
    cases = Cases()
    if not os.path.exists(IMG):
        cases.fail("e2e report: image", f"{IMG} missing (make disk)")
        return 1
    try:
        import PIL  # noqa: F401  (python3-pil decodes the screenshots)
    except ImportError:
        cases.fail("e2e report: PIL", "python3-pil is missing (apt-get install python3-pil)")
        return 1
    os.makedirs(LOGS, exist_ok=True)
    img = os.path.join(LOGS, "report.img")
    shutil.copyfile(IMG, img)   # the guest writes this copy; build/efichat.img stays as built
    st = {}

    with Machine(img, "report", keyboard="usb", disk_bus="sata", snapshot=False, max_life=600) as m:

        def ready():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            st["ready"] = r.end()
            info(f"QEMU start to ready {m.arrival(r.start()):.1f} s")
            head = m.text(0, r.end())
            check(re.search(WRITTEN_RX, head), "no 'efichat: report written' line before ready")
            check("efichat: error:" not in head, f"an error line at start: {head[head.find('efichat: error:'):][:200]!r}")

        def report_at_start():
            head = m.text(0, st["ready"])
            f = report_fields(read_esp_file(img, "/efichat/report.txt").decode("utf-8"))
            for k in ("firmware", "uefi", "secure_boot", "cpu", "cpu_features", "cpu_features_used", "cores",
                      "tsc_mhz", "memory_mib", "screen", "gop_modes", "input_found", "input_keys_from", "boot_ms",
                      "model", "first_reply", "tokens_per_s"):
                check(k in f, f"report.txt has no '{k}:' line")
            scr = re.search(r"efichat: screen (\d+x\d+) mode=(\d+) format=(\S+)", head)
            check(f["screen"].startswith(f"{scr.group(1)} mode={scr.group(2)} format={scr.group(3)} "),
                  f"report screen {f['screen']!r}, serial says {scr.group(0)!r}")
            check(f.get(f"gop_mode {scr.group(2)}") == f"{scr.group(1)} {scr.group(3)} (chosen)",
                  f"gop_mode {scr.group(2)} is {f.get('gop_mode ' + scr.group(2))!r}")
            n_modes = int(f["gop_modes"].split()[0])
            check(n_modes >= 1 and all(f"gop_mode {i}" in f for i in range(min(n_modes, 128))), "GOP modes missing")
            sb = re.search(r"efichat: secure boot ([^\r\n]*)", head).group(1)
            check(f["secure_boot"] == sb, f"report secure_boot {f['secure_boot']!r}, serial says {sb!r}")
            model = re.search(r"efichat: model (\S+) params=(\d+) ctx=(\d+) kernel=(\w+)", head)
            check(f["model"].startswith(f"{model.group(1)} params={model.group(2)} ctx={model.group(3)}"),
                  f"report model {f['model']!r}, serial says {model.group(0)!r}")
            check(f["cpu_features_used"].endswith(f"(kernel {model.group(4)})") and "SSE2" in f["cpu_features"],
                  f"cpu features {f['cpu_features']!r} / used {f['cpu_features_used']!r}")
            smp = int(os.environ.get("EFICHAT_SMP", "2"))
            check(f["cores"] == f"{smp} ({smp} enabled)", f"cores {f['cores']!r}, QEMU has -smp {smp}")
            check(380 <= int(f["memory_mib"].split()[0]) <= 512, f"memory {f['memory_mib']!r} with -m 512M")
            check(float(f["tsc_mhz"]) > 100, f"tsc_mhz {f['tsc_mhz']!r}")
            check(f["firmware"].startswith("EDK II") and re.fullmatch(r"2\.\d+(\.\d)?", f["uefi"]),
                  f"firmware {f['firmware']!r} uefi {f['uefi']!r}")
            check(f["first_reply"] == "none yet" and f["tokens_per_s"] == "none yet", "a reply before any was asked")
            check("SimpleTextInputEx (read)" in f["input_found"], f"input_found {f['input_found']!r}")
            info(f"report at start: {len(f)} fields; cpu {f['cpu']!r}, {f['memory_mib']}, boot {f['boot_ms']}")

        def shot_with_prompt():
            m.type_text(PROMPT)
            time.sleep(1.5)   # drawn (the loop draws within 50 ms of a key)
            w, h, screen = m.screendump(os.path.join(LOGS, "report-before-f10.png"))
            since = m.mark()
            m.send_key("f10")
            m.wait_for(r"efichat: screenshot \\efichat\\shots\\shot0001\.bmp\r?\n", KEY_S, since)
            bw, bh, rgb = decode_bmp(read_esp_file(img, "/efichat/shots/shot0001.bmp"))
            check((bw, bh) == (w, h), f"BMP {bw}x{bh}, screen {w}x{h}")
            diff = sum(1 for i in range(0, len(rgb), 3 * 97) if rgb[i:i + 3] != screen[i:i + 3])
            check(rgb == screen, f"the BMP differs from QEMU's screendump ({diff} of every 97th pixels differ)")
            write_png(os.path.join(LOGS, "report-shot0001.png"), bw, bh, rgb)
            ow, oh, ink = ocr_ready(bw, bh, rgb, scale=2)
            path = os.path.join(LOGS, "report-shot0001.ocr.png")
            write_png(path, ow, oh, ink, gray=True)
            text = ocr(path, 11)
            check(re.search(r"Speak,?\s+friend", text), f"OCR of the BMP does not show {PROMPT!r}: {text[-300:]!r}")

        def report_after_reply():
            since = m.mark()
            m.send_key("ret")
            r = m.wait_for(REPLY_RX, REPLY_S, since)
            m.wait_for(WRITTEN_RX, KEY_S, r.end())
            f = report_fields(read_esp_file(img, "/efichat/report.txt").decode("utf-8"))
            check(f["first_reply"] == f"tokens={r.group(1)} ms={r.group(2)}",
                  f"first_reply {f['first_reply']!r}, serial says tokens={r.group(1)} ms={r.group(2)}")
            check(float(f["tokens_per_s"]) > 0, f"tokens_per_s {f['tokens_per_s']!r}")
            check(f["input_keys_from"] == "SimpleTextInputEx", f"input_keys_from {f['input_keys_from']!r}")
            info(f"after the reply: {f['first_reply']}, {f['tokens_per_s']} tokens/s")

        def second_shot():
            since = m.mark()
            m.send_key("f10")
            m.wait_for(r"efichat: screenshot \\efichat\\shots\\shot0002\.bmp\r?\n", KEY_S, since)
            first = read_esp_file(img, "/efichat/shots/shot0001.bmp")
            second = read_esp_file(img, "/efichat/shots/shot0002.bmp")
            check(first != second and len(first) == len(second), "shot0002 is missing, or shot0001 was rewritten")
            decode_bmp(second)

        def power_off():
            since = m.mark()
            m.send_key("f9")
            m.wait_for(r"efichat: leave\? p=power off r=restart other=back\r?\n", KEY_S, since)
            m.send_key("n")   # any other key: back to the chat
            since = m.wait_for(r"efichat: leave cancelled\r?\n", KEY_S, since).end()
            m.send_key("f9")
            since = m.wait_for(r"efichat: leave\?", KEY_S, since).end()
            m.send_key("p")
            m.wait_for(r"efichat: power off\r?\n", KEY_S, since)
            try:
                m.proc.wait(timeout=POWER_OFF_S)
            except Exception:
                raise AssertionError(f"QEMU still running {POWER_OFF_S} s after the power-off answer")

        cases.run("report: ready, 'report written' at start", ready)
        cases.run("report: report.txt at start agrees with the serial lines", report_at_start,
                  needs=["report: ready, 'report written' at start"])
        cases.run("report: F10 writes shot0001.bmp = the screen, the typed prompt by OCR", shot_with_prompt,
                  needs=["report: ready, 'report written' at start"])
        cases.run("report: report.txt after the first reply has its tokens and tokens/s", report_after_reply,
                  needs=["report: ready, 'report written' at start"])
        cases.run("report: a second F10 writes shot0002.bmp, shot0001 untouched", second_shot,
                  needs=["report: F10 writes shot0001.bmp = the screen, the typed prompt by OCR"])
        cases.run("report: F9 asks, any key goes back, P powers QEMU off", power_off,
                  needs=["report: ready, 'report written' at start"])

    with Machine(img, "report-readonly", keyboard="usb", disk_bus="usb", snapshot=False, readonly=True,
                 max_life=600) as m:

        def readonly():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            head = m.text(0, r.end())
            errors = re.findall(r"efichat: error: [^\r\n]*", head)
            check(len(errors) == 1 and "report.txt" in errors[0] and "read-only" in errors[0],
                  f"want one error line naming report.txt and read-only, got {errors!r}")
            info(errors[0])
            since = m.mark()
            m.type_text("Hi")
            m.send_key("ret")
            reply = m.wait_for(REPLY_RX, REPLY_S, since)
            time.sleep(0.5)
            later = m.text(since)
            check("efichat: error:" not in later and not re.search(WRITTEN_RX, later),
                  f"after the reply: {later[reply.end() - since:][:200]!r}")

        cases.run("report: a read-only stick gives one error line, the chat goes on", readonly)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
