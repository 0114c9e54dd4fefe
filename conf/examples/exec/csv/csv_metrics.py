#!/usr/bin/python3
"""csv_metrics.py: an exec plugin in Python (conf/examples/exec/csv).

Serves room_temperature_celsius{room=...,floor=...} from a CSV file
(timestamp,room,floor,temperature; timestamps in unix seconds). pvm runs
it once per selector with the request as JSON on stdin and reads
OpenMetrics text with timestamps from stdout (docs/plugins/exec.md).
"""
import csv
import json
import sys

METRIC = "room_temperature_celsius"
LABELS = ("room", "floor")


def rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            yield float(r["timestamp"]), r


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "readings.csv"
    req = json.load(sys.stdin)
    kind = req["type"]
    if kind == "metric_names":
        print(METRIC)
        return
    if kind == "label_names":
        print("\n".join(("__name__",) + LABELS))
        return
    if kind == "label_values":
        if req["label_name"] in LABELS:
            print("\n".join(sorted({r[req["label_name"]] for _, r in rows(path)})))
        return
    if kind == "instant":
        # the samples of the last 5 minutes: pvm keeps each series' latest
        start, end = req["time"] - 300, req["time"]
    else:
        start, end = req["start"], req["end"]
    out = []
    # samples of a series in increasing time order (the file is sorted)
    for t, r in rows(path):
        if start <= t <= end:
            labels = ",".join('%s="%s"' % (k, r[k]) for k in LABELS)
            out.append("%s{%s} %s %s" % (METRIC, labels, r["temperature"], t))
    out.append("# EOF")
    print("\n".join(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the first stderr line goes into pvm's error
        print("csv_metrics: %s" % e, file=sys.stderr)
        sys.exit(1)
