package load

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
	"berth.dev/berth/internal/sandbox/netns"
)

// startBerth builds berth and the test agent and runs a server for tb, or skips when the
// process driver cannot run here.
func startBerth(tb testing.TB) *harness.Env {
	tb.Helper()
	if err := netns.Available(); err != nil {
		tb.Skipf("the process sandbox driver needs network namespaces (run as root): %v", err)
	}
	ctx := context.Background()
	dir := tb.TempDir()
	bins, err := harness.Build(ctx, dir)
	if err != nil {
		tb.Fatal(err)
	}
	env, err := harness.Start(ctx, bins, harness.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := env.Close(); err != nil {
			tb.Error(err)
		}
	})
	return env
}

// TestRun_Short runs every load scenario in smoke mode against a real berth server: each
// records its results, and every target is recorded with a figure but, in a short run, not
// judged.
func TestRun_Short(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a berth server")
	}
	env := startBerth(t)
	r := &stats.Report{StartedAt: time.Now(), Short: true}
	if err := Run(t.Context(), env, r, Smoke); err != nil {
		t.Fatalf("Run: %v (server log %s)", err, env.ServerLog())
	}
	count := map[string]int{}
	for _, res := range r.Results {
		count[res.Scenario]++
		if res.Summary.N == 0 {
			t.Errorf("%s / %s: no samples", res.Scenario, res.Case)
		}
	}
	var want []string
	for _, sc := range scenarios {
		if count[sc.name] == 0 {
			t.Errorf("scenario %s recorded no results", sc.name)
		}
		for _, tg := range sc.targets {
			want = append(want, tg[0]+" (process driver)")
		}
	}
	var got []string
	for _, tg := range r.Targets {
		got = append(got, tg.Name)
		if tg.Met != nil || strings.HasPrefix(tg.Measured, "not measured") || !strings.HasPrefix(tg.Note, "short run: not judged") {
			t.Errorf("target %+v: want a figure, not judged", tg)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	// The 100 MB case must have streamed: a buffered payload would grow the server by ~95 MiB.
	seen := false
	for _, res := range r.Results {
		if res.Case == "100 MB server RSS growth, berth/process" {
			seen = true
			if res.Summary.Max > 64 {
				t.Errorf("server RSS grew by %.0f MiB while 100 MB passed", res.Summary.Max)
			}
		}
	}
	if !seen {
		t.Error("no RSS growth figure for 100 MB")
	}
}

func TestSuite_Judge(t *testing.T) {
	tests := []struct {
		name     string
		short    bool
		met      bool
		note     string
		wantMet  *bool
		wantNote string
	}{
		{name: "full run, met", met: true, note: "why", wantMet: stats.Bool(true), wantNote: "why"},
		{name: "full run, missed", met: false, note: "why", wantMet: stats.Bool(false), wantNote: "why"},
		{name: "short run", short: true, met: true, note: "why", wantNote: "short run: not judged; why"},
		{name: "short run without a note", short: true, wantNote: "short run: not judged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &stats.Report{}
			s := &suite{driver: "process"}
			if tt.short {
				s.size = Smoke
			}
			s.judge(r, "warm overhead", "goal", "1 ms", tt.met, tt.note)
			want := []stats.Target{{Name: "warm overhead (process driver)", Goal: "goal", Measured: "1 ms", Met: tt.wantMet, Note: tt.wantNote}}
			if diff := cmp.Diff(want, r.Targets); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkInvoke times one small JSON invocation of the same agent binary directly and
// through Berth, with the load generator's operation; sign-ns/op is the client's SigV4
// share of Berth's figure.
func BenchmarkInvoke(b *testing.B) {
	env := startBerth(b)
	ctx := context.Background()
	arn, err := env.DeployGoAgent(ctx, "bench_invoke", nil)
	if err != nil {
		b.Fatal(err)
	}
	agent, err := startBareAgent(ctx, env.Bins.Agent)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(agent.Stop)
	s := &suite{baseURL: env.BaseURL, arn: arn, creds: env.Creds, agentAddr: agent.Addr, session: harness.NewSessionID()}
	berth, direct := s.pair(1)
	defer berth.close()
	defer direct.close()
	for _, e := range []*endpoint{direct, berth} {
		b.Run(e.name, func(b *testing.B) {
			op := invokeOp(e)
			if _, err := op(ctx); err != nil { // warm: connection, session
				b.Fatal(err)
			}
			var signing time.Duration
			for b.Loop() {
				c, err := op(ctx)
				if err != nil {
					b.Fatal(err)
				}
				signing += c
			}
			b.ReportMetric(float64(signing.Nanoseconds())/float64(b.N), "sign-ns/op")
		})
	}
}
