package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
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
	pools, err := OpenPools(ctx, path, PoolOptions{Synchronous: "FULL", ForeignKeys: true, Readers: max(4, runtime.GOMAXPROCS(0))})
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	db := &DB{path: path, write: pools.Write, read: pools.Read, logger: logger}
	if err := db.migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite store %s: %w", path, err), db.Close())
	}
	logger.InfoContext(ctx, "sqlite store opened", "path", path)
	return db, nil
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
