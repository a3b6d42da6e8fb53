#!/bin/sh
# bench_core.sh - `make bench` part 1: decode speed of the core vs a plain scalar build of the same model, at the
# two sizes the project tracks. Random weights (speed does not depend on them). Prints, never asserts.
set -e
B=${BUILD:-build}
mkdir -p "$B/bench"
"$B/efichat-cli" random-model --out "$B/bench/c128.bin" --dim 128 --layers 4 --heads 4 --ctx 256 --seed 1
"$B/efichat-cli" random-model --out "$B/bench/c256.bin" --dim 256 --layers 4 --heads 4 --ctx 256 --seed 2
"$B/bench-decode" "$B/bench/c128.bin" "$B/bench/c256.bin"
# A peer's figure, not measured by this script: say where and when it was measured.
echo "reference, not measured in this run: llama2.c run.c (-O3 -march=native -ffast-math, one thread, 256 tokens,"
echo "  vocab 256, 4 layers) decoded 9,400-11,100 tokens/s at dim 128 and 2,260-3,360 at dim 256 on this machine type"
echo "  (2 cores of a Zen 4 EPYC), as given in the developers' guide in November 2026"
if [ -f models/shakespeare.bin ]; then
    for t in 1 2; do # the same bits either way; the gain needs a second idle core
        "$B/efichat-cli" bench --model models/shakespeare.bin --seconds 1 --threads $t
    done
fi
