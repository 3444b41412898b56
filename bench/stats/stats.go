// Package stats holds the numbers Berth's benchmark harness records: per-case samples
// summarised as min/median/p95/max, targets with what was measured against them, and the
// report written to bench/results as JSON and Markdown.
package stats

import (
	"math"
	"slices"
	"time"
)

// Summary is the distribution of one measurement.
type Summary struct {
	N      int     `json:"n"`
	Unit   string  `json:"unit"` // "ms", "MB/s", "req/s", "MB", …
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Max    float64 `json:"max"`
}

// Summarize computes a Summary of xs (nearest-rank percentiles).
func Summarize(unit string, xs []float64) Summary {
	s := Summary{N: len(xs), Unit: unit}
	if len(xs) == 0 {
		return s
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.Median = rank(sorted, 0.50)
	s.P95 = rank(sorted, 0.95)
	return s
}

func rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Millis converts durations to milliseconds for Summarize.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d.Microseconds()) / 1000
	}
	return out
}

// Result is one measured case of a scenario, e.g. scenario "cold start", case
// "go agent / process driver".
type Result struct {
	Scenario string         `json:"scenario"`
	Case     string         `json:"case"`
	Summary  Summary        `json:"summary"`
	Note     string         `json:"note,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// Target is a performance goal and what this run measured for it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`     // e.g. "≤ 0.3 ms p50 added"
	Measured string `json:"measured"` // e.g. "0.21 ms", or "not measurable: …"
	Met      *bool  `json:"met"`      // nil when not measurable in this run
	Note     string `json:"note,omitempty"`
}

// Report is one benchmark run.
type Report struct {
	StartedAt time.Time `json:"startedAt"`
	Duration  string    `json:"duration"`
	Short     bool      `json:"short"`
	Machine   Machine   `json:"machine"`
	Results   []Result  `json:"results"`
	Targets   []Target  `json:"targets"`
}

// Machine describes where a run happened.
type Machine struct {
	CPUModel  string            `json:"cpuModel"`
	Cores     int               `json:"cores"`
	MemoryGiB float64           `json:"memoryGiB"`
	Kernel    string            `json:"kernel"`
	OS        string            `json:"os"`
	Go        string            `json:"go"`
	Versions  map[string]string `json:"versions"` // berth, crun, bwrap, runsc, qemu, python3 …
}

// Add appends a result.
func (r *Report) Add(res Result) { r.Results = append(r.Results, res) }

// Judge records a target; met is nil when the run could not measure it.
func (r *Report) Judge(name, goal, measured string, met *bool, note string) {
	r.Targets = append(r.Targets, Target{Name: name, Goal: goal, Measured: measured, Met: met, Note: note})
}

// Bool returns a pointer to b, for Judge.
func Bool(b bool) *bool { return &b }
