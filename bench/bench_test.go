package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
	"berth.dev/berth/internal/sandbox/netns"
)

// TestSmoke runs the whole harness in -short mode (tiny counts, speed not judged) into a
// temporary directory and checks that every scenario reported and the report files parse,
// so the harness cannot rot. It asserts nothing about speed. Only the process and linuxns
// drivers are measured, to stay within about a minute: the harness has no code of its own
// for gvisor, and the microvm server alone boot-tests KVM for up to 20 s and cold-boots a
// template under TCG (check them by hand: go run ./bench -short -drivers 'gvisor|microvm').
// The baselines (bare, bwrap, crun, runsc, plain QEMU) run whenever their tools are here.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds berth and runs every scenario (about 30 s)")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("the process sandbox driver needs network namespaces (run as root): %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	out := t.TempDir()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	res, err := run(ctx, config{Short: true, Out: out, Drivers: regexp.MustCompile(`^(process|linuxns)$`), Logger: logger})
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	raw, err := os.ReadFile(res.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var r stats.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if !r.Short || r.Machine.Cores == 0 || r.Machine.Versions["berth"] == "" {
		t.Errorf("report header = short %v, cores %d, versions %v", r.Short, r.Machine.Cores, r.Machine.Versions)
	}
	scenarios := map[string]int{}
	for _, res := range r.Results {
		if res.Case == "error" {
			t.Errorf("scenario %s failed: %s", res.Scenario, res.Note)
		}
		if res.Summary.N > 0 {
			scenarios[res.Scenario]++
		}
	}
	for _, want := range []string{"cold start", "heavy python cold start (pool miss)", poolScenario, "creation rate", "density", "control plane", "warm overhead"} {
		if scenarios[want] == 0 {
			t.Errorf("no measured case in scenario %q (have %v)", want, scenarios)
		}
	}
	// Every pool-hit row counts only samples the server logged as hits, and there is one
	// per agent (a short run measures pools on one driver).
	hitRows := 0
	for _, res := range r.Results {
		if res.Scenario == poolScenario && strings.HasSuffix(res.Case, " / pool hit") {
			hitRows++
			if res.Summary.N == 0 || !strings.Contains(res.Note, fmt.Sprintf("for %d of %d samples", res.Summary.N, res.Summary.N)) {
				t.Errorf("pool-hit row %q: n %d, note %q", res.Case, res.Summary.N, res.Note)
			}
		}
	}
	if hitRows != 3 {
		t.Errorf("%d pool-hit rows, want 3 (one per agent)", hitRows)
	}
	for _, tg := range r.Targets {
		if tg.Met != nil {
			t.Errorf("target %q judged in a short run", tg.Name)
		}
	}
	if len(r.Targets) < 12 {
		t.Errorf("%d targets judged, want every one of the issue's", len(r.Targets))
	}

	md, err := os.ReadFile(res.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := os.ReadFile(filepath.Join(out, harness.LatestName))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != string(latest) {
		t.Error("latest.md differs from the run's Markdown")
	}
	for _, want := range []string{"# Berth benchmark results", "## cold start", "| go agent / berth/process |", "## Targets", "not measurable"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}
