package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// figures are the numbers the targets are judged on, kept by the scenarios.
type figures struct {
	cold            map[string]map[string]stats.Summary // agent → method ("berth/linuxns", "bare process", "bwrap", "crun", "runsc", …) → time to first byte
	startup         map[string]map[string]stats.Summary // agent → Berth method → server-side start-up of the same sessions
	baselineSkipped []string
	qemu            string                           // why the plain-QEMU baseline was not measured ("" when it was)
	pool            map[string]map[string]poolFigure // agent → driver → pool hits
	poolMissing     map[string]string                // driver → why its pool hits were not measured
	creation        map[string]map[int]stats.Summary // driver → concurrency → sessions/s
	density         map[string]densityFigure         // driver → figure
	invokeStored    map[int]stats.Summary            // stored runtimes → warm invoke
}

func newFigures() figures {
	return figures{
		cold:        map[string]map[string]stats.Summary{},
		startup:     map[string]map[string]stats.Summary{},
		pool:        map[string]map[string]poolFigure{},
		poolMissing: map[string]string{},
		creation:    map[string]map[int]stats.Summary{},
		density:     map[string]densityFigure{},
	}
}

// judge records the start-up, warm-pool, density and creation targets (bench/load
// judges the warm, streaming and payload ones). A target whose driver, baseline or scenario
// is missing is "not measurable" with the reason; a missed one carries what bounds it, from
// figures of the same run. In -short mode nothing is judged on speed.
func judge(s *suite) {
	j := judges{s: s, f: s.figs}
	j.pools()
	j.linuxns()
	j.gvisor()
	j.microvm()
	j.density()
	j.creation()
}

// judges holds the helpers the target groups share.
type judges struct {
	s *suite
	f figures
}

func (j judges) notJudged(name, goal, measured, note string) {
	j.s.report.Judge(name, goal, measured, nil, note)
}

func (j judges) verdict(name, goal, measured string, met bool, note string) {
	if j.s.cfg.Short {
		j.s.report.Judge(name, goal, measured, nil, strings.TrimSuffix("short run: not judged; "+note, "; "))
		return
	}
	j.s.report.Judge(name, goal, measured, stats.Bool(met), note)
}

// p50 is the median time to first byte of agent under method, if measured.
func (j judges) p50(agent, method string) (float64, bool) {
	sum, ok := j.f.cold[agent][method]
	return sum.Median, ok && sum.N > 0
}

// unavailable says why driver was not measured, or "".
func (j judges) unavailable(driver string) string {
	why, ok := j.s.missing[driver]
	if !ok {
		return ""
	}
	return "not measurable: " + driver + " driver " + strings.TrimPrefix(why, "driver ")
}

// coldMissing says why agent's cold start under driver has no figure, or "".
func (j judges) coldMissing(agent, driver string) string {
	if why := j.unavailable(driver); why != "" {
		return why
	}
	if _, ok := j.p50(agent, berthMethodName(driver)); !ok {
		if !j.s.ran["cold-start"] && agent != agentHeavy {
			return "not measured: cold-start scenario not run or failed"
		}
		return "not measured: the " + driver + " driver failed in this run (see the scenario's error)"
	}
	return ""
}

// baselineMissing says why a baseline has no figure for agent, or "".
func (j judges) baselineMissing(agent, name string) string {
	if _, ok := j.p50(agent, name); ok {
		return ""
	}
	for _, x := range j.f.baselineSkipped {
		if strings.HasPrefix(x, name) || strings.Contains(x, name+" baselines") {
			return "not measurable: " + x
		}
	}
	return "not measurable: no " + name + " figure in this run"
}

// breakdown splits Berth's p50 under driver into the server's start-up (sandbox start +
// first healthy /ping) and the rest of the path, and sets it beside the process driver
// and the bare process: what bounds the figure.
func (j judges) breakdown(agent, driver string) string {
	m := berthMethodName(driver)
	t, ok := j.p50(agent, m)
	if !ok {
		return ""
	}
	st := j.f.startup[agent][m].Median
	parts := []string{fmt.Sprintf("%s: %s ms p50 = server-side start-up %s ms (sandbox start + first healthy /ping) + %s ms of SigV4, store writes, proxying and the first request",
		m, harness.Num(t), harness.Num(st), harness.Num(t-st))}
	if driver != "process" {
		if p, ok := j.p50(agent, berthMethodName("process")); ok {
			parts = append(parts, fmt.Sprintf("the process driver (same path, no isolation) %s ms p50 with start-up %s ms",
				harness.Num(p), harness.Num(j.f.startup[agent][berthMethodName("process")].Median)))
		}
	}
	if b, ok := j.p50(agent, "bare process"); ok {
		parts = append(parts, fmt.Sprintf("the bare process %s ms", harness.Num(b)))
	}
	return strings.Join(parts, "; ")
}

