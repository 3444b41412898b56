package microvm

import (
	"context"
	"sync"
	"time"
)

// oneBuild makes something expensive once (a disk image, a template, an agent snapshot)
// for every caller that needs it. The build runs detached from the callers' contexts,
// bounded by its own timeout: a caller that gives up (a pool refill whose start-up
// deadline passes while the first template boots) returns at once, and the build goes
// on for the next caller instead of starting over. A failed build is not kept: the next
// caller tries again.
type oneBuild[T any] struct {
	mu  sync.Mutex
	val T
	ok  bool
	cur *buildRun[T] // the build running now, if any
}

// buildRun is one attempt.
type buildRun[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// get returns the built value, building it with f if no build succeeded yet and joining
// the running build if there is one.
func (b *oneBuild[T]) get(ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	b.mu.Lock()
	if b.ok {
		v := b.val
		b.mu.Unlock()
		return v, nil
	}
	run := b.cur
	if run == nil {
		run = &buildRun[T]{done: make(chan struct{})}
		b.cur = run
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		go func() {
			defer cancel()
			run.val, run.err = f(bctx)
			b.mu.Lock()
			if run.err == nil {
				b.val, b.ok = run.val, true
			}
			b.cur = nil
			b.mu.Unlock()
			close(run.done)
		}()
	}
	b.mu.Unlock()
	select {
	case <-run.done:
		return run.val, run.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// peek returns the built value, if a build succeeded.
func (b *oneBuild[T]) peek() (T, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.val, b.ok
}

// forget drops the built value (it turned out unusable), if it is still v's build.
func (b *oneBuild[T]) forget(match func(T) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ok && match(b.val) {
		var zero T
		b.val, b.ok = zero, false
	}
}
