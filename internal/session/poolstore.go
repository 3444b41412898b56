package session

import (
	"context"
	"errors"
	"fmt"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// putPooledRecord inserts or replaces a pooled sandbox's record.
func (m *Manager) putPooledRecord(rec store.PooledSandbox) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), storeTimeout)
	defer cancel()
	return m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().PutPooledSandbox(ctx, rec) })
}

// deletePooledRecord deletes a pooled sandbox's record; a failure is logged (a restart
// reclaims the sandbox again, which is harmless once it is gone).
func (m *Manager) deletePooledRecord(id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), storeTimeout)
	defer cancel()
	err := m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().DeletePooledSandbox(ctx, id) })
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		m.log.Error("delete pooled sandbox record", "sandbox", id, "err", err)
	}
}

// createTakenRecord creates a session's record for a sandbox it took from a pool, and
// deletes the pooled sandbox's record in the same transaction: the sandbox is always
// recorded exactly once.
func (m *Manager) createTakenRecord(rec store.SessionRecord, pooledID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), storeTimeout)
	defer cancel()
	return m.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Sessions().DeletePooledSandbox(ctx, pooledID); err != nil {
			return err
		}
		return tx.Sessions().CreateSession(ctx, rec)
	})
}

// reconcilePooled reclaims the pooled sandboxes a previous process left (see
// reclaimLeftover) and deletes their records. Only store failures are returned.
func (m *Manager) reconcilePooled(ctx context.Context) error {
	var left []store.PooledSandbox
	err := m.store.View(ctx, func(tx store.Tx) error {
		var err error
		left, err = tx.Sessions().ListPooledSandboxes(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("list pooled sandboxes left: %w", err)
	}
	for _, p := range left {
		m.reclaimLeftover(ctx, p.Driver, p.ID, p.SandboxState, "pooled", true, "runtime", p.RuntimeID)
		err := m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().DeletePooledSandbox(ctx, p.ID) })
		if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("delete pooled sandbox record %s: %w", p.ID, err)
		}
		m.log.Info("reclaimed pooled sandbox left by a previous process", "runtime", p.RuntimeID,
			"endpoint", p.Endpoint, "version", p.Version, "sandbox", p.ID)
	}
	return nil
}
