package session

import (
	"context"

	"berth.dev/berth/internal/store"
)

// teardown ends a session: it closes Done, records state terminating (for a session that
// had started), stops and wipes the sandbox, closes the transport and the log, and closes
// the record with reason and the final usage. It does not free the key.
func (m *Manager) teardown(s *session, reason string, started bool) {
	close(s.ended)
	s.cancel()
	if s.sb != nil {
		m.readUsage(s)
	}
	if started {
		s.rec.State = store.SessionTerminating
		if err := m.writeRecord(s.rec); err != nil {
			m.log.Error("record session terminating", "record", s.recordID, "err", err)
		}
	}
	if s.transport != nil {
		// First, so no dial into the sandbox holds up its Stop.
		s.transport.CloseIdleConnections()
	}
	if s.sb != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), m.opts.StopTimeout)
		if err := s.sb.Stop(ctx); err != nil {
			m.log.Error("stop sandbox", "record", s.recordID, "sandbox", s.sb.ID(), "err", err)
		}
		cancel()
		m.readUsage(s) // drivers may keep the reading taken just before the kill
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	if s.logFile != nil {
		if err := s.logFile.Close(); err != nil {
			m.log.Warn("close session log", "record", s.recordID, "err", err)
		}
	}
	if s.rec.ID == "" {
		return // it failed before it had a record
	}
	_, last := s.currentState()
	if last.After(s.rec.LastActivityAt) {
		s.rec.LastActivityAt = last
	}
	s.rec.State, s.rec.EndReason, s.rec.EndedAt = store.SessionTerminated, reason, m.now()
	if err := m.writeRecord(s.rec); err != nil {
		m.log.Error("record session end", "record", s.recordID, "reason", reason, "err", err)
	}
	if started {
		m.notifyEnd(s, reason)
		m.log.Info("session ended", "runtime", s.key.RuntimeID, "endpoint", s.key.Endpoint,
			"session", s.key.SessionID, "record", s.recordID, "reason", reason,
			"lifetime", s.rec.EndedAt.Sub(s.rec.StartedAt), "cpu", s.rec.CPUTime)
	}
}

// readUsage folds the sandbox's current usage into the record; usage never goes down.
func (m *Manager) readUsage(s *session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), usageTimeout)
	defer cancel()
	u, err := s.sb.Usage(ctx)
	if err != nil {
		m.log.Debug("read sandbox usage", "record", s.recordID, "err", err)
		return
	}
	s.rec.CPUTime = max(s.rec.CPUTime, u.CPUTime)
	s.rec.MemoryPeakBytes = max(s.rec.MemoryPeakBytes, u.MemoryPeakBytes)
}

// writeRecord replaces the session's record.
func (m *Manager) writeRecord(rec store.SessionRecord) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), storeTimeout)
	defer cancel()
	return m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().UpdateSession(ctx, rec) })
}

// createRecord inserts the session's record.
func (m *Manager) createRecord(rec store.SessionRecord) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), storeTimeout)
	defer cancel()
	return m.store.Update(ctx, func(tx store.Tx) error { return tx.Sessions().CreateSession(ctx, rec) })
}
