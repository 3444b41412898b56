package server_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// scrape reads GET /metrics (unauthenticated) into series → value.
func scrape(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetrics_CountScriptedWorkload runs a scripted workload — 3 good invocations in one
// session, 2 invocations the agent fails with a 500 (user errors: RuntimeClientError 424) in
// a second session — and checks the exact counts /metrics reports, then that the sessions
// are no longer active once stopped.
func TestMetrics_CountScriptedWorkload(t *testing.T) {
	ts := startServer(t, t.TempDir())
	id, arn := ts.deployAgent(t, "counted")
	good, bad := sid("good"), sid("bad")
	for range 3 {
		if status, body := ts.invoke(t, arn, good, `{"op":"incr"}`); status != http.StatusOK {
			t.Fatalf("incr: %d %s", status, body)
		}
	}
	for range 2 {
		if status, body := ts.invoke(t, arn, bad, `{"op":"write","name":"/no/such/dir/file","content":"x"}`); status != http.StatusFailedDependency {
			t.Fatalf("failing write: %d %s, want 424", status, body)
		}
	}
	m := scrape(t, ts)
	labels := `endpoint="DEFAULT",operation="InvokeAgentRuntime",runtime="` + id + `"`
	rt := `endpoint="DEFAULT",runtime="` + id + `"`
	want := map[string]float64{
		"berth_invocations_total{" + labels + "}":                                       5,
		"berth_user_errors_total{" + labels + "}":                                       2,
		"berth_invocation_duration_seconds_count{" + labels + "}":                       5,
		"berth_sessions_started_total{" + rt + "}":                                      2,
		"berth_sessions_active{" + rt + "}":                                             2,
		`berth_sandbox_starts_total{driver="linuxns",pool_hit="false"}`:                 2,
		`berth_sandbox_start_duration_seconds_count{driver="linuxns",pool_hit="false"}`: 2,
		`berth_pool_sandboxes{state="ready"}`:                                           0,
	}
	for series, v := range want {
		if got, ok := m[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	for _, absent := range []string{"berth_system_errors_total{" + labels + "}", "berth_throttles_total{" + labels + "}"} {
		if v, ok := m[absent]; ok && v != 0 {
			t.Errorf("%s = %v, want 0", absent, v)
		}
	}
	if m[`berth_proxy_bytes_total{direction="request"}`] != 3*float64(len(`{"op":"incr"}`)) {
		t.Errorf("request bytes %v, want the 3 good bodies", m[`berth_proxy_bytes_total{direction="request"}`])
	}
	if m[`berth_proxy_bytes_total{direction="response"}`] <= 0 {
		t.Errorf("no response bytes counted")
	}
	ts.stop(t, arn, good)
	ts.stop(t, arn, bad)
	m = scrape(t, ts)
	if v := m["berth_sessions_active{"+rt+"}"]; v != 0 {
		t.Errorf("active sessions after both stopped = %v", v)
	}
	if m["berth_cpu_used_vcpu_hours_total{"+rt+"}"] <= 0 || m["berth_memory_used_gb_hours_total{"+rt+"}"] <= 0 {
		t.Errorf("no CPU or memory usage counted: %v %v", m["berth_cpu_used_vcpu_hours_total{"+rt+"}"], m["berth_memory_used_gb_hours_total{"+rt+"}"])
	}
	if t.Failed() {
		for k, v := range m {
			if strings.HasPrefix(k, "berth_") {
				t.Logf("%s %v", k, v)
			}
		}
	}
}
