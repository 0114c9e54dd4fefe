#!/usr/bin/python3
"""waves.py: an exec plugin in persistent mode (conf/examples/exec/persistent).

pvm starts it once per worker and writes one JSON request a line to its
stdin; it answers each with OpenMetrics text ended by a line "# EOF" and
flushes. Suits programs with an expensive start (a model to load, a
connection to open): here a lookup table built once.

Serves wave_value{shape="sine"|"square",period="1h"} at the times asked.
"""
import json
import math
import sys

PERIOD = 3600.0
SHAPES = ("sine", "square")
# the "expensive" start: a table of one period, one entry a second
TABLE = [math.sin(2 * math.pi * i / PERIOD) for i in range(int(PERIOD))]


def value(shape, t):
    s = TABLE[int(t) % len(TABLE)]
    return s if shape == "sine" else (1.0 if s >= 0 else -1.0)


def answer(req):
    kind = req["type"]
    if kind == "metric_names":
        return ["wave_value"]
    if kind == "label_names":
        return ["__name__", "period", "shape"]
    if kind == "label_values":
        return {"shape": list(SHAPES), "period": ["1h"]}.get(req["label_name"], [])
    if kind == "instant":
        times = [req["time"]]
    else:
        n = int((req["end"] - req["start"]) / req["step"] + 1e-9) + 1
        times = [req["start"] + i * req["step"] for i in range(n)]
    return ['wave_value{shape="%s",period="1h"} %r %r' % (s, value(s, t), t)
            for s in SHAPES for t in times]


def main():
    for line in sys.stdin:  # one request a line; EOF: pvm stops
        try:
            out = answer(json.loads(line))
        except Exception as e:  # answer nothing, say why on stderr
            print("waves: %s" % e, file=sys.stderr, flush=True)
            out = []
        out.append("# EOF")
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
