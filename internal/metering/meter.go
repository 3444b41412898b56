// Package metering turns the resource usage of live sessions into billable usage the way
// AgentCore Runtime bills it (AGENTCORE-WIRE.md §7.4), stored per session per UTC minute.
//
// Every Interval (default one second) the Meter reads each live session's sandbox usage
// (sandbox.Sandbox.Usage: cumulative CPU time, memory now and peak) and bills:
//   - vCPU-seconds: the CPU time actually used since the last reading — a session waiting
//     on I/O (an LLM, a tool, a database) and using no CPU is not billed CPU;
//   - GB-seconds: for every second of session life, from the session record's start
//     (sandbox start and agent init included) to its end, the peak memory so far, at least
//     MinBilledMemory (128 MiB); 1 GB here is 1 GiB;
//   - every session at least MinBilled (one second) of life.
//
// Usage is written as store.UsageRecord rows, one per session record and minute: a minute is
// written once it is over and the open minute when the session ends, each row whole (a
// repeated write replaces it), so totals survive a restart and never count a minute twice.
//
// Limits: a minute not yet written when the server dies is lost for sessions live at the
// crash (their sandboxes are reclaimed on restart, not metered further); the first reading
// bills the CPU used since the sandbox started (BaseCPU excludes what a pooled sandbox
// used before its session took it) spread over the time since the session started; memory
// between two readings is billed at the later reading's peak, an upper bound; sessions that
// failed to start are not metered. The accuracy is the driver's: cgroup accounting for
// linuxns, /proc sums of the process tree for the process driver.
package metering

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

// Billing constants (AGENTCORE-WIRE.md §7.4).
const (
	// GB is the memory unit of GB-seconds and GB-hours.
	GB = 1 << 30
	// MinBilledMemory is the least memory billed per second.
	MinBilledMemory = 128 << 20
	// MinBilled is the least session life billed.
	MinBilled = time.Second
	// DefaultInterval is how often live sessions are read when Options.Interval is zero.
	DefaultInterval = time.Second
)

// readTimeout bounds one Usage reading; writeTimeout one flush.
const (
	readTimeout  = 2 * time.Second
	writeTimeout = 10 * time.Second
)

// Session is what the Meter needs of a live session.
type Session struct {
	RecordID  string // store.SessionRecord.ID
	RuntimeID string
	Endpoint  string
	SessionID string
	StartedAt time.Time // start of the billed life (the record's StartedAt)
	// BaseCPU is the sandbox's CPU time that is not the session's: zero for a sandbox started
	// for the session, the reading at hand-over for one taken from a warm pool.
	BaseCPU time.Duration
	// Usage reads the sandbox's cumulative usage.
	Usage func(context.Context) (sandbox.Usage, error)
}

// Options configure a Meter. Store is required.
type Options struct {
	Store    store.Store
	Logger   *slog.Logger  // nil discards logs
	Interval time.Duration // 0 means DefaultInterval
	// Now is the clock of the readings; nil means time.Now.
	Now func() time.Time
	// Billed, if set, is called with every increment of billable usage as it is measured
	// (for live metrics); it must not block.
	Billed func(runtimeID, endpoint string, vcpuSeconds, gbSeconds float64)
}

// Meter meters live sessions. It is safe for concurrent use. Begin and End may be called
// before Run; Run samples until its context ends.
type Meter struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	live     map[string]*metered // by record id
	pending  []store.UsageRecord // flushes that failed, retried every tick
	flushing sync.Mutex          // one flush at a time, so an older write never lands last
}

// metered is one live session's tally behind its own lock.
type metered struct {
	mu    sync.Mutex
	t     *tally
	ended bool
}

// New returns a Meter.
func New(opts Options) (*Meter, error) {
	if opts.Store == nil {
		return nil, errors.New("new meter: a store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Meter{opts: opts, log: opts.Logger, live: map[string]*metered{}}, nil
}

// Begin starts metering a session. A second Begin for the same record is ignored.
func (m *Meter) Begin(s Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[s.RecordID]; ok {
		return
	}
	m.live[s.RecordID] = &metered{t: newTally(s)}
}

// End takes the session's final reading (final, taken when its sandbox stopped), bills the
// minimum life, and writes its remaining minutes before returning. An unknown record is
// ignored.
func (m *Meter) End(ctx context.Context, recordID string, final sandbox.Usage, endedAt time.Time) {
	m.mu.Lock()
	ms := m.live[recordID]
	delete(m.live, recordID)
	m.mu.Unlock()
	if ms == nil {
		return
	}
	ms.mu.Lock()
	ms.ended = true
	vcpu, gb := ms.t.sample(endedAt, final)
	gb += ms.t.finish()
	recs := ms.t.take(true)
	info := ms.t.info
	ms.mu.Unlock()
	m.billed(info, vcpu, gb)
	m.flush(ctx, recs)
}

// Live is how many sessions are metered now, by runtime id and endpoint name.
func (m *Meter) Live() map[[2]string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[[2]string]int{}
	for _, ms := range m.live {
		out[[2]string{ms.t.info.RuntimeID, ms.t.info.Endpoint}]++
	}
	return out
}

// Run samples every live session each Interval and writes completed minutes, until ctx
// ends.
func (m *Meter) Run(ctx context.Context) {
	tick := time.NewTicker(m.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.Tick(ctx)
		}
	}
}

// Tick takes one reading of every live session and writes the minutes that are over (and
// any earlier write that failed). Run calls it; tests may call it directly.
func (m *Meter) Tick(ctx context.Context) {
	m.mu.Lock()
	sessions := make([]*metered, 0, len(m.live))
	for _, ms := range m.live {
		sessions = append(sessions, ms)
	}
	m.mu.Unlock()
	var recs []store.UsageRecord
	for _, ms := range sessions {
		recs = append(recs, m.read(ctx, ms)...)
	}
	m.flush(ctx, recs)
}

// read samples one session and returns its completed minutes.
func (m *Meter) read(ctx context.Context, ms *metered) []store.UsageRecord {
	ms.mu.Lock()
	info := ms.t.info
	ms.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	u, err := info.Usage(rctx)
	cancel()
	if err != nil {
		m.log.Debug("read session usage", "record", info.RecordID, "err", err)
		return nil
	}
	now := m.opts.Now()
	ms.mu.Lock()
	if ms.ended {
		ms.mu.Unlock()
		return nil
	}
	vcpu, gb := ms.t.sample(now, u)
	recs := ms.t.take(false)
	ms.mu.Unlock()
	m.billed(info, vcpu, gb)
	return recs
}

func (m *Meter) billed(s Session, vcpu, gb float64) {
	if m.opts.Billed != nil && (vcpu > 0 || gb > 0) {
		m.opts.Billed(s.RuntimeID, s.Endpoint, vcpu, gb)
	}
}

// flush writes recs and the earlier failed writes in one transaction; on failure they are
// kept for the next tick.
func (m *Meter) flush(ctx context.Context, recs []store.UsageRecord) {
	m.flushing.Lock()
	defer m.flushing.Unlock()
	m.mu.Lock()
	recs = append(m.pending, recs...)
	m.pending = nil
	m.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err := m.opts.Store.Update(wctx, func(tx store.Tx) error {
		for _, r := range recs {
			if err := tx.Usage().PutUsage(wctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		m.log.Error("write usage records; retrying at the next tick", "records", len(recs), "err", err)
		m.mu.Lock()
		m.pending = append(recs, m.pending...)
		m.mu.Unlock()
	}
}
