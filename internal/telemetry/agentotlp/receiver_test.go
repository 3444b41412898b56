package agentotlp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"berth.dev/berth/internal/telemetry/agentotlp"
	"berth.dev/berth/internal/telemetry/tracestore"
)

// sink records what the receiver hands on: stored spans, exported resource spans, logs.
type sink struct {
	mu       sync.Mutex
	stored   []tracestore.Span
	exported []*tracepb.ResourceSpans
	logs     []*collogspb.ExportLogsServiceRequest
	logIDs   []string
}

func (s *sink) Add(_ context.Context, spans []tracestore.Span) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stored = append(s.stored, spans...)
	return nil
}

func (s *sink) ExportAgentSpans(rs []*tracepb.ResourceSpans) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exported = append(s.exported, rs...)
}

func (s *sink) AgentLogs(_ context.Context, sandboxID string, _ agentotlp.Labels, logs *collogspb.ExportLogsServiceRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, logs)
	s.logIDs = append(s.logIDs, sandboxID)
	return nil
}

var testLabels = agentotlp.Labels{RuntimeID: "hello-0123456789", RuntimeVersion: "3", Endpoint: "DEFAULT", SessionID: "sess-0123456789-0123456789-0123456789"}

func newReceiver(t *testing.T) (*sink, string) {
	t.Helper()
	s := &sink{}
	rc := &agentotlp.Receiver{Store: s, Export: s, Logs: s, Labels: func(id string) (agentotlp.Labels, bool) {
		if id == "sb-1" {
			return testLabels, true
		}
		return agentotlp.Labels{}, false
	}}
	srv := httptest.NewServer(rc.Handler("sb-1"))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func post(t *testing.T, url, contentType, encoding string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestReceiver_Traces_Protobuf: spans in binary protobuf (gzipped, as SDKs may send them)
// are stamped with the sandbox's labels — replacing what the agent claimed — then stored
// and exported.
func TestReceiver_Traces_Protobuf(t *testing.T) {
	s, url := newReceiver(t)
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", "my-agent"), strAttr("session.id", "spoofed")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "strands"}, Spans: []*tracepb.Span{{
			TraceId: mustHex("0af7651916cd43dd8448eb211c80319c"), SpanId: mustHex("00f067aa0ba902b7"), ParentSpanId: mustHex("b7ad6b7169203331"),
			Name: "chat gpt", Kind: tracepb.Span_SPAN_KIND_CLIENT, StartTimeUnixNano: 1_700_000_000_000_000_000, EndTimeUnixNano: 1_700_000_000_500_000_000,
			Attributes: []*commonpb.KeyValue{strAttr("gen_ai.request.model", "gpt"), {Key: "gen_ai.usage.input_tokens", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 12}}}},
			Status:     &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "rate limited"},
		}}}},
	}}}
	raw, _ := proto.Marshal(req)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	status, ct, body := post(t, url+"/v1/traces", "application/x-protobuf", "gzip", gz.Bytes())
	if status != 200 || ct != "application/x-protobuf" {
		t.Fatalf("status %d %s %s", status, ct, body)
	}
	var resp coltracepb.ExportTraceServiceResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		t.Errorf("response is not an ExportTraceServiceResponse: %v", err)
	}

	if len(s.stored) != 1 {
		t.Fatalf("stored %d spans", len(s.stored))
	}
	sp := s.stored[0]
	if sp.TraceID != "0af7651916cd43dd8448eb211c80319c" || sp.SpanID != "00f067aa0ba902b7" || sp.ParentSpanID != "b7ad6b7169203331" ||
		sp.Name != "chat gpt" || sp.Kind != "client" || sp.Source != tracestore.SourceAgent || sp.Scope != "strands" ||
		sp.StatusCode != "error" || sp.StatusMessage != "rate limited" || sp.End.Sub(sp.Start) != 500*time.Millisecond {
		t.Errorf("stored span = %+v", sp)
	}
	if sp.SessionID() != testLabels.SessionID || sp.RuntimeID() != testLabels.RuntimeID ||
		sp.Resource["berth.runtime.version"] != "3" || sp.Resource["berth.endpoint"] != "DEFAULT" || sp.Resource["service.name"] != "my-agent" ||
		sp.Attributes["session.id"] != testLabels.SessionID || sp.Attributes["gen_ai.usage.input_tokens"] != int64(12) {
		t.Errorf("stored span attributes %v resource %v", sp.Attributes, sp.Resource)
	}
	// The exported copy carries the same stamps, the agent's own session.id replaced.
	if len(s.exported) != 1 {
		t.Fatalf("exported %d resource spans", len(s.exported))
	}
	res := map[string]string{}
	for _, kv := range s.exported[0].GetResource().GetAttributes() {
		if _, dup := res[kv.GetKey()]; dup {
			t.Errorf("resource attribute %s twice", kv.GetKey())
		}
		res[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if res["session.id"] != testLabels.SessionID || res["berth.runtime.id"] != testLabels.RuntimeID || res["service.name"] != "my-agent" {
		t.Errorf("exported resource = %v", res)
	}
}

// TestReceiver_Traces_JSON: OTLP JSON — hex ids, enums as numbers, 64-bit times as strings
// or as numbers beyond a float's precision — decodes exactly.
func TestReceiver_Traces_JSON(t *testing.T) {
	s, url := newReceiver(t)
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-agent"}}]},
	 "scopeSpans":[{"scope":{"name":"openinference"},"spans":[{
	   "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"",
	   "name":"invoke_agent","kind":1,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000001,
	   "attributes":[{"key":"gen_ai.usage.output_tokens","value":{"intValue":"34"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"boolValue":true}]}}}],
	   "status":{"code":1}}]}]}]}`
	status, ct, resp := post(t, url+"/v1/traces", "application/json; charset=utf-8", "", []byte(body))
	if status != 200 || ct != "application/json" || strings.TrimSpace(string(resp)) != "{}" {
		t.Fatalf("answer %d %s %q", status, ct, resp)
	}
	if len(s.stored) != 1 {
		t.Fatalf("stored %d spans", len(s.stored))
	}
	sp := s.stored[0]
	if sp.TraceID != "5b8efff798038103d269b633813fc60c" || sp.SpanID != "eee19b7ec3c1b174" || sp.ParentSpanID != "" || sp.Kind != "internal" ||
		sp.StatusCode != "ok" || sp.Start.UnixNano() != 1544712660000000000 || sp.End.UnixNano() != 1544712661000000001 {
		t.Errorf("stored span = %+v (start %d end %d)", sp, sp.Start.UnixNano(), sp.End.UnixNano())
	}
	if tags, _ := sp.Attributes["tags"].([]any); len(tags) != 2 || tags[0] != "a" || tags[1] != true || sp.Attributes["gen_ai.usage.output_tokens"] != int64(34) {
		t.Errorf("attributes = %v", sp.Attributes)
	}
}

func TestReceiver_Rejects(t *testing.T) {
	_, url := newReceiver(t)
	for _, tc := range []struct {
		name, path, ct, enc, body string
		want                      int
	}{
		{"content type", "/v1/traces", "text/plain", "", "x", http.StatusUnsupportedMediaType},
		{"bad protobuf", "/v1/traces", "application/x-protobuf", "", "\xff\xff\xff", http.StatusBadRequest},
		{"bad json", "/v1/traces", "application/json", "", "{", http.StatusBadRequest},
		{"bad hex id", "/v1/traces", "application/json", "", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`, http.StatusBadRequest},
		{"bad gzip", "/v1/traces", "application/x-protobuf", "gzip", "not gzip", http.StatusBadRequest},
		{"encoding", "/v1/traces", "application/x-protobuf", "br", "", http.StatusBadRequest},
		{"path", "/v1/profiles", "application/x-protobuf", "", "", http.StatusNotFound},
	} {
		if status, _, body := post(t, url+tc.path, tc.ct, tc.enc, []byte(tc.body)); status != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, status, body, tc.want)
		}
	}
}

