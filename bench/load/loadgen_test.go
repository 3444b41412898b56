package load

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGenerator_Run_RequestCount(t *testing.T) {
	errOdd := errors.New("odd request")
	tests := []struct {
		name       string
		workers    int
		requests   int
		failEvery  int64 // every failEvery-th call fails; 0: none
		wantOK     int
		wantErrors int
	}{
		{name: "one worker", workers: 1, requests: 10, wantOK: 10},
		{name: "more workers than requests", workers: 8, requests: 3, wantOK: 3},
		{name: "many workers", workers: 32, requests: 1000, wantOK: 1000},
		{name: "failures are counted, not timed", workers: 4, requests: 100, failEvery: 2, wantOK: 50, wantErrors: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			out, err := Generator{Workers: tt.workers, Requests: tt.requests}.Run(t.Context(), func(context.Context) (time.Duration, error) {
				n := calls.Add(1)
				if tt.failEvery > 0 && n%tt.failEvery == 0 {
					return 0, errOdd
				}
				return time.Duration(n), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := int(calls.Load()); got != tt.requests {
				t.Errorf("op ran %d times, want %d", got, tt.requests)
			}
			got := map[string]int{"ok": len(out.Latencies), "costs": len(out.ClientCosts), "errors": out.Errors}
			want := map[string]int{"ok": tt.wantOK, "costs": tt.wantOK, "errors": tt.wantErrors}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if (tt.wantErrors > 0) != errors.Is(out.FirstErr, errOdd) {
				t.Errorf("FirstErr = %v with %d errors", out.FirstErr, out.Errors)
			}
			if out.Elapsed <= 0 {
				t.Errorf("Elapsed = %v", out.Elapsed)
			}
		})
	}
}

// TestGenerator_Run_Concurrency: all workers have a request in flight at once (each
// request waits for the others), and never more than Workers do.
func TestGenerator_Run_Concurrency(t *testing.T) {
	const workers = 16
	var (
		arrived        sync.WaitGroup
		all            = make(chan struct{})
		inflight, peak atomic.Int64
	)
	arrived.Add(workers)
	go func() { arrived.Wait(); close(all) }()
	first := make(chan struct{}, workers)
	for range workers {
		first <- struct{}{}
	}
	out, err := Generator{Workers: workers, Requests: workers * 20}.Run(t.Context(), func(context.Context) (time.Duration, error) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		select {
		case <-first: // one of the first workers requests: wait for all of them
			arrived.Done()
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				return 0, errors.New("fewer than Workers requests ran at once")
			}
		default:
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Errors > 0 {
		t.Fatal(out.FirstErr)
	}
	if p := peak.Load(); p != workers {
		t.Errorf("peak requests in flight = %d, want %d", p, workers)
	}
}

// TestGenerator_Run_Duration: with a duration bound the run ends by itself, after at least
// the duration, every worker having sent requests and every latency timed.
func TestGenerator_Run_Duration(t *testing.T) {
	const d = 30 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	out, err := Generator{Workers: 4, Duration: d}.Run(t.Context(), func(context.Context) (time.Duration, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Elapsed < d {
		t.Errorf("Elapsed = %v, shorter than the duration %v", out.Elapsed, d)
	}
	if len(starts) < 4 || len(out.Latencies) != len(starts) {
		t.Fatalf("%d requests started, %d timed", len(starts), len(out.Latencies))
	}
	for _, l := range out.Latencies {
		if l < time.Millisecond {
			t.Errorf("latency %v shorter than the op's sleep", l)
		}
	}
}

func TestGenerator_Run_Invalid(t *testing.T) {
	op := func(context.Context) (time.Duration, error) { return 0, nil }
	for _, g := range []Generator{{Workers: 0, Requests: 1}, {Workers: 1}, {Workers: 2, Requests: -1}} {
		if _, err := g.Run(t.Context(), op); err == nil {
			t.Errorf("%+v: no error", g)
		}
	}
}

func TestGenerator_Run_Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int64
	_, err := Generator{Workers: 2, Requests: 1000}.Run(ctx, func(context.Context) (time.Duration, error) {
		if calls.Add(1) == 10 {
			cancel()
		}
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := calls.Load(); n >= 1000 {
		t.Errorf("op ran %d times after the context ended", n)
	}
}

func TestOutcome_NetAndThroughput(t *testing.T) {
	o := Outcome{
		Latencies:   []time.Duration{3 * time.Millisecond, 5 * time.Millisecond},
		ClientCosts: []time.Duration{time.Millisecond, 0},
		Elapsed:     500 * time.Millisecond,
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Millisecond, 5 * time.Millisecond}, o.Net()); diff != "" {
		t.Errorf("Net (-want +got):\n%s", diff)
	}
	if got := o.Throughput(); got != 4 {
		t.Errorf("Throughput = %v, want 4", got)
	}
	if got := (Outcome{}).Throughput(); got != 0 {
		t.Errorf("empty Throughput = %v", got)
	}
}
