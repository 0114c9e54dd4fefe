# tests/lib/example_om.awk: the example plugin's 12 series (plugins/
# example.c: sine, cosine, square and sawtooth of period 60 s, amplitudes
# 1, 5 and 10) as OpenMetrics lines every 15 s from s to e (unix seconds),
# under metric name m, for a Prometheus backfilled with promtool to hold
# what pvm computes. Prints the family's TYPE line and the samples, no
# "# EOF" (the caller may add other families). Usage:
#   awk -v s=START -v e=END -v m=METRIC -f tests/lib/example_om.awk
BEGIN {
    pi = atan2(0, -1)
    split("sine cosine square sawtooth", types, " ")
    split("1 5 10", amps, " ")
    print "# TYPE " m " gauge"
    for (a = 1; a <= 3; a++) for (k = 1; k <= 4; k++)
        for (t = s; t <= e; t += 15) {
            x = t % 60; A = amps[a]
            if (k == 1) v = sin(x * 2 * pi / 60) * A
            else if (k == 2) v = cos(x * 2 * pi / 60) * A
            else if (k == 3) v = (x < 30 ? 1 : -1) * A
            else v = x / 60 * A
            printf "%s{type=\"%s\",amplitude=\"%s\"} %.17g %d\n", m, types[k], A, v, t
        }
}
