package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"

	// The pure-Go driver registers itself as "sqlite".
	_ "modernc.org/sqlite"

	"berth.dev/berth/internal/store"
)

// busyTimeoutMS is how long a connection waits for a lock held by another connection (for
// example another process, or a checkpoint) before giving up with SQLITE_BUSY.
const busyTimeoutMS = 10_000

// DB is the SQLite implementation of store.Store. It is safe for concurrent use. Update
// calls are serialized on the single write connection, so fn must not call Update itself.
type DB struct {
	path   string
	write  *sql.DB // one connection; BEGIN IMMEDIATE
	read   *sql.DB // query_only connections for View
	logger *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, applies pending migrations and
// returns the store. A nil logger discards logs.
func Open(ctx context.Context, path string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite store %q: path must be a plain file path", path)
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite store %s: %w", path, err), write.Close())
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	db := &DB{path: path, write: write, read: read, logger: logger}
	// The write pool connects first: it switches the file to WAL before any reader opens it.
	if err := write.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite store %s: %w", path, err), db.Close())
	}
	if err := db.migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite store %s: %w", path, err), db.Close())
	}
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite store %s: %w", path, err), db.Close())
	}
	logger.InfoContext(ctx, "sqlite store opened", "path", path)
	return db, nil
}

// dsn builds the driver's data source name. modernc applies busy_timeout first, then
// foreign_keys, journal_mode and synchronous, and query_only last.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if writer {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

// Close closes both pools. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closeErr = errors.Join(db.read.Close(), db.write.Close())
		if db.closeErr != nil {
			db.closeErr = fmt.Errorf("close sqlite store %s: %w", db.path, db.closeErr)
		}
	})
	return db.closeErr
}
