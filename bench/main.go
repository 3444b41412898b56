// Command bench is Berth's benchmark harness. It builds berth and the test agents, starts a
// real `berth server` for every sandbox driver that is compiled in and available, and
// measures, in one run and beside baselines taken on the same machine at the same time:
// cold start (new session → first byte) of a Go, a Python and a heavy Python agent against
// the same agents run bare, under bwrap and under crun; idle-session density; session
// creation rate; control-plane latency; and, through bench/load, warm overhead,
// throughput, streaming and payloads. It writes JSON and Markdown to the -out directory
// (bench/results/<UTC time>.{json,md} and latest.md) and judges the targets of issue 7.
//
// Usage (from the repository root, as root for network namespaces):
//
//	go run ./bench                      # the full run, under 15 minutes on 2 cores
//	go run ./bench -short -out /tmp/x   # smoke: tiny counts, no judgement on speed
//	go run ./bench -only 'cold|density' # scenarios whose name matches
//
// Scenarios: cold-start, heavy-python, creation-rate, density, load, control-plane.
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
		short = flag.Bool("short", false, "smoke mode: tiny repetition counts and payloads; speed is not judged")
		out   = flag.String("out", "bench/results", "directory for the JSON and Markdown reports")
		only  = flag.String("only", "", "run only the scenarios whose name matches this regexp")
	)
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := config{Short: *short, Out: *out, Logger: logger}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -only: %v\n", err)
			os.Exit(2)
		}
		cfg.Only = re
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
