package load

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/bench/stats"
)

const (
	scenarioStreaming = "streaming"
	targetSSE         = "first SSE event"
	goalSSE           = "≤ 1 ms p50 added"
)

// firstEventBody asks the agent for two events 20 ms apart: a proxy that buffered until the
// stream ended would show the interval in the first event's latency.
var firstEventBody = []byte(`{"op":"sse","n":2,"interval_ms":20}`)

// firstEvent sends one SSE invocation and returns the time from sending (signing done) to
// the first complete event, and the signing cost.
func firstEvent(ctx context.Context, e *endpoint) (ttfe, cost time.Duration, err error) {
	req, cost, err := e.small(ctx, "application/json", firstEventBody)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	resp, err := e.do(req)
	if err != nil {
		return 0, cost, err
	}
	defer func() { _ = resp.Body.Close() }()
	n, err := readEvents(resp.Body, func(data []byte) error {
		i, err := eventIndex(data)
		if err != nil {
			return err
		}
		if ttfe == 0 {
			ttfe = time.Since(t0)
			if i != 0 {
				return fmt.Errorf("first event has index %d", i)
			}
		}
		return nil
	})
	if err != nil {
		return 0, cost, fmt.Errorf("sse via %s: %w", e.name, err)
	}
	if n != 2 {
		return 0, cost, fmt.Errorf("sse via %s: %d events, want 2", e.name, n)
	}
	return ttfe, cost, nil
}

// burst streams n events written back to back and returns how long they took from sending
// the request to the last event, checking they arrive complete and in order.
func burst(ctx context.Context, e *endpoint, n int) (time.Duration, error) {
	req, _, err := e.small(ctx, "application/json", fmt.Appendf(nil, `{"op":"burst","n":%d}`, n))
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	resp, err := e.do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	next := 0
	got, err := readEvents(resp.Body, func(data []byte) error {
		i, err := eventIndex(data)
		if err != nil {
			return err
		}
		if i != next {
			return fmt.Errorf("event %d arrived where %d was due", i, next)
		}
		next++
		return nil
	})
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("burst via %s: %w", e.name, err)
	}
	if got != n {
		return 0, fmt.Errorf("burst via %s: %d events, want %d", e.name, got, n)
	}
	return d, nil
}

// streaming measures the first SSE event's latency and the event rate, through Berth and
// directly, alternating the two request by request.
func (s *suite) streaming(ctx context.Context, r *stats.Report) error {
	reps, events, bursts := 100, 20000, 5
	switch s.size {
	case Smoke:
		reps, events, bursts = 5, 2000, 1
	case Reduced:
		reps, events, bursts = 30, 5000, 2
	}
	berth, direct := s.pair(1)
	defer berth.close()
	defer direct.close()
	ttfe := map[string][]time.Duration{}
	var costs []time.Duration
	for i := range reps + 2 { // the first two are warm-up
		for _, e := range []*endpoint{direct, berth} {
			d, c, err := firstEvent(ctx, e)
			if err != nil {
				return err
			}
			if i >= 2 {
				ttfe[e.name] = append(ttfe[e.name], d)
				if e == berth {
					costs = append(costs, c)
				}
			}
		}
	}
	rate := map[string][]float64{}
	for range bursts {
		for _, e := range []*endpoint{direct, berth} {
			d, err := burst(ctx, e, events)
			if err != nil {
				return err
			}
			rate[e.name] = append(rate[e.name], float64(events)/d.Seconds())
		}
	}
	dl, bl := stats.Summarize("ms", stats.Millis(ttfe["direct"])), stats.Summarize("ms", stats.Millis(ttfe["berth"]))
	added := bl.Median - dl.Median
	r.Add(stats.Result{Scenario: scenarioStreaming, Case: "first SSE event, " + bare, Summary: dl,
		Note: "request sent → first complete event; the agent writes it at once, the second 20 ms later"})
	r.Add(stats.Result{Scenario: scenarioStreaming, Case: "first SSE event, " + s.berthLabel(), Summary: bl,
		Note: fmt.Sprintf("%+.3f ms p50 vs the bare process; clock starts after client signing", added), Extra: map[string]any{"added_p50_ms": round3(added)}})
	r.Add(stats.Result{Scenario: scenarioStreaming, Case: "client SigV4 signing", Summary: stats.Summarize("ms", fineMillis(costs))})
	dr, br := stats.Summarize("events/s", rate["direct"]), stats.Summarize("events/s", rate["berth"])
	rateNote := fmt.Sprintf("%d events of about 56 bytes, each flushed by the agent", events)
	r.Add(stats.Result{Scenario: scenarioStreaming, Case: "event rate, " + bare, Summary: dr, Note: rateNote})
	r.Add(stats.Result{Scenario: scenarioStreaming, Case: "event rate, " + s.berthLabel(), Summary: br, Note: rateNote,
		Extra: map[string]any{"ratio_to_direct": round3(safeDiv(br.Median, dr.Median))}})
	note := fmt.Sprintf("p50 %.3f ms through Berth vs %.3f ms to the bare process. The first event pays what any invoke pays "+
		"(SigV4 verification, the runtime lookup, a second HTTP exchange; a warm JSON invoke adds %.3f ms in this run). "+
		"Berth passes %.2f× the bare process's event rate; it flushes every write of the agent.",
		bl.Median, dl.Median, s.warmAdded, safeDiv(br.Median, dr.Median))
	if s.warmAdded == 0 {
		note = fmt.Sprintf("p50 %.3f ms through Berth vs %.3f ms to the bare process; Berth passes %.2f× its event rate. "+
			"The first event pays what any invoke pays: SigV4 verification, the runtime lookup, a second HTTP exchange.",
			bl.Median, dl.Median, safeDiv(br.Median, dr.Median))
	}
	s.judge(r, targetSSE, goalSSE, fmt.Sprintf("%.3f ms", added), added <= 1, note)
	return nil
}
