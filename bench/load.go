package main

import (
	"context"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/load"
)

// runLoad runs bench/load's scenarios (warm overhead, throughput, streaming, payloads)
// against every driver's server; they record their results and judge their targets.
func runLoad(ctx context.Context, s *suite) error {
	return s.eachDriver("warm overhead", func(env *harness.Env) error {
		size := load.Full
		switch {
		case s.cfg.Short:
			size = load.Smoke
		case env.Driver == "microvm": // every request runs emulated guest code under TCG
			size = load.Reduced
		}
		return load.Run(ctx, env, s.report, size)
	})
}
