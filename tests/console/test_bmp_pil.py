#!/usr/bin/env python3
"""test_bmp_pil.py - the screenshot encoder (src/gop/bmp.c) read back by an independent decoder, PIL (Debian's
python3-pil): build/tests/test_bmp --write DIR writes pattern images with odd widths; PIL must open each as a 24-bit
BMP of the right size whose every pixel equals the pattern computed here."""
import os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"))
PROG = os.path.join(BUILD, "tests", "test_bmp")
SIZES = [(1, 1), (3, 2), (5, 4), (64, 17), (321, 7)]


def pattern(x, y):
    """The same pattern as tests/console/test_bmp.c, as (r, g, b)."""
    return ((x * 37 + y * 11) & 0xFF, ((x * 5) ^ (y * 3)) & 0xFF, (x + y * 7) & 0xFF)


def main():
    try:
        from PIL import Image
    except ImportError:
        print("FAIL: bmp_pil: PIL is missing (apt-get install python3-pil)")
        return 1
    if not os.path.exists(PROG):
        print(f"FAIL: bmp_pil: {PROG} missing (make test-build)")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([PROG, "--write", d], check=True, timeout=60)
        for w, h in SIZES:
            name = f"bmp_pil_{w}x{h}"
            with Image.open(os.path.join(d, f"{w}x{h}.bmp")) as im:
                im.load()
                got = (im.format, im.mode, im.size, im.info.get("compression", 0))
                pixels = list(im.getdata())
            want = [pattern(x, y) for y in range(h) for x in range(w)]
            if got[:3] != ("BMP", "RGB", (w, h)):
                print(f"FAIL: {name}: PIL reads {got}")
                failed += 1
            elif pixels != want:
                bad = next(i for i, (a, b) in enumerate(zip(pixels, want)) if a != b)
                print(f"FAIL: {name}: pixel ({bad % w},{bad // w}) is {pixels[bad]}, not {want[bad]}")
                failed += 1
            else:
                print(f"PASS: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
