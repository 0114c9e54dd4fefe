# readings.jq: maps the meter API's answer (see sample-answer.json)
#   {"meters": [{"id", "site", "unit", "readings": [{"t", "kwh"}, ...]}]}
# to pvm's samples {metric, labels, timestamp, value}. $start, $stop and
# $step are the window pvm asks for (unix seconds), $matchers the
# equality matchers of the selector (e.g. {"site": "north"}).
.meters[]
| . as $m
| .readings[]
| {
    metric: "meter_energy_kwh",
    labels: {meter: $m.id, site: $m.site},
    timestamp: .t,            # RFC 3339 text
    value: .kwh               # a number (a numeric string works too)
  }
