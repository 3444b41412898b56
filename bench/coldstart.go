package main

import (
	"context"
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

// method is one way of starting an agent and getting its first answer; measure returns the
// time from the start of the attempt to the first response byte.
type method struct {
	name    string
	note    string
	measure func(ctx context.Context) (time.Duration, error)
}

// berthMethodName names Berth with one driver in cases and figures.
func berthMethodName(driver string) string { return "berth/" + driver }

// berthCold is Berth's cold start: a new session id, then one invocation, timed to the first
// byte. The session is stopped afterwards, outside the timing.
func berthCold(env *harness.Env, arn string) method {
	return method{
		name: berthMethodName(env.Driver),
		note: "new session id → first byte of InvokeAgentRuntime (SigV4, through the proxy)",
		measure: func(ctx context.Context) (time.Duration, error) {
			sid := harness.NewSessionID()
			t, err := env.Invoke(ctx, arn, sid, "application/json", incrBody)
			if err != nil {
				return 0, err
			}
			if err := env.StopSession(ctx, arn, sid); err != nil {
				return 0, err
			}
			return t.TTFB, nil
		},
	}
}

// baselineCold is a baseline's cold start: spawn, then retry POST /invocations until the
// first byte arrives; the agent is stopped afterwards, outside the timing.
func baselineCold(b baseline, spec agentSpec) method {
	return method{
		name: b.name,
		note: b.note,
		measure: func(ctx context.Context) (time.Duration, error) {
			start := time.Now()
			sp, err := b.start(ctx, spec)
			if err != nil {
				return 0, err
			}
			err = sp.firstByte(ctx, start.Add(30*time.Second))
			d := time.Since(start)
			if serr := sp.stop(); err == nil {
				err = serr
			}
			return d, err
		},
	}
}

// interleave runs warm rounds that are thrown away, then reps rounds; every round runs
// each method once, starting at a different method each round, so drift on the machine
// touches all methods alike.
func interleave(ctx context.Context, methods []method, warm, reps int) (map[string][]time.Duration, error) {
	out := map[string][]time.Duration{}
	for i := range warm + reps {
		for j := range methods {
			m := methods[(i+j)%len(methods)]
			d, err := m.measure(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			if i >= warm {
				out[m.name] = append(out[m.name], d)
			}
		}
	}
	return out, nil
}

// record adds one result per method and keeps the summaries as figures; Berth's rows note
// their median's ratio to each baseline's.
func (s *suite) recordCold(scenarioName, agent string, methods []method, samples map[string][]time.Duration) {
	sums := map[string]stats.Summary{}
	for _, m := range methods {
		sums[m.name] = stats.Summarize("ms", stats.Millis(samples[m.name]))
	}
	s.figs.cold[agent] = sums
	for _, m := range methods {
		res := stats.Result{Scenario: scenarioName, Case: agent + " / " + m.name, Summary: sums[m.name], Note: m.note}
		if strings.HasPrefix(m.name, "berth/") {
			var ratios []string
			extra := map[string]any{}
			for _, b := range methods {
				if strings.HasPrefix(b.name, "berth/") || sums[b.name].Median == 0 {
					continue
				}
				x := sums[m.name].Median / sums[b.name].Median
				ratios = append(ratios, fmt.Sprintf("%s× %s", harness.Num(x), b.name))
				extra["medianRatioTo_"+strings.ReplaceAll(b.name, " ", "_")] = x
			}
			if len(ratios) > 0 {
				res.Note += "; p50 = " + strings.Join(ratios, ", ")
				res.Extra = extra
			}
		}
		s.report.Add(res)
	}
}

// coldStart measures new session → first byte for the Go and the Python agent on every
// driver, beside the same agents run bare, under bwrap and under crun.
func coldStart(ctx context.Context, s *suite) error {
	py, err := s.pythonExecutable(ctx)
	if err != nil {
		return err
	}
	pyDir := filepath.Join(s.scratch, "pyagent")
	if err := os.MkdirAll(pyDir, 0o755); err != nil { //nolint:gosec // read by sandboxed agents
		return err
	}
	mainPy, err := harness.WritePythonAgent(pyDir, false)
	if err != nil {
		return err
	}
	bases, skipped, release := baselines(s.scratch)
	defer release()
	s.figs.baselineSkipped = skipped
	specs := map[string]agentSpec{
		agentGo: {name: agentGo, argv: []string{s.bins.Agent}},
		agentPy: {name: agentPy, argv: []string{py, mainPy}, env: []string{"PYTHONPATH=" + pyDir}, dir: pyDir},
	}
	warm, reps := s.counts(3, 1), s.counts(30, 3)
	for _, agent := range []string{agentGo, agentPy} {
		var methods []method
		for _, env := range s.envs {
			d, err := s.deployedOn(ctx, env)
			if err != nil {
				return err
			}
			arn := d.goARN
			if agent == agentPy {
				arn = d.pyARN
			}
			methods = append(methods, berthCold(env, arn))
		}
		for _, b := range bases {
			methods = append(methods, baselineCold(b, specs[agent]))
		}
		s.log.Info("cold start", "agent", agent, "methods", len(methods), "reps", reps)
		samples, err := interleave(ctx, methods, warm, reps)
		if err != nil {
			return fmt.Errorf("%s: %w", agent, err)
		}
		s.recordCold("cold start", agent, methods, samples)
	}
	if len(skipped) > 0 {
		s.report.Add(stats.Result{Scenario: "cold start", Case: "baselines not run", Note: strings.Join(skipped, "; ")})
	}
	s.report.Add(stats.Result{Scenario: "cold start", Case: "qemu boot baseline", Note: qemuNote()})
	return nil
}

// heavyPython measures the cold start of the Python agent whose imports take
// HeavyImportSeconds (a pool miss: nothing is pre-started), beside the same agent run bare.
func heavyPython(ctx context.Context, s *suite) error {
	py, err := s.pythonExecutable(ctx)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.scratch, "pyagent-heavy")
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // read by sandboxed agents
		return err
	}
	mainPy, err := harness.WritePythonAgent(dir, true)
	if err != nil {
		return err
	}
	spec := agentSpec{name: agentHeavy, argv: []string{py, mainPy}, env: []string{"PYTHONPATH=" + dir}, dir: dir}
	var methods []method
	for _, env := range s.envs {
		d, err := s.deployedOn(ctx, env)
		if err != nil {
			return err
		}
		methods = append(methods, berthCold(env, d.heavyARN))
	}
	methods = append(methods, baselineCold(baseline{name: "bare process", note: "exec on the host, free loopback port", start: startBare}, spec))
	samples, err := interleave(ctx, methods, s.counts(1, 0), s.counts(8, 1))
	if err != nil {
		return fmt.Errorf("%s: %w", agentHeavy, err)
	}
	s.recordCold("heavy python cold start (pool miss)", agentHeavy, methods, samples)
	return nil
}

// qemuNote says why the plain-QEMU boot baseline is not measured.
func qemuNote() string {
	q := harness.ToolVersion(context.Background(), "qemu-system-x86_64", "--version")
	kernels, _ := filepath.Glob("/boot/vmlinu*")
	switch {
	case q == "":
		return "not measured: qemu-system-x86_64 is not installed, and no bootable guest kernel is at hand (ISOLATION.md §4: /dev/kvm here is kvm_pvm; a TCG boot needs a kernel built from linux-source)"
	case len(kernels) == 0:
		return "not measured: no bootable guest kernel at hand (/boot has none; ISOLATION.md §4b builds one from linux-source in ~3 min, TCG only, 1.2 s cold boot recorded there)"
	default:
		return "not measured: a kernel is present (" + kernels[0] + ") but the harness has no initramfs recipe yet; ISOLATION.md §4b recorded 1.2 s TCG cold boot (Go)"
	}
}