// TestReceiver_LogsAndMetrics: logs reach the sink stamped; metrics are accepted.
func TestReceiver_LogsAndMetrics(t *testing.T) {
	s, url := newReceiver(t)
	raw, _ := proto.Marshal(&collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "thinking"}}}}}},
	}}})
	if status, _, body := post(t, url+"/v1/logs", "application/x-protobuf", "", raw); status != 200 {
		t.Fatalf("logs: %d %s", status, body)
	}
	if len(s.logs) != 1 || s.logIDs[0] != "sb-1" {
		t.Fatalf("sink got %d log requests", len(s.logs))
	}
	rl := s.logs[0].GetResourceLogs()[0]
	if rl.GetScopeLogs()[0].GetLogRecords()[0].GetBody().GetStringValue() != "thinking" {
		t.Errorf("log record = %v", rl)
	}
	found := false
	for _, kv := range rl.GetResource().GetAttributes() {
		found = found || (kv.GetKey() == "session.id" && kv.GetValue().GetStringValue() == testLabels.SessionID)
	}
	if !found {
		t.Errorf("log resource not stamped: %v", rl.GetResource())
	}
	if status, _, body := post(t, url+"/v1/metrics", "application/json", "", []byte(`{"resourceMetrics":[]}`)); status != 200 {
		t.Errorf("metrics: %d %s", status, body)
	}
}
