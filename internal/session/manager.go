package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

// Manager owns every live session of this server. It is safe for concurrent use. Call Start
// once before Acquire, and Close at shutdown.
type Manager struct {
	opts   Options
	driver sandbox.Driver
	store  store.Store
	log    *slog.Logger

	// base is the parent of every session's context; Close cancels it last.
	base       context.Context
	baseCancel context.CancelFunc
	wg         sync.WaitGroup // one per session goroutine

	// ticked, if set (by tests, before Start), is called after every lifecycle tick that
	// leaves the session running.
	ticked func(Key)
	// swept, if set (by tests, before Start), is called after every sweep of the pools.
	swept func()
	// refillAfter, if set (by tests, before the first Acquire), replaces refillDelayMax.
	refillAfter time.Duration

	mu        sync.Mutex
	live      map[Key]*session
	onSandbox map[string]*session // started sessions by sandbox id (SessionOnSandbox)
	pools     poolSet             // warm pools (pool.go)
	started   bool
	closing   bool
}

// New checks opts, fills in defaults and creates LogDir. It starts nothing: call Start.
func New(opts Options) (*Manager, error) {
	if opts.Driver == nil || opts.Store == nil {
		return nil, errors.New("new session manager: a driver and a store are required")
	}
	if opts.MaxSessions < 0 {
		return nil, fmt.Errorf("new session manager: max sessions %d is negative", opts.MaxSessions)
	}
	if opts.PoolSize < 0 || opts.PoolMemoryBytes < 0 {
		return nil, fmt.Errorf("new session manager: pool size %d or pool memory %d is negative", opts.PoolSize, opts.PoolMemoryBytes)
	}
	opts.setDefaults()
	if opts.LogDir != "" {
		if err := os.MkdirAll(opts.LogDir, 0o750); err != nil {
			return nil, fmt.Errorf("new session manager: create log dir: %w", err)
		}
	}
	base, cancel := context.WithCancel(context.Background())
	poolCtx, poolCancel := context.WithCancel(base)
	return &Manager{
		opts:       opts,
		driver:     opts.Driver,
		store:      opts.Store,
		log:        opts.Logger,
		base:       base,
		baseCancel: cancel,
		live:       map[Key]*session{},
		onSandbox:  map[string]*session{},
		pools:      poolSet{ctx: poolCtx, cancel: poolCancel, pools: map[endpointKey]*pool{}},
	}, nil
}

func (m *Manager) now() time.Time { return m.opts.Now() }

// Start reconciles the sessions a previous process left live — their sandboxes are
// reclaimed (killed and wiped) when the driver is a sandbox.Reclaimer, and their records
// closed with reason server_restart — and the pooled sandboxes it left (reclaimed too, and
// their records deleted), then lets Acquire start sessions and starts the pool sweeper.
// Call it once, before any Acquire. Only store failures are returned; a sandbox that
// cannot be reclaimed is logged.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started || m.closing {
		m.mu.Unlock()
		return errors.New("start session manager: already started or closed")
	}
	m.mu.Unlock()
	if err := m.reconcile(ctx); err != nil {
		return fmt.Errorf("start session manager: %w", err)
	}
	if err := m.reconcilePooled(ctx); err != nil {
		return fmt.Errorf("start session manager: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return errors.New("start session manager: closed while starting")
	}
	m.started = true
	if m.opts.PoolSize > 0 {
		m.wg.Go(m.sweepPools)
	}
	return nil
}

// Stop ends the live session of key now (StopRuntimeSession), with reason stopped, and
// returns once its sandbox is wiped and its record closed. A session still starting is
// aborted. Without a live session for key it returns an error wrapping errdefs.ErrNotFound.
func (m *Manager) Stop(ctx context.Context, key Key) error {
	m.mu.Lock()
	s := m.live[key]
	m.mu.Unlock()
	if s == nil || s.startFailed() {
		return fmt.Errorf("%w: no active session %s for agent runtime %s endpoint %s",
			errdefs.ErrNotFound, key.SessionID, key.RuntimeID, key.Endpoint)
	}
	s.requestEnd(ReasonStopped)
	select {
	case <-s.removed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop session %s: %w", key.SessionID, ctx.Err())
	}
}

// StopRuntime empties the runtime's warm pools and ends every session of the runtime with
// reason (ReasonRuntimeDeleted if empty), and waits for them, or for ctx.
func (m *Manager) StopRuntime(ctx context.Context, runtimeID string, reason string) {
	if reason == "" {
		reason = ReasonRuntimeDeleted
	}
	m.Retire(ctx, runtimeID, "")
	m.endAll(ctx, reason, func(k Key) bool { return k.RuntimeID == runtimeID })
	// Again: a session that finished starting meanwhile refilled its pool.
	m.Retire(ctx, runtimeID, "")
}

// Close refuses new sessions, empties the warm pools, ends every live session with reason
// server_shutdown and waits for all session goroutines, or for ctx (then it returns ctx's
// error and the goroutines finish on their own).
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closing = true
	m.mu.Unlock()
	m.closePools(ctx)
	m.endAll(ctx, ReasonServerShutdown, func(Key) bool { return true })
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		m.baseCancel()
		return nil
	case <-ctx.Done():
		m.baseCancel()
		return fmt.Errorf("close session manager: %w", ctx.Err())
	}
}

// endAll asks every live session whose key matches to end, then waits for them.
func (m *Manager) endAll(ctx context.Context, reason string, match func(Key) bool) {
	m.mu.Lock()
	var ending []*session
	for k, s := range m.live {
		if match(k) {
			ending = append(ending, s)
		}
	}
	m.mu.Unlock()
	for _, s := range ending {
		s.requestEnd(reason)
	}
	for _, s := range ending {
		select {
		case <-s.removed:
		case <-ctx.Done():
			return
		}
	}
}

// remove frees s's key.
func (m *Manager) remove(s *session) {
	m.mu.Lock()
	if m.live[s.key] == s {
		delete(m.live, s.key)
	}
	if s.sandboxID != "" && m.onSandbox[s.sandboxID] == s {
		delete(m.onSandbox, s.sandboxID)
	}
	m.mu.Unlock()
}
