package main

import (
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// figures are the numbers the targets are judged on, kept by the scenarios.
type figures struct {
	cold            map[string]map[string]stats.Summary // agent → method ("berth/process", "bare process", "bwrap", "crun") → time to first byte
	baselineSkipped []string
	creation        map[string]map[int]stats.Summary // driver → concurrency → sessions/s
	density         map[string]densityFigure         // driver → figure
	invokeStored    map[int]stats.Summary            // stored runtimes → warm invoke
}

func newFigures() figures {
	return figures{
		cold:     map[string]map[string]stats.Summary{},
		creation: map[string]map[int]stats.Summary{},
		density:  map[string]densityFigure{},
	}
}

// judge records the start-up, density and creation targets (bench/load judges
// the warm, streaming and payload ones). A target whose driver or feature does not exist
// yet is "not measurable" with the reason, and notes what the process driver measured under
// the same definition; in -short mode nothing is judged on speed.
func judge(s *suite) {
	r, f := s.report, s.figs
	notJudged := func(name, goal, measured, note string) {
		r.Judge(name, goal, measured, nil, note)
	}
	verdict := func(name, goal, measured string, met bool, note string) {
		if s.cfg.Short {
			r.Judge(name, goal, measured, nil, "short run: not judged; "+note)
			return
		}
		r.Judge(name, goal, measured, stats.Bool(met), note)
	}
	ms := func(x float64) string { return harness.Num(x) + " ms" }
	p50 := func(agent, method string) (float64, bool) {
		sum, ok := f.cold[agent][method]
		return sum.Median, ok && sum.N > 0
	}
	ref := func(agent string) string { // what the process driver did, for the notes
		v, ok := p50(agent, berthMethodName("process"))
		if !ok {
			return ""
		}
		parts := []string{"process driver (no pool): " + ms(v) + " p50"}
		for _, b := range []string{"bare process", "crun"} {
			if x, ok := p50(agent, b); ok && x > 0 {
				parts = append(parts, harness.Num(v/x)+"× "+b)
			}
		}
		return strings.Join(parts, ", ")
	}
	unavailable := func(driver string) string {
		why, ok := s.missing[driver]
		if !ok {
			return ""
		}
		return "not measurable: " + driver + " driver " + strings.TrimPrefix(why, "driver ")
	}
	ranCold := s.ran["cold-start"]

	// Warm pools.
	const noPools = "not measurable: no warm pools yet"
	notJudged("warm-pool hit: new session → first byte, trivial agent", "≤ 5 ms p50 above a warm call", noPools, ref(agentGo))
	notJudged("warm-pool hit: new session → first byte, heavy Python agent (~1.5 s imports)", "≤ 5 ms p50 above a warm call", noPools, ref(agentHeavy))

	// linuxns pool misses.
	crunNote := func() string {
		if slices.ContainsFunc(f.baselineSkipped, func(x string) bool { return strings.HasPrefix(x, "crun") }) {
			return "crun not installed: the ratio part is unjudged"
		}
		return ""
	}
	switch why := unavailable("linuxns"); {
	case why != "":
		notJudged("linuxns pool miss: Go agent cold start", "≤ 12 ms p50, and ≤ 0.6× crun in the same run", why, ref(agentGo))
		notJudged("linuxns pool miss: Python agent cold start", "≤ 1.2× bare process p50", why, ref(agentPy))
	case !ranCold:
		notJudged("linuxns pool miss: Go agent cold start", "≤ 12 ms p50, and ≤ 0.6× crun in the same run", "not measured: cold-start scenario not run", "")
		notJudged("linuxns pool miss: Python agent cold start", "≤ 1.2× bare process p50", "not measured: cold-start scenario not run", "")
	default:
		g, _ := p50(agentGo, berthMethodName("linuxns"))
		met, measured := g <= 12, ms(g)
		if c, ok := p50(agentGo, "crun"); ok && c > 0 {
			met = met && g <= 0.6*c
			measured += fmt.Sprintf(" (%s× crun)", harness.Num(g/c))
		}
		verdict("linuxns pool miss: Go agent cold start", "≤ 12 ms p50, and ≤ 0.6× crun in the same run", measured, met, crunNote())
		py, _ := p50(agentPy, berthMethodName("linuxns"))
		bare, _ := p50(agentPy, "bare process")
		verdict("linuxns pool miss: Python agent cold start", "≤ 1.2× bare process p50",
			fmt.Sprintf("%s (%s× bare %s)", ms(py), harness.Num(safeDiv(py, bare)), ms(bare)), bare > 0 && py <= 1.2*bare, "")
	}

	// gVisor.
	if why := unavailable("gvisor"); why != "" {
		notJudged("gvisor cold start", "≤ raw runsc in the same run", why, "")
	} else {
		notJudged("gvisor cold start", "≤ raw runsc in the same run", "not measurable: the harness has no raw runsc baseline yet", "")
	}

	// microVM.
	if why := unavailable("microvm"); why != "" || !ranCold {
		if why == "" {
			why = "not measured: cold-start scenario not run"
		}
		notJudged("microvm restore under TCG", "≤ 180 ms p50", why, "KVM figures: unmeasured (/dev/kvm on this machine kind is kvm_pvm, ISOLATION.md §4a)")
	} else {
		v, _ := p50(agentGo, berthMethodName("microvm"))
		verdict("microvm restore under TCG", "≤ 180 ms p50", ms(v), v <= 180, "Go agent; KVM figures: unmeasured")
	}

	// Density.
	densityRef := ""
	if fig, ok := f.density["process"]; ok {
		densityRef = fmt.Sprintf("process driver: %d held (stopped by the %s), %s MB each beyond the agent (agent's own %s MB)",
			fig.sessions, fig.stoppedBy, harness.Num(fig.beyondMB), harness.Num(fig.agentMB))
	}
	if why := unavailable("linuxns"); why != "" || !s.ran["density"] {
		if why == "" {
			why = "not measured: density scenario not run"
		}
		notJudged("idle linuxns sessions held at once", "≥ 500", why, densityRef)
		notJudged("host memory per idle linuxns session beyond the agent", "≤ 1 MB", why, densityRef)
	} else {
		fig := f.density["linuxns"]
		verdict("idle linuxns sessions held at once", "≥ 500", fmt.Sprintf("%d (stopped by the %s)", fig.sessions, fig.stoppedBy), fig.sessions >= 500, "")
		verdict("host memory per idle linuxns session beyond the agent", "≤ 1 MB", harness.Num(fig.beyondMB)+" MB", fig.beyondMB <= 1, "method: bench/density.go")
	}

	// Creation rate: every creation is a pool miss today, on every driver.
	for _, env := range s.envs {
		name := "sessions created per second on pool misses (" + env.Driver + " driver)"
		byC, ok := f.creation[env.Driver]
		if !ok || !s.ran["creation-rate"] {
			notJudged(name, "≥ 20 sessions/s", "not measured: creation-rate scenario not run", "")
			continue
		}
		bestC, best := 0, 0.0
		var all []string
		for _, c := range creationConcurrency {
			m := byC[c].Median
			all = append(all, fmt.Sprintf("c=%d: %s", c, harness.Num(m)))
			if m > best {
				bestC, best = c, m
			}
		}
		verdict(name, "≥ 20 sessions/s", fmt.Sprintf("%s sessions/s (concurrency %d, median of batches)", harness.Num(best), bestC), best >= 20,
			"Go agent; "+strings.Join(all, ", "))
	}
}
