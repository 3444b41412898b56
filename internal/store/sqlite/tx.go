package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"berth.dev/berth/internal/store"
)

// querier is the part of *sql.Tx the aggregates use.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx hands out the aggregates of one SQL transaction.
type tx struct{ q querier }

var _ store.Tx = tx{}

func (t tx) Runtimes() store.Runtimes       { return runtimes(t) }
func (t tx) Idempotency() store.Idempotency { return idempotency(t) }
func (t tx) AccessKeys() store.AccessKeys   { return accessKeys(t) }
func (t tx) Objects() store.Objects         { return objects(t) }
func (t tx) Registry() store.Registry       { return registry(t) }
func (t tx) Sessions() store.Sessions       { return sessions(t) }
func (t tx) Usage() store.Usage             { return usage(t) }

// Update runs fn in a write transaction on the single write connection (BEGIN IMMEDIATE) and
// commits; with synchronous=FULL the commit is on disk when Update returns nil. An error or
// panic from fn rolls everything back.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	return run(sqlTx, fn, "commit write transaction")
}

// View runs fn in a read-only transaction on the read pool. SQLite takes the snapshot at the
// first read, and every later read in fn sees that same snapshot.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	return run(sqlTx, fn, "end read transaction")
}

// run calls fn inside sqlTx, then commits when fn returns nil and rolls back otherwise,
// including when fn panics (the panic then continues).
func run(sqlTx *sql.Tx, fn func(store.Tx) error, op string) error {
	finished := false
	defer func() {
		if !finished {
			_ = sqlTx.Rollback() // fn panicked; the panic is what matters
		}
	}()
	fnErr := fn(tx{q: sqlTx})
	finished = true
	if fnErr != nil {
		if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			return errors.Join(fnErr, fmt.Errorf("roll back: %w", err))
		}
		return fnErr
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
