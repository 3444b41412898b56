package server_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/metering"
)

// TestUsage_BillsWhatSessionsUse runs real sessions of the Go test agent on the linuxns
// driver and reads their billing back through GET /berth/v1/usage:
//   - a session that burns about 2 s of CPU and then waits 5 s is billed about 2
//     vCPU-seconds (the wait is free), for its whole life in seconds;
//   - the tiny agent is billed the 128 MB memory floor for every second;
//   - a session shorter than a second is billed one second;
//   - after a restart on the same data directory the totals are the same, with nothing
//     counted twice.
func TestUsage_BillsWhatSessionsUse(t *testing.T) {
	dataDir := t.TempDir()
	ts := startServer(t, dataDir)
	id, arn := ts.deployAgent(t, "metered")

	busy := sid("busy")
	if status, body := ts.invoke(t, arn, busy, `{"op":"spin","ms":2000}`); status != http.StatusOK {
		t.Fatalf("spin: %d %s", status, body)
	}
	if status, body := ts.invoke(t, arn, busy, `{"op":"sleep","ms":5000}`); status != http.StatusOK {
		t.Fatalf("sleep: %d %s", status, body)
	}
	ts.stop(t, arn, busy)

	short := sid("short")
	if status, body := ts.invoke(t, arn, short, `{"op":"incr"}`); status != http.StatusOK {
		t.Fatalf("incr: %d %s", status, body)
	}
	ts.stop(t, arn, short)
	rec := ts.record(t, id, short)
	life := parseStamp(t, rec.EndedAt).Sub(parseStamp(t, rec.StartedAt))
	t.Logf("short session lived %v", life)

	bySession := ts.usage(t, "runtime="+id+"&groupBy=session")
	rows := map[string]usageRow{}
	for _, r := range bySession.Usage {
		rows[r.RuntimeSessionID] = r
	}
	if len(rows) != 2 {
		t.Fatalf("usage by session = %+v, want the 2 sessions", bySession.Usage)
	}
	b := rows[busy]
	t.Logf("busy session: %+v", b)
	if b.VCPUSeconds < 2*0.85 || b.VCPUSeconds > 2*1.15 {
		t.Errorf("busy session billed %.3f vCPU-s, want 2 ±15%% (the 5 s wait must be free)", b.VCPUSeconds)
	}
	busyRec := ts.record(t, id, busy)
	busyLife := parseStamp(t, busyRec.EndedAt).Sub(parseStamp(t, busyRec.StartedAt))
	if math.Abs(b.Seconds-busyLife.Seconds()) > 0.01 || busyLife < 7*time.Second {
		t.Errorf("busy session billed %.3f s of life, want its record's life %v (at least the 7 s of requests)", b.Seconds, busyLife)
	}
	floor := float64(metering.MinBilledMemory) / metering.GB
	if want := b.Seconds * floor; math.Abs(b.GBSeconds-want) > 1e-6 {
		t.Errorf("busy session billed %.6f GB-s for %.3f s, want the 128 MB floor: %.6f", b.GBSeconds, b.Seconds, want)
	}
	s := rows[short]
	t.Logf("short session: %+v", s)
	if life < time.Second {
		if math.Abs(s.Seconds-1) > 1e-9 {
			t.Errorf("session of %v billed %.6f s, want the 1 s minimum", life, s.Seconds)
		}
		if math.Abs(s.GBSeconds-floor) > 1e-9 {
			t.Errorf("session of %v billed %.6f GB-s, want one second at the floor (%.6f)", life, s.GBSeconds, floor)
		}
	} else {
		t.Errorf("the short session lived %v: cannot check the 1 s minimum", life)
	}

	before := ts.usage(t, "runtime="+id)
	p := before.Prices
	if p.CPUPerVCPUHour != metering.DefaultPrices.CPUPerVCPUHour || p.MemoryPerGBHour != metering.DefaultPrices.MemoryPerGBHour || p.Currency != "USD" {
		t.Errorf("prices %+v, want AgentCore's list prices", p)
	}
	tot := before.Total
	wantCost := tot.VCPUSeconds/3600*p.CPUPerVCPUHour + tot.GBSeconds/3600*p.MemoryPerGBHour
	if tot.Sessions != 2 || math.Abs(tot.Cost-wantCost) > 1e-12 || math.Abs(tot.VCPUSeconds-(b.VCPUSeconds+s.VCPUSeconds)) > 1e-9 {
		t.Errorf("total %+v, want 2 sessions, the sum of both, cost %.9f", tot, wantCost)
	}

	// Restart on the same data: the same totals, nothing lost or added.
	ts.Stop()
	ts2 := startServer(t, dataDir)
	after := ts2.usage(t, "runtime="+id)
	if after.Total != tot {
		t.Errorf("after a restart the total is %+v, want %+v", after.Total, tot)
	}
}

// TestUsage_Errors: bad queries fail in the AgentCore error shape, listing every problem,
// and the route needs a signature.
func TestUsage_Errors(t *testing.T) {
	ts := startServer(t, t.TempDir())
	status, body := ts.get(t, "/berth/v1/usage?groupBy=hour,day,color&from=yesterday&runtime=not/an/id")
	if status != http.StatusBadRequest {
		t.Fatalf("bad query: %d %s", status, body)
	}
	for _, want := range []string{`"__type":"ValidationException"`, `"groupBy"`, `"from"`, `"runtime"`, "color"} {
		if !contains(body, want) {
			t.Errorf("error body %s lacks %s", body, want)
		}
	}
	resp, err := http.Get(ts.URL + "/berth/v1/usage")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") == "" {
		t.Errorf("unsigned GET /berth/v1/usage: %d %q, want 403 with an AWS error type", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	empty := ts.usage(t, "groupBy=runtime,hour&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z")
	if len(empty.Usage) != 0 || empty.Total.Sessions != 0 || empty.Total.Cost != 0 || len(empty.GroupBy) != 2 {
		t.Errorf("usage of an empty server: %+v", empty)
	}
}

func parseStamp(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
