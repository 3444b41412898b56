package tracing_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"berth.dev/berth/internal/telemetry/otlptest"
	"berth.dev/berth/internal/telemetry/tracestore"
	"berth.dev/berth/internal/telemetry/tracing"
)

// TestProvider_ExportsServerAndAgentSpans: server spans reach both the OTLP receiver (with
// the configured headers) and the local store; agent spans reach the receiver as sent; a
// root span under an X-Amzn-Trace-Id without a Parent joins that trace.
func TestProvider_ExportsServerAndAgentSpans(t *testing.T) {
	recv := otlptest.Start(t)
	store, err := tracestore.Open(t.Context(), filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	p, err := tracing.New(t.Context(), tracing.Options{Endpoint: recv.URL + "/", Headers: []string{"x-team = berth"}, Local: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tracing.Extract(t.Context(), http.Header{"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793"}})
	ctx, root := p.TracerProvider().Tracer("test").Start(ctx, "InvokeAgentRuntime")
	_, child := p.TracerProvider().Tracer("test").Start(ctx, "CallAgent")
	child.End()
	root.End()
	tid, pid := root.SpanContext().TraceID(), child.SpanContext().SpanID()
	p.ExportAgentSpans([]*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "session.id", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "s1"}}}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			TraceId: tid[:], SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, ParentSpanId: pid[:], Name: "agent-work",
		}}}},
	}})
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := recv.Spans()
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	const xrayTrace = "5759e988bd862e3fe1be46a994272793"
	r, c, a := byName["InvokeAgentRuntime"], byName["CallAgent"], byName["agent-work"]
	if len(spans) != 3 || r.TraceID != xrayTrace || r.ParentSpanID != "" || c.TraceID != xrayTrace || c.ParentSpanID != r.SpanID {
		t.Fatalf("server spans:\n%s", otlptest.Describe(spans))
	}
	if a.TraceID != xrayTrace || a.ParentSpanID != c.SpanID || a.Resource["session.id"] != "s1" {
		t.Errorf("agent span = %+v", a)
	}
	if r.Resource["service.name"] != "berth" {
		t.Errorf("server resource = %v", r.Resource)
	}
	for _, h := range recv.Headers() {
		if h.Get("X-Team") != "berth" {
			t.Errorf("export without the configured header: %v", h)
		}
	}
	local, err := store.Query(t.Context(), tracestore.Filter{TraceID: xrayTrace})
	if err != nil {
		t.Fatal(err)
	}
	if len(local) != 2 || local[0].Name != "InvokeAgentRuntime" || local[1].Name != "CallAgent" {
		t.Errorf("local store holds %+v", local)
	}
}

// TestProvider_LocalOnly: without an endpoint nothing is exported, the store still fills,
// and agent spans are accepted and ignored.
func TestProvider_LocalOnly(t *testing.T) {
	store, err := tracestore.Open(t.Context(), filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	p, err := tracing.New(t.Context(), tracing.Options{Local: store})
	if err != nil {
		t.Fatal(err)
	}
	_, s := p.TracerProvider().Tracer("test").Start(t.Context(), "ListAgentRuntimes")
	s.End()
	p.ExportAgentSpans([]*tracepb.ResourceSpans{{}})
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := store.Query(t.Context(), tracestore.Filter{})
	if err != nil || len(got) != 1 || got[0].Name != "ListAgentRuntimes" {
		t.Errorf("store = %+v, %v", got, err)
	}
}

func TestNew_BadHeader(t *testing.T) {
	if _, err := tracing.New(t.Context(), tracing.Options{Endpoint: "http://127.0.0.1:1", Headers: []string{"novalue"}}); err == nil {
		t.Error("New accepted a header without =")
	}
}
