package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"berth.dev/berth/internal/catalog"
)

const endpointColumns = `runtime_id, name, id, live_version, target_version, description, status,
	failure_reason, tags, created_ms, updated_ms`

func scanEndpoint(s scanner) (catalog.Endpoint, error) {
	var (
		e                catalog.Endpoint
		description      sql.NullString
		tags             string
		created, updated int64
	)
	if err := s.Scan(&e.RuntimeID, &e.Name, &e.ID, &e.LiveVersion, &e.TargetVersion, &description,
		&e.Status, &e.FailureReason, &tags, &created, &updated); err != nil {
		return catalog.Endpoint{}, err
	}
	if description.Valid {
		e.Description = &description.String
	}
	if err := decodeJSON(tags, &e.Tags); err != nil {
		return catalog.Endpoint{}, fmt.Errorf("decode tags: %w", err)
	}
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return e, nil
}

func nullString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

func endpointOp(verb, runtimeID, name string) string {
	return fmt.Sprintf("%s endpoint %s of runtime %s", verb, name, runtimeID)
}

// CreateEndpoint inserts an endpoint; a duplicate (RuntimeID, Name) or ID is ErrConflict and
// a missing runtime is ErrNotFound.
func (r runtimes) CreateEndpoint(ctx context.Context, e catalog.Endpoint) error {
	op := endpointOp("create", e.RuntimeID, e.Name)
	tags, err := encodeJSON(e.Tags)
	if err != nil {
		return dbErr(op, err)
	}
	_, err = r.q.ExecContext(ctx,
		`INSERT INTO endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.RuntimeID, e.Name, e.ID, e.LiveVersion, e.TargetVersion, nullString(e.Description),
		string(e.Status), e.FailureReason, tags, ms(e.CreatedAt), ms(e.UpdatedAt))
	if err != nil {
		return dbErr(op, err)
	}
	return nil
}

func (r runtimes) GetEndpoint(ctx context.Context, runtimeID, name string) (catalog.Endpoint, error) {
	e, err := scanEndpoint(r.q.QueryRowContext(ctx,
		`SELECT `+endpointColumns+` FROM endpoints WHERE runtime_id = ? AND name = ?`,
		runtimeID, name))
	if err != nil {
		return catalog.Endpoint{}, dbErr(endpointOp("get", runtimeID, name), err)
	}
	return e, nil
}

// UpdateEndpoint replaces everything but the key, ID and CreatedAt.
func (r runtimes) UpdateEndpoint(ctx context.Context, e catalog.Endpoint) error {
	op := endpointOp("update", e.RuntimeID, e.Name)
	tags, err := encodeJSON(e.Tags)
	if err != nil {
		return dbErr(op, err)
	}
	res, err := r.q.ExecContext(ctx,
		`UPDATE endpoints SET live_version = ?, target_version = ?, description = ?, status = ?,
		 failure_reason = ?, tags = ?, updated_ms = ?
		 WHERE runtime_id = ? AND name = ?`,
		e.LiveVersion, e.TargetVersion, nullString(e.Description), string(e.Status),
		e.FailureReason, tags, ms(e.UpdatedAt), e.RuntimeID, e.Name)
	return execOne(res, err, op)
}

func (r runtimes) DeleteEndpoint(ctx context.Context, runtimeID, name string) error {
	res, err := r.q.ExecContext(ctx,
		`DELETE FROM endpoints WHERE runtime_id = ? AND name = ?`, runtimeID, name)
	return execOne(res, err, endpointOp("delete", runtimeID, name))
}

func (r runtimes) ListEndpoints(ctx context.Context, runtimeID, afterName string, limit int) ([]catalog.Endpoint, error) {
	return queryAll(ctx, r.q, "list endpoints of runtime "+runtimeID, scanEndpoint,
		`SELECT `+endpointColumns+` FROM endpoints WHERE runtime_id = ? AND name > ?
		 ORDER BY name LIMIT ?`,
		runtimeID, afterName, sqlLimit(limit))
}
