package main

import (
	"strings"
	"testing"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// judged runs judge over figures and returns the targets by name.
func judged(t *testing.T, short bool, missing map[string]string, ran []string, fill func(f *figures)) map[string]stats.Target {
	t.Helper()
	s := &suite{cfg: config{Short: short}, report: &stats.Report{}, figs: newFigures(), missing: missing, ran: map[string]bool{}}
	for _, d := range knownDrivers {
		if _, ok := missing[d]; !ok {
			s.envs = append(s.envs, &harness.Env{Driver: d})
		}
	}
	for _, sc := range ran {
		s.ran[sc] = true
	}
	fill(&s.figs)
	judge(s)
	out := map[string]stats.Target{}
	for _, tg := range s.report.Targets {
		out[tg.Name] = tg
	}
	return out
}

func ms(xs ...float64) stats.Summary { return stats.Summarize("ms", xs) }

func setCold(f *figures, agent string, byMethod map[string]float64) {
	f.cold[agent], f.startup[agent] = map[string]stats.Summary{}, map[string]stats.Summary{}
	for m, v := range byMethod {
		f.cold[agent][m] = ms(v)
		if strings.HasPrefix(m, "berth/") {
			f.startup[agent][m] = ms(v - 2)
		}
	}
}

func TestJudge_Verdicts(t *testing.T) {
	missing := map[string]string{"microvm": "needs berth setup --driver microvm (no guest kernel at /x)"}
	ran := []string{"cold-start", "warm-pool", "density", "creation-rate"}
	fill := func(f *figures) {
		setCold(f, agentGo, map[string]float64{"berth/process": 15, "berth/linuxns": 10, "berth/gvisor": 150,
			"bare process": 4, "bwrap": 20, "crun": 15, "runsc": 200})
		setCold(f, agentPy, map[string]float64{"berth/process": 120, "berth/linuxns": 130, "berth/gvisor": 600,
			"bare process": 100, "bwrap": 110, "crun": 120})
		f.baselineSkipped = nil
		f.qemu = "not measurable: needs berth setup --driver microvm"
		f.pool[agentGo] = map[string]poolFigure{"linuxns": {hit: ms(4), warm: ms(1), startup: ms(2), hits: 30},
			"process": {hit: ms(9), warm: ms(1), hits: 30}}
		f.pool[agentPy] = map[string]poolFigure{"linuxns": {hit: ms(9), warm: ms(1), hits: 29, misses: 1}}
		f.density["linuxns"] = densityFigure{sessions: 500, stoppedBy: "cap", beyondMB: 0.8}
		f.creation["linuxns"] = map[int]stats.Summary{1: stats.Summarize("sessions/s", []float64{30})}
	}
	got := judged(t, false, missing, ran, fill)
	verdict := func(name string) string {
		tg, ok := got[name]
		if !ok {
			t.Fatalf("no target %q among %d", name, len(got))
		}
		return harness.Verdict(tg)
	}
	for name, want := range map[string]string{
		// 10 ms ≤ 12, but 10 > 0.6 × 15 (crun): missed on the ratio.
		"linuxns pool miss: Go agent cold start":                                                        "missed",
		"linuxns pool miss: Python agent cold start":                                                    "missed", // 1.3× bare
		"warm-pool hit (linuxns driver): new session → first byte, trivial Go agent":                    "met",
		"warm-pool hit (linuxns driver): new session → first byte, trivial Python agent":                "missed",
		"gvisor pool miss: Go agent cold start":                                                         "met",
		"gvisor pool miss: Python agent cold start":                                                     "not measurable", // no runsc figure
		"microvm restore under TCG":                                                                     "not measurable",
		"idle linuxns sessions held at once":                                                            "met",
		"host memory per idle linuxns session beyond the agent":                                         "met",
		"sessions created per second on pool misses (linuxns driver)":                                   "met",
		"warm-pool hit (linuxns driver): new session → first byte, heavy Python agent (~1.5 s imports)": "not measurable",
	} {
		if v := verdict(name); v != want {
			t.Errorf("%s: %s (%+v), want %s", name, v, got[name], want)
		}
	}
	if m := got["linuxns pool miss: Go agent cold start"].Measured; !strings.Contains(m, "0.667× crun") || !strings.Contains(m, "0.500× bwrap") {
		t.Errorf("Go cold start measured %q: want both ratios", m)
	}
	if n := got["linuxns pool miss: Go agent cold start"].Note; !strings.Contains(n, "server-side start-up 8.00 ms") || !strings.Contains(n, "process driver") {
		t.Errorf("Go cold start note %q: want what bounds it", n)
	}
	if m := got["warm-pool hit (linuxns driver): new session → first byte, trivial Python agent"].Measured; !strings.Contains(m, "29 of 30 samples hits") {
		t.Errorf("pool measured %q: want the hit count", m)
	}
	if m := got["microvm restore under TCG"].Measured; !strings.Contains(m, "needs berth setup --driver microvm") {
		t.Errorf("microvm measured %q: want the reason", m)
	}

	// In a short run nothing is judged, and the figures are still reported.
	for name, tg := range judged(t, true, missing, ran, fill) {
		if tg.Met != nil {
			t.Errorf("short run judged %q", name)
		}
	}
}

func TestJudge_MissingDriverAndScenario(t *testing.T) {
	missing := map[string]string{"linuxns": "driver not built yet", "gvisor": "driver not built yet", "microvm": "driver not built yet"}
	got := judged(t, false, missing, nil, func(*figures) {})
	for _, name := range []string{"linuxns pool miss: Go agent cold start", "idle linuxns sessions held at once",
		"warm-pool hit (linuxns driver): new session → first byte, trivial Go agent"} {
		tg := got[name]
		if tg.Met != nil || !strings.Contains(tg.Measured, "linuxns driver not built yet") {
			t.Errorf("%s = %+v, want not measurable because the driver is not built", name, tg)
		}
	}
	if tg := got["sessions created per second on pool misses (process driver)"]; tg.Met != nil || !strings.Contains(tg.Measured, "not run") {
		t.Errorf("creation rate without its scenario = %+v", tg)
	}
}
