package sqlite

import (
	"context"

	"berth.dev/berth/internal/store"
)

// Pooled sandbox records (00003_pooled_sandboxes.sql), part of store.Sessions.

const pooledColumns = `id, runtime_id, endpoint, version, driver, sandbox_state, created_ms`

func scanPooled(s scanner) (store.PooledSandbox, error) {
	var (
		p       store.PooledSandbox
		state   []byte
		created int64
	)
	if err := s.Scan(&p.ID, &p.RuntimeID, &p.Endpoint, &p.Version, &p.Driver, &state, &created); err != nil {
		return store.PooledSandbox{}, err
	}
	if len(state) > 0 {
		p.SandboxState = state
	}
	p.CreatedAt = fromMS(created)
	return p, nil
}

func (s sessions) PutPooledSandbox(ctx context.Context, p store.PooledSandbox) error {
	_, err := s.q.ExecContext(ctx,
		`INSERT OR REPLACE INTO pooled_sandboxes (`+pooledColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.RuntimeID, p.Endpoint, p.Version, p.Driver, sandboxState(p.SandboxState), ms(p.CreatedAt))
	if err != nil {
		return dbErr("put pooled sandbox record "+p.ID, err)
	}
	return nil
}

func (s sessions) DeletePooledSandbox(ctx context.Context, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM pooled_sandboxes WHERE id = ?`, id)
	return execOne(res, err, "delete pooled sandbox record "+id)
}

func (s sessions) ListPooledSandboxes(ctx context.Context) ([]store.PooledSandbox, error) {
	return queryAll(ctx, s.q, "list pooled sandbox records", scanPooled,
		`SELECT `+pooledColumns+` FROM pooled_sandboxes ORDER BY created_ms, id`)
}
