#!/bin/sh
# tests/bench/openmetrics_bench.sh: generates OpenMetrics files of about
# 1 million samples and loads each with the openmetrics_file loader,
# printing load time and memory per sample. Not part of `make check`
# (timings depend on the machine); run it from the build directory after
# `make check` built tests/bench/openmetrics_bench:
#     sh /path/to/pvm/tests/bench/openmetrics_bench.sh
# Shapes: SERIESxSAMPLES, default "1000x1000 100x10000 100000x10".
set -eu
bin=${PVM_BENCH_BIN:-./tests/bench/openmetrics_bench}
shapes=${1:-"1000x1000 100x10000 100000x10"}
[ -x "$bin" ] || { echo "$bin not built: run make check first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for shape in $shapes; do
    series=${shape%x*}
    samples=${shape#*x}
    f="$tmp/bench-$shape.om"
    # time-major like a series of scrapes: every series at t, then t+15 s
    awk -v S="$series" -v N="$samples" 'BEGIN {
        print "# HELP bench_metric A benchmark metric."
        print "# TYPE bench_metric gauge"
        for (i = 0; i < N; i++) {
            t = 1700000000 + i * 15
            for (s = 0; s < S; s++)
                printf "bench_metric{instance=\"host-%d\",job=\"node\",shard=\"%d\"} %.3f %d.%03d\n", s, s % 16, (s * 7 + i) % 1000 / 10, t, (s * 37) % 1000
        }
        print "# EOF"
    }' > "$f"
    echo "== $series series x $samples samples"
    "$bin" "$f"
done
