-- Berth's initial schema. Only plain types are used (TEXT, INTEGER, BLOB) so the Postgres
-- store can mirror it with TEXT, BIGINT and BYTEA. Every *_ms column is a UTC instant in
-- unix milliseconds. JSON documents (tags, config, metadata) are TEXT holding encoding/json
-- output; "null" stands for a nil map.

-- +goose Up
CREATE TABLE runtimes (
    id             TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    latest_version INTEGER NOT NULL,
    tags           TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);

CREATE TABLE versions (
    runtime_id     TEXT    NOT NULL REFERENCES runtimes (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    config         TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    failure_reason TEXT    NOT NULL,
    prepared       TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    PRIMARY KEY (runtime_id, number)
);

CREATE INDEX versions_status ON versions (status, created_ms);

CREATE TABLE endpoints (
    runtime_id     TEXT    NOT NULL REFERENCES runtimes (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    id             TEXT    NOT NULL UNIQUE,
    live_version   INTEGER NOT NULL,
    target_version INTEGER NOT NULL,
    description    TEXT,
    status         TEXT    NOT NULL,
    failure_reason TEXT    NOT NULL,
    tags           TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    PRIMARY KEY (runtime_id, name)
);

CREATE TABLE idempotency (
    scope        TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status_code  INTEGER NOT NULL,
    body         BLOB,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (scope, token)
);

CREATE INDEX idempotency_created ON idempotency (created_ms);

CREATE TABLE access_keys (
    id               TEXT    NOT NULL PRIMARY KEY,
    secret_encrypted BLOB    NOT NULL,
    account          TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    disabled         INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL
);

CREATE TABLE buckets (
    name       TEXT    NOT NULL PRIMARY KEY,
    created_ms INTEGER NOT NULL
);

-- One row per object version. is_current is 1 on exactly the newest version of a key,
-- enforced by the partial unique index below.
CREATE TABLE objects (
    bucket       TEXT    NOT NULL REFERENCES buckets (name),
    object_key   TEXT    NOT NULL,
    version_id   TEXT    NOT NULL,
    digest       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    etag         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    metadata     TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    is_current   INTEGER NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id)
);

CREATE UNIQUE INDEX objects_current ON objects (bucket, object_key) WHERE is_current = 1;
CREATE INDEX objects_digest ON objects (digest);

CREATE TABLE manifests (
    repository TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (repository, digest)
);

CREATE TABLE tags (
    repository TEXT NOT NULL,
    tag        TEXT NOT NULL,
    digest     TEXT NOT NULL,
    PRIMARY KEY (repository, tag),
    FOREIGN KEY (repository, digest) REFERENCES manifests (repository, digest) ON DELETE CASCADE
);

CREATE INDEX tags_target ON tags (repository, digest);

-- +goose Down
DROP TABLE tags;
DROP TABLE manifests;
DROP TABLE objects;
DROP TABLE buckets;
DROP TABLE access_keys;
DROP TABLE idempotency;
DROP TABLE endpoints;
DROP TABLE versions;
DROP TABLE runtimes;
