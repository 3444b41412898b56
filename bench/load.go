package main

import (
	"context"
	"fmt"

	"berth.dev/berth/bench/load"
)

// runLoad runs bench/load's scenarios (warm overhead, throughput, streaming, payloads)
// against every driver's server; they record their results and judge their targets.
func runLoad(ctx context.Context, s *suite) error {
	for _, env := range s.envs {
		if err := load.Run(ctx, env, s.report, s.cfg.Short); err != nil {
			return fmt.Errorf("%s driver: %w", env.Driver, err)
		}
	}
	return nil
}
