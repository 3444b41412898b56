package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// Agent labels used in case names and figures.
const (
	agentGo    = "go agent"
	agentPy    = "python agent"
	agentHeavy = "heavy python agent"
)

// sample is one measured start: time to the first response byte and, for Berth, the
// server's own start-up figure for the session (0 for baselines).
type sample struct {
	ttfb    time.Duration
	startup time.Duration
}

// method is one way of starting an agent and getting its first answer; measure times one
// start from the start of the attempt to the first response byte.
type method struct {
	name    string
	note    string
	reps    int // timed rounds this method takes part in, at most (0: every round)
	measure func(ctx context.Context) (sample, error)
}

// berthMethodName names Berth with one driver in cases and figures.
func berthMethodName(driver string) string { return "berth/" + driver }

// berthColdNote describes Berth's cold start (pool miss).
const berthColdNote = "new session id → first byte of InvokeAgentRuntime (SigV4, through the proxy); " +
	"server run with --pool-size 0, so every new session is a pool miss"

// berthCold is Berth's cold start on a server without warm pools: a new session id, then
// one invocation, timed to the first byte. The server's "session started" line gives its
// start-up figure (sandbox start + first healthy /ping) and confirms the miss. The session
// is stopped afterwards, outside the timing.
func berthCold(env *harness.Env, arn string) method {
	return method{
		name: berthMethodName(env.Driver),
		note: berthColdNote,
		measure: func(ctx context.Context) (sample, error) {
			sid := harness.NewSessionID()
			w := env.Watch(harness.SessionStarted(sid))
			defer w.Close()
			t, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
			if err != nil {
				return sample{}, err
			}
			lines, err := w.WaitTimeout(ctx, 1, 10*time.Second)
			if err != nil {
				return sample{}, fmt.Errorf("session %s: no \"session started\" line: %w", sid, err)
			}
			if hit := lines[0].Attrs["pool_hit"]; hit != "false" {
				return sample{}, fmt.Errorf("session %s: pool_hit=%q on a server without pools", sid, hit)
			}
			startup, _ := lines[0].Duration("startup")
			if err := env.StopSession(ctx, arn, sid); err != nil {
				return sample{}, err
			}
			return sample{ttfb: t.TTFB, startup: startup}, nil
		},
	}
}

// baselineCold is a baseline's cold start: spawn, then retry POST /invocations until the
// first byte arrives; the agent is stopped afterwards, outside the timing.
func baselineCold(b baseline, spec agentSpec) method {
	return method{
		name: b.name,
		note: b.note,
		measure: func(ctx context.Context) (sample, error) {
			start := time.Now()
			sp, err := b.start(ctx, spec)
			if err != nil {
				return sample{}, err
			}
			err = sp.firstByte(ctx, start.Add(30*time.Second))
			d := time.Since(start)
			if err != nil && sp.diag != nil {
				err = fmt.Errorf("%w; %s", err, sp.diag())
			}
			if serr := sp.stop(); err == nil {
				err = serr
			}
			return sample{ttfb: d}, err
		},
	}
}

// interleave runs warm rounds that are thrown away, then reps rounds; every round runs
// each method once, starting at a different method each round, so drift on the machine
// touches all methods alike; a method with a reps cap sits out the rounds after it. A
// method that fails is dropped from later rounds and its error returned (joined) with the
// samples of the others.
func interleave(ctx context.Context, methods []method, warm, reps int) (map[string][]sample, error) {
	out := map[string][]sample{}
	failed := map[string]error{}
	for i := range warm + reps {
		for j := range methods {
			m := methods[(i+j)%len(methods)]
			if failed[m.name] != nil || m.reps > 0 && i >= warm+m.reps {
				continue
			}
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			x, err := m.measure(ctx)
			if err != nil {
				failed[m.name] = fmt.Errorf("%s: %w", m.name, err)
				delete(out, m.name)
				continue
			}
			if i >= warm {
				out[m.name] = append(out[m.name], x)
			}
		}
	}
	var errs []error
	for _, m := range methods {
		if err := failed[m.name]; err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// ttfbs and startups pick one figure out of samples.
func ttfbs(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.ttfb
	}
	return out
}

func startups(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.startup
	}
	return out
}

