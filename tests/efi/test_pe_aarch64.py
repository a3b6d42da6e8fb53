#!/usr/bin/env python3
"""test_pe_aarch64.py - build/aarch64/efichat.efi (BOOTAA64.EFI) as EDK II's loader reads it, checked with pefile:
an AArch64 EFI application whose every section's raw data lies inside the file (objcopy -O binary stops short of
what gnu-efi's header declares, and AAVMF then refuses the image as "Unsupported": mk/uefi-aarch64.mk pads it),
within SizeOfImage, no section both writable and executable; and the ELF it is cut from needs no symbol from
outside (no libgcc call such as an outline atomic) and only relative relocations, the one kind gnu-efi's
_relocate applies. Never boots anything (tests/e2e/test_aarch64_boot.py does)."""
import os, shutil, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from efiqemu import BUILD, Cases, check

EFI = os.path.join(BUILD, "aarch64", "efichat.efi")
SO = os.path.join(BUILD, "aarch64", "efi", "efichat.so")
WRITE, EXEC = 0x80000000, 0x20000000


def main():
    readelf = shutil.which("aarch64-linux-gnu-readelf")
    if not readelf:
        print("SKIP: pe aarch64: aarch64-linux-gnu-readelf missing (make deps: gcc-aarch64-linux-gnu)")
        return 0
    cases = Cases()
    try:
        import pefile
    except ImportError:
        cases.fail("pe aarch64: pefile", "python3-pefile is missing (make deps)")
        return 1
    if not os.path.exists(EFI) or not os.path.exists(SO):
        cases.fail("pe aarch64: build/aarch64/efichat.efi", "missing (make efi-aarch64)")
        return 1
    pe = pefile.PE(EFI)
    size = os.path.getsize(EFI)

    def header():
        check(pe.FILE_HEADER.Machine == 0xAA64, f"machine {pe.FILE_HEADER.Machine:#x}, want 0xaa64 (AArch64)")
        check(pe.OPTIONAL_HEADER.Subsystem == 10, f"subsystem {pe.OPTIONAL_HEADER.Subsystem}, want 10 (EFI app)")
        check(pe.OPTIONAL_HEADER.Magic == 0x20B, "not PE32+")

    def sections_in_file():
        for s in pe.sections:
            name = s.Name.rstrip(b"\0").decode()
            end = s.PointerToRawData + s.SizeOfRawData
            check(end <= size, f"{name}: raw data ends at {end:#x}, past the file's end {size:#x}")
            check(s.VirtualAddress + s.Misc_VirtualSize <= pe.OPTIONAL_HEADER.SizeOfImage,
                  f"{name} ends past SizeOfImage")
            check((s.Characteristics & (WRITE | EXEC)) != (WRITE | EXEC), f"{name} is writable and executable")

    def self_contained():
        syms = subprocess.run([readelf, "-sW", "--dyn-syms", SO], capture_output=True, text=True, check=True).stdout
        undef = sorted({ln.split()[-1] for ln in syms.splitlines() if " UND " in ln and ln.split()[-1] != "UND"})
        check(not undef, f"undefined symbols: {', '.join(undef[:5])}")
        rel = subprocess.run([readelf, "-rW", SO], capture_output=True, text=True, check=True).stdout
        kinds = sorted({ln.split()[2] for ln in rel.splitlines()
                        if ln[:1] in "0123456789abcdef" and len(ln.split()) > 2})
        check(kinds == ["R_AARCH64_RELATIVE"], f"relocation kinds {kinds}, want only R_AARCH64_RELATIVE")

    cases.run("pe aarch64: an AArch64 PE32+ EFI application", header)
    cases.run("pe aarch64: every section lies inside the file (AAVMF refuses one that does not), no W+X",
              sections_in_file)
    cases.run("pe aarch64: no undefined symbol, only relative relocations (gnu-efi's _relocate)", self_contained)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
