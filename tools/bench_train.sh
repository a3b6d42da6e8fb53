#!/bin/sh
# bench_train.sh - training tokens/s of build/train and of PyTorch for the identical model, batch, optimizer and
# thread count (L4 H4 C256 T256 B16, 2 threads), measured in one run, with the ratio. Numbers are printed, never
# asserted. Env: BUILD (build), PY (/usr/bin/python3), DATA (../shared/data/tinyshakespeare.txt), BENCH_TRAIN_STEPS.
set -eu
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${DATA:-../shared/data/tinyshakespeare.txt}
STEPS=${BENCH_TRAIN_STEPS:-8}
MODEL="--layers 4 --heads 4 --dim 256 --ctx 256 --batch 16"
mkdir -p "$BUILD/bench"
if [ ! -f "$DATA" ]; then # any bytes do for a speed test
    DATA="$BUILD/bench/train-bench-data.txt"
    head -c 1200000 /dev/urandom | od -An -c | tr -s ' \n' ' \n' | head -c 1200000 > "$DATA"
fi
ours() { # $1 = OpenMP wait policy, empty for libgomp's default (passive helps when other processes share the cores)
    if [ -n "$1" ]; then
        OMP_WAIT_POLICY=$1
        export OMP_WAIT_POLICY # in the $(...) subshell only
    fi
    "$BUILD/train" --data "$DATA" --out "$BUILD/bench/train-bench.bin" $MODEL --steps "$STEPS" --eval-every 0 \
        --sample-every 0 --threads 2 | sed -n 's/.*, \([0-9.]*\) tokens\/s.*/\1/p'
}
# interleaved so that load from other processes hits both sides alike; the best of each side counts
a=$(ours "")
t1=$(OPENBLAS_NUM_THREADS=2 "$PY" tools/bench_torch_train.py --data "$DATA" --threads 1 --steps "$STEPS")
t2=$(OPENBLAS_NUM_THREADS=2 "$PY" tools/bench_torch_train.py --data "$DATA" --threads 2 --steps "$STEPS")
b=$(ours passive)
echo "build/train: $a tokens/s (default OpenMP waiting), $b tokens/s (OMP_WAIT_POLICY=passive) (L4 H4 C256 T256 B16, 2 threads," \
    "$STEPS steps, first 2 untimed)"
echo "$t1"
echo "$t2"
"$PY" - "$a" "$b" "$t1" "$t2" <<'PYEOF'
import re, sys
ours = max(float(sys.argv[1]), float(sys.argv[2]))
torch = max(float(re.search(r"([0-9.]+) tokens/s", s).group(1)) for s in sys.argv[3:5])
print(f"training tokens/s: build/train {ours:.0f}, PyTorch {torch:.0f} (best of its thread settings), "
      f"ratio {ours / torch:.2f}x")
PYEOF
