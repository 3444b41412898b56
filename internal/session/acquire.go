package session

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/errdefs"
)

// Acquire returns a lease on the live session of key, starting one if there is none.
//
// If the session is starting, Acquire waits for the start (or for ctx). A new session
// needs room under MaxSessions (else an error wrapping errdefs.ErrQuotaExceeded); resolve
// is then called once, by the session's own goroutine, with ctx's values but not its
// cancellation, and its errors are returned as they are. Start-up failures wrap
// errdefs.ErrRuntimeClient when the agent is at fault (it exited, or never answered
// GET /ping within InitTimeout); every caller waiting for that start gets the same error.
//
// The caller must Release the lease when its request is over.
func (m *Manager) Acquire(ctx context.Context, key Key, resolve func(context.Context) (Target, error)) (lease *Lease, err error) {
	ctx, span := m.traceAcquire(ctx, key) // trace.go
	defer func() { span.end(lease, err) }()
	for {
		s, err := m.lookupOrStart(ctx, key, resolve)
		if err != nil {
			return nil, err
		}
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for session %s to start: %w", key.SessionID, ctx.Err())
		}
		if s.startErr != nil {
			return nil, s.startErr
		}
		if s.lease(m.now()) {
			return &Lease{s: s, now: m.now}, nil
		}
		// The session is ending; once it is gone, the key starts a fresh one.
		select {
		case <-s.removed:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for ended session %s: %w", key.SessionID, ctx.Err())
		}
	}
}

// lookupOrStart returns the session of key, inserting a new one and starting its goroutine
// if there is none.
func (m *Manager) lookupOrStart(ctx context.Context, key Key, resolve func(context.Context) (Target, error)) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return nil, fmt.Errorf("%w: the server is shutting down", errdefs.ErrUnavailable)
	}
	if !m.started {
		return nil, fmt.Errorf("%w: the session manager is not started", errdefs.ErrUnavailable)
	}
	if s := m.live[key]; s != nil {
		return s, nil
	}
	if m.opts.MaxSessions > 0 && len(m.live) >= m.opts.MaxSessions {
		return nil, fmt.Errorf("%w: this server already runs its maximum of %d concurrent sessions; "+
			"stop a session or wait for one to end", errdefs.ErrQuotaExceeded, m.opts.MaxSessions)
	}
	s := newSession(m.base, key)
	m.live[key] = s
	noteCreated(ctx) // trace.go
	values := context.WithoutCancel(ctx)
	m.wg.Go(func() { m.run(s, values, resolve) })
	return s, nil
}

// run drives one session from start to end.
func (m *Manager) run(s *session, values context.Context, resolve func(context.Context) (Target, error)) {
	if !m.startSession(s, values, resolve) {
		return
	}
	m.loop(s)
}
