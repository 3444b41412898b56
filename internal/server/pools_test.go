package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"berth.dev/berth/internal/config"
)

// waitMetric polls /metrics until series has value want.
func waitMetric(t *testing.T, ts *testServer, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, ok := scrape(t, ts)[series]
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want %v after 60s", series, got, ok, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPools_WarmOnDeployRetireOnDelete shows the pool lifecycle the control plane drives: a
// version going READY fills its endpoint's pool before any invocation, so the very first
// session is a pool hit; a custom endpoint created on the version gets a pool of its own;
// deleting that endpoint empties its pool at once (not after sessions.poolIdle).
func TestPools_WarmOnDeployRetireOnDelete(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *config.Config) {
		c.Sessions.PoolSize = 1
		c.Sessions.PoolIdle = time.Hour // only the hooks may empty a pool here
		c.Sandbox.MemoryBytes = 256 << 20
	})
	id, arn := ts.deployAgent(t, "prewarmed")
	const ready = `berth_pool_sandboxes{state="ready"}`
	waitMetric(t, ts, ready, 1)

	if status, body := ts.invoke(t, arn, sid("first"), `{"op":"incr"}`); status != http.StatusOK {
		t.Fatalf("invoke: %d %s", status, body)
	}
	m := scrape(t, ts)
	if hits := m[`berth_sandbox_starts_total{driver="linuxns",pool_hit="true"}`]; hits != 1 {
		t.Fatalf("the first session after the deploy was not a pool hit: starts %v", m)
	}
	waitMetric(t, ts, ready, 1) // refilled

	c := ts.Control()
	ctx := context.Background()
	if _, err := c.CreateAgentRuntimeEndpoint(ctx, &cp.CreateAgentRuntimeEndpointInput{
		AgentRuntimeId: aws.String(id), Name: aws.String("canary"), AgentRuntimeVersion: aws.String("1"),
	}); err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	waitMetric(t, ts, ready, 2)

	if _, err := c.DeleteAgentRuntimeEndpoint(ctx, &cp.DeleteAgentRuntimeEndpointInput{
		AgentRuntimeId: aws.String(id), EndpointName: aws.String("canary"),
	}); err != nil {
		t.Fatalf("delete endpoint: %v", err)
	}
	waitMetric(t, ts, ready, 1)
}
