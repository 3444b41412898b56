package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Op performs one request. It returns the part of the request's time spent on client-side
// work that should be reported apart from the wire (SigV4 signing), or 0.
type Op func(ctx context.Context) (clientCost time.Duration, err error)

// Generator is a closed-loop load generator: Workers goroutines each run Op back to back
// until Requests operations have been started in total or Duration has passed (whichever
// is set; Requests wins when both are).
type Generator struct {
	Workers  int
	Requests int
	Duration time.Duration
}

// Outcome is what one Generator run measured. Latencies[i] and ClientCosts[i] belong to
// the same successful operation; failed operations are only counted.
type Outcome struct {
	Latencies   []time.Duration
	ClientCosts []time.Duration
	Errors      int
	FirstErr    error
	Elapsed     time.Duration
}

// Throughput is successful operations per second of wall time.
func (o Outcome) Throughput() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(len(o.Latencies)) / o.Elapsed.Seconds()
}

// Net returns each latency minus its client cost.
func (o Outcome) Net() []time.Duration {
	out := make([]time.Duration, len(o.Latencies))
	for i, l := range o.Latencies {
		out[i] = l - o.ClientCosts[i]
	}
	return out
}

// errNoBound is returned by Run when neither Requests nor Duration is set.
var errNoBound = errors.New("load generator needs a request count or a duration")

// Run drives op until the bound is reached or ctx ends, and returns what it measured. It
// fails only on a bad configuration or a cancelled ctx; per-operation errors are counted
// in the Outcome.
func (g Generator) Run(ctx context.Context, op Op) (Outcome, error) {
	if g.Workers < 1 {
		return Outcome{}, fmt.Errorf("run load: %d workers", g.Workers)
	}
	if g.Requests <= 0 && g.Duration <= 0 {
		return Outcome{}, fmt.Errorf("run load: %w", errNoBound)
	}
	var (
		tickets  atomic.Int64
		deadline time.Time
		mu       sync.Mutex
		out      Outcome
		wg       sync.WaitGroup
	)
	start := time.Now()
	if g.Requests <= 0 {
		deadline = start.Add(g.Duration)
	}
	more := func() bool {
		if ctx.Err() != nil {
			return false
		}
		if g.Requests > 0 {
			return tickets.Add(1) <= int64(g.Requests)
		}
		return time.Now().Before(deadline)
	}
	for range g.Workers {
		wg.Go(func() {
			var lat, cost []time.Duration
			var errs int
			var first error
			for more() {
				t0 := time.Now()
				c, err := op(ctx)
				d := time.Since(t0)
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat, cost = append(lat, d), append(cost, c)
			}
			mu.Lock()
			defer mu.Unlock()
			out.Latencies = append(out.Latencies, lat...)
			out.ClientCosts = append(out.ClientCosts, cost...)
			out.Errors += errs
			if out.FirstErr == nil {
				out.FirstErr = first
			}
		})
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("run load: %w", err)
	}
	return out, nil
}
