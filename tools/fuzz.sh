#!/bin/sh
# fuzz.sh - `make fuzz`: runs each libFuzzer harness for SECONDS, starting from a scratch copy of its committed
# corpus (tests/fuzz/corpus/TARGET, never written to), and prints per target the executions and the crash file.
# Usage: fuzz.sh SECONDS FUZZDIR TARGET...   Exit status 1 when any harness crashed.
secs=$1 dir=$2
shift 2
failed=0
for t in "$@"; do
    work="$dir/$t"
    rm -rf "$work/corpus" "$work/crashes"
    mkdir -p "$work/corpus" "$work/crashes"
    cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
    seeds=$(ls "$work/corpus" | wc -l)
    # -timeout: an input that takes 10 s is a hang, reported like a crash; -rss_limit_mb: the same for memory.
    "$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
    crash=$(ls "$work"/crashes/* 2>/dev/null | head -n 1)
    if [ $rc -ne 0 ] || [ -n "$crash" ]; then
        failed=1
        echo "fuzz $t: ${execs:-?} executions, crashes: ${crash:-none saved (exit $rc)}; log: $work/log"
    else
        echo "fuzz $t: $execs executions in $secs s, corpus $seeds -> $(ls "$work/corpus" | wc -l) inputs, crashes: 0"
    fi
done
exit $failed
