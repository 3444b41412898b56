package harness

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"berth.dev/berth/bench/stats"
)

// LatestName is the Markdown file WriteReport keeps pointing at the newest run.
const LatestName = "latest.md"

// WriteReport writes r into dir as <UTC start time>.json and .md, and copies the Markdown to
// dir/latest.md. It returns the paths of the JSON and Markdown files.
func WriteReport(dir string, r *stats.Report) (jsonPath, mdPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // results are meant to be read
		return "", "", fmt.Errorf("write report: %w", err)
	}
	stamp := r.StartedAt.UTC().Format("20060102T150405Z")
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("write report: %w", err)
	}
	jsonPath = filepath.Join(dir, stamp+".json")
	mdPath = filepath.Join(dir, stamp+".md")
	md := []byte(Markdown(r))
	for _, f := range []struct {
		path string
		data []byte
	}{{jsonPath, append(raw, '\n')}, {mdPath, md}, {filepath.Join(dir, LatestName), md}} {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil { //nolint:gosec // results are meant to be read
			return "", "", fmt.Errorf("write report: %w", err)
		}
	}
	return jsonPath, mdPath, nil
}

// Verdict is how a target reads in the report: "met", "missed" or "not measurable".
func Verdict(t stats.Target) string {
	switch {
	case t.Met == nil:
		return "not measurable"
	case *t.Met:
		return "met"
	default:
		return "missed"
	}
}

// Markdown renders r: the machine, one table per scenario (case, n, min, median, p95, max,
// unit, note) in the order scenarios first appear, then the targets with their verdicts.
func Markdown(r *stats.Report) string {
	var b strings.Builder
	mode := "full run"
	if r.Short {
		mode = "short (smoke) run: tiny repetition counts, figures are not meaningful"
	}
	fmt.Fprintf(&b, "# Berth benchmark results\n\n")
	fmt.Fprintf(&b, "Started %s, took %s; %s.\n\n", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"), r.Duration, mode)
	m := r.Machine
	fmt.Fprintf(&b, "**Machine:** %s, %d cores, %.1f GiB memory; %s; kernel %s; %s.\n\n", orDash(m.CPUModel), m.Cores, m.MemoryGiB, orDash(m.OS), orDash(m.Kernel), orDash(m.Go))
	if len(m.Versions) > 0 {
		keys := make([]string, 0, len(m.Versions))
		for k := range m.Versions {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s `%s`", k, m.Versions[k])
		}
		fmt.Fprintf(&b, "**Versions:** %s.\n\n", strings.Join(parts, "; "))
	}
	var order []string
	byScenario := map[string][]stats.Result{}
	for _, res := range r.Results {
		if _, ok := byScenario[res.Scenario]; !ok {
			order = append(order, res.Scenario)
		}
		byScenario[res.Scenario] = append(byScenario[res.Scenario], res)
	}
	for _, sc := range order {
		fmt.Fprintf(&b, "## %s\n\n", sc)
		b.WriteString("| case | n | min | median | p95 | max | unit | note |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---|---|\n")
		for _, res := range byScenario[sc] {
			s := res.Summary
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", cell(res.Case), s.N,
				Num(s.Min), Num(s.Median), Num(s.P95), Num(s.Max), cell(s.Unit), cell(res.Note))
		}
		b.WriteString("\n")
	}
	if len(r.Targets) > 0 {
		b.WriteString("## Targets\n\n")
		b.WriteString("| target | goal | measured | verdict | note |\n")
		b.WriteString("|---|---|---|---|---|\n")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(t.Name), cell(t.Goal), cell(t.Measured), Verdict(t), cell(t.Note))
		}
		b.WriteString("\n")
		counts := map[string]int{}
		for _, t := range r.Targets {
			counts[Verdict(t)]++
		}
		fmt.Fprintf(&b, "%d met, %d missed, %d not measurable.\n", counts["met"], counts["missed"], counts["not measurable"])
	}
	return b.String()
}

// Num formats a figure with about three significant digits ("0.213", "12.4", "1520").
func Num(x float64) string {
	switch ax := math.Abs(x); {
	case x == 0:
		return "0"
	case ax >= 100:
		return fmt.Sprintf("%.0f", x)
	case ax >= 10:
		return fmt.Sprintf("%.1f", x)
	case ax >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
