package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/test/testagent"
)

// session ids must be 33–256 characters.
func sid(name string) string { return fmt.Sprintf("%-36s", "session-"+name+"-") + "0123456789" }

// invokeJSON invokes with a JSON payload and decodes the JSON answer.
func invokeJSON(t *testing.T, c *bedrockagentcore.Client, arn, session string, payload string) (map[string]any, *bedrockagentcore.InvokeAgentRuntimeOutput) {
	t.Helper()
	out, err := c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String(arn),
		RuntimeSessionId: aws.String(session),
		ContentType:      aws.String("application/json"),
		Payload:          []byte(payload),
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	defer func() { _ = out.Response.Close() }()
	raw, err := io.ReadAll(out.Response)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return m, out
}

func count(t *testing.T, c *bedrockagentcore.Client, arn, session string) int {
	t.Helper()
	m, out := invokeJSON(t, c, arn, session, `{"op":"incr"}`)
	if aws.ToString(out.RuntimeSessionId) != session {
		t.Errorf("session header echoed %q, want %q", aws.ToString(out.RuntimeSessionId), session)
	}
	return int(m["count"].(float64))
}

// TestInvoke_PythonZipSessions: a Python code-zip agent keeps in-memory state within a
// session, not across sessions, and StopRuntimeSession wipes it.
func TestInvoke_PythonZipSessions(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "py_agent", nil)
	c := ts.Data()
	a, b := sid("a"), sid("b")
	if n := count(t, c, rt.ARN, a); n != 1 {
		t.Errorf("first call in session a counted %d", n)
	}
	if n := count(t, c, rt.ARN, a); n != 2 {
		t.Errorf("second call in session a counted %d, want 2 (same sandbox)", n)
	}
	if n := count(t, c, rt.ARN, b); n != 1 {
		t.Errorf("session b counted %d, want 1 (its own sandbox)", n)
	}
	ctx := context.Background()
	if _, err := c.StopRuntimeSession(ctx, &bedrockagentcore.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(a)}); err != nil {
		t.Fatalf("stop session: %v", err)
	}
	_, err := c.StopRuntimeSession(ctx, &bedrockagentcore.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(a)})
	_ = asType[*dtypes.ResourceNotFoundException](t, err)
	if n := count(t, c, rt.ARN, a); n != 1 {
		t.Errorf("after StopRuntimeSession session a counted %d, want 1 (fresh sandbox)", n)
	}
	if n := count(t, c, rt.ARN, b); n != 2 {
		t.Errorf("session b counted %d after a was stopped, want 2", n)
	}
	// A retried stop with the same clientToken is answered like the first (the operation is
	// idempotent); a different token on the ended session is a 404.
	token := aws.String("stop-token-0123456789-0123456789-abcdef")
	stopB := &bedrockagentcore.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(b), ClientToken: token}
	for i := range 2 {
		if _, err := c.StopRuntimeSession(ctx, stopB); err != nil {
			t.Fatalf("stop b (try %d): %v", i+1, err)
		}
	}
	_, err = c.StopRuntimeSession(ctx, &bedrockagentcore.StopRuntimeSessionInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(b)})
	_ = asType[*dtypes.ResourceNotFoundException](t, err)
	env, _ := invokeJSON(t, c, rt.ARN, b, `{"op":"env"}`)
	if py, _ := env["python"].(string); !strings.HasPrefix(py, "3.") {
		t.Errorf("python version %q", py)
	}
}

