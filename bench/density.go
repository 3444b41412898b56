package main

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/bench/stats"
)

// densityFigure is what the density scenario found for one driver.
type densityFigure struct {
	sessions   int
	stoppedBy  string  // "cap" or "memory"
	beyondMB   float64 // host memory per idle session beyond the agent's own
	agentMB    float64 // the agent's own private memory per session
	serverMB   float64 // server RSS growth per session
	totalMB    float64 // host memory used per session, agent included
	descendant int     // processes found below the server
}

// densityMemoryFloor stops the density scenario when MemAvailable falls below this share
// of MemTotal.
const densityMemoryFloor = 0.25

// densityCap is how many idle sessions the density scenario opens on driver: 500, the
// linuxns target, where a session costs little; fewer where each one is a gVisor sandbox
// (tens of MB, ~0.2 s to start) or a microVM under TCG (whose idle guests still tick).
func (s *suite) densityCap(driver string) int {
	switch driver {
	case "gvisor":
		return s.counts(60, 5)
	case "microvm":
		return s.counts(10, 3)
	default:
		return s.counts(500, 5)
	}
}

// density opens idle sessions of the Go agent (one invocation each, then left idle) until a
// cap or a memory floor, and measures the host memory they take.
//
// Method: host "used" memory is MemTotal − MemFree − Buffers − (Cached − Shmem) −
// SReclaimable from /proc/meminfo, the figure `free` reports. Page cache is left out, so
// the agents' program text (file-backed) does not count; tmpfs does. The agents' own memory
// is the sum of RssAnon + RssShmem over every process below the server (each session's
// agent; for drivers with helper processes, the helpers are counted as the agent's too, so
// the figure is a lower bound on machinery then). Per idle session beyond the agent =
// (Δused − Σ agents' own) ÷ sessions: the server's own growth (session records, proxies,
// goroutines), the kernel's per-sandbox objects (network namespace, task, page tables,
// sockets) and whatever a driver keeps per session. The server's RSS growth is reported
// beside it. Other activity on the host shows up in Δused, so the figure is noisy at small
// counts.
func density(ctx context.Context, s *suite) error {
	return s.eachDriver("density", func(env *harness.Env) error { return densityOn(ctx, s, env) })
}

// densityOn is the density scenario on one driver's server.
func densityOn(ctx context.Context, s *suite, env *harness.Env) error {
	limit := s.densityCap(env.Driver)
	d, err := s.deployedOn(ctx, env)
	if err != nil {
		return err
	}
	fig, sids, err := holdIdle(ctx, s, env, d.goARN, limit)
	if serr := stopSessions(ctx, env, d.goARN, sids); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	s.figs.density[env.Driver] = fig
	name := agentGo + " / " + berthMethodName(env.Driver)
	one := func(unit string, x float64) stats.Summary { return stats.Summarize(unit, []float64{x}) }
	s.report.Add(stats.Result{Scenario: "density", Case: name + ": idle sessions held", Summary: one("sessions", float64(fig.sessions)),
		Note: fmt.Sprintf("stopped by the %s (cap %d for this driver; MemAvailable floor %.0f%% of MemTotal); the linuxns target is ≥ 500", fig.stoppedBy, limit, densityMemoryFloor*100)})
	s.report.Add(stats.Result{Scenario: "density", Case: name + ": host memory per idle session beyond the agent", Summary: one("MB", fig.beyondMB),
		Note: "(Δ host used − Σ agents' RssAnon+RssShmem) ÷ sessions; see bench/density.go"})
	s.report.Add(stats.Result{Scenario: "density", Case: name + ": agent's own memory per session", Summary: one("MB", fig.agentMB),
		Note: fmt.Sprintf("RssAnon+RssShmem of the %d processes below the server ÷ sessions", fig.descendant)})
	s.report.Add(stats.Result{Scenario: "density", Case: name + ": server RSS growth per session", Summary: one("MB", fig.serverMB)})
	s.report.Add(stats.Result{Scenario: "density", Case: name + ": host memory per idle session, agent included", Summary: one("MB", fig.totalMB)})
	return nil
}

// holdIdle opens sessions in steps of 25 until limit or the memory floor, lets them settle,
// and measures; it returns the sessions it opened, for the caller to stop.
func holdIdle(ctx context.Context, s *suite, env *harness.Env, arn string, limit int) (densityFigure, []string, error) {
	fig := densityFigure{stoppedBy: "cap"}
	settle := time.Duration(s.counts(3000, 300)) * time.Millisecond
	time.Sleep(settle)
	hostBefore, err := harness.ReadHostMemory()
	if err != nil {
		return fig, nil, err
	}
	srvBefore, err := env.ServerMemory()
	if err != nil {
		return fig, nil, err
	}
	var sids []string
	for len(sids) < limit {
		step := min(25, limit-len(sids))
		got, _, err := startSessions(ctx, env, arn, step, 4)
		sids = append(sids, got...)
		if err != nil {
			return fig, sids, fmt.Errorf("after %d idle sessions: %w", len(sids), err)
		}
		h, err := harness.ReadHostMemory()
		if err != nil {
			return fig, sids, err
		}
		if float64(h.Available) < densityMemoryFloor*float64(h.Total) {
			fig.stoppedBy = "memory"
			break
		}
	}
	time.Sleep(settle)
	hostAfter, err := harness.ReadHostMemory()
	if err != nil {
		return fig, sids, err
	}
	srvAfter, err := env.ServerMemory()
	if err != nil {
		return fig, sids, err
	}
	pids, err := harness.Descendants(env.ServerPID)
	if err != nil {
		return fig, sids, err
	}
	var own int64
	for _, pid := range pids {
		m, err := harness.ReadProcMemory(pid)
		if err != nil {
			continue // exited meanwhile
		}
		own += m.RSSAnon + m.RSSShmem
	}
	n := float64(len(sids))
	const mb = 1 << 20
	used := float64(hostAfter.Used() - hostBefore.Used())
	fig.sessions = len(sids)
	fig.descendant = len(pids)
	fig.totalMB = used / n / mb
	fig.agentMB = float64(own) / n / mb
	fig.beyondMB = (used - float64(own)) / n / mb
	fig.serverMB = float64(srvAfter.RSS-srvBefore.RSS) / n / mb
	return fig, sids, nil
}