// pools judges pool hits against a warm call on the linuxns driver, the default; the other
// drivers' figures go in the note.
func (j judges) pools() {
	const goal = "≤ 5 ms p50 above a warm call"
	for _, c := range []struct{ agent, label string }{
		{agentGo, "trivial Go agent"},
		{agentPy, "trivial Python agent"},
		{agentHeavy, fmt.Sprintf("heavy Python agent (~%.1f s imports)", harness.HeavyImportSeconds)},
	} {
		name := "warm-pool hit (linuxns driver): new session → first byte, " + c.label
		var others []string
		for _, env := range j.s.envs {
			if fig, ok := j.f.pool[c.agent][env.Driver]; ok && env.Driver != "linuxns" {
				others = append(others, fmt.Sprintf("%s: %s ms above (hit %s, warm %s)", env.Driver,
					harness.Num(fig.hit.Median-fig.warm.Median), harness.Num(fig.hit.Median), harness.Num(fig.warm.Median)))
			}
		}
		note := strings.Join(others, "; ")
		fig, ok := j.f.pool[c.agent]["linuxns"]
		switch {
		case j.unavailable("linuxns") != "":
			j.notJudged(name, goal, j.unavailable("linuxns"), note)
			continue
		case !j.s.ran["warm-pool"] && !ok:
			why := j.f.poolMissing["linuxns"]
			if why == "" {
				why = "not measured: warm-pool scenario not run"
			}
			j.notJudged(name, goal, why, note)
			continue
		case !ok || fig.hits == 0:
			j.notJudged(name, goal, "not measurable: no pool hit measured", note)
			continue
		}
		above := fig.hit.Median - fig.warm.Median
		measured := fmt.Sprintf("%s ms above (hit %s ms, warm call %s ms p50; %d of %d samples hits)", harness.Num(above),
			harness.Num(fig.hit.Median), harness.Num(fig.warm.Median), fig.hits, fig.hits+fig.misses)
		bound := fmt.Sprintf("server-side start-up of a hit (taking the pooled sandbox + one /ping, the \"startup\" of its log line) p50 %s ms; "+
			"the rest of the hit's excess over a warm call (creating the session and its record, the first connection into the sandbox) about %s ms",
			harness.Num(fig.startup.Median), harness.Num(fig.hit.Median-fig.startup.Median-fig.warm.Median))
		if miss, ok := j.p50(c.agent, berthMethodName("linuxns")); ok {
			bound += fmt.Sprintf("; a pool miss takes %s ms p50", harness.Num(miss))
		}
		j.verdict(name, goal, measured, above <= 5, joinNotes(bound, note))
	}
}

// linuxns judges the namespace driver's pool misses.
func (j judges) linuxns() {
	const goGoal, pyGoal = "≤ 12 ms p50, and ≤ 0.6× crun and ≤ 0.6× bwrap in the same run", "≤ 1.2× bare process p50"
	goName, pyName := "linuxns pool miss: Go agent cold start", "linuxns pool miss: Python agent cold start"
	if why := j.coldMissing(agentGo, "linuxns"); why != "" {
		j.notJudged(goName, goGoal, why, j.breakdown(agentGo, "process"))
	} else {
		g, _ := j.p50(agentGo, berthMethodName("linuxns"))
		met, measured := g <= 12, harness.Num(g)+" ms"
		var ratios, unjudged []string
		for _, b := range []string{"crun", "bwrap"} {
			if why := j.baselineMissing(agentGo, b); why != "" {
				unjudged = append(unjudged, b+" "+why)
				continue
			}
			x, _ := j.p50(agentGo, b)
			met = met && g <= 0.6*x
			ratios = append(ratios, fmt.Sprintf("%s× %s (%s ms)", harness.Num(g/x), b, harness.Num(x)))
		}
		if len(ratios) > 0 {
			measured += " (" + strings.Join(ratios, ", ") + ")"
		}
		note := j.breakdown(agentGo, "linuxns")
		if len(unjudged) > 0 {
			note = joinNotes("ratio part unjudged for: "+strings.Join(unjudged, "; "), note)
		}
		j.verdict(goName, goGoal, measured, met, note)
	}
	if why := j.coldMissing(agentPy, "linuxns"); why != "" {
		j.notJudged(pyName, pyGoal, why, j.breakdown(agentPy, "process"))
	} else if why := j.baselineMissing(agentPy, "bare process"); why != "" {
		j.notJudged(pyName, pyGoal, why, j.breakdown(agentPy, "linuxns"))
	} else {
		py, _ := j.p50(agentPy, berthMethodName("linuxns"))
		bare, _ := j.p50(agentPy, "bare process")
		j.verdict(pyName, pyGoal, fmt.Sprintf("%s ms (%s× bare %s ms)", harness.Num(py), harness.Num(py/bare), harness.Num(bare)),
			py <= 1.2*bare, j.breakdown(agentPy, "linuxns"))
	}
}