// recordCold adds one result per measured method and keeps the summaries as figures;
// Berth's rows note the server's start-up figure and their median's ratio to each
// baseline's.
func (s *suite) recordCold(scenarioName, agent string, methods []method, samples map[string][]sample) {
	sums, starts := map[string]stats.Summary{}, map[string]stats.Summary{}
	for _, m := range methods {
		if xs, ok := samples[m.name]; ok {
			sums[m.name] = stats.Summarize("ms", stats.Millis(ttfbs(xs)))
			starts[m.name] = stats.Summarize("ms", stats.Millis(startups(xs)))
		}
	}
	if s.figs.cold[agent] == nil {
		s.figs.cold[agent], s.figs.startup[agent] = map[string]stats.Summary{}, map[string]stats.Summary{}
	}
	for _, m := range methods {
		sum, ok := sums[m.name]
		if !ok {
			continue
		}
		s.figs.cold[agent][m.name] = sum
		res := stats.Result{Scenario: scenarioName, Case: agent + " / " + m.name, Summary: sum, Note: m.note}
		if strings.HasPrefix(m.name, "berth/") {
			s.figs.startup[agent][m.name] = starts[m.name]
			res.Note += fmt.Sprintf("; server-side start-up (sandbox start + first healthy /ping, the \"startup\" of its log line) p50 %s ms",
				harness.Num(starts[m.name].Median))
			extra := map[string]any{"serverStartupP50ms": starts[m.name].Median}
			var ratios []string
			for _, b := range methods {
				bs, ok := sums[b.name]
				if strings.HasPrefix(b.name, "berth/") || !ok || bs.Median == 0 {
					continue
				}
				x := sum.Median / bs.Median
				ratios = append(ratios, fmt.Sprintf("%s× %s", harness.Num(x), b.name))
				extra["medianRatioTo_"+strings.ReplaceAll(b.name, " ", "_")] = x
			}
			if len(ratios) > 0 {
				res.Note += "; p50 = " + strings.Join(ratios, ", ")
			}
			res.Extra = extra
		}
		s.report.Add(res)
	}
}

