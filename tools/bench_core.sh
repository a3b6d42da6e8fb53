#!/bin/sh
# bench_core.sh - `make bench` part 1: decode speed of the core vs a plain scalar build of the same model, at the
# two sizes the project tracks. Random weights (speed does not depend on them). Prints, never asserts.
set -e
B=${BUILD:-build}
mkdir -p "$B/bench"
"$B/efichat-cli" random-model --out "$B/bench/c128.bin" --dim 128 --layers 4 --heads 4 --ctx 256 --seed 1
"$B/efichat-cli" random-model --out "$B/bench/c256.bin" --dim 256 --layers 4 --heads 4 --ctx 256 --seed 2
"$B/bench-decode" "$B/bench/c128.bin" "$B/bench/c256.bin"
echo "reference point: llama2.c run.c (dim 128, 4 layers, vocab 256, one thread) was measured here at 4,300-6,600 tokens/s"
if [ -f models/shakespeare.bin ]; then
    for t in 1 2; do # the same bits either way; the gain needs a second idle core
        "$B/efichat-cli" bench --model models/shakespeare.bin --seconds 1 --threads $t
    done
fi
