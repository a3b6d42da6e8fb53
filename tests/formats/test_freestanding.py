"""The file readers are freestanding core code: src/formats/ includes only its own headers, ../platform.h,
../ecmath.h, ../llama.h and ../q8.h (what llama_weights.c fills; never libc or UEFI headers), and its objects,
compiled with the core's flags (build/formats/*.o), call nothing outside src/formats/ and the freestanding core (build/core/*.o: the ec_* helpers, q8_* for the int8
weights): no memcpy/memset a compiler slipped in, no libm."""
import glob, os, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formatscheck import BUILD, ROOT, case, exit_code  # noqa: E402

ALLOWED_INCLUDES = {"../platform.h", "../ecmath.h", "../llama.h", "../q8.h"}
for src in sorted(glob.glob(os.path.join(ROOT, "src", "formats", "*.[ch]"))):
    own = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "src", "formats", "*.h"))}
    includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', open(src).read(), re.M)
    bad = [i for i in includes if i[0] == "<" or i[1:-1] not in ALLOWED_INCLUDES | own]
    case(not bad, f"freestanding_includes_{os.path.basename(src)}", f"includes {bad}")

objs = sorted(glob.glob(os.path.join(BUILD, "formats", "*.o")))
case(len(objs) >= 4, "freestanding_objects_built", f"found {objs}: run make build/formats/gguf.o ... (make test does)")
defined = set()
for o in objs + sorted(glob.glob(os.path.join(BUILD, "core", "*.o"))):
    out = subprocess.run(["nm", "--defined-only", o], capture_output=True, text=True, check=True).stdout
    defined |= {l.split()[-1] for l in out.splitlines() if l.strip()}
for o in objs:
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True, check=True).stdout
    undefined = [l.split()[-1] for l in out.splitlines() if l.strip()]
    bad = [s for s in undefined if s not in defined and not s.startswith("ec_")]
    case(not bad, f"freestanding_symbols_{os.path.basename(o)}", f"calls {bad}")

sys.exit(exit_code())
