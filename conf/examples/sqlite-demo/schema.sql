-- schema.sql: the sqlite-demo database: one reading per room every
-- 5 minutes (temperature in °C, humidity in %). Used by fill.sh.
CREATE TABLE IF NOT EXISTS readings (
    ts          INTEGER NOT NULL,  -- unix seconds
    room        TEXT    NOT NULL,
    temperature REAL,              -- NULL: the sensor did not answer
    humidity    REAL
);
CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts);

CREATE TABLE IF NOT EXISTS rooms (
    room  TEXT PRIMARY KEY,
    floor TEXT NOT NULL
);
