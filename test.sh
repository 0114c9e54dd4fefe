#!/bin/sh
# test.sh: install what is missing, build, and run every test: the unit and
# integration tests (make check) in a normal build and in an
# AddressSanitizer/UBSan build, then the fuzz smoke runs. The last line is
# "total: N passed, N failed, N skipped"; the exit status is non-zero on
# any failure.
#   PVM_FUZZ_SECONDS=60 ./test.sh     seconds per fuzz target (default 60)
#   PVM_SKIP_SANITIZERS=1 ./test.sh   skip the sanitizer pass (quick runs)
set -u
cd "$(dirname "$0")" || exit 1
. ./tests/deps.sh

pvm_install_deps $PVM_BUILD_PKGS $PVM_TEST_PKGS || exit 1

PVM_COUNTS=$(mktemp /tmp/pvm-counts.XXXXXX)
export PVM_COUNTS
status=0

run_suite() { # LABEL DIR [CONFIGURE ARGS...]
    label=$1
    dir=$2
    shift 2
    echo "== $label: building in $dir"
    if ! pvm_build "$dir" "$@"; then
        echo "$label: build failed"
        echo "0 1 0" >> "$PVM_COUNTS"
        status=1
        return
    fi
    echo "== $label: make check"
    (cd "$dir" && make -j"$(nproc)" -k check >check.log 2>&1) || status=1
    tests/summarize.sh "$label" "$dir/tests"
    if grep -q '^# FAIL: *[1-9]\|^# ERROR: *[1-9]' "$dir/check.log"; then
        status=1
        for log in $(grep -l '^:test-result: \(FAIL\|ERROR\)' $(find "$dir/tests" -name '*.trs') 2>/dev/null); do
            echo "---- ${log%.trs}.log (last 40 lines)"
            tail -40 "${log%.trs}.log"
        done
    fi
}

run_suite "unit+integration" build
if [ -z "${PVM_SKIP_SANITIZERS:-}" ]; then
    run_suite "sanitizers (ASan+UBSan)" build-asan --enable-sanitizers
fi

if [ -x tests/fuzz/run.sh ]; then
    echo "== fuzz: building in build-fuzz"
    if pvm_build build-fuzz CC=clang --enable-fuzzing; then
        mkdir -p build-fuzz/fuzz-logs
        tests/fuzz/run.sh "${PVM_FUZZ_SECONDS:-60}" build-fuzz > build-fuzz/fuzz-logs/fuzz.log 2>&1 || status=1
        tail -5 build-fuzz/fuzz-logs/fuzz.log
        awk '/^PVM-RESULT: /{for(i=1;i<=NF;i++){if($(i+1)~/^passed/)p+=$i;if($(i+1)~/^failed/)f+=$i;if($(i+1)~/^skipped/)s+=$i}} END{printf "%d %d %d\n",p,f,s}' build-fuzz/fuzz-logs/fuzz.log >> "$PVM_COUNTS"
    else
        echo "fuzz: build failed"
        echo "0 1 0" >> "$PVM_COUNTS"
        status=1
    fi
fi

total=$(awk '{p+=$1; f+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}' "$PVM_COUNTS")
rm -f "$PVM_COUNTS"
case "$total" in *" 0 failed"*) ;; *) status=1 ;; esac
echo "total: $total"
exit $status
