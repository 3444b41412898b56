package dataplane

import (
	"sync"
	"time"
)

// stopTokens remembers recent successful StopRuntimeSession calls by clientToken, so a retry
// of a stop that succeeded (the SDK retries on network errors, and the operation is
// @idempotent) answers 200 again instead of 404 for the now-ended session.
type stopTokens struct {
	mu   sync.Mutex
	ttl  time.Duration
	seen map[string]time.Time // key: token + "\x00" + session key
}

func newStopTokens(ttl time.Duration) *stopTokens {
	return &stopTokens{ttl: ttl, seen: map[string]time.Time{}}
}

// remember records a successful stop.
func (s *stopTokens) remember(token, key string, now time.Time) {
	if token == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, at := range s.seen { // bounded by the stops of the last ttl
		if now.Sub(at) > s.ttl {
			delete(s.seen, k)
		}
	}
	s.seen[token+"\x00"+key] = now
}

// replay reports whether this token already stopped this session recently.
func (s *stopTokens) replay(token, key string, now time.Time) bool {
	if token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.seen[token+"\x00"+key]
	return ok && now.Sub(at) <= s.ttl
}
