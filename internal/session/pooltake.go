package session

import (
	"context"
	"fmt"
	"io"
	"time"
)

// takeFromPool gives s a ready sandbox of pk's pool, if there is one that still answers:
// each taken sandbox gets the session's own transport and one GET /ping (PingTimeout); one
// that has exited or does not answer 200 is stopped and the next one tried. On a hit s.sb,
// s.transport and s.client are set and the agent's status is returned; on a miss they stay
// nil. Either way the hit or miss is counted.
func (m *Manager) takeFromPool(ctx context.Context, s *session, pk poolKey) (*pooled, string) {
	for {
		ps := m.popPooled(pk)
		if ps == nil {
			m.mu.Lock()
			m.pools.misses++
			m.mu.Unlock()
			return nil, ""
		}
		s.sb = ps.sb
		s.transport = newTransport(s)
		s.client = newClient(s.transport)
		status, err := m.checkPooled(ctx, s)
		if err == nil {
			m.mu.Lock()
			m.pools.hits++
			m.mu.Unlock()
			return ps, status
		}
		m.log.Warn("pooled sandbox failed its hand-over check", "runtime", pk.runtimeID, "endpoint", pk.endpoint,
			"sandbox", ps.id, "err", err)
		s.transport.CloseIdleConnections()
		s.sb, s.transport, s.client = nil, nil, nil
		m.endRefillDeferral(ps)
		m.discardLater([]*pooled{ps})
		if ctx.Err() != nil {
			return nil, ""
		}
	}
}

// checkPooled is the hand-over check: the agent has not exited and answers GET /ping.
func (m *Manager) checkPooled(ctx context.Context, s *session) (string, error) {
	select {
	case <-s.sb.Done():
		return "", fmt.Errorf("agent exited while pooled: %w", exitErrOf(s.sb))
	default:
	}
	pctx, cancel := context.WithTimeout(ctx, m.opts.PingTimeout)
	defer cancel()
	return ping(pctx, s.client)
}

// popPooled removes the oldest ready sandbox of pk's pool, if the endpoint's pool is for pk
// and has one.
func (m *Manager) popPooled(pk poolKey) *pooled {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pools.pools[pk.endpointKey]
	if p == nil || p.key != pk || len(p.ready) == 0 {
		return nil
	}
	ps := p.ready[0]
	p.ready = p.ready[1:]
	p.deferred++ // the hit's refill waits (endRefillDeferral)
	ps.from = p
	p.lastUsed = m.now()
	m.unchargeLocked(ps.charge)
	return ps
}

// endRefillDeferral lets ps's pool refill the slot ps left (no-op for a pool retired
// meanwhile, which never fills again).
func (m *Manager) endRefillDeferral(ps *pooled) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := ps.from; p != nil {
		ps.from = nil
		p.deferred--
		m.fillLocked(p)
	}
}

// handOverPooled makes the session's log receive what the pooled sandbox's agent wrote
// while it waited, and all it writes from now on.
func (m *Manager) handOverPooled(s *session, ps *pooled) {
	var dst io.Writer
	if s.logFile != nil {
		dst = s.logFile
		_, _ = fmt.Fprintf(s.logFile, "berth: this session runs pre-started sandbox %s, started %s ago; its output so far follows\n",
			ps.id, m.now().Sub(ps.created).Round(time.Millisecond))
	}
	if err := ps.out.handOver(dst); err != nil {
		m.log.Warn("write pooled sandbox output to session log", "record", s.recordID, "err", err)
	}
}

// replenish marks pk's pool used and refills it in the background, creating it (and
// retiring the endpoint's pool for another target) if needed. Call it from a session
// goroutine once the session runs.
func (m *Manager) replenish(pk poolKey, tgt Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return
	}
	m.usePoolLocked(pk, tgt)
}
