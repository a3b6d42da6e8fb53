#!/bin/sh
# bench_llama2c.sh LLAMA2C_DIR - llama2.c's run.c and efichat decoding side by side, in one run, on this machine:
# one thread, 256 tokens, 4 layers, vocab 256, dim 128 and 256 (random weights: speed does not depend on them).
# run.c is built from the given checkout (nothing is downloaded; efichat ships none of its code) with the flags
# its README recommends for speed, -O3 -march=native -ffast-math (OpenMP off: one thread). efichat's figures come
# from build/bench-decode, which also averages over context fills 1..256. Prints, never asserts.
set -e
L2C=${1:?usage: bench_llama2c.sh LLAMA2C_DIR (a llama2.c checkout holding run.c)}
B=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
D="$B/bench/llama2c"
mkdir -p "$D"
cc -O3 -march=native -ffast-math -o "$D/run" "$L2C/run.c" -lm
for dim in 128 256; do
    "$PY" tools/llama2c_random.py --dim $dim --out "$D/c$dim"
    best=0
    for round in 1 2 3; do # best of 3, as bench-decode
        t=$("$D/run" "$D/c$dim/model.bin" -z "$D/c$dim/tokenizer.bin" -n 256 -t 0 -i "" 2>&1 >/dev/null |
            sed -n 's/achieved tok\/s: \([0-9.]*\)/\1/p')
        best=$(echo "$t $best" | awk '{print ($1 > $2) ? $1 : $2}')
    done
    echo "llama2.c run.c C$dim L4 (one thread, -O3 -march=native -ffast-math): $best tokens/s" | tee -a "$D/result"
done
