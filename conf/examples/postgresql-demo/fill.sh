#!/bin/sh
# fill.sh: creates the postgresql-demo tables in a database and fills
# them with a week of readings up to now: temperature and humidity of four
# rooms every 5 minutes (about 8000 rows), with a daily swing and a few
# gaps (NULL). Needs psql (Debian: postgresql-client) and a server.
#     sh fill.sh [PSQL ARGUMENTS...]   e.g. sh fill.sh -h /var/run/postgresql -d sensors
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v psql >/dev/null 2>&1 || {
    echo "fill.sh: psql is missing: apt-get install postgresql-client" >&2
    exit 1
}
psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$here/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 "$@" <<'SQL'
TRUNCATE readings;
DELETE FROM rooms;
INSERT INTO rooms VALUES ('kitchen', 'ground'), ('living', 'ground'),
                         ('bedroom', 'first'), ('attic', 'second');
INSERT INTO readings
SELECT t, r.room,
       -- gaps: the attic sensor misses every 37th reading
       CASE WHEN r.room = 'attic' AND n % 37 = 0 THEN NULL
            ELSE round((base + amp * sin(s * 2 * pi() / 86400 - 1.9)
                        + (n % 7) * 0.05)::numeric, 2) END,
       round((45 + 10 * cos(s * 2 * pi() / 86400) + n % 5)::numeric, 1)
FROM generate_series(date_trunc('hour', now()) - interval '7 days', now(),
                     interval '5 minutes') AS t,
     LATERAL (SELECT extract(epoch FROM t)::bigint % 86400 AS s,
                     extract(epoch FROM t)::bigint / 300 AS n) AS k,
     (VALUES ('kitchen', 21.0, 2.5), ('living', 20.5, 1.5),
             ('bedroom', 18.0, 1.0), ('attic', 15.0, 4.0))
         AS r(room, base, amp);
ANALYZE readings;
SQL
echo "$(psql -X -At "$@" -c 'SELECT count(*) FROM readings') readings"
