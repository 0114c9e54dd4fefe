#!/bin/sh
# test.sh: install what is missing, build, and run every test: the unit,
# conformance, hostile-input and integration tests (make check) in a
# normal build, a valgrind memcheck pass and a bounded load test against
# it, the same make check in an AddressSanitizer/UBSan build, the fuzz
# smoke runs (60 s per target, one target per CPU at a time), make
# distcheck and the Debian package check (tests/deb-check.sh). The last line is
# "total: N passed, N failed, N skipped"; the exit status is non-zero on
# any failure.
#   PVM_FUZZ_SECONDS=30 ./test.sh     seconds per fuzz target (default 60)
#   PVM_SKIP_SANITIZERS=1 ./test.sh   skip the sanitizer pass (quick runs)
#   PVM_SKIP_DISTCHECK=1 ./test.sh    skip make distcheck (quick runs)
#   PVM_SKIP_DEB=1 ./test.sh          skip the Debian package check
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

# run_script LABEL LOG SCRIPT ARGS...: runs a test script that prints
# PVM-RESULT lines and adds them to the total; a script that fails without
# reporting a failure counts as one, a script that skips (exit 77) without
# reporting a skip counts as one skipped.
run_script() {
    label=$1
    log=$2
    shift 2
    echo "== $label"
    "$@" > "$log" 2>&1
    rc=$?
    set -- $(awk '/^PVM-RESULT: /{for(i=1;i<=NF;i++){if($(i+1)~/^passed/)p+=$i;if($(i+1)~/^failed/)f+=$i;if($(i+1)~/^skipped/)s+=$i}} END{printf "%d %d %d\n",p,f,s}' "$log")
    p=$1 f=$2 s=$3
    if [ $rc != 0 ] && [ $rc != 77 ]; then
        status=1
        [ "$f" = 0 ] && f=1
        tail -30 "$log"
    fi
    [ $rc = 77 ] && [ "$s" = 0 ] && s=1
    echo "$label: $p passed, $f failed, $s skipped"
    echo "$p $f $s" >> "$PVM_COUNTS"
}

run_suite "unit+integration" build
# -Wall -Wextra with no warnings: the normal build's logs (the build and
# the test programs make check builds) must have none.
warn_re='\.[ch]:[0-9]*:[0-9]*: warning:'
if [ -f build/make.log ]; then
    if cat build/make.log build/check.log 2>/dev/null | grep -q "$warn_re"; then
        cat build/make.log build/check.log | grep "$warn_re"
        echo "compiler warnings: 0 passed, 1 failed, 0 skipped"
        echo "0 1 0" >> "$PVM_COUNTS"
        status=1
    else
        echo "compiler warnings: 1 passed, 0 failed, 0 skipped"
        echo "1 0 0" >> "$PVM_COUNTS"
    fi
fi
if [ -x build/pvm-fcgi ]; then
    run_script "valgrind memcheck" build/valgrind.log sh tests/valgrind.sh build
    run_script "load (wrk through nginx)" build/load.log sh tests/load.sh build
fi
if [ -z "${PVM_SKIP_SANITIZERS:-}" ]; then
    run_suite "sanitizers (ASan+UBSan)" build-asan --enable-sanitizers
fi

if [ -x tests/fuzz/run.sh ]; then
    echo "== fuzz: building in build-fuzz"
    if pvm_build build-fuzz CC=clang --enable-fuzzing; then
        mkdir -p build-fuzz/fuzz-logs
        tests/fuzz/run.sh "${PVM_FUZZ_SECONDS:-60}" build-fuzz > build-fuzz/fuzz-logs/fuzz.log 2>&1 || status=1
        grep -E '^(FAILED |Base64: )' build-fuzz/fuzz-logs/fuzz.log
        tail -5 build-fuzz/fuzz-logs/fuzz.log | grep -v -E '^(FAILED |Base64: )'
        awk '/^PVM-RESULT: /{for(i=1;i<=NF;i++){if($(i+1)~/^passed/)p+=$i;if($(i+1)~/^failed/)f+=$i;if($(i+1)~/^skipped/)s+=$i}} END{printf "%d %d %d\n",p,f,s}' build-fuzz/fuzz-logs/fuzz.log >> "$PVM_COUNTS"
    else
        echo "fuzz: build failed"
        echo "0 1 0" >> "$PVM_COUNTS"
        status=1
    fi
fi

if [ -z "${PVM_SKIP_DISTCHECK:-}" ] && [ -f build/Makefile ]; then
    echo "== make distcheck"
    if (cd build && make -j"$(nproc)" distcheck > distcheck.log 2>&1); then
        echo "distcheck: 1 passed, 0 failed, 0 skipped"
        echo "1 0 0" >> "$PVM_COUNTS"
    else
        tail -30 build/distcheck.log
        echo "distcheck: 0 passed, 1 failed, 0 skipped"
        echo "0 1 0" >> "$PVM_COUNTS"
        status=1
    fi
fi

if [ -z "${PVM_SKIP_DEB:-}" ] && [ -f build/Makefile ]; then
    run_script "debian package" build/deb-check.log sh tests/deb-check.sh build
fi

total=$(awk '{p+=$1; f+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}' "$PVM_COUNTS")
rm -f "$PVM_COUNTS"
case "$total" in *" 0 failed"*) ;; *) status=1 ;; esac
echo "total: $total"
exit $status