// gvisor judges the gvisor driver against raw runsc in the same run.
func (j judges) gvisor() {
	const goal = "≤ raw runsc p50 in the same run"
	for _, agent := range []string{agentGo, agentPy} {
		name := map[string]string{agentGo: "gvisor pool miss: Go agent cold start", agentPy: "gvisor pool miss: Python agent cold start"}[agent]
		runsc, haveRunsc := j.p50(agent, "runsc")
		refNote := ""
		if haveRunsc {
			refNote = fmt.Sprintf("raw runsc %s ms p50", harness.Num(runsc))
		}
		if why := j.coldMissing(agent, "gvisor"); why != "" {
			j.notJudged(name, goal, why, refNote)
			continue
		}
		if why := j.baselineMissing(agent, "runsc"); why != "" {
			j.notJudged(name, goal, why, j.breakdown(agent, "gvisor"))
			continue
		}
		g, _ := j.p50(agent, berthMethodName("gvisor"))
		j.verdict(name, goal, fmt.Sprintf("%s ms (%s× runsc %s ms)", harness.Num(g), harness.Num(g/runsc), harness.Num(runsc)),
			g <= runsc, joinNotes(j.breakdown(agent, "gvisor"), "the driver also runs runsc with --overlay2=all:memory and cgroup limits; see the runsc row for the baseline's flags"))
	}
}

// microvm judges the microVM driver's snapshot restore under TCG.
func (j judges) microvm() {
	const name, goal = "microvm restore under TCG", "≤ 180 ms p50 (Go agent, new session → first byte, pool miss)"
	kvm := "KVM: unmeasured (/dev/kvm on this machine class is kvm_pvm, which boots no stock guest kernel; ISOLATION.md §4a)"
	qemu := "plain-QEMU cold boot: " + j.f.qemu
	if q, ok := j.p50(agentGo, "qemu cold boot (TCG)"); ok {
		qemu = fmt.Sprintf("plain-QEMU cold boot (TCG, no snapshot) %s ms p50", harness.Num(q))
	}
	if why := j.coldMissing(agentGo, "microvm"); why != "" {
		j.notJudged(name, goal, why, joinNotes(kvm, qemu))
		return
	}
	v, _ := j.p50(agentGo, berthMethodName("microvm"))
	j.verdict(name, goal, harness.Num(v)+" ms", v <= 180, joinNotes(j.breakdown(agentGo, "microvm"), qemu, kvm))
}

// density judges idle linuxns sessions.
func (j judges) density() {
	ref := ""
	if fig, ok := j.f.density["process"]; ok {
		ref = fmt.Sprintf("process driver: %d held (stopped by the %s), %s MB each beyond the agent (agent's own %s MB)",
			fig.sessions, fig.stoppedBy, harness.Num(fig.beyondMB), harness.Num(fig.agentMB))
	}
	const heldName, memName = "idle linuxns sessions held at once", "host memory per idle linuxns session beyond the agent"
	fig, ok := j.f.density["linuxns"]
	if why := j.unavailable("linuxns"); why != "" || !ok {
		if why == "" {
			why = "not measured: density scenario not run or failed"
		}
		j.notJudged(heldName, "≥ 500", why, ref)
		j.notJudged(memName, "≤ 1 MB", why, ref)
		return
	}
	heldNote := ""
	if fig.sessions < 500 {
		heldNote = fmt.Sprintf("stopped by the %s; MemAvailable floor %.0f%% of MemTotal", fig.stoppedBy, densityMemoryFloor*100)
	}
	j.verdict(heldName, "≥ 500", fmt.Sprintf("%d (stopped by the %s)", fig.sessions, fig.stoppedBy), fig.sessions >= 500, heldNote)
	j.verdict(memName, "≤ 1 MB", harness.Num(fig.beyondMB)+" MB", fig.beyondMB <= 1,
		fmt.Sprintf("of which the server's RSS growth %s MB; the rest is the kernel's per-sandbox objects (namespaces, cgroup, mounts, tmpfs, sockets); "+
			"the agent's own memory (%s MB) is not counted; method: bench/density.go; %s",
			harness.Num(fig.serverMB), harness.Num(fig.agentMB), ref))
}

// creation judges sessions created per second on pool misses, per driver.
func (j judges) creation() {
	for _, env := range j.s.envs {
		if j.s.sitsOut(env.Driver) {
			continue // not measured (suite.eachDriver)
		}
		name := "sessions created per second on pool misses (" + env.Driver + " driver)"
		byC, ok := j.f.creation[env.Driver]
		if !ok {
			j.notJudged(name, "≥ 20 sessions/s", "not measured: creation-rate scenario not run or failed on this driver", "")
			continue
		}
		bestC, best := 0, 0.0
		var all []string
		for _, c := range slices.Sorted(maps.Keys(byC)) {
			m := byC[c].Median
			all = append(all, fmt.Sprintf("c=%d: %s", c, harness.Num(m)))
			if m > best {
				bestC, best = c, m
			}
		}
		j.verdict(name, "≥ 20 sessions/s", fmt.Sprintf("%s sessions/s (concurrency %d, median of batches)", harness.Num(best), bestC), best >= 20,
			"Go agent; "+strings.Join(all, ", "))
	}
}

// joinNotes joins the non-empty notes with "; ".
func joinNotes(notes ...string) string {
	return strings.Join(slices.DeleteFunc(notes, func(n string) bool { return n == "" }), "; ")
}
