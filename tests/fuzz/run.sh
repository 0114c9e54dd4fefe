#!/bin/sh
# run.sh SECONDS BUILD_DIR: runs every libFuzzer target BUILD_DIR/tests/fuzz/
# fuzz_* for SECONDS seconds each, PVM_FUZZ_JOBS (default: the number of
# CPUs) at a time (the argument; `make fuzz` passes
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
# Targets run side by side, PVM_FUZZ_JOBS at a time (default: one per
# CPU): each is single-threaded, and they take the same time.
jobs=${PVM_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p "$build/tests/fuzz/crashes"
results=$(mktemp -d "${TMPDIR:-/tmp}/pvm-fuzz-results.XXXXXX")

# run_one BIN N: fuzzes BIN, writing its report to $results/N.log and its
# verdict (pass/fail) to $results/N.rc.
run_one() {
    bin=$1
    name=$(basename "$bin")
    target=${name#fuzz_}
    work=$(mktemp -d "${TMPDIR:-/tmp}/pvm-fuzz.XXXXXX")
    for seed in "$here/corpus/$target" "$here/regressions/$target"; do
        [ -d "$seed" ] && cp "$seed"/* "$work"/ 2>/dev/null
    done
    {
        echo "== $name: ${secs}s"
        if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$build/tests/fuzz/crashes/$name-" \
            "$work" >"$work.log" 2>&1; then
            echo pass >"$results/$2.rc"
            grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' \
                "$work.log" | tail -n 2
        else
            echo fail >"$results/$2.rc"
            tail -n 40 "$work.log"
            # One line for the summary at the end: what stopped it.
            why=$(grep -m 1 -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error|^incomplete answer|^status [0-9]+ for' "$work.log" | cut -c 1-200)
            echo "FAILED $name: ${why:-exit status without a report}" >"$results/$2.why"
            grep -m 1 '^Base64: ' "$work.log" | cut -c 1-6000 >>"$results/$2.why"
        fi
    } >"$results/$2.log"
    rm -rf "$work" "$work.log"
}

n=0
running=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case $bin in *.o | *.c) continue ;; esac
    n=$((n + 1))
    run_one "$bin" "$n" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
i=1
while [ "$i" -le "$n" ]; do
    cat "$results/$i.log"
    if [ "$(cat "$results/$i.rc" 2>/dev/null)" = pass ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
    i=$((i + 1))
done
# The failures again, one line each, just above the result: a caller that
# shows only the last lines (test.sh) still says which target failed.
cat "$results"/*.why 2>/dev/null
rm -rf "$results"
echo "PVM-RESULT: fuzz: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
