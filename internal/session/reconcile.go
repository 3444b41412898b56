package session

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

// reconcile closes the sessions a previous process left live. Each sandbox is reclaimed
// (killed and wiped) through the driver's Reclaimer when the record names this driver and
// holds a state; a sandbox that cannot be reclaimed is logged as an error. Every record is
// then closed with reason server_restart. Only store failures are returned.
func (m *Manager) reconcile(ctx context.Context) error {
	var left []store.SessionRecord
	err := m.store.View(ctx, func(tx store.Tx) error {
		var err error
		left, err = tx.Sessions().ListSessions(ctx, store.SessionFilter{LiveOnly: true}, "", 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("list sessions left live: %w", err)
	}
	reclaimer, canReclaim := m.driver.(sandbox.Reclaimer)
	for _, rec := range left {
		switch {
		case len(rec.SandboxState) == 0:
			// It never got a sandbox, or crashed before recording it.
		case rec.Driver != m.driver.Name() || !canReclaim:
			m.log.Error("cannot reclaim sandbox left by a previous process",
				"record", rec.ID, "driver", rec.Driver, "sandbox", rec.SandboxID, "state", string(rec.SandboxState))
		default:
			rctx, cancel := context.WithTimeout(ctx, m.opts.StopTimeout)
			err := reclaimer.Reclaim(rctx, rec.SandboxState)
			cancel()
			if err != nil {
				m.log.Error("reclaim sandbox left by a previous process",
					"record", rec.ID, "sandbox", rec.SandboxID, "err", err)
			}
		}
		rec.State, rec.EndReason, rec.EndedAt = store.SessionTerminated, ReasonServerRestart, m.now()
		if err := m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().UpdateSession(ctx, rec) }); err != nil {
			return fmt.Errorf("close session record %s: %w", rec.ID, err)
		}
		m.log.Info("closed session left by a previous process", "runtime", rec.RuntimeID,
			"session", rec.SessionID, "record", rec.ID, "sandbox", rec.SandboxID)
	}
	return nil
}
