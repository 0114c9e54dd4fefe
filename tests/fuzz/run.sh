#!/bin/sh
# run.sh SECONDS BUILD_DIR: runs every libFuzzer target BUILD_DIR/tests/fuzz/
# fuzz_* for SECONDS seconds each (the argument; `make fuzz` passes
# FUZZ_SECONDS, test.sh PVM_FUZZ_SECONDS), on a temporary copy of its seed
# corpus (tests/fuzz/corpus/<name without fuzz_>/) and its regression
# inputs (tests/fuzz/regressions/<name>/). Crash inputs are kept in
# BUILD_DIR/tests/fuzz/crashes/ (turn them into regressions: see
# tests/fuzz/regressions/README). The last line is
#   PVM-RESULT: fuzz: P passed, F failed, 0 skipped
set -u
secs=${1:?usage: run.sh SECONDS BUILD_DIR}
build=${2:?usage: run.sh SECONDS BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
mkdir -p "$build/tests/fuzz/crashes"
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case $bin in *.o | *.c) continue ;; esac
    name=$(basename "$bin")
    target=${name#fuzz_}
    work=$(mktemp -d "${TMPDIR:-/tmp}/pvm-fuzz.XXXXXX")
    for seed in "$here/corpus/$target" "$here/regressions/$target"; do
        [ -d "$seed" ] && cp "$seed"/* "$work"/ 2>/dev/null
    done
    echo "== $name: ${secs}s"
    if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/tests/fuzz/crashes/$name-" \
        "$work" >"$work.log" 2>&1; then
        pass=$((pass + 1))
        grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' \
            "$work.log" | tail -n 2
    else
        fail=$((fail + 1))
        tail -n 40 "$work.log"
    fi
    rm -rf "$work" "$work.log"
done
echo "PVM-RESULT: fuzz: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
