package session

import (
	"context"
	"time"
)

// sweepPools runs until Close: every PingInterval it sweeps the pools.
func (m *Manager) sweepPools() {
	tick := time.NewTicker(m.opts.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-m.pools.ctx.Done():
			return
		case <-tick.C:
			m.sweep()
			if m.swept != nil {
				m.swept()
			}
		}
	}
}

// sweep retires pools unused for PoolIdle (by the manager clock), drops pooled sandboxes
// whose agent exited (the pool then backs off before it refills), and resumes the fill of
// pools that are short, e.g. once budget came free or a back-off ended.
func (m *Manager) sweep() {
	now := m.now()
	var (
		drop   []*pooled
		exited []*pooled
	)
	m.mu.Lock()
	for _, p := range m.pools.pools {
		if now.Sub(p.lastUsed) >= m.opts.PoolIdle {
			gone := m.retireLocked(p)
			m.log.Info("pool idle: emptied", "runtime", p.key.runtimeID, "endpoint", p.key.endpoint,
				"version", p.key.version, "idle", now.Sub(p.lastUsed), "sandboxes", len(gone))
			drop = append(drop, gone...)
			continue
		}
		alive := p.ready[:0]
		for _, ps := range p.ready {
			select {
			case <-ps.sb.Done():
				m.unchargeLocked(ps.charge)
				exited = append(exited, ps)
				p.failures++
				p.retryAt = now.Add(retryAfter(p.failures))
			default:
				alive = append(alive, ps)
			}
		}
		clear(p.ready[len(alive):])
		p.ready = alive
		m.fillLocked(p)
	}
	m.mu.Unlock()
	for _, ps := range exited {
		m.log.Warn("pooled agent exited while waiting for a session", "runtime", ps.key.runtimeID,
			"endpoint", ps.key.endpoint, "sandbox", ps.id, "err", exitErrOf(ps.sb), "output", ps.out.tail())
	}
	m.discard(context.Background(), append(drop, exited...)) // bounded by StopTimeout
}
