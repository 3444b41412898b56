package session

import (
	"log/slog"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/store"
)

// Defaults for Options fields left zero.
const (
	DefaultInitTimeout    = 60 * time.Second
	DefaultPingInterval   = 2 * time.Second
	DefaultPingTimeout    = 2 * time.Second
	DefaultUnhealthyAfter = 3
	DefaultStopTimeout    = 10 * time.Second
	// DefaultPoolMemoryBytes is the pools' memory budget when PoolMemoryBytes is 0: two
	// sandboxes at the server's default memory limit of 8 GiB.
	DefaultPoolMemoryBytes = 16 << 30
	DefaultPoolIdle        = 10 * time.Minute
)

// Timings the caller does not choose.
const (
	// startPollMin and startPollMax bound the backoff between GET /ping attempts while the
	// agent starts.
	startPollMin = time.Millisecond
	startPollMax = 10 * time.Millisecond
	// usageEvery bounds how often usage alone (no state change) is written to the record.
	usageEvery = 10 * time.Second
	// storeTimeout bounds one record write made outside any caller's context.
	storeTimeout = 10 * time.Second
	// usageTimeout bounds one Sandbox.Usage reading.
	usageTimeout = 2 * time.Second
)

// Options configure a Manager. Driver and Store are required.
type Options struct {
	Driver sandbox.Driver
	Store  store.Store
	Logger *slog.Logger // nil discards logs
	// Logs keeps each session's agent output (stdout and stderr, timestamped; see
	// internal/sessionlog) under the session's record id, after the session ends too.
	Logs *sessionlog.Logs
	// LogDir, when Logs is nil, keeps the output in Logs of this directory with
	// sessionlog's default limits (and no sweeper). Both unset discards the output.
	LogDir string
	// MaxSessions bounds the sessions alive on this server (starting, live or ending);
	// 0 means unlimited.
	MaxSessions int
	// InitTimeout bounds the time from sandbox start to the agent's first 200 on GET /ping.
	InitTimeout time.Duration
	// PingInterval is how often the lifecycle loop pings the agent and checks the limits.
	PingInterval time.Duration
	// PingTimeout bounds one ping.
	PingTimeout time.Duration
	// UnhealthyAfter is how many consecutive failed pings end a healthy session.
	UnhealthyAfter int
	// StopTimeout bounds Sandbox.Stop.
	StopTimeout time.Duration
	// PoolSize is how many started, healthy, never-used sandboxes each endpoint's current
	// version keeps ready for new sessions (see pool.go); 0 disables the pools.
	PoolSize int
	// PoolMemoryBytes bounds the memory limits (Spec.Limits.MemoryBytes; a spec without one
	// counts as unlimitedCharge) of all pooled sandboxes together; 0 means
	// DefaultPoolMemoryBytes.
	PoolMemoryBytes int64
	// PoolIdle empties a pool no session has started from (and no Warm has asked for) for
	// this long, by the Now clock; 0 means DefaultPoolIdle.
	PoolIdle time.Duration
	// OnStart, if set, is called by a session's goroutine once the session runs (after the
	// agent's first healthy ping or the hand-over of a pooled sandbox), before any request
	// gets a lease on it. It must not block for long.
	OnStart func(Started)
	// OnEnd, if set, is called by a session's goroutine after a session OnStart was called
	// for has ended: its sandbox stopped and its record closed. It must not block for long.
	OnEnd func(Ended)
	// Now is the clock of record times and of the idle and lifetime checks (tests advance
	// it); nil means time.Now. InitTimeout, PingInterval and PingTimeout use real time.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Logs == nil && o.LogDir != "" {
		// sessionlog.New fails only when it cannot create LogDir, which New then reports.
		o.Logs, _ = sessionlog.New(sessionlog.Options{Dir: o.LogDir, Logger: o.Logger})
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	if o.UnhealthyAfter <= 0 {
		o.UnhealthyAfter = DefaultUnhealthyAfter
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.PoolMemoryBytes <= 0 {
		o.PoolMemoryBytes = DefaultPoolMemoryBytes
	}
	if o.PoolIdle <= 0 {
		o.PoolIdle = DefaultPoolIdle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
