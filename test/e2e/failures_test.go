package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/test/testagent"
)

// processesUnder lists live processes whose executable or working directory lies under dir.
func processesUnder(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		for _, link := range []string{"exe", "cwd"} {
			target, err := os.Readlink(filepath.Join("/proc", e.Name(), link))
			if err == nil && strings.HasPrefix(target, dir+"/") {
				out = append(out, e.Name()+" ("+link+" "+target+")")
				break
			}
		}
	}
	return out
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInvoke_AgentFailures: an agent that exits at start, one that never becomes healthy,
// one that crashes on a request and one that crashes mid-stream: the caller gets a typed
// RuntimeClientError (or, once the stream has begun, a read error — never a clean end), and
// no agent process is left behind.
func TestInvoke_AgentFailures(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Sessions.InitTimeout = 2 * time.Second })
	img := testagent.Image(t)
	withEnv := func(env map[string]string) func(*cp.CreateAgentRuntimeInput) {
		return func(in *cp.CreateAgentRuntimeInput) { in.EnvironmentVariables = env }
	}
	exits := ts.deployImage(t, "exits", img, withEnv(map[string]string{"TESTAGENT_START": "exit"}))
	unhealthy := ts.deployImage(t, "unhealthy", img, withEnv(map[string]string{"TESTAGENT_START": "unhealthy"}))
	fine := ts.deployImage(t, "fine", img, nil)
	c := ts.Data()
	invoke := func(arn, session, payload string) (*bedrockagentcore.InvokeAgentRuntimeOutput, error) {
		return c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
			AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session),
			ContentType: aws.String("application/json"), Payload: []byte(payload),
		})
	}
	for _, tc := range []struct {
		name, arn, payload, want string
	}{
		{"exits at start", exits.ARN, `{"op":"incr"}`, "exited"},
		{"never healthy", unhealthy.ARN, `{"op":"incr"}`, "initialization time exceeded"},
		{"crashes on request", fine.ARN, `{"op":"crash"}`, "agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke(tc.arn, sid(strings.ReplaceAll(tc.name, " ", "-")), tc.payload)
			rce := asType[*dtypes.RuntimeClientError](t, err)
			if !strings.Contains(strings.ToLower(rce.ErrorMessage()), tc.want) {
				t.Errorf("message %q does not say %q", rce.ErrorMessage(), tc.want)
			}
			eventually(t, "no agent process left", func() bool { return len(processesUnder(ts.DataDir)) == 0 })
		})
	}
	t.Run("crashes mid-stream", func(t *testing.T) {
		out, err := invoke(fine.ARN, sid("mid"), `{"op":"crash-mid"}`)
		if err != nil {
			t.Fatalf("the stream should have started: %v", err)
		}
		_, err = io.ReadAll(out.Response)
		_ = out.Response.Close()
		if err == nil {
			t.Error("a stream cut by a crash ended cleanly; the caller cannot tell")
		}
		eventually(t, "no agent process left", func() bool { return len(processesUnder(ts.DataDir)) == 0 })
	})
	// After a crash the same session id starts afresh.
	if n := count(t, c, fine.ARN, sid("crashes-on-request")); n != 1 {
		t.Errorf("session after crash counted %d, want 1", n)
	}
}

// TestInvoke_ConcurrentFirstCalls: 50 concurrent first calls on one new session id are all
// served by one sandbox.
func TestInvoke_ConcurrentFirstCalls(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "concurrent", testagent.Image(t), nil)
	c := ts.Data()
	s := sid("fifty")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		pids   = map[float64]int{}
		counts = map[float64]bool{}
		errs   []error
	)
	for range 50 {
		wg.Go(func() {
			out, err := c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
				AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(s),
				ContentType: aws.String("application/json"), Payload: []byte(`{"op":"incr"}`),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			defer func() { _ = out.Response.Close() }()
			var m struct{ PID, Count float64 }
			if err := jsonDecode(out.Response, &m); err != nil {
				errs = append(errs, err)
				return
			}
			pids[m.PID]++
			counts[m.Count] = true
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d calls failed, first: %v", len(errs), errs[0])
	}
	if len(pids) != 1 || len(counts) != 50 {
		t.Errorf("50 calls saw %d agent processes and %d distinct counts; want 1 and 50", len(pids), len(counts))
	}
	recs := ts.sessions(t, "runtimeSessionId="+s)
	if len(recs) != 1 {
		t.Errorf("%d session records for one session id, want 1: %v", len(recs), recs)
	}
}

func jsonDecode(r io.Reader, v any) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %q: %w", raw, err)
	}
	return nil
}
