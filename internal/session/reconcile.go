package session

import (
	"context"
	"encoding/json"
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
	for _, rec := range left {
		m.reclaimLeftover(ctx, rec.Driver, rec.SandboxID, rec.SandboxState, "record", rec.ID)
		rec.State, rec.EndReason, rec.EndedAt = store.SessionTerminated, ReasonServerRestart, m.now()
		if err := m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().UpdateSession(ctx, rec) }); err != nil {
			return fmt.Errorf("close session record %s: %w", rec.ID, err)
		}
		m.log.Info("closed session left by a previous process", "runtime", rec.RuntimeID,
			"session", rec.SessionID, "record", rec.ID, "sandbox", rec.SandboxID)
	}
	return nil
}

// reclaimLeftover kills and wipes a sandbox a previous process left, through the driver's
// Reclaimer when it is this driver's and has a state; a sandbox that cannot be reclaimed
// is logged as an error, with args.
func (m *Manager) reclaimLeftover(ctx context.Context, driver, sandboxID string, state json.RawMessage, args ...any) {
	reclaimer, canReclaim := m.driver.(sandbox.Reclaimer)
	switch {
	case len(state) == 0:
		// It never got a sandbox, or crashed before recording it.
	case driver != m.driver.Name() || !canReclaim:
		m.log.Error("cannot reclaim sandbox left by a previous process",
			append(args, "driver", driver, "sandbox", sandboxID, "state", string(state))...)
	default:
		rctx, cancel := context.WithTimeout(ctx, m.opts.StopTimeout)
		err := reclaimer.Reclaim(rctx, state)
		cancel()
		if err != nil {
			m.log.Error("reclaim sandbox left by a previous process",
				append(args, "sandbox", sandboxID, "err", err)...)
		}
	}
}
