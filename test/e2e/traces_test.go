package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/telemetry/otlptest"
	"berth.dev/berth/test/testagent"
)

// TestTraces_OneTraceFromCallerToAgent: an invocation carrying a traceparent produces the
// server's spans and the agent's in one trace, which a real OTLP/HTTP receiver gets from
// Berth's exporter: the server span is a child of the caller's span, the proxied call a
// child of it, and the spans the agent (the Go test agent, with the OpenTelemetry SDK and
// its OTLP/HTTP exporter, configured only by the environment Berth gives it) sent to the
// endpoint inside its sandbox are children of the proxied call, stamped with the session
// and runtime. Berth keeps the trace too: `berth traces --session` prints the tree.
func TestTraces_OneTraceFromCallerToAgent(t *testing.T) {
	recv := otlptest.Start(t)
	ts := startServer(t, func(cfg *config.Config) {
		cfg.Telemetry.OTLPEndpoint = recv.URL
		cfg.Telemetry.OTLPHeaders = []string{"x-berth-test=traces"}
		cfg.Sessions.PoolSize = 0 // a cold start, whose spans are all in the request's trace
	})
	rt := ts.deployImage(t, "traced_agent", testagent.Image(t), nil)
	const (
		callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		callerSpan  = "00f067aa0ba902b7"
	)
	session := sid("traced")
	out, err := ts.Data().InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String(rt.ARN),
		RuntimeSessionId: aws.String(session),
		ContentType:      aws.String("application/json"),
		Payload:          []byte(`{"op":"trace"}`),
		TraceParent:      aws.String("00-" + callerTrace + "-" + callerSpan + "-01"),
		Baggage:          aws.String("tenant=acme"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]string
	err = json.NewDecoder(out.Response).Decode(&answer)
	_ = out.Response.Close()
	if err != nil {
		t.Fatal(err)
	}
	if answer["export_error"] != "" || answer["endpoint"] != "http://127.0.0.1:4318" || answer["trace_id"] != callerTrace {
		t.Fatalf("the agent answered %v", answer)
	}

	inTrace := func(spans []otlptest.Span) map[string]otlptest.Span {
		m := map[string]otlptest.Span{}
		for _, s := range spans {
			if s.TraceID == callerTrace {
				m[s.Name] = s
			}
		}
		return m
	}
	want := []string{"InvokeAgentRuntime", "Authenticate", "ResolveEndpoint", "AcquireSession", "StartSandbox", "WaitAgentReady",
		"CallAgent", "invoke_agent testagent", "chat testmodel"}
	spans := inTrace(recv.WaitFor(t, 60*time.Second, func(spans []otlptest.Span) bool {
		got := inTrace(spans)
		for _, name := range want {
			if _, ok := got[name]; !ok {
				return false
			}
		}
		return true
	}))
	server, call, agentSpan, chat := spans["InvokeAgentRuntime"], spans["CallAgent"], spans["invoke_agent testagent"], spans["chat testmodel"]
	if server.ParentSpanID != callerSpan {
		t.Errorf("server span's parent = %s, want the caller's %s", server.ParentSpanID, callerSpan)
	}
	for _, name := range []string{"Authenticate", "ResolveEndpoint", "AcquireSession", "CallAgent"} {
		if spans[name].ParentSpanID != server.SpanID {
			t.Errorf("%s's parent = %s, want the server span %s", name, spans[name].ParentSpanID, server.SpanID)
		}
	}
	if agentSpan.ParentSpanID != call.SpanID || agentSpan.SpanID != answer["span_id"] || chat.ParentSpanID != agentSpan.SpanID {
		t.Errorf("agent spans: invoke_agent %s (parent %s), chat parent %s; CallAgent %s",
			agentSpan.SpanID, agentSpan.ParentSpanID, chat.ParentSpanID, call.SpanID)
	}
	if server.Attributes["session.id"] != session || server.Attributes["berth.runtime.id"] != rt.ID || server.Attributes["http.response.status_code"] != int64(200) {
		t.Errorf("server span attributes %v", server.Attributes)
	}
	for _, s := range []otlptest.Span{agentSpan, chat} {
		if s.Attributes["session.id"] != session || s.Resource["session.id"] != session || s.Resource["berth.runtime.id"] != rt.ID ||
			s.Resource["berth.endpoint"] != "DEFAULT" || s.Resource["berth.runtime.version"] != "1" || s.Resource["service.name"] != "traced_agent" {
			t.Errorf("agent span %q: attributes %v resource %v", s.Name, s.Attributes, s.Resource)
		}
	}
	if chat.Attributes["gen_ai.request.model"] != "testmodel" {
		t.Errorf("chat attributes %v", chat.Attributes)
	}
	if server.Resource["service.name"] != "berth" {
		t.Errorf("server resource %v", server.Resource)
	}
	for _, h := range recv.Headers() {
		if h.Get("X-Berth-Test") != "traces" {
			t.Errorf("an export without the configured header: %v", h)
		}
	}

	// berth traces --session prints the same trace as a tree: the agent's spans under the
	// proxied call, under the server span.
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), []string{"traces", "--session", session,
		"--endpoint", ts.URL, "--credentials", filepath.Join(ts.DataDir, "credentials")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("berth traces: exit %d: %s", code, stderr.String())
	}
	tree := stdout.String()
	t.Logf("berth traces --session %s:\n%s", session, tree)
	for _, re := range []string{
		`(?m)^Trace ` + callerTrace + `  `,
		`(?m)^  InvokeAgentRuntime  \S+  runtime=` + regexp.QuoteMeta(rt.ID) + `  endpoint=DEFAULT  session=` + regexp.QuoteMeta(session) + `  status=200$`,
		`(?m)^    AcquireSession  \S+  start=cold  pool_hit=false  driver=\w+  start_ms=\S+  version=1\n      StartSandbox  \S+  driver=\w+\n      WaitAgentReady  \S+$`,
		`(?m)^    CallAgent  \S+  status=200\n      invoke_agent testagent  \S+  \[agent\]\n        chat testmodel  \S+  \[agent\]  model=testmodel  input_tokens=12  output_tokens=34$`,
	} {
		if !regexp.MustCompile(re).MatchString(tree) {
			t.Errorf("berth traces output does not match %s:\n%s", re, tree)
		}
	}
	if strings.Contains(tree, "ERROR") {
		t.Errorf("berth traces shows an error:\n%s", tree)
	}

	// The session's record id (the first column of 'berth sessions') finds the same trace.
	recs := ts.sessions(t, "runtimeSessionId="+url.QueryEscape(session))
	if len(recs) != 1 {
		t.Fatalf("%d session records", len(recs))
	}
	stdout.Reset()
	code = cli.Main(context.Background(), []string{"traces", "--session", recs[0].ID, "-o", "json",
		"--endpoint", ts.URL, "--credentials", filepath.Join(ts.DataDir, "credentials")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("berth traces --session %s: exit %d: %s", recs[0].ID, code, stderr.String())
	}
	var listed struct {
		Spans []struct {
			TraceID, Name, Source string
		} `json:"spans"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	agentSpans := 0
	for _, s := range listed.Spans {
		if s.TraceID != callerTrace {
			t.Errorf("span %q of another trace %s", s.Name, s.TraceID)
		}
		if s.Source == "agent" {
			agentSpans++
		}
	}
	if len(listed.Spans) != 9 || agentSpans != 2 {
		t.Errorf("by record id: %d spans, %d from the agent: %+v", len(listed.Spans), agentSpans, listed.Spans)
	}
}
