package load

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/bench/stats"
)

const (
	scenarioWarm     = "warm overhead"
	targetWarm       = "warm overhead"
	goalWarm         = "≤ 0.3 ms p50 added (c=1, client signing excluded)"
	targetThroughput = "warm throughput"
	goalThroughput   = "≥ 0.8× direct at concurrency 32"
)

// warmPlan is how long the warm scenario runs at one concurrency.
type warmPlan struct {
	workers  int
	rounds   int           // alternating direct/berth rounds
	duration time.Duration // per round and endpoint (full runs)
	requests int           // per round and endpoint (short runs)
}

func (s *suite) warmPlans() []warmPlan {
	if s.size == Smoke {
		return []warmPlan{{workers: 1, rounds: 1, requests: 30}, {workers: 32, rounds: 1, requests: 32 * 5}}
	}
	return []warmPlan{{workers: 1, rounds: 2, duration: 2 * time.Second}, {workers: 32, rounds: 2, duration: 3 * time.Second}}
}

// invokeOp is one small JSON invocation (op incr) against e, its body read to the end.
func invokeOp(e *endpoint) Op {
	body := []byte(`{"op":"incr"}`)
	return func(ctx context.Context) (time.Duration, error) {
		req, cost, err := e.small(ctx, "application/json", body)
		if err != nil {
			return 0, err
		}
		resp, err := e.do(req)
		if err != nil {
			return cost, err
		}
		return cost, drain(resp)
	}
}

// warmRun is what the rounds of one endpoint at one concurrency add up to.
type warmRun struct {
	latencies, net, costs []time.Duration
	throughputs           []float64
	// CPU time used over the measured rounds by the process serving the requests (the
	// berth server, or the bare agent for direct) and by this client.
	procCPU, clientCPU time.Duration
}

// cpuPerRequest is w's CPU use per successful request in microseconds: the serving
// process's and the client's.
func (w *warmRun) cpuPerRequest() (proc, client float64) {
	n := float64(len(w.latencies))
	if n == 0 {
		return 0, 0
	}
	return float64(w.procCPU.Microseconds()) / n, float64(w.clientCPU.Microseconds()) / n
}

// warmFigures are the headline numbers of one concurrency level.
type warmFigures struct {
	direct, berth         stats.Summary // latency; Berth's without client signing
	directRPS, berthRPS   stats.Summary
	agentCPU, serverCPU   float64 // µs per request
	clientDirect, clientB float64 // µs per request
}