// TestInvoke_GoImageContract: a Go agent shipped as an OCI image gets the environment and
// headers of the container contract, and never the caller's SigV4 Authorization.
func TestInvoke_GoImageContract(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "go_agent", testagent.Image(t), func(in *cp.CreateAgentRuntimeInput) {
		in.EnvironmentVariables = map[string]string{"USER_VAR": "from-version", "IMAGE_ENV": "overridden"}
		in.RequestHeaderConfiguration = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: []string{"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "X-Team"}}
	})
	c := ts.Data()
	s := sid("contract")
	out, err := c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String(rt.ARN),
		RuntimeSessionId: aws.String(s),
		ContentType:      aws.String("application/json"),
		Payload:          []byte(`{"op":"env"}`),
		TraceParent:      aws.String("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
	}, func(o *bedrockagentcore.Options) {
		o.APIOptions = append(o.APIOptions, addHeader("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "acme"), addHeader("X-Not-Listed", "secret"))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = out.Response.Close() }()
	var m struct {
		Env     []string          `json:"env"`
		Headers map[string]string `json:"headers"`
		Cwd     string            `json:"cwd"`
	}
	if err := json.NewDecoder(out.Response).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ContentType) != "application/json" || aws.ToString(out.TraceParent) == "" {
		t.Errorf("content type %q traceparent %q", aws.ToString(out.ContentType), aws.ToString(out.TraceParent))
	}
	env := map[string]string{}
	for _, kv := range m.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"AWS_REGION": "us-east-1", "DOCKER_CONTAINER": "1", "USER_VAR": "from-version", "IMAGE_ENV": "overridden", "PORT": "8080",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.Contains(env["OTEL_RESOURCE_ATTRIBUTES"], "cloud.resource_id="+rt.ARN) {
		t.Errorf("OTEL_RESOURCE_ATTRIBUTES = %q", env["OTEL_RESOURCE_ATTRIBUTES"])
	}
	h := m.Headers
	if h["X-Amzn-Bedrock-Agentcore-Runtime-Session-Id"] != s || h["X-Amzn-Bedrock-Agentcore-Runtime-Request-Id"] == "" {
		t.Errorf("platform headers missing: %v", h)
	}
	// The caller's trace goes on into the agent, under Berth's CallAgent span: same trace
	// id and flags, Berth's span as the parent.
	if tp := h["Traceparent"]; !strings.HasPrefix(tp, "00-0af7651916cd43dd8448eb211c80319c-") || strings.Contains(tp, "b7ad6b7169203331") || !strings.HasSuffix(tp, "-01") {
		t.Errorf("traceparent not continued under Berth's CallAgent span: %q", tp)
	}
	if h["X-Amzn-Bedrock-Agentcore-Runtime-Custom-Tenant"] != "acme" {
		t.Errorf("allow-listed header missing: %v", h)
	}
	for _, banned := range []string{"Authorization", "X-Not-Listed", "X-Amz-Date", "X-Amz-Content-Sha256"} {
		if _, ok := h[banned]; ok {
			t.Errorf("header %s reached the agent", banned)
		}
	}
}

// TestInvoke_Errors: addressing and validation errors are typed.
func TestInvoke_Errors(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "errs", nil)
	c := ts.Data()
	ctx := context.Background()
	call := func(arn, session, qualifier string) error {
		in := &bedrockagentcore.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(arn), Payload: []byte(`{"op":"incr"}`), ContentType: aws.String("application/json")}
		if session != "" {
			in.RuntimeSessionId = aws.String(session)
		}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		out, err := c.InvokeAgentRuntime(ctx, in)
		if err == nil {
			_ = out.Response.Close()
		}
		return err
	}
	_ = asType[*dtypes.ResourceNotFoundException](t, call(strings.Replace(rt.ARN, rt.ID, "nosuch-0123456789", 1), sid("x"), ""))
	_ = asType[*dtypes.ResourceNotFoundException](t, call(rt.ARN, sid("x"), "NOPE"))
	_ = asType[*dtypes.ValidationException](t, call(rt.ARN, "too-short", ""))
	_ = asType[*dtypes.ValidationException](t, call(rt.ID, sid("x"), "")) // bare id without accountId
	if err := call(rt.ARN, "", ""); err != nil {                          // SDK generates a session id
		t.Errorf("invoke without a session id: %v", err)
	}
	// A bare id with accountId works.
	out, err := c.InvokeAgentRuntime(ctx, &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(rt.ID), AccountId: aws.String("000000000000"), RuntimeSessionId: aws.String(sid("bare")),
		Payload: []byte(`{"op":"incr"}`), ContentType: aws.String("application/json"),
	})
	if err != nil {
		t.Fatalf("bare id + accountId: %v", err)
	}
	_ = out.Response.Close()

	// A runtime whose version is not READY yet is a ConflictException.
	ts.upload(t, "agents", "bad.zip", []byte("not a zip"))
	bad, err := ts.Control().CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName: aws.String("not_ready"), AgentRuntimeArtifact: codeArtifact("agents", "bad.zip"),
		RoleArn: testRole, NetworkConfiguration: testNetwork,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ts.Control(), aws.ToString(bad.AgentRuntimeId), nil)
	_ = asType[*dtypes.ConflictException](t, call(aws.ToString(bad.AgentRuntimeArn), sid("x"), ""))
}

