package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"berth.dev/berth/internal/catalog"
)

const versionColumns = `runtime_id, number, config, status, failure_reason, prepared, created_ms, updated_ms`

func scanVersion(s scanner) (catalog.Version, error) {
	var (
		v                catalog.Version
		config           string
		prepared         sql.NullString
		created, updated int64
	)
	if err := s.Scan(&v.RuntimeID, &v.Number, &config, &v.Status, &v.FailureReason, &prepared, &created, &updated); err != nil {
		return catalog.Version{}, err
	}
	if err := decodeJSON(config, &v.Config); err != nil {
		return catalog.Version{}, fmt.Errorf("decode config: %w", err)
	}
	if prepared.Valid {
		v.Prepared = new(catalog.PreparedArtifact)
		if err := decodeJSON(prepared.String, v.Prepared); err != nil {
			return catalog.Version{}, fmt.Errorf("decode prepared artifact: %w", err)
		}
	}
	v.CreatedAt, v.UpdatedAt = fromMS(created), fromMS(updated)
	return v, nil
}

// encodePrepared renders the prepared artifact, NULL when there is none.
func encodePrepared(p *catalog.PreparedArtifact) (sql.NullString, error) {
	if p == nil {
		return sql.NullString{}, nil
	}
	s, err := encodeJSON(p)
	return sql.NullString{String: s, Valid: true}, err
}

func versionOp(verb, runtimeID string, number int) string {
	return fmt.Sprintf("%s version %d of runtime %s", verb, number, runtimeID)
}

// CreateVersion inserts a version; a missing runtime is ErrNotFound (foreign key).
func (r runtimes) CreateVersion(ctx context.Context, v catalog.Version) error {
	op := versionOp("create", v.RuntimeID, v.Number)
	config, err := encodeJSON(v.Config)
	if err != nil {
		return dbErr(op, err)
	}
	prepared, err := encodePrepared(v.Prepared)
	if err != nil {
		return dbErr(op, err)
	}
	_, err = r.q.ExecContext(ctx,
		`INSERT INTO versions (`+versionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		v.RuntimeID, v.Number, config, string(v.Status), v.FailureReason, prepared,
		ms(v.CreatedAt), ms(v.UpdatedAt))
	if err != nil {
		return dbErr(op, err)
	}
	return nil
}

func (r runtimes) GetVersion(ctx context.Context, runtimeID string, number int) (catalog.Version, error) {
	v, err := scanVersion(r.q.QueryRowContext(ctx,
		`SELECT `+versionColumns+` FROM versions WHERE runtime_id = ? AND number = ?`,
		runtimeID, number))
	if err != nil {
		return catalog.Version{}, dbErr(versionOp("get", runtimeID, number), err)
	}
	return v, nil
}

func (r runtimes) UpdateVersion(ctx context.Context, v catalog.Version) error {
	op := versionOp("update", v.RuntimeID, v.Number)
	prepared, err := encodePrepared(v.Prepared)
	if err != nil {
		return dbErr(op, err)
	}
	res, err := r.q.ExecContext(ctx,
		`UPDATE versions SET status = ?, failure_reason = ?, prepared = ?, updated_ms = ?
		 WHERE runtime_id = ? AND number = ?`,
		string(v.Status), v.FailureReason, prepared, ms(v.UpdatedAt), v.RuntimeID, v.Number)
	return execOne(res, err, op)
}

func (r runtimes) DeleteVersion(ctx context.Context, runtimeID string, number int) error {
	res, err := r.q.ExecContext(ctx,
		`DELETE FROM versions WHERE runtime_id = ? AND number = ?`, runtimeID, number)
	return execOne(res, err, versionOp("delete", runtimeID, number))
}

func (r runtimes) ListVersions(ctx context.Context, runtimeID string, before, limit int) ([]catalog.Version, error) {
	bound := int64(before)
	if before <= 0 {
		bound = math.MaxInt64
	}
	return queryAll(ctx, r.q, "list versions of runtime "+runtimeID, scanVersion,
		`SELECT `+versionColumns+` FROM versions WHERE runtime_id = ? AND number < ?
		 ORDER BY number DESC LIMIT ?`,
		runtimeID, bound, sqlLimit(limit))
}

func (r runtimes) PendingVersions(ctx context.Context) ([]catalog.Version, error) {
	return queryAll(ctx, r.q, "list pending versions", scanVersion,
		`SELECT `+versionColumns+` FROM versions WHERE status IN (?, ?)
		 ORDER BY created_ms, runtime_id, number`,
		string(catalog.StatusCreating), string(catalog.StatusUpdating))
}
