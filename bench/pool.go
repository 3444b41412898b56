package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// poolFigure is what the warm-pool scenario measured for one agent on one driver.
type poolFigure struct {
	hit     stats.Summary // new session → first byte, pool hits only
	warm    stats.Summary // a second invocation of the same session
	diff    stats.Summary // hit − warm, paired per sample
	startup stats.Summary // the server's start-up figure of the hits
	hits    int
	misses  int // samples the server logged as pool misses (left out of the figures)
}

// poolWait bounds the wait for a pooled sandbox to become ready (a heavy Python agent
// takes HeavyImportSeconds; under TCG a microVM restore far more than usual).
const poolWait = 3 * time.Minute

// poolScenario names the scenario in the report.
const poolScenario = "warm pool (pool hits)"

// warmPool measures new session → first byte when the session takes a pre-started sandbox
// from its endpoint's warm pool, beside a warm call of the same session, for the Go, the
// Python and the heavy Python agent on every driver. Each driver gets a second server with
// warm pools on (--pool-size 1), started for this scenario only; the pool-miss figures come
// from the cold-start scenarios, whose servers run with --pool-size 0.
//
// How a sample is known to be a hit: before each timed session the harness waits for the
// server's "pooled sandbox ready" log line of that runtime (the pool holds a started,
// healthy sandbox), and after it reads pool_hit from the session's "session started" line;
// a sample logged as a miss is counted and left out. After the hit it waits for the pool to
// refill (the next "ready" line) before the warm call, so the warm call and the next hit
// run on a quiet machine. A -short run measures one driver only.
func warmPool(ctx context.Context, s *suite) error {
	envs := s.envs
	if s.cfg.Short { // one driver is enough to exercise the scenario: linuxns, the default, if here
		i := max(0, slices.IndexFunc(envs, func(e *harness.Env) bool { return e.Driver == "linuxns" }))
		envs = envs[i : i+1]
	}
	var errs []error
	for _, miss := range envs {
		if err := s.poolDriver(ctx, miss.Driver); err != nil {
			s.figs.poolMissing[miss.Driver] = "not measurable: " + err.Error()
			s.report.Add(stats.Result{Scenario: poolScenario, Case: berthMethodName(miss.Driver) + ": not measured", Note: err.Error()})
			errs = append(errs, fmt.Errorf("%s driver: %w", miss.Driver, err))
		}
	}
	return errors.Join(errs...)
}

