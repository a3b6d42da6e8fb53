#!/usr/bin/env python3
"""test_pe.py - build/efichat.efi as shim and Secure Boot firmware read it, checked with pefile (Debian's
python3-pefile, an independent PE reader): an .sbat section with the standard header line and an efichat line
(generation 1, the version from git) that follows the rules shim parses by, placed past every other section and
inside SizeOfImage, no section both writable and executable, and an entry point (efi_main) that touches no SSE
register before it has switched SSE on. Never boots anything."""
import os, re, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
from efiqemu import BUILD, ROOT, Cases, check

EFI = os.path.join(BUILD, "efichat.efi")
SBAT_HEADER = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md"
WRITE, EXEC = 0x80000000, 0x20000000


def main():
    cases = Cases()
    try:
        import pefile
    except ImportError:
        cases.fail("pe: pefile", "python3-pefile is missing (make deps)")
        return 1
    if not os.path.exists(EFI):
        cases.fail("pe: build/efichat.efi", "missing (make efi)")
        return 1
    pe = pefile.PE(EFI)
    st = {}

    def sbat_section():
        found = [s for s in pe.sections if s.Name.rstrip(b"\0") == b".sbat"]
        check(len(found) == 1, f"want one .sbat section, got {[s.Name for s in pe.sections]}")
        sec = found[0]
        data = sec.get_data()[:sec.Misc_VirtualSize]
        st["sec"], st["text"] = sec, data.rstrip(b"\0").decode("ascii")

    def sbat_lines():
        lines = st["text"].split("\n")
        check(lines[-1] == "", "the last SBAT line must end with a newline")
        lines = lines[:-1]
        check(lines[0] == SBAT_HEADER, f"first line {lines[0]!r}, want {SBAT_HEADER!r}")
        check(len(lines) == 2, f"want the header and one efichat line, got {lines}")
        fields = lines[1].split(",")
        # component_name, component_generation, vendor_name, vendor_package_name, vendor_version, vendor_url
        check(len(fields) == 6 and all(fields), f"efichat line {lines[1]!r}: want 6 non-empty fields")
        check(fields[0] == "efichat" and fields[1] == "1", f"want component efichat generation 1: {lines[1]!r}")
        for line in lines:
            check(re.fullmatch(r"[\x21-\x7e ]+", line) is not None, f"non-printable byte in {line!r}")
        r = subprocess.run(["git", "describe", "--always"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            version = fields[4]
            check(version == r.stdout.strip(),
                  f"version {version!r} is not `git describe` of this checkout ({r.stdout.strip()!r}): stale build?")

    def sbat_placement():
        sec = st["sec"]
        others = [s for s in pe.sections if s is not sec]
        end = max(s.VirtualAddress + max(s.Misc_VirtualSize, s.SizeOfRawData) for s in others)
        check(sec.VirtualAddress >= end, f".sbat at {sec.VirtualAddress:#x} overlaps a section ending at {end:#x}")
        check(sec.VirtualAddress % pe.OPTIONAL_HEADER.SectionAlignment == 0, ".sbat is not section-aligned")
        check(sec.VirtualAddress + sec.Misc_VirtualSize <= pe.OPTIONAL_HEADER.SizeOfImage,
              "SizeOfImage does not cover .sbat")
        check(not sec.Characteristics & (WRITE | EXEC), ".sbat must be read-only data")

    def no_wx():
        bad = [s.Name for s in pe.sections if s.Characteristics & WRITE and s.Characteristics & EXEC]
        check(not bad, f"writable and executable sections: {bad}")

    cases.run("pe: efichat.efi has one .sbat section", sbat_section)
    cases.run("pe: .sbat holds the SBAT header and efichat,1 with the git version", sbat_lines,
              needs=["pe: efichat.efi has one .sbat section"])
    cases.run("pe: .sbat lies past every other section, inside SizeOfImage, read-only", sbat_placement,
              needs=["pe: efichat.efi has one .sbat section"])
    def entry_has_no_sse():
        # efi_main and what it calls before SSE is on (entry.c) must not touch an XMM/YMM register: U-Boot starts
        # images with SSE off. The linked ELF keeps the symbols, so objdump can show exactly those functions.
        so = os.path.join(BUILD, "efi", "efichat.so")
        for fn in ("efi_main", "sse_enable"):
            r = subprocess.run(["objdump", "-d", f"--disassemble={fn}", so], capture_output=True, text=True,
                               timeout=60)
            body = r.stdout.split(f"<{fn}>:", 1)
            if fn == "sse_enable" and len(body) < 2:
                continue   # inlined into efi_main
            check(len(body) == 2 and body[1].strip(), f"{fn} not found in {so}")
            bad = [line for line in body[1].splitlines() if re.search(r"%[xy]mm", line)]
            check(not bad, f"{fn} uses SSE registers before SSE is on: {bad[:3]}")
            check(fn != "efi_main" or "%cr4" in body[1] or "sse_enable" in body[1], "efi_main does not set CR4")

    cases.run("pe: no section is both writable and executable", no_wx)
    cases.run("pe: the entry point switches SSE on without using it", entry_has_no_sse)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
