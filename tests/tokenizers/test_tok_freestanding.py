"""The tokenizers are freestanding core code: src/tokenizers/ includes only its own headers, ../platform.h,
../ecmath.h and the format readers it builds from (../formats/gguf.h, ../formats/llama2c.h), and its objects,
compiled with the core's flags (build/tokenizers/*.o), call nothing but src/formats/ and the ec_* helpers: no
memcpy/memset a compiler slipped in, no libc."""
import glob, os, re, subprocess
import tokcheck as tc

ROOT, BUILD = tc.ROOT, tc.BUILD
ALLOWED_INCLUDES = {"../platform.h", "../ecmath.h", "../formats/gguf.h", "../formats/llama2c.h"}
own = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "src", "tokenizers", "*.h"))}
for src in sorted(glob.glob(os.path.join(ROOT, "src", "tokenizers", "*.[ch]"))):
    includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', open(src).read(), re.M)
    bad = [i for i in includes if i[0] == "<" or i[1:-1] not in ALLOWED_INCLUDES | own]
    tc.case(not bad, f"tokenizers_freestanding_includes_{os.path.basename(src)}", f"includes {bad}")

objs = sorted(glob.glob(os.path.join(BUILD, "tokenizers", "*.o")))
readers = sorted(glob.glob(os.path.join(BUILD, "formats", "*.o")))
tc.case(len(objs) >= 2 and readers, "tokenizers_freestanding_objects_built",
        f"found {objs}, {readers}: run make tokenizers formats (make test does)")
defined = set()
for o in objs + readers:
    out = subprocess.run(["nm", "--defined-only", o], capture_output=True, text=True, check=True).stdout
    defined |= {l.split()[-1] for l in out.splitlines() if l.strip()}
for o in objs:
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True, check=True).stdout
    undefined = [l.split()[-1] for l in out.splitlines() if l.strip()]
    bad = [s for s in undefined if s not in defined and not s.startswith("ec_")]
    tc.case(not bad, f"tokenizers_freestanding_symbols_{os.path.basename(o)}", f"calls {bad}")
raise SystemExit(tc.exit_code())
