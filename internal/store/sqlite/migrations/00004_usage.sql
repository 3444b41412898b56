-- Usage: billable resource usage per session record per UTC minute (internal/metering).
-- minute_ms is the start of the minute in unix milliseconds. A row is written whole and
-- replaced on a repeated flush, so totals never count a minute twice.

-- +goose Up
CREATE TABLE usage_minutes (
    record_id         TEXT    NOT NULL,
    minute_ms         INTEGER NOT NULL,
    runtime_id        TEXT    NOT NULL,
    endpoint          TEXT    NOT NULL,
    session_id        TEXT    NOT NULL,
    seconds           REAL    NOT NULL,
    vcpu_seconds      REAL    NOT NULL,
    gb_seconds        REAL    NOT NULL,
    memory_peak_bytes INTEGER NOT NULL,
    PRIMARY KEY (record_id, minute_ms)
);
CREATE INDEX usage_minutes_by_minute ON usage_minutes (minute_ms);
CREATE INDEX usage_minutes_by_runtime ON usage_minutes (runtime_id, endpoint, minute_ms);

-- +goose Down
DROP TABLE usage_minutes;
