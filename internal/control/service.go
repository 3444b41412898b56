// Package control is the control plane's domain service: it creates, updates and deletes agent
// runtimes, their immutable versions and their endpoints, each change in one durable store
// transaction with clientToken idempotency, and prepares artifacts in background workers
// that resume after a restart.
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// Preparer turns a version's artifact into something runnable on this host (internal/image).
type Preparer interface {
	Prepare(ctx context.Context, art catalog.Artifact) (catalog.PreparedArtifact, error)
}

// ServiceOptions tunes a Service.
type ServiceOptions struct {
	Workers        int                // concurrent preparations (default 2)
	PrepareTimeout time.Duration      // per artifact (default 10 min)
	FailureReason  func(error) string // renders a preparation error for users (default err.Error())
	Now            func() time.Time   // clock (default time.Now)
	MaxVersions    int                // per runtime (default 1000)
	MaxEndpoints   int                // per runtime including DEFAULT (default 10)
	// OnRuntimeDeleted runs after a runtime's deletion is committed (the session manager
	// ends its sessions). It must not block for long.
	OnRuntimeDeleted func(ctx context.Context, runtimeID string)
	// OnEndpointLive runs after a committed change made an endpoint serve a READY version it
	// did not serve before — its version finished preparing, or it was created or moved
	// onto a READY version (the session manager pre-warms the endpoint's pool). It runs
	// synchronously after the commit and must not block for long.
	OnEndpointLive func(ctx context.Context, runtimeID, endpoint string)
	// OnEndpointDeleted runs after an endpoint's deletion is committed (its pool is emptied).
	// It must not block for long.
	OnEndpointDeleted func(ctx context.Context, runtimeID, endpoint string)
	// GCInterval is how often prepared artifacts no version needs are removed (default 10 min;
	// also soon after every delete). Only when the Preparer implements Collector.
	GCInterval time.Duration
}

// Service is the control plane's domain logic: it validates nothing on the wire (the
// httpapi layer does that with the Validate* functions) but enforces every state rule,
// writes each change in one durable transaction, and prepares artifacts in the background.
//
// Lifecycle: NewService, then Start (which re-queues every version left CREATING/UPDATING
// by an earlier process: restarts reconcile), then Close to stop the workers.
type Service struct {
	st      store.Store
	account catalog.Account
	prep    Preparer
	log     *slog.Logger
	opts    ServiceOptions

	gen     atomic.Uint64 // bumped after every committed change; see Generation
	queue   chan versionKey
	gcKick  chan struct{}
	wg      sync.WaitGroup
	stop    context.CancelFunc
	workCtx context.Context // the workers' context, for hand-offs that must end with them
	mu      sync.Mutex
	queued  map[versionKey]bool
	started bool
}

type versionKey struct {
	runtimeID string
	number    int
}

// NewService builds a Service; call Start before use.
func NewService(st store.Store, account catalog.Account, prep Preparer, logger *slog.Logger, opts ServiceOptions) *Service {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.PrepareTimeout <= 0 {
		opts.PrepareTimeout = 10 * time.Minute
	}
	if opts.FailureReason == nil {
		opts.FailureReason = func(err error) string { return err.Error() }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxVersions <= 0 {
		opts.MaxVersions = 1000
	}
	if opts.MaxEndpoints <= 0 {
		opts.MaxEndpoints = 10
	}
	if opts.GCInterval <= 0 {
		opts.GCInterval = 10 * time.Minute
	}
	return &Service{
		st: st, account: account, prep: prep, log: logger, opts: opts,
		queue:  make(chan versionKey, 1024),
		gcKick: make(chan struct{}, 1),
		queued: map[versionKey]bool{},
	}
}

// update runs fn in a store transaction and, once it committed, bumps the generation.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	err := s.st.Update(ctx, fn)
	if err == nil {
		s.gen.Add(1)
	}
	return err
}

// Generation changes after every committed change made through this Service. A reader that
// takes the generation before reading and finds it unchanged later knows its read is still
// current (as far as this process's writes go; other replicas need a TTL on top).
func (s *Service) Generation() uint64 { return s.gen.Load() }

// Account returns the account ARNs are minted in.
func (s *Service) Account() catalog.Account { return s.account }

// Start launches the preparation workers and re-queues unfinished versions.
func (s *Service) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.stop = cancel
	s.workCtx = wctx
	s.started = true
	s.mu.Unlock()
	for range s.opts.Workers {
		s.wg.Go(func() { s.work(wctx) })
	}
	c, _ := s.prep.(Collector)
	s.wg.Go(func() { s.collectLoop(wctx, c) })
	var pending []catalog.Version
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		pending, err = tx.Runtimes().PendingVersions(ctx)
		return err
	})
	if err != nil {
		cancel()
		s.wg.Wait()
		return fmt.Errorf("list pending versions: %w", err)
	}
	for _, v := range pending {
		s.log.InfoContext(ctx, "resuming artifact preparation", "runtime", v.RuntimeID, "version", v.Number)
		s.enqueue(versionKey{v.RuntimeID, v.Number})
	}
	return nil
}

// Close stops the workers and waits for them. Unfinished preparations stay pending in the
// store and resume on the next Start.
func (s *Service) Close() {
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.wg.Wait()
}

func (s *Service) enqueue(k versionKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.queued[k] {
		return
	}
	s.queued[k] = true
	// The queue is large; if it is ever full, hand off without blocking the request path.
	select {
	case s.queue <- k:
	default:
		// Hand off without blocking the request path; the goroutine ends with the workers.
		wctx := s.workCtx
		s.wg.Go(func() {
			select {
			case s.queue <- k:
			case <-wctx.Done():
			}
		})
	}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// notFound wraps store misses with a user-facing message.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("%w: %s", errdefs.ErrNotFound, fmt.Sprintf(format, args...))
	}
	return err
}
