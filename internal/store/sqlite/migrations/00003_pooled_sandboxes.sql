-- Pooled sandboxes: sandboxes the session manager started ahead of demand (its warm pools)
-- and has not yet handed to a session. A row exists from just before the sandbox starts
-- until it is handed over (in the same transaction that creates the session's record) or
-- stopped, so a restart after a crash can reclaim every sandbox a pool held. id is the
-- sandbox id, a UUIDv7 string. sandbox_state is the driver's opaque JSON as BLOB, NULL until
-- the sandbox has started.

-- +goose Up
CREATE TABLE pooled_sandboxes (
    id            TEXT    NOT NULL PRIMARY KEY,
    runtime_id    TEXT    NOT NULL,
    endpoint      TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    driver        TEXT    NOT NULL,
    sandbox_state BLOB,
    created_ms    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE pooled_sandboxes;
