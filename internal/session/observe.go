package session

import (
	"context"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// Started describes a session that just started running, for Options.OnStart (metering and
// metrics).
type Started struct {
	Key       Key
	RecordID  string
	Driver    string
	PoolHit   bool          // it runs on a sandbox taken from a warm pool
	StartedAt time.Time     // the record's StartedAt (manager clock)
	Startup   time.Duration // from the first Acquire to running (real time)
	// BaseUsage is the sandbox's usage before the session had it: zero for a sandbox started
	// for the session, the reading at hand-over for a pooled one.
	BaseUsage sandbox.Usage
	// Usage reads the sandbox's cumulative usage; it is valid until OnEnd is called.
	Usage func(context.Context) (sandbox.Usage, error)
}

// Ended describes a session whose sandbox has stopped, for Options.OnEnd.
type Ended struct {
	Key      Key
	RecordID string
	Reason   string
	EndedAt  time.Time     // the record's EndedAt (manager clock)
	Usage    sandbox.Usage // the final reading (CPU time and peak memory), as in the record
}

// notifyStart calls OnStart for s, which just started running.
func (m *Manager) notifyStart(s *session, startup time.Duration) {
	if m.opts.OnStart == nil {
		return
	}
	st := Started{Key: s.key, RecordID: s.recordID, Driver: m.driver.Name(), PoolHit: s.poolHit,
		StartedAt: s.rec.StartedAt, Startup: startup, Usage: s.sb.Usage}
	if s.poolHit {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), usageTimeout)
		if u, err := s.sb.Usage(ctx); err == nil {
			st.BaseUsage = u
		}
		cancel()
	}
	m.opts.OnStart(st)
}

// notifyEnd calls OnEnd for s, whose record was just closed.
func (m *Manager) notifyEnd(s *session, reason string) {
	if m.opts.OnEnd == nil {
		return
	}
	m.opts.OnEnd(Ended{Key: s.key, RecordID: s.recordID, Reason: reason, EndedAt: s.rec.EndedAt,
		Usage: sandbox.Usage{CPUTime: s.rec.CPUTime, MemoryPeakBytes: s.rec.MemoryPeakBytes}})
}
