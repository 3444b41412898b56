package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/bench/stats"
)

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.2134, "0.213"}, {1.234, "1.23"}, {12.34, "12.3"}, {1520.4, "1520"}, {-1.79, "-1.79"},
	} {
		if got := Num(tc.in); got != tc.want {
			t.Errorf("Num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		met  *bool
		want string
	}{{nil, "not measurable"}, {stats.Bool(true), "met"}, {stats.Bool(false), "missed"}} {
		if got := Verdict(stats.Target{Met: tc.met}); got != tc.want {
			t.Errorf("Verdict(%v) = %q, want %q", tc.met, got, tc.want)
		}
	}
}

func sampleReport() *stats.Report {
	r := &stats.Report{
		StartedAt: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		Duration:  "7m3s",
		Machine:   stats.Machine{CPUModel: "AMD EPYC", Cores: 2, MemoryGiB: 23.5, Kernel: "6.18", OS: "Debian 12", Go: "go1.26.8", Versions: map[string]string{"berth": "v1", "crun": "crun 1.8.1"}},
	}
	r.Add(stats.Result{Scenario: "cold start", Case: "go agent / berth/process", Summary: stats.Summarize("ms", []float64{60, 62, 70}), Note: "a | b"})
	r.Add(stats.Result{Scenario: "density", Case: "held", Summary: stats.Summarize("sessions", []float64{500})})
	r.Add(stats.Result{Scenario: "cold start", Case: "go agent / crun", Summary: stats.Summarize("ms", []float64{30})})
	r.Judge("fast", "≤ 12 ms", "62 ms", stats.Bool(false), "")
	r.Judge("pools", "≤ 5 ms", "not measurable: no warm pools yet", nil, "later")
	r.Judge("rate", "≥ 20/s", "40/s", stats.Bool(true), "")
	return r
}

func TestMarkdown_TablesPerScenarioAndTargets(t *testing.T) {
	md := Markdown(sampleReport())
	for _, want := range []string{
		"**Machine:** AMD EPYC, 2 cores, 23.5 GiB memory; Debian 12; kernel 6.18; go1.26.8.",
		"**Versions:** berth `v1`; crun `crun 1.8.1`.",
		"| go agent / berth/process | 3 | 60.0 | 62.0 | 70.0 | 70.0 | ms | a \\| b |",
		"| held | 1 | 500 | 500 | 500 | 500 | sessions |  |",
		"| fast | ≤ 12 ms | 62 ms | missed |  |",
		"| pools | ≤ 5 ms | not measurable: no warm pools yet | not measurable | later |",
		"| rate | ≥ 20/s | 40/s | met |  |",
		"1 met, 1 missed, 1 not measurable.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// Scenarios keep the order they first appear in, with all their cases together.
	cold, crun, density := strings.Index(md, "## cold start"), strings.Index(md, "| go agent / crun |"), strings.Index(md, "## density")
	if cold < 0 || crun < 0 || density < 0 || crun > density || cold > density {
		t.Errorf("scenario order wrong: cold %d, crun row %d, density %d", cold, crun, density)
	}
}

func TestWriteReport_RoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results")
	r := sampleReport()
	jsonPath, mdPath, err := WriteReport(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "20261121T093000Z.json"); jsonPath != want {
		t.Errorf("json path = %s, want %s", jsonPath, want)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var back stats.Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*r, back); diff != "" {
		t.Errorf("JSON round trip (-wrote +read):\n%s", diff)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := os.ReadFile(filepath.Join(dir, LatestName))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != Markdown(r) || string(latest) != string(md) {
		t.Error("the Markdown files differ from Markdown(r)")
	}
}
