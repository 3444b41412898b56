package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"berth.dev/berth/internal/errdefs"
)

// dbErr wraps err with the operation and, where SQLite reported a kind the store contract
// names, with that errdefs kind: a missing row or a foreign key to a missing parent is
// ErrNotFound, a UNIQUE or PRIMARY KEY violation is ErrConflict. Extended result codes are
// on in modernc, so the constraint is read from the code, not from the message.
func dbErr(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, errdefs.ErrNotFound)
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w: %w", op, errdefs.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %w: %w", op, errdefs.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// execOne runs an UPDATE or DELETE that must touch exactly one row; touching none is
// ErrNotFound.
func execOne(res sql.Result, err error, op string) error {
	if err != nil {
		return dbErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, errdefs.ErrNotFound)
	}
	return nil
}
