package session

import (
	"context"
	"time"

	"berth.dev/berth/internal/store"
)

// loop watches a running session until it ends: the agent exiting ends it at once; every
// PingInterval it checks the max lifetime, pings the agent and applies the idle timeout and
// the unhealthy threshold; requests beginning make it active at once.
func (m *Manager) loop(s *session) {
	tick := time.NewTicker(m.opts.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.sb.Done():
			m.end(s, ReasonAgentExited)
			return
		case <-s.ctx.Done():
			// requestEnd has set the reason, unless the manager's base context ended.
			m.end(s, ReasonServerShutdown)
			return
		case <-s.poke:
			m.syncState(s, true)
		case <-tick.C:
			if reason := m.check(s); reason != "" {
				m.end(s, reason)
				return
			}
			if m.ticked != nil {
				m.ticked(s.key)
			}
		}
	}
}

// check runs one lifecycle tick and returns a reason to end the session, or "".
func (m *Manager) check(s *session) string {
	now := m.now()
	if now.Sub(s.rec.StartedAt) >= s.maxLifetime {
		return ReasonMaxLifetime
	}
	pctx, cancel := context.WithTimeout(s.ctx, m.opts.PingTimeout)
	status, err := ping(pctx, s.client)
	cancel()
	if s.ctx.Err() != nil {
		return "" // the loop sees the end request next
	}
	select {
	case <-s.sb.Done():
		return ReasonAgentExited
	default:
	}
	if err != nil {
		if state, _ := s.currentState(); state == store.SessionActive {
			// A single-threaded agent busy with a long request may not answer /ping; it is
			// judged again once the request is over (a crash still ends it at once).
			m.log.Debug("agent ping failed during a request", "record", s.recordID, "err", err)
			return ""
		}
		s.failures++
		m.log.Debug("agent ping failed", "record", s.recordID, "failures", s.failures, "err", err)
		if s.failures >= m.opts.UnhealthyAfter {
			m.log.Warn("agent stopped answering", "record", s.recordID, "failures", s.failures, "err", err)
			return ReasonUnhealthy
		}
		return ""
	}
	s.failures = 0
	busy := status == statusBusy
	s.mu.Lock()
	s.busy = busy
	if busy {
		s.lastActivity = now
	}
	// Deciding and marking the end under one lock means no Acquire can lease the session
	// between the two: it waits for the end and starts a fresh one.
	idle := s.inflight == 0 && !busy && now.Sub(s.lastActivity) >= s.idleTimeout && s.endReason == ""
	if idle {
		s.endReason = ReasonIdleTimeout
	}
	s.mu.Unlock()
	if idle {
		return ReasonIdleTimeout
	}
	m.syncState(s, false)
	return ""
}

// syncState writes the session's state when it changed, or its usage when the last write
// is older than usageEvery. A poke (a request began or ended) writes only a change to
// active: going idle waits for the next tick, so back-to-back requests don't write twice
// each.
func (m *Manager) syncState(s *session, poked bool) {
	state, last := s.currentState()
	now := m.now()
	changed := state != s.rec.State
	if poked && (!changed || state == store.SessionIdle) {
		return
	}
	if !changed && now.Sub(s.usageWrite) < usageEvery {
		return
	}
	s.rec.State, s.rec.LastActivityAt = state, last
	m.readUsage(s)
	s.usageWrite = now
	if err := m.writeRecord(s.rec); err != nil {
		m.log.Error("record session state", "record", s.recordID, "state", state, "err", err)
	}
}

// end ends a running session for reason (or for the reason already asked for).
func (m *Manager) end(s *session, reason string) {
	reason = s.requestEnd(reason)
	m.teardown(s, reason, true)
	m.remove(s)
	close(s.removed)
}
