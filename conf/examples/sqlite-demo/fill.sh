#!/bin/sh
# fill.sh: creates the sqlite-demo database and fills it with a week of
# readings up to now: temperature and humidity of four rooms every
# 5 minutes (about 8000 rows), with a daily swing and a few gaps (NULL).
# Needs the sqlite3 command line tool (Debian: apt-get install sqlite3).
#     sh fill.sh [DATABASE]          default: ./demo.db next to this script
set -eu
here=$(cd "$(dirname "$0")" && pwd)
db=${1:-$here/demo.db}
command -v sqlite3 >/dev/null 2>&1 || {
    echo "fill.sh: the sqlite3 tool is missing: apt-get install sqlite3" >&2
    exit 1
}
rm -f "$db"
sqlite3 "$db" < "$here/schema.sql"
now=$(date +%s)
sqlite3 "$db" <<SQL
INSERT INTO rooms VALUES ('kitchen', 'ground'), ('living', 'ground'),
                         ('bedroom', 'first'), ('attic', 'second');
WITH RECURSIVE t(ts) AS (
    SELECT ($now / 300) * 300 - 7 * 86400
    UNION ALL SELECT ts + 300 FROM t WHERE ts + 300 <= $now
),
r(room, base, amp) AS (VALUES ('kitchen', 21.0, 2.5), ('living', 20.5, 1.5),
                              ('bedroom', 18.0, 1.0), ('attic', 15.0, 4.0))
INSERT INTO readings
SELECT ts, room,
       -- gaps: the attic sensor misses every 37th reading
       CASE WHEN room = 'attic' AND (ts / 300) % 37 = 0 THEN NULL
            ELSE round(base + amp * sin((ts % 86400) * 2 * 3.14159265 / 86400
                                        - 1.9) + ((ts / 300) % 7) * 0.05, 2)
       END,
       round(45 + 10 * cos((ts % 86400) * 2 * 3.14159265 / 86400)
             + ((ts / 300) % 5), 1)
FROM t, r;
SQL
echo "$db: $(sqlite3 "$db" 'SELECT count(*) FROM readings') readings"
