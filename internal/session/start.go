package session

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/store"
)

// startSession resolves the target, creates the record, starts the sandbox and waits for
// the agent's first healthy ping. It reports whether the session is now running; on false
// everything it made is gone and s.startErr says why.
func (m *Manager) startSession(s *session, values context.Context, resolve func(context.Context) (Target, error)) bool {
	ctx, cancel := context.WithCancel(values)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	begin := time.Now()

	tgt, err := resolve(ctx)
	if err != nil {
		m.failStart(s, err)
		return false
	}
	if err := m.configure(s, tgt); err != nil {
		m.failStart(s, err)
		return false
	}
	pk, pooling := m.poolKeyFor(s, tgt)
	var (
		taken  *pooled
		status string
	)
	if pooling {
		taken, status = m.takeFromPool(ctx, s, pk)
		s.poolHit = taken != nil
		if taken != nil { // refill once the hit's first request is through (refill.go), whatever comes of it
			s.deferRefill(cmp.Or(m.refillAfter, refillDelayMax), func() {
				m.endRefillDeferral(taken)
				m.replenish(pk, tgt)
			})
		}
	}
	if err := m.prepare(s, taken); err != nil {
		m.failStart(s, err)
		return false
	}
	if s.logFile != nil {
		for _, n := range tgt.Notices {
			s.logFile.Notice(n)
		}
	}
	if taken != nil {
		m.handOverPooled(s, taken)
	} else {
		if pooling {
			m.makeRoom()
		}
		if status, err = m.startCold(ctx, s, tgt); err != nil {
			m.failStart(s, err)
			return false
		}
	}

	now := m.now()
	s.mu.Lock()
	s.busy = status == statusBusy
	s.lastActivity = now
	s.mu.Unlock()
	s.usageWrite = now
	if taken == nil { // a taken sandbox's record was created active
		s.rec.State, s.rec.LastActivityAt = store.SessionActive, now
		m.readUsage(s)
		if err := m.writeRecord(s.rec); err != nil {
			m.log.Error("record session start", "record", s.recordID, "err", err)
		}
	}
	if pooling && taken == nil { // a hit's refill is deferred (below takeFromPool)
		m.replenish(pk, tgt)
	}
	m.notifyStart(s, time.Since(begin))
	m.mu.Lock()
	s.sandboxID = s.sb.ID()
	m.onSandbox[s.sandboxID] = s
	m.mu.Unlock()
	close(s.ready)
	m.log.Info("session started", "runtime", s.key.RuntimeID, "endpoint", s.key.Endpoint,
		"session", s.key.SessionID, "record", s.recordID, "version", s.version,
		"sandbox", s.sb.ID(), "pool_hit", s.poolHit, "startup", time.Since(begin))
	return true
}

// startCold starts the session's own sandbox and waits for the agent's first healthy ping.
func (m *Manager) startCold(ctx context.Context, s *session, tgt Target) (string, error) {
	spec := tgt.Spec
	spec.ID = s.recordID
	if s.logFile != nil {
		spec.Stdout, spec.Stderr = s.logFile.Stream(sessionlog.StreamStdout), s.logFile.Stream(sessionlog.StreamStderr)
	}
	sb, err := m.startSandbox(ctx, spec) // trace.go: Driver.Start in a span
	if err != nil {
		return "", fmt.Errorf("start sandbox for session %s: %w", s.key.SessionID, err)
	}
	s.sb = sb
	s.transport = newTransport(s)
	s.client = newClient(s.transport)
	s.rec.SandboxID, s.rec.SandboxState = sb.ID(), sb.State()
	if err := m.writeRecord(s.rec); err != nil {
		return "", fmt.Errorf("record sandbox of session %s: %w", s.key.SessionID, err)
	}
	return m.traceWaitHealthy(ctx, s)
}

// poolKeyFor is the pool s takes from, and whether pools are on.
func (m *Manager) poolKeyFor(s *session, tgt Target) (poolKey, bool) {
	if m.opts.PoolSize == 0 {
		return poolKey{}, false
	}
	pk, err := poolKeyOf(s.key.RuntimeID, s.key.Endpoint, tgt)
	if err != nil {
		m.log.Warn("session cannot use a pool", "runtime", s.key.RuntimeID, "endpoint", s.key.Endpoint, "err", err)
		return poolKey{}, false
	}
	return pk, true
}

// configure checks the target and fills in the session's settings.
func (m *Manager) configure(s *session, tgt Target) error {
	v := tgt.Version
	if err := checkReady(s.key.RuntimeID, v); err != nil {
		return err
	}
	s.port = targetPort(tgt)
	s.idleTimeout, s.maxLifetime = catalog.EffectiveLifecycle(v.Config)
	s.version = v.Number
	return nil
}

// prepare creates the record (state starting) and opens the session log. With a sandbox
// taken from a pool (which s already runs on and which just answered), the record is
// created active, names the sandbox and replaces its pooled record in one transaction: a
// pool hit costs one durable write.
func (m *Manager) prepare(s *session, taken *pooled) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new session record id: %w", err)
	}
	now := m.now()
	rec := store.SessionRecord{
		ID:             id.String(),
		RuntimeID:      s.key.RuntimeID,
		Endpoint:       s.key.Endpoint,
		SessionID:      s.key.SessionID,
		Version:        s.version,
		State:          store.SessionStarting,
		Driver:         m.driver.Name(),
		StartedAt:      now,
		LastActivityAt: now,
	}
	if taken == nil {
		err = m.createRecord(rec)
	} else {
		rec.State, rec.SandboxID, rec.SandboxState = store.SessionActive, taken.id, taken.sb.State()
		if err = m.createTakenRecord(rec, taken.id); err != nil {
			m.deletePooledRecord(taken.id) // the session's teardown stops the sandbox
		}
	}
	if err != nil {
		return fmt.Errorf("create record of session %s: %w", s.key.SessionID, err)
	}
	s.rec, s.recordID = rec, rec.ID
	if logs := m.opts.Logs; logs != nil {
		s.logPath = logs.Path(rec.ID)
		src := sessionlog.Source{RuntimeID: s.key.RuntimeID, RuntimeVersion: catalog.FormatVersion(s.version), Endpoint: s.key.Endpoint, SessionID: s.key.SessionID}
		if s.logFile, err = logs.Open(rec.ID, src); err != nil {
			return fmt.Errorf("open log of session %s: %w", s.key.SessionID, err)
		}
	}
	return nil
}

// failStart tears down what start-up made, closes the record (reason start_failed, or the
// reason an end was requested for) and hands err to every waiter.
func (m *Manager) failStart(s *session, err error) {
	reason := s.requestEnd(ReasonStartFailed)
	if reason != ReasonStartFailed {
		err = abortErr(s.key, reason)
	}
	m.teardown(s, reason, false)
	m.log.Warn("session start failed", "runtime", s.key.RuntimeID, "endpoint", s.key.Endpoint,
		"session", s.key.SessionID, "record", s.recordID, "reason", reason, "err", err)
	s.startErr = err
	m.remove(s)
	close(s.ready)
	close(s.removed)
}

// abortErr is what callers waiting for a start get when the session was ended during it.
func abortErr(key Key, reason string) error {
	switch reason {
	case ReasonServerShutdown:
		return fmt.Errorf("%w: the server is shutting down", errdefs.ErrUnavailable)
	case ReasonRuntimeDeleted:
		return fmt.Errorf("%w: agent runtime %s was deleted", errdefs.ErrNotFound, key.RuntimeID)
	default:
		return fmt.Errorf("%w: session %s ended (%s) while it was starting", errdefs.ErrConflict, key.SessionID, reason)
	}
}
