#!/bin/sh
# fill.sh: creates the mariadb-demo database pvm_demo and fills it with a
# week of readings up to now: temperature and humidity of four rooms every
# 5 minutes (about 8000 rows), with a daily swing and a few gaps (NULL).
# Then creates the read-only account pvm pvm.ini uses, its password in
# ./pvm-password (made when missing, mode 600; PASSWORD_FILE=path puts it
# elsewhere).
# Needs the mariadb (or mysql) client and an administrator account; the
# arguments go to the client:
#     sh fill.sh                               root over the default socket
#     sh fill.sh -u admin -p -h db.example     another server
set -eu
here=$(cd "$(dirname "$0")" && pwd)
client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || {
    echo "fill.sh: the mariadb client is missing: apt-get install mariadb-client" >&2
    exit 1
}
sql() {
    "$client" --batch "$@"
}
sql "$@" <"$here/schema.sql"
now=$(date +%s)
sql "$@" pvm_demo <<SQL
SET time_zone = '+00:00';
SET SESSION max_recursive_iterations = 100000;
DELETE FROM readings;
REPLACE INTO rooms VALUES ('kitchen', 'ground'), ('living', 'ground'),
                          ('bedroom', 'first'), ('attic', 'second');
INSERT INTO readings (ts, room, temperature, humidity)
WITH RECURSIVE t(ts) AS (
    SELECT ($now DIV 300) * 300 - 7 * 86400
    UNION ALL SELECT ts + 300 FROM t WHERE ts + 300 <= $now
),
r(room, base, amp) AS (
    SELECT 'kitchen', 21.0, 2.5 UNION ALL SELECT 'living', 20.5, 1.5
    UNION ALL SELECT 'bedroom', 18.0, 1.0 UNION ALL SELECT 'attic', 15.0, 4.0
)
SELECT FROM_UNIXTIME(ts), room,
       -- gaps: the attic sensor misses every 37th reading
       CASE WHEN room = 'attic' AND (ts DIV 300) % 37 = 0 THEN NULL
            ELSE ROUND(base + amp * SIN((ts % 86400) * 2 * PI() / 86400 - 1.9)
                       + ((ts DIV 300) % 7) * 0.05, 2)
       END,
       ROUND(45 + 10 * COS((ts % 86400) * 2 * PI() / 86400)
             + ((ts DIV 300) % 5), 1)
FROM t, r;
SQL
# the account pvm.ini uses: SELECT on pvm_demo only
pw=${PASSWORD_FILE:-$here/pvm-password}
if [ ! -s "$pw" ]; then
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$pw")
fi
# the password as an SQL string: backslashes and quotes doubled
pwq=$(sed -e 's/\\/\\\\/g' -e "s/'/''/g" "$pw")
sql "$@" <<SQL
CREATE USER IF NOT EXISTS 'pvm'@'localhost' IDENTIFIED BY '$pwq';
ALTER USER 'pvm'@'localhost' IDENTIFIED BY '$pwq';
GRANT SELECT ON pvm_demo.* TO 'pvm'@'localhost';
SQL
echo "pvm_demo: $(sql -N "$@" -e 'SELECT COUNT(*) FROM pvm_demo.readings') readings; account pvm, password in $pw"
