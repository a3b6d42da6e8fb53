#!/usr/bin/env python3
"""test_disk.py - build/efichat.img is what firmware expects: a valid GPT (both copies, CRCs right) whose only
partition is an EFI System Partition holding FAT32, with the Secure Boot layout of issue 8 (Debian's signed shim as
BOOTX64.EFI, its MokManager as mmx64.efi, build/efichat.efi byte for byte as grubx64.efi, no fallback loader, and
build/aarch64/efichat.efi as BOOTAA64.EFI when the image has it) and the user README and ENROLL.txt. Reads the image
in Python and through mtools; never boots anything (the boot tests do)."""
import os, struct, subprocess, sys, uuid, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import MM_EFI, SHIM_EFI, BUILD, ROOT, Cases, check

IMG = os.path.join(BUILD, "efichat.img")
EFI = os.path.join(BUILD, "efichat.efi")
AA64_EFI = os.path.join(BUILD, "aarch64", "efichat.efi")
ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
SECTOR = 512


def gpt_header(disk, lba):
    h = disk[lba * SECTOR:lba * SECTOR + 92]
    check(h[:8] == b"EFI PART", f"no GPT signature at LBA {lba}")
    size = struct.unpack_from("<I", h, 12)[0]
    crc = struct.unpack_from("<I", h, 16)[0]
    check(zlib.crc32(h[:16] + b"\0\0\0\0" + h[20:size]) == crc, f"GPT header CRC wrong at LBA {lba}")
    my_lba, alt_lba, first, last = struct.unpack_from("<QQQQ", h, 24)
    entries_lba, n, entry_size, entries_crc = struct.unpack_from("<QIII", h, 72)
    table = disk[entries_lba * SECTOR:entries_lba * SECTOR + n * entry_size]
    check(zlib.crc32(table) == entries_crc, f"GPT partition array CRC wrong (header at LBA {lba})")
    check(my_lba == lba, f"GPT header at LBA {lba} says it is at {my_lba}")
    parts = []
    for i in range(n):
        e = table[i * entry_size:(i + 1) * entry_size]
        t = uuid.UUID(bytes_le=e[:16])
        if t.int:
            start, end = struct.unpack_from("<QQ", e, 32)
            parts.append((t, start, end))
    return alt_lba, parts


