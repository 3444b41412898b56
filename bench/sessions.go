package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"berth.dev/berth/bench/harness"
)

// startSessions opens n new sessions of arn with c workers (one invocation each) and
// returns their ids and each one's time to first byte, in completion order.
func startSessions(ctx context.Context, env *harness.Env, arn string, n, c int) ([]string, []time.Duration, error) {
	var (
		mu   sync.Mutex
		sids []string
		ttfb []time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	jobs := make(chan struct{})
	for range c {
		wg.Go(func() {
			for range jobs {
				sid := harness.NewSessionID()
				t, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					sids = append(sids, sid)
					ttfb = append(ttfb, t.TTFB)
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		select {
		case jobs <- struct{}{}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return sids, ttfb, errors.Join(append(errs, ctx.Err())...)
}

// stopSessions stops every session in sids, with a few workers.
func stopSessions(ctx context.Context, env *harness.Env, arn string, sids []string) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	jobs := make(chan string)
	for range 4 {
		wg.Go(func() {
			for sid := range jobs {
				if err := env.StopSession(ctx, arn, sid); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, sid := range sids {
		jobs <- sid
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}
