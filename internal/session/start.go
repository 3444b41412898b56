package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
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
	if err := m.prepare(s, tgt); err != nil {
		m.failStart(s, err)
		return false
	}
	spec := tgt.Spec
	spec.ID = s.recordID
	if s.logFile != nil {
		for _, n := range tgt.Notices {
			_, _ = fmt.Fprintf(s.logFile, "berth: %s\n", n)
		}
		spec.Stdout, spec.Stderr = s.logFile, s.logFile
	}
	sb, err := m.driver.Start(ctx, spec)
	if err != nil {
		m.failStart(s, fmt.Errorf("start sandbox for session %s: %w", s.key.SessionID, err))
		return false
	}
	s.sb = sb
	s.transport = newTransport(s)
	s.client = newClient(s.transport)
	s.rec.SandboxID, s.rec.SandboxState = sb.ID(), sb.State()
	if err := m.writeRecord(s.rec); err != nil {
		m.failStart(s, fmt.Errorf("record sandbox of session %s: %w", s.key.SessionID, err))
		return false
	}
	status, err := m.waitHealthy(ctx, s)
	if err != nil {
		m.failStart(s, err)
		return false
	}

	now := m.now()
	s.mu.Lock()
	s.busy = status == statusBusy
	s.lastActivity = now
	s.mu.Unlock()
	s.rec.State, s.rec.LastActivityAt = store.SessionActive, now
	m.readUsage(s)
	s.usageWrite = now
	if err := m.writeRecord(s.rec); err != nil {
		m.log.Error("record session start", "record", s.recordID, "err", err)
	}
	close(s.ready)
	m.log.Info("session started", "runtime", s.key.RuntimeID, "endpoint", s.key.Endpoint,
		"session", s.key.SessionID, "record", s.recordID, "version", s.version,
		"sandbox", sb.ID(), "startup", time.Since(begin))
	return true
}

// prepare checks the target, fills in the session's settings, creates the record (state
// starting) and opens the session log.
func (m *Manager) prepare(s *session, tgt Target) error {
	v := tgt.Version
	if v.Status != catalog.StatusReady || v.Prepared == nil {
		return fmt.Errorf("%w: version %d of agent runtime %s is not ready (status %s)",
			errdefs.ErrConflict, v.Number, s.key.RuntimeID, v.Status)
	}
	s.port = tgt.Port
	if s.port == 0 {
		_, s.port, _ = catalog.EffectiveProtocol(v.Config)
	}
	s.idleTimeout, s.maxLifetime = catalog.EffectiveLifecycle(v.Config)
	s.version = v.Number

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
		Version:        v.Number,
		State:          store.SessionStarting,
		Driver:         m.driver.Name(),
		StartedAt:      now,
		LastActivityAt: now,
	}
	if err := m.createRecord(rec); err != nil {
		return fmt.Errorf("create record of session %s: %w", s.key.SessionID, err)
	}
	s.rec, s.recordID = rec, rec.ID
	if m.opts.LogDir != "" {
		s.logPath = filepath.Join(m.opts.LogDir, rec.ID+".log")
		f, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open log of session %s: %w", s.key.SessionID, err)
		}
		s.logFile = f
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
