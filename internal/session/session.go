package session

import (
	"context"
	"net/http"
	"sync"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/store"
)

// session is one live session. Its goroutine (Manager.run) owns the fields marked "owned";
// fields marked "set before ready" are written by that goroutine before ready is closed and
// only read afterwards; the rest are guarded by mu.
type session struct {
	key Key

	// ctx is cancelled by requestEnd (or by the manager's shutdown); it bounds the start-up
	// and every ping.
	ctx    context.Context // the session's own lifetime, not a request's
	cancel context.CancelFunc

	ready   chan struct{} // closed when start-up finished; startErr says how
	ended   chan struct{} // closed when the end begins (Lease.Done)
	removed chan struct{} // closed when the record is closed and the key is free again
	poke    chan struct{} // cap 1: a request began or finished

	// Set before ready.
	startErr    error
	recordID    string
	version     int
	sb          sandbox.Sandbox
	transport   *http.Transport
	client      *http.Client
	port        int
	idleTimeout time.Duration
	maxLifetime time.Duration
	poolHit     bool // it runs on a sandbox taken from a warm pool

	sandboxID string // sb's id once the session started; guarded by Manager.mu (onSandbox)

	// Owned by the session goroutine.
	rec        store.SessionRecord // as last written
	logFile    *sessionlog.Writer
	logPath    string
	failures   int       // consecutive failed pings
	usageWrite time.Time // when usage was last written (manager clock)

	mu           sync.Mutex
	inflight     int
	refill       func() // deferRefill's, until it ran
	busy         bool   // the last ping said HealthyBusy
	lastActivity time.Time
	endReason    string // set once; the session is ending
}

func newSession(parent context.Context, key Key) *session {
	ctx, cancel := context.WithCancel(parent)
	return &session{
		key:     key,
		ctx:     ctx,
		cancel:  cancel,
		ready:   make(chan struct{}),
		ended:   make(chan struct{}),
		removed: make(chan struct{}),
		poke:    make(chan struct{}, 1),
	}
}

// requestEnd asks the session to end for reason and returns the reason that wins: the first
// one asked for.
func (s *session) requestEnd(reason string) string {
	s.mu.Lock()
	if s.endReason == "" {
		s.endReason = reason
	}
	reason = s.endReason
	s.mu.Unlock()
	s.cancel()
	return reason
}

// lease counts one more request in flight, unless the session is ending.
func (s *session) lease(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endReason != "" {
		return false
	}
	s.inflight++
	s.lastActivity = now
	s.signal()
	return true
}

// release ends one request.
func (s *session) release(now time.Time) {
	s.mu.Lock()
	s.inflight--
	s.lastActivity = now
	s.signal()
	refill := s.takeRefillLocked()
	s.mu.Unlock()
	if refill != nil {
		refill()
	}
}

// signal wakes the session goroutine without blocking.
func (s *session) signal() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// currentState is active while a request is in flight or the agent reports HealthyBusy,
// else idle.
func (s *session) currentState() (state string, lastActivity time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight > 0 || s.busy {
		return store.SessionActive, s.lastActivity
	}
	return store.SessionIdle, s.lastActivity
}

// startFailed reports whether start-up finished with an error (false while starting).
func (s *session) startFailed() bool {
	select {
	case <-s.ready:
		return s.startErr != nil
	default:
		return false
	}
}
