// Package sqlite is Berth's embedded store: store.Store on a single SQLite file through the
// pure-Go modernc.org/sqlite driver, so the binary stays static.
//
// The file runs in WAL mode with synchronous=FULL, so Update returns only after its commit
// is on disk. Writes go through a pool of exactly one connection whose transactions begin
// IMMEDIATE: writers queue in database/sql instead of failing with SQLITE_BUSY on a lock
// upgrade. Reads use a separate pool of query_only connections, so View never blocks behind
// a writer and sees a consistent snapshot from its first read.
//
// The schema lives in migrations/*.sql, embedded and applied by goose on Open. Times are
// stored as unix milliseconds and returned in UTC, durations as integer nanoseconds. JSON
// documents the store encodes itself are TEXT; opaque JSON it is handed (a sandbox's state)
// is a BLOB, kept byte for byte.
package sqlite
