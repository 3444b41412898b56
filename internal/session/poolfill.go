package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/store"
)

// fillLocked starts p's fill goroutine if p is short of sandboxes, may grow and none runs.
// The first slot is reserved before it returns, so PoolStats shows the fill at once.
func (m *Manager) fillLocked(p *pool) {
	if p.filling || !m.reserveLocked(p) {
		return
	}
	p.filling = true
	m.wg.Go(func() { m.fillLoop(p) })
}

// reserveLocked takes a slot and a charge for one more sandbox of p, if p is short and the
// budget, MaxSessions and p's back-off allow it.
func (m *Manager) reserveLocked(p *pool) bool {
	switch {
	case m.closing || p.retired || m.opts.PoolSize == 0:
		return false
	case len(p.ready)+p.starting+p.deferred >= m.opts.PoolSize:
		return false
	case m.now().Before(p.retryAt):
		return false
	case m.pools.bytes+p.charge > m.opts.PoolMemoryBytes:
		return false
	case m.opts.MaxSessions > 0 && len(m.live)+m.pools.count >= m.opts.MaxSessions:
		return false
	}
	p.starting++
	m.pools.count++
	m.pools.bytes += p.charge
	return true
}

// fillLoop starts p's sandboxes one at a time until p is full or cannot grow.
func (m *Manager) fillLoop(p *pool) {
	for {
		ps, err := m.startPooled(p)
		m.mu.Lock()
		p.starting--
		keep := err == nil && !p.retired && !m.closing &&
			(m.opts.MaxSessions == 0 || len(m.live)+m.pools.count <= m.opts.MaxSessions)
		if keep {
			p.ready = append(p.ready, ps)
			p.failures = 0
		} else {
			m.unchargeLocked(p.charge)
		}
		if err != nil && !p.retired && !m.closing {
			p.failures++
			p.retryAt = m.now().Add(retryAfter(p.failures))
		}
		more := keep && m.reserveLocked(p)
		p.filling = more
		m.mu.Unlock()
		switch {
		case err != nil && p.ctx.Err() == nil:
			m.log.Warn("pooled sandbox failed to start", "runtime", p.key.runtimeID, "endpoint", p.key.endpoint,
				"version", p.key.version, "failures", p.failures, "err", err)
		case err == nil && keep:
			m.log.Debug("pooled sandbox ready", "runtime", p.key.runtimeID, "endpoint", p.key.endpoint,
				"version", p.key.version, "sandbox", ps.id)
		case err == nil:
			m.stopPooled(ps) // retired, closing, or its slot went to a session
		}
		if !more {
			return
		}
	}
}

// retryAfter is the back-off after n consecutive failures.
func retryAfter(n int) time.Duration {
	d := poolRetryMin
	for i := 1; i < n && d < poolRetryMax; i++ {
		d *= 2
	}
	return min(d, poolRetryMax)
}

// startPooled records, starts and health-checks one sandbox of p. On error nothing is
// left: no sandbox, no record.
func (m *Manager) startPooled(p *pool) (*pooled, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new pooled sandbox id: %w", err)
	}
	ps := &pooled{id: id.String(), key: p.key, out: &handover{}, charge: p.charge, created: m.now()}
	rec := store.PooledSandbox{ID: ps.id, RuntimeID: p.key.runtimeID, Endpoint: p.key.endpoint,
		Version: p.key.version, Driver: m.driver.Name(), CreatedAt: ps.created}
	// Recorded before it starts, as a session is, so no crash leaves it unrecorded.
	if err := m.putPooledRecord(rec); err != nil {
		return nil, fmt.Errorf("record pooled sandbox %s: %w", ps.id, err)
	}
	spec := p.tgt.Spec
	spec.ID, spec.Stdout, spec.Stderr = ps.id, ps.out.stream(sessionlog.StreamStdout), ps.out.stream(sessionlog.StreamStderr)
	ctx, cancel := context.WithTimeout(p.ctx, m.opts.InitTimeout)
	defer cancel()
	ps.sb, err = m.driver.Start(ctx, spec)
	if err != nil {
		m.deletePooledRecord(ps.id)
		return nil, fmt.Errorf("start pooled sandbox %s: %w", ps.id, err)
	}
	rec.SandboxState = ps.sb.State()
	if err := m.putPooledRecord(rec); err != nil {
		m.stopPooled(ps)
		return nil, fmt.Errorf("record pooled sandbox %s: %w", ps.id, err)
	}
	tr := agentTransport(ps.sb, p.port, nil)
	_, err = m.pollHealthy(ctx, ps.sb, newClient(tr), func() error {
		return fmt.Errorf("agent exited during start-up: %w%s", exitErrOf(ps.sb), quoteTail(ps.out.tail()))
	})
	tr.CloseIdleConnections()
	if err != nil {
		m.stopPooled(ps)
		return nil, fmt.Errorf("pooled sandbox %s: %w", ps.id, err)
	}
	return ps, nil
}

// exitErrOf is how sb's agent ended.
func exitErrOf(sb sandbox.Sandbox) error {
	if err := sb.ExitErr(); err != nil {
		return err
	}
	return errors.New("exit status 0")
}

// quoteTail renders the end of an agent's output for an error message.
func quoteTail(tail string) string {
	if tail == "" {
		return ""
	}
	return "\nlast output:\n" + tail
}

// makeRoom evicts ready pooled sandboxes, least recently used pool first, while live
// sessions and pooled sandboxes exceed MaxSessions: a session about to start cold needs the
// slot. Call it from a session goroutine.
func (m *Manager) makeRoom() {
	if m.opts.MaxSessions == 0 {
		return
	}
	var drop []*pooled
	m.mu.Lock()
	for len(m.live)+m.pools.count > m.opts.MaxSessions {
		var victim *pool
		for _, p := range m.pools.pools {
			if len(p.ready) > 0 && (victim == nil || p.lastUsed.Before(victim.lastUsed)) {
				victim = p
			}
		}
		if victim == nil {
			break // only fills in flight: they give their slot up when they finish
		}
		ps := victim.ready[0]
		victim.ready = victim.ready[1:]
		m.unchargeLocked(ps.charge)
		drop = append(drop, ps)
	}
	m.mu.Unlock()
	for _, ps := range drop {
		m.log.Info("pooled sandbox evicted for a session", "runtime", ps.key.runtimeID,
			"endpoint", ps.key.endpoint, "sandbox", ps.id, "max_sessions", m.opts.MaxSessions)
	}
	m.discardLater(drop)
}
