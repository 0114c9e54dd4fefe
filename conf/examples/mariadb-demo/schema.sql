-- schema.sql: the mariadb-demo database: one reading per room every
-- 5 minutes (temperature in °C, humidity in %), times in UTC. Used by
-- fill.sh; runs as an administrator (it creates the database).
CREATE DATABASE IF NOT EXISTS pvm_demo CHARACTER SET utf8mb4;
USE pvm_demo;

CREATE TABLE IF NOT EXISTS readings (
    ts          DATETIME(3) NOT NULL,  -- UTC, milliseconds
    room        VARCHAR(64) NOT NULL,
    temperature DOUBLE,                -- NULL: the sensor did not answer
    humidity    DECIMAL(5, 1),
    PRIMARY KEY (room, ts),            -- {room="..."} reads one room
    KEY readings_ts (ts)
);

CREATE TABLE IF NOT EXISTS rooms (
    room  VARCHAR(64) PRIMARY KEY,
    floor VARCHAR(32) NOT NULL
);
