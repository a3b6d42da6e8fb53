"""Greedy golden: 200 bytes from a fixed random model and prompt must equal tests/golden/greedy_200.txt.

The model is written by `efichat-cli random-model` (integer PRNG and exact float arithmetic: the same bytes on
every build), so a changed golden means the core's arithmetic changed. Regenerate only on purpose:
  build/efichat-cli random-model --out /tmp/g.bin --dim 48 --layers 2 --heads 4 --ctx 64 --seed 42
  build/efichat-cli generate --model /tmp/g.bin --prompt 'ROMEO:' --max 200 --temp 0 > tests/golden/greedy_200.txt
The prompt plus 200 tokens overflows the 64-token context several times, so the sliding window is in the golden.
Also checked: the same with --kernel sse2 (what QEMU runs) is byte-identical.
"""
import os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"), "efichat-cli")
GOLDEN = os.path.join(ROOT, "tests", "golden", "greedy_200.txt")
fails = 0
with tempfile.TemporaryDirectory() as d:
    model = os.path.join(d, "g.bin")
    subprocess.run([CLI, "random-model", "--out", model, "--dim", "48", "--layers", "2", "--heads", "4", "--ctx",
                    "64", "--seed", "42"], check=True)
    want = open(GOLDEN, "rb").read()
    for kern in ([], ["--kernel", "sse2"]):
        got = subprocess.run([CLI, "generate", "--model", model, "--prompt", "ROMEO:", "--max", "200", "--temp",
                              "0"] + kern, check=True, capture_output=True).stdout
        name = "greedy_golden_200" + ("_sse2" if kern else "")
        if got == want and len(got) == 200:
            print("PASS: " + name)
        else:
            n = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
            print(f"FAIL: {name}: output differs from the golden at byte {n} (got {len(got)} bytes)")
            fails += 1
sys.exit(1 if fails else 0)
