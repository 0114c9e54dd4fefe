-- schema.sql: the postgresql-demo database: one reading per room every
-- 5 minutes (temperature in °C, humidity in %), and a read-only role for
-- pvm. Used by fill.sh.
CREATE TABLE IF NOT EXISTS rooms (
    room  text PRIMARY KEY,
    floor text NOT NULL
);

CREATE TABLE IF NOT EXISTS readings (
    ts          timestamptz NOT NULL,
    room        text        NOT NULL REFERENCES rooms,
    temperature double precision,  -- NULL: the sensor did not answer
    humidity    numeric(4, 1)
);
-- pushed-down room matchers and the time range both use it
CREATE INDEX IF NOT EXISTS readings_room_ts ON readings (room, ts);
CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts);

-- pvm only reads (it also runs every statement READ ONLY)
DO $$ BEGIN
    CREATE ROLE pvm_reader LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT SELECT ON rooms, readings TO pvm_reader;
