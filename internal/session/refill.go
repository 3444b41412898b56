package session

import "time"

// refillDelayMax bounds how long a pool hit's refill waits for the session's first request
// to finish.
const refillDelayMax = 500 * time.Millisecond

// deferRefill runs refill — starting the sandbox that replaces the one a session took
// from its pool — once the session's first request has been released, or after limit
// (refillDelayMax) if that request runs longer (a stream), whichever comes first.
//
// Starting a sandbox costs CPU: tens of milliseconds for a trivial agent, the whole
// import time (seconds) for a heavy Python one. Begun the moment the pooled sandbox is
// handed over, it competes on a small host with the very request the pool hit was meant
// to make fast. The pool is empty a little longer instead: only a burst of new sessions
// within the first request's time can miss because of it. Until refill runs, the taken
// slot counts against the pool's size (pool.deferred), so the sweeper does not refill it
// either.
func (s *session) deferRefill(limit time.Duration, refill func()) {
	s.mu.Lock()
	s.refill = refill
	s.mu.Unlock()
	time.AfterFunc(limit, func() {
		s.mu.Lock()
		f := s.takeRefillLocked()
		s.mu.Unlock()
		if f != nil {
			f()
		}
	})
}

// takeRefillLocked returns the deferred refill, once; the caller holds s.mu and runs it
// after unlocking.
func (s *session) takeRefillLocked() func() {
	f := s.refill
	s.refill = nil
	return f
}
