#!/usr/bin/env python3
"""measure_boot.py [--build DIR] [--runs N] - boot time with and without shim: QEMU start to `efichat: ready` (TCG
unless EFICHAT_ACCEL=kvm) for the plain image (efichat alone as BOOTX64.EFI), the default shim image with Secure
Boot off, and a snakeoil-signed plain image on OVMF's Secure Boot build with Debian's test key in db. Prints a
Markdown table for docs/secureboot.md; numbers are printed, never asserted. Writes only under BUILD/e2e/."""
import argparse, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("EFICHAT_BUILD", "build"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.environ["EFICHAT_BUILD"] = build
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import efiqemu
    work = os.path.join(build, "e2e", "measure-boot")
    os.makedirs(work, exist_ok=True)
    efi = os.path.join(build, "efichat.efi")
    key = os.path.join(work, "snakeoil.key")
    subprocess.run(["openssl", "rsa", "-in", "/usr/share/ovmf/PkKek-1-snakeoil.key", "-passin", "pass:snakeoil",
                    "-out", key], check=True, capture_output=True)
    signed = os.path.join(work, "efichat.signed.efi")
    subprocess.run(["sbsign", "--key", key, "--cert", "/usr/share/ovmf/PkKek-1-snakeoil.pem", "--output", signed,
                    efi], check=True, capture_output=True)
    setups = [
        ("plain (SHIM=0)", "off", efiqemu.make_image(os.path.join(work, "plain.img"), efi, {}, shim=False)),
        ("shim + efichat (default)", "off", efiqemu.make_image(os.path.join(work, "shim.img"), efi, {})),
        ("plain, snakeoil-signed", "snakeoil", efiqemu.make_image(os.path.join(work, "signed.img"), signed, {},
                                                                   shim=False)),
    ]
    # Round robin (each run boots every setup once), so a change in the machine's load hits all setups alike.
    times = {name: [] for name, _, _ in setups}
    for i in range(args.runs):
        for name, sb, img in setups:
            with efiqemu.Machine(img, f"measure-boot-{sb}-{i}", keyboard="both", secure_boot=sb) as m:
                r = m.wait_for(r"efichat: ready", 300)
                times[name].append(m.arrival(r.start()))
            print(f"{name}: {times[name][-1]:.1f} s", file=sys.stderr)
    rows = [(name, sb, times[name]) for name, sb, _ in setups]
    print("| image | Secure Boot firmware | QEMU start to ready (s), each run | median |")
    print("|---|---|---|---|")
    for name, sb, times in rows:
        fw = {"off": "off (OVMF_CODE_4M.fd)", "snakeoil": "on (snakeoil db)"}[sb]
        print(f"| {name} | {fw} | {', '.join(f'{t:.1f}' for t in times)} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
