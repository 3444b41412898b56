package main

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// creationConcurrency are the client concurrencies the creation rate is measured at.
var creationConcurrency = []int{1, 4, 16}

// creationRate measures sessions created per second (new session id → first byte of the
// Go agent, all pool misses) at concurrency 1, 4 and 16: each batch opens a fixed number of
// sessions as fast as the workers can, the rate is batch size ÷ wall time, and the sessions
// are stopped between batches outside the timing.
func creationRate(ctx context.Context, s *suite) error {
	return s.eachDriver(func(env *harness.Env) error { return creationOn(ctx, s, env) })
}

// creationOn is the creation-rate scenario on one driver's server.
func creationOn(ctx context.Context, s *suite, env *harness.Env) error {
	batches, size := s.counts(3, 1), s.counts(40, 4)
	if env.Driver == "microvm" { // a TCG restore costs ~0.15 s of CPU: keep the run short
		batches, size = s.counts(2, 1), s.counts(20, 4)
	}
	d, err := s.deployedOn(ctx, env)
	if err != nil {
		return err
	}
	byC := map[int]stats.Summary{} // kept as a figure only when every concurrency was measured
	for _, c := range creationConcurrency {
		var rates []float64
		var lat []time.Duration
		for range batches {
			start := time.Now()
			sids, ttfb, err := startSessions(ctx, env, d.goARN, size, c)
			wall := time.Since(start)
			if serr := stopSessions(ctx, env, d.goARN, sids); err == nil {
				err = serr
			}
			if err != nil {
				return fmt.Errorf("concurrency %d: %w", c, err)
			}
			rates = append(rates, float64(size)/wall.Seconds())
			lat = append(lat, ttfb...)
		}
		rate := stats.Summarize("sessions/s", rates)
		byC[c] = rate
		name := fmt.Sprintf("%s / %s / concurrency %d", agentGo, berthMethodName(env.Driver), c)
		s.report.Add(stats.Result{Scenario: "creation rate", Case: name, Summary: rate,
			Note: fmt.Sprintf("%d batches of %d new sessions; rate = batch ÷ wall time", batches, size)})
		s.report.Add(stats.Result{Scenario: "creation rate", Case: name + " (per-session first byte)",
			Summary: stats.Summarize("ms", stats.Millis(lat)), Note: "new session → first byte while the batch runs"})
	}
	s.figs.creation[env.Driver] = byC
	return nil
}
