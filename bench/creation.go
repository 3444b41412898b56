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

// creationShape is how the creation-rate scenario measures driver: batches of size new
// sessions at each concurrency in conc, fewer where every start costs much CPU (gvisor).
// The microvm driver gets one small batch at 1 and 4:
// under TCG every restore costs seconds of CPU on a 2-core machine, so 16 concurrent
// restores measure the emulator's queueing, not Berth, and would take minutes.
func (s *suite) creationShape(driver string) (batches, size int, conc []int) {
	switch driver {
	case "microvm":
		return 1, s.counts(6, 2), []int{1, 4}
	case "gvisor": // ~0.25 s of CPU per sandbox: 48 sessions per concurrency say enough
		return s.counts(2, 1), s.counts(24, 4), creationConcurrency
	}
	return s.counts(3, 1), s.counts(40, 4), creationConcurrency
}

// creationRate measures sessions created per second (new session id → first byte of the
// Go agent, all pool misses) at concurrency 1, 4 and 16: each batch opens a fixed number of
// sessions as fast as the workers can, the rate is batch size ÷ wall time, and the sessions
// are stopped between batches outside the timing.
func creationRate(ctx context.Context, s *suite) error {
	return s.eachDriver("creation rate", func(env *harness.Env) error { return creationOn(ctx, s, env) })
}

// creationOn is the creation-rate scenario on one driver's server.
func creationOn(ctx context.Context, s *suite, env *harness.Env) error {
	batches, size, conc := s.creationShape(env.Driver)
	d, err := s.deployedOn(ctx, env)
	if err != nil {
		return err
	}
	byC := map[int]stats.Summary{} // kept as a figure only when every concurrency was measured
	for _, c := range conc {
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