def main():
    cases = Cases()
    if not os.path.exists(IMG):
        cases.fail("disk image", f"{IMG} missing (make disk)")
        return 1
    with open(IMG, "rb") as f:
        disk = f.read()
    state = {}

    def gpt():
        check(disk[510:512] == b"\x55\xaa" and disk[450] == 0xEE, "no protective MBR")
        alt, parts = gpt_header(disk, 1)
        check(alt == len(disk) // SECTOR - 1, f"backup GPT header should be on the last sector, not LBA {alt}")
        alt2, parts2 = gpt_header(disk, alt)
        check(parts == parts2, "primary and backup partition tables differ")
        check(len(parts) == 1 and parts[0][0] == ESP_TYPE, f"want exactly one ESP, got {parts}")
        state["esp"] = parts[0]

    def fat32():
        _, start, end = state["esp"]
        bs = disk[start * SECTOR:(start + 1) * SECTOR]
        check(bs[82:90] == b"FAT32   " and bs[510:512] == b"\x55\xaa", "the ESP is not FAT32")
        total = struct.unpack_from("<I", bs, 32)[0]
        hidden = struct.unpack_from("<I", bs, 28)[0]
        check(total <= end - start + 1, f"FAT claims {total} sectors, the partition has {end - start + 1}")
        check(hidden == start, f"hidden sectors {hidden}, partition starts at {start}")

    def mtools_read(path):
        _, start, _ = state["esp"]
        r = subprocess.run(["mtype", "-i", f"{IMG}@@{start * SECTOR}", "::" + path], capture_output=True,
                           env=dict(os.environ, MTOOLS_SKIP_CHECK="1"), timeout=60)
        check(r.returncode == 0, f"mtype {path}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout

    def boot_files():
        for esp_path, host in (("/EFI/BOOT/grubx64.efi", EFI), ("/EFI/BOOT/BOOTX64.EFI", SHIM_EFI),
                               ("/EFI/BOOT/mmx64.efi", MM_EFI)):
            with open(host, "rb") as f:
                want = f.read()
            check(want[:2] == b"MZ", f"{host} is not a PE file")
            check(mtools_read(esp_path) == want, f"{esp_path} differs from {host}")
        _, start, _ = state["esp"]
        r = subprocess.run(["mdir", "-b", "-i", f"{IMG}@@{start * SECTOR}", "::/EFI/BOOT"], capture_output=True,
                           text=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"), timeout=60)
        names = sorted(os.path.basename(line.strip()).lower() for line in r.stdout.splitlines() if line.strip())
        # BOOTAA64.EFI, the AArch64 build (mk/uefi-aarch64.mk), when the image was made with it (ARM64=1)
        arm = "bootaa64.efi" in names
        if arm:
            with open(AA64_EFI, "rb") as f:
                check(mtools_read("/EFI/BOOT/BOOTAA64.EFI") == f.read(),
                      f"EFI/BOOT/BOOTAA64.EFI differs from {AA64_EFI}")
        check(names == sorted(["bootx64.efi", "grubx64.efi", "mmx64.efi"] + (["bootaa64.efi"] if arm else [])),
              f"EFI/BOOT holds {names}: no fallback loader (fbx64.efi) may be there, nothing else is needed")

    def user_text(name):
        text = mtools_read(f"/efichat/{name}")
        with open(os.path.join(ROOT, "disk", name), "rb") as f:
            want = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        check(text == want, f"efichat/{name} differs from disk/{name} (with DOS line ends)")

    cases.run("disk: GPT with one EFI System Partition, both copies valid", gpt)
    cases.run("disk: ESP is FAT32 sized to its partition", fat32, needs=["disk: GPT with one EFI System Partition, "
                                                                        "both copies valid"])
    esp = ["disk: GPT with one EFI System Partition, both copies valid"]
    cases.run("disk: shim is EFI/BOOT/BOOTX64.EFI, MokManager mmx64.efi, build/efichat.efi grubx64.efi", boot_files,
              needs=esp)
    cases.run("disk: efichat/README.txt for users", lambda: user_text("README.txt"), needs=esp)
    cases.run("disk: efichat/ENROLL.txt says what to press", lambda: user_text("ENROLL.txt"), needs=esp)

    def models_option():
        # `make disk MODELS=...` into another image: the files land in efichat/models/, byte for byte, and the image
        # grows to hold them (each file's MiB rounded up, plus 48: 1 + 70 + 48)
        work = os.path.join(BUILD, "e2e")
        os.makedirs(work, exist_ok=True)
        img, small, big = (os.path.join(work, n) for n in ("disk-models.img", "tiny.gguf", "big.bin"))
        with open(small, "wb") as f:
            f.write(b"GGUF" + bytes(range(256)) * 4)
        with open(big, "wb") as f:
            f.write(os.urandom(70 << 20))
        try:
            r = subprocess.run(["make", "-s", "disk", f"DISK_IMG={img}", f"MODELS={small}"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
            check(r.returncode == 0, f"make disk MODELS=: {r.stdout[-300:]} {r.stderr[-300:]}")
            size_small = os.path.getsize(img)
            r = subprocess.run(["make", "-s", "disk", f"DISK_IMG={img}", f"MODELS={small} {big}"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
            check(r.returncode == 0, f"make disk MODELS= (two files): {r.stderr[-300:]}")
            with open(img, "rb") as f:
                f.seek(2 * SECTOR + 32)
                start = struct.unpack("<Q", f.read(8))[0]
            for host in (small, big):
                got = subprocess.run(["mtype", "-i", f"{img}@@{start * SECTOR}",
                                      "::/efichat/models/" + os.path.basename(host)], capture_output=True,
                                     env=dict(os.environ, MTOOLS_SKIP_CHECK="1"), timeout=60).stdout
                with open(host, "rb") as f:
                    check(got == f.read(), f"efichat/models/{os.path.basename(host)} differs from {host}")
            check(size_small == 64 << 20 and os.path.getsize(img) == 119 << 20,
                  f"image sizes {size_small >> 20} and {os.path.getsize(img) >> 20} MiB, want 64 and 119")
        finally:
            for p in (img, small, big):
                if os.path.exists(p):
                    os.remove(p)

    cases.run("disk: make disk MODELS=... puts the files in efichat/models/ and sizes the image for them",
              models_option)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
