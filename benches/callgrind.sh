#!/usr/bin/env bash
# Instruction counts (callgrind, repeatable where wall time is not) of the
# twelve AWFY benchmarks at small sizes and of `zag eval '3 + 4'`, for
# comparing two builds of zag:
#   benches/callgrind.sh path/to/zag [AWFY-DIR] > counts.txt
# Each line: name, then the instructions executed (load included).
set -euo pipefail
zag=${1:?usage: benches/callgrind.sh ZAG [AWFY-DIR]}
awfy=${2:-$(dirname "$0")/../../shared/awfy}
[ -d "$awfy" ] || { echo "no AWFY folder at $awfy" >&2; exit 1; }

count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
    awk '/^summary:/ { print $2 }' "$out"
    rm -f "$out"
}

printf '%-12s %s\n' eval "$(count "$zag" eval '3 + 4')"
# name and inner iterations: about 1/30 of AWFY's standard sizes.
for spec in DeltaBlue:400 Richards:3 Json:4 Bounce:50 List:50 Mandelbrot:20 \
            NBody:8000 Permute:30 Queens:30 Sieve:100 Storage:30 Towers:20; do
    name=${spec%%:*} inner=${spec#*:}
    printf '%-12s %s\n' "$name" \
        "$(count "$zag" bench --load "$awfy" -n 1 --inner "$inner" "$name")"
done