// TestArtifacts_CollectedWhenUnused: a prepared tree stays while a version needs it and is
// removed after its runtime is deleted.
func TestArtifacts_CollectedWhenUnused(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Artifacts.GCGrace = time.Millisecond })
	rt := ts.deployPython(t, "gc_agent", nil)
	trees := func() []string {
		entries, _ := os.ReadDir(filepath.Join(ts.DataDir, "cache", "code"))
		var out []string
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	if len(trees()) != 1 {
		t.Fatalf("prepared trees after deploy: %v, want 1", trees())
	}
	if n := count(t, ts.Data(), rt.ARN, sid("gc")); n != 1 {
		t.Errorf("count %d", n)
	}
	if _, err := ts.Control().DeleteAgentRuntime(context.Background(), &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(rt.ID)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unused tree to be collected", func() bool { return len(trees()) == 0 })
	recs := ts.sessions(t, "agentRuntimeId="+rt.ID)
	if len(recs) != 1 || recs[0].EndReason != "runtime_deleted" {
		t.Errorf("session of the deleted runtime: %+v, want ended with runtime_deleted", recs)
	}
}

// TestInvoke_SessionLogKeepsAgentOutput: the agent's output, and any launch notice (such as
// a substitute interpreter), are kept in the session's log file.
func TestInvoke_SessionLogKeepsAgentOutput(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "logged", nil) // asks for PYTHON_3_13, which this host may not have
	s := sid("logged")
	_ = count(t, ts.Data(), rt.ARN, s)
	recs := ts.sessions(t, "runtimeSessionId="+s)
	if len(recs) != 1 {
		t.Fatalf("records: %+v", recs)
	}
	path := filepath.Join(ts.DataDir, "sessions", recs[0].ID+".log")
	eventually(t, "the agent's request log line", func() bool {
		raw, _ := os.ReadFile(path)
		return strings.Contains(string(raw), "POST /invocations")
	})
	raw, _ := os.ReadFile(path)
	if exact, err := exec.LookPath("python3.13"); err != nil && !strings.Contains(string(raw), "berth: PYTHON_3_13 requested") {
		t.Errorf("no interpreter notice in the session log (python3.13: %q):\n%s", exact, raw)
	}
}

// TestInvoke_RoutingFollowsUpdates: once an update is READY, new sessions run the new
// version at once (no stale routing), while a session started before keeps its version.
func TestInvoke_RoutingFollowsUpdates(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "moving", map[string]string{"MARK": "v1"})
	c := ts.Data()
	mark := func(session string) string {
		m, _ := invokeJSON(t, c, rt.ARN, session, `{"op":"env"}`)
		return m["env"].(map[string]any)["MARK"].(string)
	}
	if got := mark(sid("old")); got != "v1" {
		t.Fatalf("first session runs %s", got)
	}
	ctl := ts.Control()
	if _, err := ctl.UpdateAgentRuntime(context.Background(), &cp.UpdateAgentRuntimeInput{
		AgentRuntimeId: aws.String(rt.ID), AgentRuntimeArtifact: codeArtifact("agents", "moving.zip"),
		RoleArn: testRole, NetworkConfiguration: testNetwork, EnvironmentVariables: map[string]string{"MARK": "v2"},
	}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ctl, rt.ID, nil)
	if got := mark(sid("new")); got != "v2" {
		t.Errorf("a session started after the update runs %s, want v2", got)
	}
	if got := mark(sid("old")); got != "v1" {
		t.Errorf("the session started before the update runs %s, want v1 (pinned)", got)
	}
}
