package session

import (
	"net/http"
	"sync"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// Lease is one request's hold on a live session. While any lease is held the session is
// active and does not reach its idle timeout (it still ends at its max lifetime, when
// stopped, or when the agent exits or stops answering: Done tells). Release it when the
// request is over.
type Lease struct {
	s    *session
	now  func() time.Time
	once sync.Once
}

// RecordID is the id of the session's store.SessionRecord.
func (l *Lease) RecordID() string { return l.s.recordID }

// Version is the runtime version the session is pinned to.
func (l *Lease) Version() int { return l.s.version }

// Sandbox is the session's sandbox.
func (l *Lease) Sandbox() sandbox.Sandbox { return l.s.sb }

// Transport is the session's own transport: it dials through Sandbox.DialContext to the
// agent's port whatever the request URL's host. It is closed when the session ends.
func (l *Lease) Transport() http.RoundTripper { return l.s.transport }

// PoolHit reports whether the session runs on a pre-started sandbox taken from a warm pool
// rather than one started for it.
func (l *Lease) PoolHit() bool { return l.s.poolHit }

// Port is the agent's port inside the sandbox.
func (l *Lease) Port() int { return l.s.port }

// Done is closed when the session ends, so a proxy can abort a stream.
func (l *Lease) Done() <-chan struct{} { return l.s.ended }

// Release ends the request: it records the time of activity and lets the session go idle.
// It is idempotent, and harmless after the session has ended.
func (l *Lease) Release() {
	l.once.Do(func() { l.s.release(l.now()) })
}
