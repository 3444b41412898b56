package sqlite

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/store"
)

// runtimes implements store.Runtimes; versions.go and endpoints.go hold the rest of it.
type runtimes tx

var _ store.Runtimes = runtimes{}

const runtimeColumns = `id, name, latest_version, tags, created_ms, updated_ms`

func scanRuntime(s scanner) (catalog.Runtime, error) {
	var (
		rt               catalog.Runtime
		tags             string
		created, updated int64
	)
	if err := s.Scan(&rt.ID, &rt.Name, &rt.LatestVersion, &tags, &created, &updated); err != nil {
		return catalog.Runtime{}, err
	}
	if err := decodeJSON(tags, &rt.Tags); err != nil {
		return catalog.Runtime{}, fmt.Errorf("decode tags: %w", err)
	}
	rt.CreatedAt, rt.UpdatedAt = fromMS(created), fromMS(updated)
	return rt, nil
}

func (r runtimes) CreateRuntime(ctx context.Context, rt catalog.Runtime) error {
	op := "create runtime " + rt.ID
	tags, err := encodeJSON(rt.Tags)
	if err != nil {
		return dbErr(op, err)
	}
	_, err = r.q.ExecContext(ctx,
		`INSERT INTO runtimes (`+runtimeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		rt.ID, rt.Name, rt.LatestVersion, tags, ms(rt.CreatedAt), ms(rt.UpdatedAt))
	if err != nil {
		return dbErr(op, err)
	}
	return nil
}

func (r runtimes) GetRuntime(ctx context.Context, id string) (catalog.Runtime, error) {
	rt, err := scanRuntime(r.q.QueryRowContext(ctx,
		`SELECT `+runtimeColumns+` FROM runtimes WHERE id = ?`, id))
	if err != nil {
		return catalog.Runtime{}, dbErr("get runtime "+id, err)
	}
	return rt, nil
}

func (r runtimes) UpdateRuntime(ctx context.Context, rt catalog.Runtime) error {
	op := "update runtime " + rt.ID
	tags, err := encodeJSON(rt.Tags)
	if err != nil {
		return dbErr(op, err)
	}
	res, err := r.q.ExecContext(ctx,
		`UPDATE runtimes SET latest_version = ?, tags = ?, updated_ms = ? WHERE id = ?`,
		rt.LatestVersion, tags, ms(rt.UpdatedAt), rt.ID)
	return execOne(res, err, op)
}

// DeleteRuntime relies on ON DELETE CASCADE to remove versions and endpoints.
func (r runtimes) DeleteRuntime(ctx context.Context, id string) error {
	res, err := r.q.ExecContext(ctx, `DELETE FROM runtimes WHERE id = ?`, id)
	return execOne(res, err, "delete runtime "+id)
}

func (r runtimes) ListRuntimes(ctx context.Context, afterID string, limit int) ([]catalog.Runtime, error) {
	return queryAll(ctx, r.q, "list runtimes", scanRuntime,
		`SELECT `+runtimeColumns+` FROM runtimes WHERE id > ? ORDER BY id LIMIT ?`,
		afterID, sqlLimit(limit))
}
