// Command bench is Berth's benchmark harness. It builds berth and the test agents, starts a
// real `berth server` for every sandbox driver that is compiled in and can run here
// (process, linuxns, gvisor, microvm), and measures, in one run and beside baselines taken
// on the same machine at the same time:
//
//   - cold start, a pool miss (new session → first byte, on servers run with --pool-size 0)
//     of a Go, a Python and a heavy Python agent (~1.5 s of imports), against the same
//     agents run bare, under bwrap, crun and raw runsc, and the Go agent cold-booted in a
//     plain QEMU microVM under TCG when a guest kernel is at hand ($BERTH_BENCH_KERNEL, or
//     the one `berth setup --driver microvm` built under the default data directory);
//   - warm-pool hits of the same three agents (a second server per driver with
//     --pool-size 1): new session → first byte when the session takes a pre-started
//     sandbox, beside a warm call of the same session; hits are confirmed by pool_hit in the
//     server's log;
//   - idle-session density and host memory per idle session; session creation rate;
//     control-plane latency; and, through bench/load, warm overhead, throughput, streaming
//     and payloads.
//
// It writes JSON and Markdown to the -out directory (bench/results/<UTC time>.{json,md} and
// latest.md) and judges the targets; a driver or baseline that cannot run here is
// reported as "not measurable" with the reason.
//
// Usage (from the repository root, as root for network namespaces):
//
//	go run ./bench                      # the full run
//	go run ./bench -short -out /tmp/x   # smoke: tiny counts, no judgement on speed
//	go run ./bench -only 'cold|pool'    # scenarios whose name matches
//	go run ./bench -drivers 'linuxns'   # drivers whose name matches
//
// Scenarios: cold-start, heavy-python, warm-pool, creation-rate, density, load,
// control-plane.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"syscall"
)

func main() {
	var (
		short   = flag.Bool("short", false, "smoke mode: tiny repetition counts and payloads; speed is not judged")
		out     = flag.String("out", "bench/results", "directory for the JSON and Markdown reports")
		only    = flag.String("only", "", "run only the scenarios whose name matches this regexp")
		drivers = flag.String("drivers", "", "measure only the sandbox drivers whose name matches this regexp")
		keep    = flag.Bool("keep", false, "keep the scratch directory (the servers' data directories and logs) for a post-mortem")
	)
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := config{Short: *short, Keep: *keep, Out: *out, Logger: logger}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -only: %v\n", err)
			os.Exit(2)
		}
		cfg.Only = re
	}
	if *drivers != "" {
		re, err := regexp.Compile(*drivers)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -drivers: %v\n", err)
			os.Exit(2)
		}
		cfg.Drivers = re
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg)
	if err != nil {
		logger.Error("benchmark failed", "err", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stdout, "wrote %s and %s\n", res.JSON, res.Markdown)
}
