-- Session records: one row per sandbox, from start to end. Rows are history, so runtime_id
-- has no foreign key: a record outlives the runtime it ran. id is a UUIDv7 string, so
-- ordering by id orders by start time. cpu_time_ns is a duration in integer nanoseconds
-- (time.Duration, exact). sandbox_state is the driver's opaque JSON as BLOB, so it
-- round-trips byte for byte: NULL is a nil state, X'' an empty one. ended_ms is NULL while
-- the session is live.
--
-- ListSessions reads newest first (ORDER BY id DESC). Each filter has an index ending in id
-- so that walk needs no sort. LiveOnly uses a partial index rather than an index on state:
-- SQLite never picks a plain (state) index for "state <> 'terminated'", and would read every
-- ended record to find the few live ones. The query must spell the condition exactly as the
-- index does (liveCond in sessions.go).

-- +goose Up
CREATE TABLE sessions (
    id                TEXT    NOT NULL PRIMARY KEY,
    runtime_id        TEXT    NOT NULL,
    endpoint          TEXT    NOT NULL,
    session_id        TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    end_reason        TEXT    NOT NULL,
    driver            TEXT    NOT NULL,
    sandbox_id        TEXT    NOT NULL,
    sandbox_state     BLOB,
    cpu_time_ns       INTEGER NOT NULL,
    memory_peak_bytes INTEGER NOT NULL,
    started_ms        INTEGER NOT NULL,
    last_activity_ms  INTEGER NOT NULL,
    ended_ms          INTEGER
);

CREATE INDEX sessions_runtime ON sessions (runtime_id, id);
CREATE INDEX sessions_session ON sessions (session_id, id);
CREATE INDEX sessions_live ON sessions (id) WHERE state <> 'terminated';

-- +goose Down
DROP TABLE sessions;