// coldStart measures new session → first byte (pool misses) for the Go and the Python
// agent on every driver, beside the same agents run bare, under bwrap, crun and runsc, and
// the Go agent cold-booted in a plain QEMU microVM when a guest kernel is at hand.
func coldStart(ctx context.Context, s *suite) error {
	pySpec, err := s.pythonSpec(ctx, agentPy, "pyagent", false)
	if err != nil {
		return err
	}
	bases, skipped, release := baselines(s.scratch)
	defer release()
	s.figs.baselineSkipped = skipped
	specs := map[string]agentSpec{
		agentGo: {name: agentGo, argv: []string{s.bins.Agent}},
		agentPy: pySpec,
	}
	warm, reps := s.counts(2, 0), s.counts(15, 1)
	var errs []error
	for _, agent := range []string{agentGo, agentPy} {
		var methods []method
		for _, env := range s.envs {
			d, err := s.deployedOn(ctx, env)
			if err != nil {
				return err
			}
			m := berthCold(env, d.arnOf(agent))
			m.reps = s.slowReps(env.Driver, s.counts(10, 1))
			methods = append(methods, m)
		}
		for _, b := range bases {
			methods = append(methods, baselineCold(b, specs[agent]))
		}
		s.log.Info("cold start", "agent", agent, "methods", len(methods), "reps", reps)
		samples, err := interleave(ctx, methods, warm, reps)
		s.recordCold("cold start", agent, methods, samples)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", agent, err))
		}
	}
	if len(skipped) > 0 {
		s.report.Add(stats.Result{Scenario: "cold start", Case: "baselines not run", Note: strings.Join(skipped, "; ")})
	}
	s.report.Add(stats.Result{Scenario: "cold start", Case: "python interpreters", Note: s.pythonNote(pySpec.argv[0])})
	if err := s.qemuColdBoot(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// slowReps caps the timed rounds of a driver whose every start takes seconds (the microvm
// driver under TCG) at n, to keep the run's length bounded; 0 (no cap) for the others.
func (s *suite) slowReps(driver string, n int) int {
	if driver == "microvm" {
		return n
	}
	return 0
}

// pythonNote says which interpreter the baselines ran and which each driver ran.
func (s *suite) pythonNote(baseline string) string {
	parts := []string{"baselines: " + baseline}
	for _, env := range s.envs {
		if p, ok := s.pythons[env.Driver]; ok {
			parts = append(parts, berthMethodName(env.Driver)+": "+p)
		}
	}
	return strings.Join(parts, "; ")
}

// qemuColdBoot measures the plain-QEMU baseline apart from the interleaved rounds (a TCG
// cold boot takes seconds), or records why it cannot.
func (s *suite) qemuColdBoot(ctx context.Context) error {
	b, why := qemuBaseline(ctx, s)
	if b == nil {
		s.figs.qemu = why
		s.report.Add(stats.Result{Scenario: "cold start", Case: agentGo + " / qemu cold boot (TCG)", Note: why})
		return nil
	}
	m := baselineCold(*b, agentSpec{name: agentGo})
	samples, err := interleave(ctx, []method{m}, s.counts(1, 0), s.counts(10, 1))
	if err != nil {
		s.figs.qemu = "not measurable: " + err.Error()
		s.report.Add(stats.Result{Scenario: "cold start", Case: agentGo + " / qemu cold boot (TCG)", Note: s.figs.qemu})
		return err
	}
	s.recordCold("cold start", agentGo, []method{m}, samples)
	return nil
}

// heavyPython measures the cold start of the Python agent whose imports take
// HeavyImportSeconds (a pool miss: pools are off), beside the same agent run bare.
func heavyPython(ctx context.Context, s *suite) error {
	spec, err := s.pythonSpec(ctx, agentHeavy, "pyagent-heavy", true)
	if err != nil {
		return err
	}
	var methods []method
	for _, env := range s.envs {
		d, err := s.deployedOn(ctx, env)
		if err != nil {
			return err
		}
		m := berthCold(env, d.heavyARN)
		m.reps = s.slowReps(env.Driver, s.counts(3, 1))
		methods = append(methods, m)
	}
	methods = append(methods, baselineCold(baseline{name: "bare process", note: "exec on the host, free loopback port", start: startBare}, spec))
	samples, err := interleave(ctx, methods, s.counts(1, 0), s.counts(5, 1))
	s.recordCold("heavy python cold start (pool miss)", agentHeavy, methods, samples)
	if err != nil {
		return fmt.Errorf("%s: %w", agentHeavy, err)
	}
	return nil
}

// pythonSpec writes the Python test agent (heavy: the one whose imports take
// HeavyImportSeconds) into the scratch directory dir and returns how the baselines run it:
// with baselinePython, from that directory.
func (s *suite) pythonSpec(ctx context.Context, name, dir string, heavy bool) (agentSpec, error) {
	py, err := s.baselinePython(ctx)
	if err != nil {
		return agentSpec{}, err
	}
	dir = filepath.Join(s.scratch, dir)
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // read by sandboxed agents
		return agentSpec{}, err
	}
	mainPy, err := harness.WritePythonAgent(dir, heavy)
	if err != nil {
		return agentSpec{}, err
	}
	return agentSpec{name: name, argv: []string{py, mainPy}, env: []string{"PYTHONPATH=" + dir}, dir: dir}, nil
}
