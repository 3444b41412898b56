package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Pools are a SQLite file opened the way Berth uses it: one writer connection (WAL,
// immediate transactions, so writers queue instead of failing) and a pool of query-only
// readers.
type Pools struct {
	Write, Read *sql.DB
}

// PoolOptions tune OpenPools.
type PoolOptions struct {
	// Synchronous is SQLite's synchronous setting: FULL (an fsync per commit: the store's
	// state is durable before a 2xx) or NORMAL (WAL checkpoints only: for data worth less
	// than an fsync, such as recent spans).
	Synchronous string
	ForeignKeys bool
	Readers     int // open read connections at most (at least 1)
}

// OpenPools opens the database file at path (creating it); path must be a plain file path.
// The writer connects first, so the file is in WAL mode before any reader opens it.
func OpenPools(ctx context.Context, path string, opts PoolOptions) (Pools, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return Pools{}, errors.New("path must be a plain file path")
	}
	write, err := sql.Open("sqlite", dsn(path, true, opts))
	if err != nil {
		return Pools{}, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn(path, false, opts))
	if err != nil {
		return Pools{}, errors.Join(err, write.Close())
	}
	n := max(1, opts.Readers)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	p := Pools{Write: write, Read: read}
	if err := write.PingContext(ctx); err != nil {
		return Pools{}, errors.Join(err, p.Close())
	}
	if err := read.PingContext(ctx); err != nil {
		return Pools{}, errors.Join(err, p.Close())
	}
	return p, nil
}

// Close closes both pools.
func (p Pools) Close() error { return errors.Join(p.Read.Close(), p.Write.Close()) }

// dsn builds the driver's data source name. modernc applies busy_timeout first, then
// foreign_keys, journal_mode and synchronous, and query_only last.
func dsn(path string, writer bool, opts PoolOptions) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	if opts.ForeignKeys {
		q.Set("_foreign_keys", "1")
	}
	q.Set("_synchronous", opts.Synchronous)
	if writer {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}
