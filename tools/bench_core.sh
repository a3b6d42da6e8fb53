#!/bin/sh
# bench_core.sh - `make bench` part 1: decode speed of the core vs a plain scalar build of the same model, at the
# two sizes the project tracks. Random weights (speed does not depend on them). Prints, never asserts.
set -e
B=${BUILD:-build}
mkdir -p "$B/bench"
"$B/efichat-cli" random-model --out "$B/bench/c128.bin" --dim 128 --layers 4 --heads 4 --ctx 256 --seed 1
"$B/efichat-cli" random-model --out "$B/bench/c256.bin" --dim 256 --layers 4 --heads 4 --ctx 256 --seed 2
"$B/bench-decode" "$B/bench/c128.bin" "$B/bench/c256.bin" 2>"$B/bench/fastest"
echo
echo "C256 L4, where two threads' time goes (docs/performance.md, \"Two threads on the host\"):"
"$B/bench-parts" "$B/bench/c256.bin"
if [ -n "${LLAMA2C:-}" ]; then # a llama2.c checkout given: measure it now, beside the figures above
    rm -f "$B/bench/llama2c/result"
    sh tools/bench_llama2c.sh "$LLAMA2C"
    for dim in 128 256; do
        ours=$(sed -n "s/^fastest C$dim \([0-9]*\) \(.*\)/\1 \2/p" "$B/bench/fastest")
        theirs=$(sed -n "s/^llama2.c run.c C$dim .*: \([0-9.]*\) tokens\/s/\1/p" "$B/bench/llama2c/result")
        echo "$ours $theirs" | awk -v d=$dim '{ if ($3 > 0) printf "C%d: efichat %s %d vs llama2.c %d tokens/s: %.2fx\n", d, $2, $1, $3, $1 / $3 }'
    done
else # a peer's figure, not measured by this script: say where and when it was measured
    echo "llama2.c, not measured in this run (make bench LLAMA2C=path/to/llama2.c measures it beside efichat): run.c"
    echo "  (-O3 -march=native -ffast-math, one thread, 256 tokens, vocab 256, 4 layers) decoded 9,400-11,100 tokens/s"
    echo "  at dim 128 and 2,260-3,360 at dim 256 on a 2-core Zen 4 EPYC VM, as given in the developers' guide in"
    echo "  November 2026; on a 2-core Zen 3 EPYC (no AVX-512) on 2026-12-08 it did 5,400-8,200 and 900-1,400"
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
    avx512=no
    grep -q avx512f /proc/cpuinfo 2>/dev/null && avx512=yes
    echo "  (docs/performance.md). This run's CPU: ${cpu:-unknown}, $(nproc) CPUs, AVX-512: $avx512"
fi
INT8=$B/efi/embedded-model-int8.bin # the app's embedded model (format version 2), when the EFI build made it
for model in models/shakespeare.bin "$INT8"; do
    [ -f "$model" ] || continue
    for kernel in avx q8; do
        for t in 1 2; do # the same bits for any thread count; the gain needs a second idle core
            "$B/efichat-cli" bench --model "$model" --seconds 1 --threads $t --kernel $kernel 2>/dev/null | tr '\n' ' '
            echo
        done
    done
done
