#!/usr/bin/env python3
"""test_aarch64_boot.py - issue 12: one stick for x86 and ARM. The disk layout of `make disk` (shim + efichat for
x86-64, and build/aarch64/efichat.efi as EFI/BOOT/BOOTAA64.EFI) boots on AAVMF, EDK II for AArch64, under
qemu-system-aarch64 -M virt -cpu max (TCG): the image on virtio-blk, a USB keyboard on xHCI, two cores; the q8 boot
on a ramfb screen, the float one on virtio-gpu-pci (a GOP with Blt only, no framebuffer).
Cases, for the default kernel (q8, its SDOT path) and for q8=0 (the NEON float kernel): the ready line; then a
prompt typed on the USB keyboard at temperature 0 (efichat.cfg), whose reply must equal, byte for byte, the x86-64
host CLI's greedy continuation of the same context with the same model and kernel: the NEON build computes the SSE2
bits inside the firmware too. The q8 boot then takes a prompt over the serial port and reads both prompts off the
ramfb screen by OCR. Two boots; QEMU is killed on every way out."""
import os, re, shutil, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import BUILD, LOGS, Cases, Machine, check, cli_generate, extract_embedded_model, info, make_image

EFI = os.path.join(BUILD, "efichat.efi")
AA64_EFI = os.path.join(BUILD, "aarch64", "efichat.efi")
AAVMF = "/usr/share/AAVMF/AAVMF_CODE.fd"
READY_S, REPLY_S = 300, 300   # TCG emulating AArch64 on a busy host: ~30-60 s to ready alone
PROMPT = "Who is there?"
SERIAL_PROMPT = "Speak, speak."
USER = "YOU"
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"


def boot(cases, img, tag, kernel, model, screen):
    """One boot of img on AAVMF with `screen` (a QEMU display device): the ready line with `kernel`, then the
    temperature-0 reply against the x86 CLI."""
    st = {}
    os.environ["ARM_SCREEN"] = screen  # tools/qemu_run.sh: the display device of -M virt
    ready_case = f"aarch64 ({tag}): the one stick boots BOOTAA64.EFI on AAVMF to the ready line"
    with Machine(img, f"aarch64-boot-{tag}", arch="aarch64", disk_bus=None, keyboard="usb", max_life=900) as m:
        def ready():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            info(f"AAVMF, QEMU start to ready {m.arrival(r.start()):.1f} s")
            head = m.text(0, r.end())
            line = re.search(r"efichat: model (\S+) [^\r\n]*kernel=(\w+)(?: q8path=(\S+))? cores=(\d+)", head)
            check(line is not None, "no 'efichat: model ... kernel= cores=' line")
            check(line.group(2) == kernel, f"kernel={line.group(2)}, want {kernel}")
            check(kernel != "q8" or line.group(3) == "neon-dot", f"q8path={line.group(3)}, want neon-dot (-cpu max has SDOT)")
            scr = re.search(r"efichat: screen \d+x\d+ mode=\d+ format=([\w-]+)", head)
            check(scr is not None, f"no graphics screen ({screen})")
            check(screen != "virtio-gpu-pci" or scr.group(1) == "Blt-only",
                  f"virtio-gpu-pci gave format {scr.group(1)}, want Blt-only")
            info(f"screen: {screen}, format {scr.group(1)}")
            check(re.search(r"efichat: settings temp=0.00 ", head), "efichat.cfg's temp=0 was not read")
            info(f"model {line.group(1)}, kernel {line.group(2)}, cores {line.group(4)} (-smp 2)")
            st.update(since=r.end())

        def golden():
            m.type_text(PROMPT)
            m.send_key("ret")
            framed = f"{USER}:\n{PROMPT}\n\n"
            at = m.wait_for(re.escape(framed.replace("\n", "\r\n")), 60, st["since"])
            r = m.wait_for(REPLY_RX, REPLY_S, at.end())
            tokens = int(r.group(1))
            with m.cond:
                got = bytes(m.buf[at.end():r.start()]).replace(b"\r\n", b"\n")
            check(tokens > 0 and got[tokens:] in (b"", b"\n"),
                  f"{len(got)} bytes before the reply line, tokens={tokens}")
            want = cli_generate(model, framed, tokens, kernel)   # neon: the x86 CLI's sse2, the same bits
            check(got[:tokens] == want,
                  f"the AArch64 app's reply {got[:60]!r} differs from the x86 CLI's {want[:60]!r}")
            info(f"{tokens} tokens in {r.group(2)} ms, equal to the x86-64 CLI: {want[:60]!r}")
            st.update(after=r.end())

        def serial_turn():
            m.serial_write(SERIAL_PROMPT + "\r")
            at = m.wait_for(re.escape(f"{USER}:\r\n{SERIAL_PROMPT}\r\n"), 60, st["after"])
            r = m.wait_for(REPLY_RX, REPLY_S, at.end())
            check(int(r.group(1)) > 0, "an empty reply to the serial prompt")
            info(f"serial prompt: {r.group(1)} tokens in {r.group(2)} ms")

        def ocr_case():
            text = m.ocr_screen("aarch64-ramfb-chat")
            words = [w for w in ("Who", "there", "Speak") if w in text]
            check(len(words) >= 2, f"the prompts are not on the ramfb screen (OCR found {words}): {text[:200]!r}")
            info(f"OCR of the AArch64 screen found {words}")

        cases.run(ready_case, ready)
        golden_case = (f"aarch64 ({tag}): a temperature-0 reply typed on the USB keyboard equals the x86-64 CLI, "
                       "byte for byte")
        cases.run(golden_case, golden, needs=[ready_case])
        if tag == "q8":  # one boot also takes a prompt over serial and shows both on the screen
            cases.run("aarch64 (q8): a prompt over the serial port (PL011) gets a reply", serial_turn,
                      needs=[golden_case])
            cases.run("aarch64 (q8): both prompts on the ramfb screen (screendump + OCR)", ocr_case,
                      needs=[golden_case])


def main():
    missing = ([] if shutil.which("qemu-system-aarch64") else ["qemu-system-aarch64"]) + \
              ([] if os.path.exists(AAVMF) else [AAVMF])
    if missing:
        print(f"SKIP: aarch64 boot: {', '.join(missing)} missing (make deps: qemu-system-arm, qemu-efi-aarch64)")
        return 0
    cases = Cases()
    for f, how in ((EFI, "make efi"), (AA64_EFI, "make efi-aarch64")):
        if not os.path.exists(f):
            cases.fail("aarch64 boot", f"{f} missing ({how})")
            return 1
    os.makedirs(LOGS, exist_ok=True)
    model = os.path.join(LOGS, "aarch64-embedded.bin")
    extract_embedded_model(AA64_EFI, model)
    # two boots: the default kernel (q8, NEON integer sums) and q8=0 (the NEON float kernel)
    for tag, conf, kernel, screen in (("q8", "temp=0\n", "q8", "ramfb"),
                                      ("neon", "temp=0\nq8=0\n", "neon", "virtio-gpu-pci")):
        cfg = os.path.join(LOGS, f"aarch64-{tag}.cfg")
        with open(cfg, "w") as f:
            f.write(conf)
        img = make_image(os.path.join(LOGS, f"aarch64-stick-{tag}.img"), EFI, {"efichat/efichat.cfg": cfg},
                         aa64_app=AA64_EFI)
        boot(cases, img, tag, kernel, model, screen)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
