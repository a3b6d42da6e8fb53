#!/usr/bin/env python3
"""measure_qemu.py [--build DIR] [--smp 1,2] [--cpu qemu64,max] [--runs N] [--cfg 'key=value;...'] - measures efichat under QEMU (OVMF, TCG unless
EFICHAT_ACCEL=kvm) and prints a Markdown table for docs/performance.md: QEMU start to `efichat: ready`, app start
(OVMF's "BdsDxe: starting" line) to ready, and reply tokens/s of the embedded model for a 400-token raw-mode reply
at temperature 0, typed with real key events. --cfg boots a copy of the image with that efichat/efichat.cfg.
Numbers are printed, never asserted; nothing is written but logs and image copies in BUILD/e2e/."""
import argparse, os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_run(efiqemu, image, smp, cpu, tag):
    m = efiqemu.Machine(image, f"measure-smp{smp}-{cpu}-{tag}", keyboard="usb", smp=smp, max_life=900,
                        cpu=None if cpu == "default" else cpu)
    with m:
        r = m.wait_for(r"efichat: ready\r?\n", 120)   # ~5-7 s normally: 120 s means it never will
        boot = m.wait_for(r"BdsDxe: starting", 1)
        model = m.wait_for(r"efichat: model ([^\r\n]*)", 1).group(1)
        t_ready, t_app = m.arrival(r.start()), m.arrival(boot.start())
        since = r.end()
        m.send_key("f8")                                   # raw mode: the reply runs to the 400-token maximum
        since = m.wait_for(r"efichat: mode raw\r?\n", 60, since).end()
        for _ in range(8):                                 # temperature 0.80 -> 0.00
            m.send_key("f2")
        since = m.wait_for(r"temp=0\.00[^\r\n]*\r?\n", 60, since).end()
        m.type_text("ROMEO:")
        m.send_key("ret")
        start = m.wait_for(r"ROMEO:", 60, since).end()
        rep = m.wait_for(r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n", 900, start)
        tokens, ms = int(rep.group(1)), int(rep.group(2))
        t0, t1 = m.arrival(start), m.arrival(rep.start() - 1)
        return dict(model=model, ready=t_ready, app=t_ready - t_app, tokens=tokens, ms=ms,
                    app_tps=tokens * 1000 / max(ms, 1), wire_tps=tokens / max(t1 - t0, 1e-3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("EFICHAT_BUILD", "build"))
    ap.add_argument("--smp", default="1,2")
    ap.add_argument("--cpu", default="default",
                    help="QEMU -cpu models, comma-separated; default: tools/qemu_run.sh's (max under TCG)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--cfg", default="", help="efichat.cfg lines separated by ';', e.g. 'q8=1'")
    args = ap.parse_args()
    os.environ["EFICHAT_BUILD"] = args.build
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import efiqemu
    image = os.path.join(efiqemu.BUILD, "efichat.img")
    if not os.path.exists(image):
        sys.exit(f"{image} missing: make disk")
    if args.cfg:
        os.makedirs(efiqemu.LOGS, exist_ok=True)
        cfg = os.path.join(efiqemu.LOGS, "measure.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(args.cfg.split(";")) + "\n")
        # the build's efichat.efi in a plain image (the default image's BOOTX64.EFI is shim, which needs its
        # grubx64.efi beside it)
        efi_path = os.path.join(efiqemu.BUILD, "efichat.efi")
        image = os.path.join(efiqemu.LOGS, "measure.img")
        subprocess.run(["sh", os.path.join(ROOT, "tools", "mkimage.sh"), image, efi_path,
                        f"efichat/efichat.cfg={cfg}"], check=True)
    accel = os.environ.get("EFICHAT_ACCEL", "tcg")
    print(f"efichat under QEMU ({accel}, OVMF, q35, 512 MiB, USB keyboard, std VGA), {time.strftime('%Y-%m-%d')}, "
          f"host {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start"
          + (f", efichat.cfg: {args.cfg}" if args.cfg else ""))
    print()
    print("| -cpu | -smp | model | QEMU start to ready | app start to ready | reply tokens | tokens/s (serial) | "
          "tokens/s (app: tokens/ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for i in range(args.runs):  # round robin, so a change in the host's load touches every row alike
        for cpu in args.cpu.split(","):
            for smp in [int(s) for s in args.smp.split(",")]:
                r = one_run(efiqemu, image, smp, cpu, i)
                print(f"| {cpu} | {smp} | {r['model']} | {r['ready']:.1f} s | {r['app']:.2f} s | {r['tokens']} | "
                      f"{r['wire_tps']:.1f} | {r['app_tps']:.1f} |", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
