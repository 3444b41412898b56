package tracestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/internal/store/sqlite"
)

// Options bound the store.
type Options struct {
	// Retention drops spans this long after they were stored; it must be positive.
	Retention time.Duration
	// MaxSpans bounds the kept spans, oldest dropped first; 0 keeps none.
	MaxSpans int
	// Now is the clock of storing and retention; nil means time.Now.
	Now func() time.Time
	// Logger receives export failures the SDK would otherwise swallow; nil discards them.
	Logger *slog.Logger
}

// Store is the span store. It is safe for concurrent use.
type Store struct {
	path  string
	opts  Options
	write *sql.DB // one connection: writes are serialized
	read  *sql.DB

	closeOnce sync.Once
	closeErr  error
}

// schemaVersion is PRAGMA user_version of a current traces.db. The file holds nothing that
// must survive an upgrade: a file of another version is emptied and recreated.
const schemaVersion = 1

const schema = `
DROP TABLE IF EXISTS spans;
CREATE TABLE spans (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	stored_ns      INTEGER NOT NULL,
	trace_id       TEXT NOT NULL,
	span_id        TEXT NOT NULL,
	parent_span_id TEXT NOT NULL,
	name           TEXT NOT NULL,
	kind           TEXT NOT NULL,
	start_ns       INTEGER NOT NULL,
	end_ns         INTEGER NOT NULL,
	status_code    TEXT NOT NULL,
	status_message TEXT NOT NULL,
	attributes     TEXT NOT NULL,
	resource       TEXT NOT NULL,
	scope          TEXT NOT NULL,
	source         TEXT NOT NULL,
	session_id     TEXT NOT NULL,
	runtime_id     TEXT NOT NULL
);
CREATE INDEX spans_trace ON spans (trace_id);
CREATE INDEX spans_session ON spans (session_id) WHERE session_id != '';
CREATE INDEX spans_runtime ON spans (runtime_id) WHERE runtime_id != '';
CREATE INDEX spans_stored ON spans (stored_ns);
PRAGMA user_version = 1;
`

// Open opens (creating if needed) the span store at path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		return nil, fmt.Errorf("open trace store %s: retention must be positive", path)
	}
	if opts.MaxSpans < 0 {
		return nil, fmt.Errorf("open trace store %s: max spans must not be negative", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// synchronous NORMAL: recent spans are worth less than an fsync per batch.
	pools, err := sqlite.OpenPools(ctx, path, sqlite.PoolOptions{Synchronous: "NORMAL", Readers: 2})
	if err != nil {
		return nil, fmt.Errorf("open trace store %s: %w", path, err)
	}
	write, read := pools.Write, pools.Read
	s := &Store{path: path, opts: opts, write: write, read: read}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open trace store %s: %w", path, err), s.Close())
	}
	return s, nil
}

// migrate creates the schema unless the file already has the current one.
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v == schemaVersion {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// Close closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := errors.Join(s.read.Close(), s.write.Close()); err != nil {
			s.closeErr = fmt.Errorf("close trace store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
