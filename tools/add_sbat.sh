#!/bin/sh
# add_sbat.sh IN_SO SBAT_CSV OUT_SO - copies the linked ELF with an .sbat section holding SBAT_CSV, placed on the
# first page past every loaded section (so the PE conversion keeps it, in address order, without overlapping).
# shim (the Microsoft-signed first stage) refuses any second stage without .sbat, even one whose hash is enrolled.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 IN_SO SBAT_CSV OUT_SO" >&2; exit 2; }
in=$1; csv=$2; out=$3
objdump -h "$in" > "$out.sections"
# objdump -h prints "Idx Name Size VMA ..." then a flags line; ALLOC sections are the ones loaded into memory.
end=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { size = $3; vma = $4; getline; if ($0 ~ /ALLOC/) print vma, size }' \
          "$out.sections" |
      while read -r vma size; do echo $((0x$vma + 0x$size)); done | sort -n | tail -1)
rm -f "$out.sections"
[ -n "$end" ] || { echo "$0: no loaded sections in $in" >&2; exit 1; }
addr=$(( (end + 4095) / 4096 * 4096 ))
# objcopy warns that the new section lies in no ELF segment: true and harmless, since only the PE file is used
# (it gets a PE section of its own). Any other message is shown, and a failure stops the build.
if ! objcopy --add-section .sbat="$csv" --set-section-flags .sbat=contents,alloc,load,readonly,data \
        --change-section-address .sbat="$addr" "$in" "$out" 2>"$out.err"; then
    cat "$out.err" >&2; rm -f "$out.err" "$out"; exit 1
fi
grep -v "not in segment" "$out.err" >&2 || true
rm -f "$out.err"