// warm measures invoke latency and throughput through Berth and directly, at concurrency 1
// and 32, alternating the two endpoints round by round so both see the same machine.
func (s *suite) warm(ctx context.Context, r *stats.Report) error {
	figs := map[int]warmFigures{}
	for _, p := range s.warmPlans() {
		berth, direct := s.pair(p.workers)
		runs := map[string]*warmRun{"direct": {}, "berth": {}}
		err := func() error {
			defer berth.close()
			defer direct.close()
			for _, e := range []*endpoint{direct, berth} {
				// Warm-up: opens the connections (and, through Berth, starts the session).
				if err := s.load(ctx, Generator{Workers: p.workers, Requests: p.workers * 10}, e, nil); err != nil {
					return err
				}
			}
			for range p.rounds {
				for _, e := range []*endpoint{direct, berth} {
					if err := s.load(ctx, Generator{Workers: p.workers, Requests: p.requests, Duration: p.duration}, e, runs[e.name]); err != nil {
						return err
					}
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
		d, b := runs["direct"], runs["berth"]
		f := warmFigures{
			direct: stats.Summarize("ms", stats.Millis(d.latencies)), berth: stats.Summarize("ms", stats.Millis(b.net)),
			directRPS: stats.Summarize("req/s", d.throughputs), berthRPS: stats.Summarize("req/s", b.throughputs),
		}
		f.agentCPU, f.clientDirect = d.cpuPerRequest()
		f.serverCPU, f.clientB = b.cpuPerRequest()
		figs[p.workers] = f
		conc := fmt.Sprintf("c=%d", p.workers)
		added := f.berth.Median - f.direct.Median
		ratio := safeDiv(f.berthRPS.Median, f.directRPS.Median)
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "latency, " + bare + ", " + conc, Summary: f.direct})
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "latency, " + s.berthLabel() + ", " + conc, Summary: f.berth,
			Note:  fmt.Sprintf("%+.3f ms p50 vs the bare process; client signing excluded", added),
			Extra: map[string]any{"added_p50_ms": round3(added)}})
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "latency, " + s.berthLabel() + " incl. signing, " + conc, Summary: stats.Summarize("ms", stats.Millis(b.latencies))})
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "client SigV4 signing, " + conc, Summary: stats.Summarize("ms", fineMillis(b.costs)),
			Note: "SHA-256 of the body plus the signature, per request, in the client"})
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "throughput, " + bare + ", " + conc, Summary: f.directRPS,
			Note:  fmt.Sprintf("%s; CPU per request: agent %.0f µs, client %.0f µs", roundsNote(p), f.agentCPU, f.clientDirect),
			Extra: map[string]any{"agent_cpu_us_per_request": round3(f.agentCPU), "client_cpu_us_per_request": round3(f.clientDirect)}})
		r.Add(stats.Result{Scenario: scenarioWarm, Case: "throughput, " + s.berthLabel() + ", " + conc, Summary: f.berthRPS,
			Note: fmt.Sprintf("%s; %.2f× the bare process; CPU per request: berth server %.0f µs (agent not counted), client %.0f µs",
				roundsNote(p), ratio, f.serverCPU, f.clientB),
			Extra: map[string]any{"ratio_to_direct": round3(ratio),
				"server_cpu_us_per_request": round3(f.serverCPU), "client_cpu_us_per_request": round3(f.clientB)}})
	}
	c1, c32 := figs[1], figs[32]
	s.warmAdded = c1.berth.Median - c1.direct.Median
	s.judge(r, targetWarm, goalWarm, fmt.Sprintf("%.3f ms", s.warmAdded), s.warmAdded <= 0.3,
		fmt.Sprintf("p50 %.3f ms through Berth vs %.3f ms to the bare process. The berth server spends %.0f µs of CPU per invoke "+
			"(the bare agent %.0f µs; /proc CPU times, 10 ms resolution): SigV4 verification, the runtime/endpoint lookup in the store and a second "+
			"HTTP exchange into the sandbox's network namespace, all on the 2 cores that also run the client and the agent.",
			c1.berth.Median, c1.direct.Median, c1.serverCPU, c1.agentCPU))
	ratio := safeDiv(c32.berthRPS.Median, c32.directRPS.Median)
	s.judge(r, targetThroughput, goalThroughput, fmt.Sprintf("%.2f× (%.0f vs %.0f req/s)", ratio, c32.berthRPS.Median, c32.directRPS.Median),
		ratio >= 0.8,
		fmt.Sprintf("CPU-bound: at c=32 the berth server needs %.0f µs of CPU per invoke against the bare agent's %.0f µs, "+
			"and the client, the server and the agent share 2 cores, so the server's per-request work caps the rate "+
			"at roughly 2 cores / (server + agent + client CPU per request).", c32.serverCPU, c32.agentCPU))
	return nil
}

// load runs g against e and, when into is non-nil, adds what it measured; any failed
// request fails the scenario.
func (s *suite) load(ctx context.Context, g Generator, e *endpoint, into *warmRun) error {
	pid := s.serverPID
	if e.creds == nil {
		pid = s.agentPID
	}
	cpu, err := startCPU(pid)
	if err != nil {
		return fmt.Errorf("warm load %s: %w", e.name, err)
	}
	out, err := g.Run(ctx, invokeOp(e))
	if err != nil {
		return fmt.Errorf("warm load %s: %w", e.name, err)
	}
	if err := cpu.stop(); err != nil {
		return fmt.Errorf("warm load %s: %w", e.name, err)
	}
	if out.Errors > 0 {
		return fmt.Errorf("warm load %s: %d of %d requests failed: %w", e.name, out.Errors, out.Errors+len(out.Latencies), out.FirstErr)
	}
	if into != nil {
		into.latencies = append(into.latencies, out.Latencies...)
		into.net = append(into.net, out.Net()...)
		into.costs = append(into.costs, out.ClientCosts...)
		into.throughputs = append(into.throughputs, out.Throughput())
		into.procCPU += cpu.Proc
		into.clientCPU += cpu.Self
	}
	return nil
}

func roundsNote(p warmPlan) string {
	if p.requests > 0 {
		return fmt.Sprintf("%d workers, closed loop, %d round(s) of %d requests", p.workers, p.rounds, p.requests)
	}
	return fmt.Sprintf("%d workers, closed loop, %d round(s) of %s", p.workers, p.rounds, p.duration)
}