// poolDriver starts driver's pool server, measures the three agents and stops it.
func (s *suite) poolDriver(ctx context.Context, driver string) (err error) {
	env, why := s.startServer(ctx, driver, true)
	if env == nil {
		return errors.New(why)
	}
	defer func() {
		if cerr := env.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	// Registered before the deploy: pools fill as soon as an endpoint goes live, and every
	// "ready" line must be counted for the hit accounting in measurePool to hold.
	ready := env.Watch(harness.PooledReady(""))
	defer ready.Close()
	d, err := deployAgents(ctx, env)
	if err != nil {
		return err
	}
	for _, agent := range []string{agentGo, agentPy, agentHeavy} {
		warm, reps := s.counts(2, 0), s.counts(20, 1)
		if agent == agentHeavy {
			warm, reps = s.counts(1, 0), s.counts(6, 1)
		}
		if capped := s.slowReps(driver, s.counts(5, 1)); capped > 0 {
			reps = min(reps, capped)
		}
		s.log.Info("warm pool", "driver", driver, "agent", agent, "reps", reps)
		fig, err := measurePool(ctx, env, ready, d.arnOf(agent), warm, reps)
		if err != nil {
			return fmt.Errorf("%s: %w", agent, err)
		}
		if s.figs.pool[agent] == nil {
			s.figs.pool[agent] = map[string]poolFigure{}
		}
		s.figs.pool[agent][driver] = fig
		s.recordPool(agent, driver, fig)
	}
	return nil
}

// measurePool runs warm rounds (thrown away) and reps timed rounds of: pool hit, refill,
// warm call, stop. ready has watched every "pooled sandbox ready" line since before the
// runtime was deployed; a sandbox joins the pool once (one line) and leaves it only to a
// hit, so the pool holds a ready sandbox exactly when the runtime's ready lines outnumber
// its hits so far. That holds however the server fills the pool (when the endpoint goes
// live, or on the endpoint's first session).
func measurePool(ctx context.Context, env *harness.Env, ready *harness.LogWatch, arn string, warm, reps int) (poolFigure, error) {
	var fig poolFigure
	mine := harness.PooledReady(harness.RuntimeID(arn))
	taken := 0 // pooled sandboxes sessions took
	waitReady := func(what string) error {
		if _, err := ready.WaitWhereTimeout(ctx, taken+1, mine, poolWait); err != nil {
			return fmt.Errorf("the pool did not %s: %w", what, err)
		}
		return nil
	}
	startSession := func(sid string) (harness.Timing, bool, time.Duration, error) {
		started := env.Watch(harness.SessionStarted(sid))
		defer started.Close()
		r, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
		if err != nil {
			return r, false, 0, err
		}
		lines, err := started.WaitTimeout(ctx, 1, 10*time.Second)
		if err != nil {
			return r, false, 0, err
		}
		hit := lines[0].Attrs["pool_hit"] == "true"
		if hit {
			taken++
		}
		startup, _ := lines[0].Duration("startup")
		return r, hit, startup, nil
	}
	first := harness.NewSessionID()
	if _, _, _, err := startSession(first); err != nil {
		return fig, err
	}
	if err := env.StopSession(ctx, arn, first); err != nil {
		return fig, err
	}
	var hits, warms, diffs, starts []time.Duration
	for i := range warm + reps {
		if err := waitReady("fill"); err != nil {
			return fig, err
		}
		sid := harness.NewSessionID()
		hit, wasHit, startup, err := startSession(sid)
		if err != nil {
			return fig, err
		}
		if wasHit { // the hit emptied the pool; it refills now
			if err := waitReady("refill"); err != nil {
				return fig, err
			}
		}
		w, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
		if err != nil {
			return fig, err
		}
		if err := env.StopSession(ctx, arn, sid); err != nil {
			return fig, err
		}
		switch {
		case i < warm:
		case !wasHit:
			fig.misses++
		default:
			hits, warms, diffs, starts = append(hits, hit.TTFB), append(warms, w.TTFB), append(diffs, hit.TTFB-w.TTFB), append(starts, startup)
		}
	}
	fig.hits = len(hits)
	fig.hit = stats.Summarize("ms", stats.Millis(hits))
	fig.warm = stats.Summarize("ms", stats.Millis(warms))
	fig.diff = stats.Summarize("ms", stats.Millis(diffs))
	fig.startup = stats.Summarize("ms", stats.Millis(starts))
	return fig, nil
}

// recordPool adds the figure's rows to the report.
func (s *suite) recordPool(agent, driver string, fig poolFigure) {
	name := agent + " / " + berthMethodName(driver)
	hitNote := fmt.Sprintf("new session id → first byte, the session taking a ready pooled sandbox: pool_hit=true in the server's "+
		"\"session started\" line for %d of %d samples; server-side start-up (taking the pooled sandbox + one /ping) p50 %s ms",
		fig.hits, fig.hits+fig.misses, harness.Num(fig.startup.Median))
	if fig.misses > 0 {
		hitNote += fmt.Sprintf("; %d samples were pool misses and are left out", fig.misses)
	}
	if miss, ok := s.figs.cold[agent][berthMethodName(driver)]; ok {
		hitNote += fmt.Sprintf("; pool miss p50 in this run %s ms", harness.Num(miss.Median))
	}
	s.report.Add(stats.Result{Scenario: poolScenario, Case: name + " / pool hit", Summary: fig.hit, Note: hitNote})
	s.report.Add(stats.Result{Scenario: poolScenario, Case: name + " / warm call", Summary: fig.warm,
		Note: "second invocation of the same session, once the pool had refilled"})
	s.report.Add(stats.Result{Scenario: poolScenario, Case: name + " / pool hit − warm call", Summary: fig.diff,
		Note: fmt.Sprintf("paired per sample; p50 of hits − p50 of warm calls = %s ms", harness.Num(fig.hit.Median-fig.warm.Median))})
}
