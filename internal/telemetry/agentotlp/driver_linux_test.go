package agentotlp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/process"
	"berth.dev/berth/internal/telemetry/agentotlp"
	"berth.dev/berth/internal/telemetry/tracestore"
	"berth.dev/berth/test/testagent"
)

// TestWrap_ProcessDriver: a sandbox of the wrapped process driver serves the endpoint on
// its own 127.0.0.1:4318, the agent is told about it (keeping a protocol its environment
// chose: here OTLP JSON), and the spans the agent's OpenTelemetry SDK exports there reach the
// receiver stamped, children of the traceparent the agent was called with. The sandbox keeps
// Exec, the driver Reclaim; Stop closes the endpoint.
func TestWrap_ProcessDriver(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("the process sandbox driver needs network namespaces (run as root): %v", err)
	}
	inner, err := process.New(process.Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	d := agentotlp.Wrap(inner, &agentotlp.Receiver{Store: s, Export: s, Labels: func(id string) (agentotlp.Labels, bool) {
		return testLabels, id == "otlp-sandbox-1"
	}})
	if _, ok := d.(sandbox.Reclaimer); !ok {
		t.Error("wrapped driver lost Reclaimer")
	}
	if d.Name() != "process" {
		t.Errorf("Name = %q", d.Name())
	}
	bin := testagent.Binary(t)
	sb, err := d.Start(t.Context(), sandbox.Spec{
		ID: "otlp-sandbox-1", CodeDir: filepath.Dir(bin), WorkDir: "/var/task",
		Command: []string{"/var/task/" + filepath.Base(bin)},
		Env:     []string{"PATH=/usr/bin:/bin", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json", "OTEL_SERVICE_NAME=otlp-test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	if _, ok := sb.(sandbox.Execer); !ok {
		t.Error("wrapped sandbox lost Execer")
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return sb.DialContext(ctx, "tcp", 8080)
	}}, Timeout: 20 * time.Second}
	defer client.CloseIdleConnections()
	waitPing(t, client)

	var env struct {
		Env []string `json:"env"`
	}
	call(t, client, `{"op":"env"}`, nil, &env)
	joined := strings.Join(env.Env, "\n")
	for _, want := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"} {
		if !strings.Contains(joined, want+"\n") && !strings.HasSuffix(joined, want) {
			t.Errorf("agent environment lacks %s:\n%s", want, joined)
		}
	}
	if strings.Count(joined, "OTEL_EXPORTER_OTLP_PROTOCOL=") != 1 {
		t.Errorf("protocol set twice:\n%s", joined)
	}

	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var out map[string]string
	call(t, client, `{"op":"trace"}`, http.Header{"Traceparent": {traceparent}}, &out)
	if out["export_error"] != "" || out["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || out["parent_span_id"] != "b7ad6b7169203331" {
		t.Fatalf("trace op answered %v", out)
	}
	s.mu.Lock()
	stored := append([]tracestore.Span(nil), s.stored...)
	s.mu.Unlock()
	if len(stored) != 2 {
		t.Fatalf("received %d spans: %+v", len(stored), stored)
	}
	byName := map[string]tracestore.Span{}
	for _, sp := range stored {
		byName[sp.Name] = sp
	}
	ag, chat := byName["invoke_agent testagent"], byName["chat testmodel"]
	if ag.TraceID != out["trace_id"] || ag.SpanID != out["span_id"] || ag.ParentSpanID != "b7ad6b7169203331" || chat.ParentSpanID != ag.SpanID {
		t.Errorf("span tree: %+v / %+v", ag, chat)
	}
	if chat.Kind != "client" || chat.Attributes["gen_ai.request.model"] != "testmodel" || chat.Attributes["gen_ai.usage.input_tokens"] != int64(12) ||
		!chat.End.After(chat.Start) {
		t.Errorf("chat span = %+v", chat)
	}
	for _, sp := range stored {
		if sp.SessionID() != testLabels.SessionID || sp.RuntimeID() != testLabels.RuntimeID || sp.Resource["service.name"] != "otlp-test" {
			t.Errorf("span %s not stamped: attributes %v resource %v", sp.Name, sp.Attributes, sp.Resource)
		}
	}

	if err := sb.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func waitPing(t *testing.T, c *http.Client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get("http://agent/ping")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent never answered /ping: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func call(t *testing.T, c *http.Client, body string, h http.Header, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://agent/invocations", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != 200 {
		t.Fatalf("invoke %s: HTTP %d", body, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
