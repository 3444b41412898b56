package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// runtimeName is the runtime the load scenarios deploy (the Go test agent as an image).
const runtimeName = "bench_load"

// scenario is one load scenario and the targets it judges (recorded as not measured when it
// fails).
type scenario struct {
	name    string
	run     func(*suite, context.Context, *stats.Report) error
	targets [][2]string // name, goal
}

var scenarios = []scenario{
	{scenarioWarm, (*suite).warm, [][2]string{{targetWarm, goalWarm}, {targetThroughput, goalThroughput}}},
	{scenarioStreaming, (*suite).streaming, [][2]string{{targetSSE, goalSSE}}},
	{scenarioPayloads, (*suite).payloads, [][2]string{{targetPayload, goalPayload}}},
}

// Size is how much work Run does.
type Size int

const (
	// Full is the figure a report is judged on.
	Full Size = iota
	// Reduced cuts repetitions for a driver whose every request costs far more than
	// Berth's share of it (the microvm driver under TCG, where the guest's code runs
	// emulated): the figures still count, with fewer samples.
	Reduced
	// Smoke cuts repetitions to a smoke test whose figures mean little (-short).
	Smoke
)

func (s Size) String() string {
	switch s {
	case Reduced:
		return "reduced"
	case Smoke:
		return "smoke"
	default:
		return "full"
	}
}

// Run measures the load scenarios against the server in env — warm overhead and throughput,
// streaming, payloads — and adds their results and targets to r. Each compares Berth with
// the same agent binary (env.Bins.Agent) started as a bare process on a loopback port, with
// identically configured clients; size says how many repetitions. A failing scenario does not stop the others: its targets are recorded as not
// measured and its error is part of the one returned.
func Run(ctx context.Context, env *harness.Env, r *stats.Report, size Size) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	arn, err := env.DeployGoAgent(ctx, runtimeName, nil)
	if err != nil {
		return notMeasured(r, env.Driver, fmt.Errorf("load scenarios: %w", err))
	}
	agent, err := startBareAgent(ctx, env.Bins.Agent)
	if err != nil {
		return notMeasured(r, env.Driver, fmt.Errorf("load scenarios: %w", err))
	}
	defer agent.Stop()
	s := &suite{
		baseURL: env.BaseURL, arn: arn, creds: env.Creds, agentAddr: agent.Addr, agentPID: agent.PID(),
		serverPID: env.ServerPID, session: harness.NewSessionID(), size: size, driver: env.Driver,
	}
	var errs []error
	for _, sc := range scenarios {
		logger.InfoContext(ctx, "load scenario", "scenario", sc.name, "size", s.size)
		if err := sc.run(s, ctx, r); err != nil {
			err = fmt.Errorf("load scenario %s: %w", sc.name, err)
			logger.WarnContext(ctx, "load scenario failed", "scenario", sc.name, "err", err)
			for _, t := range sc.targets {
				r.Judge(targetName(t[0], env.Driver), t[1], "not measured: "+err.Error(), nil, "")
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// notMeasured records every load target of driver as not measured because of err, and returns err.
func notMeasured(r *stats.Report, driver string, err error) error {
	for _, sc := range scenarios {
		for _, t := range sc.targets {
			r.Judge(targetName(t[0], driver), t[1], "not measured: "+err.Error(), nil, "")
		}
	}
	return err
}
