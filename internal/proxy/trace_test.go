package proxy_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/proxy"
	"berth.dev/berth/internal/telemetry/tracing"
)

// agent is a real HTTP server standing in for an agent; its transport dials it whatever the
// URL says, as a session's transport dials the sandbox.
func agent(t *testing.T, h http.HandlerFunc) http.RoundTripper {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// TestForward_CallAgentSpan: the proxied call is a client span under the request's span,
// and the agent receives that span's context — traceparent, tracestate, baggage and a
// rewritten X-Amzn-Trace-Id — in place of the caller's.
func TestForward_CallAgentSpan(t *testing.T) {
	var got http.Header
	tr := agent(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	caller := http.Header{
		"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"Tracestate":  {"vendor=x"},
		"Baggage":     {"tenant=acme"},
	}
	ctx := tracing.Extract(t.Context(), caller)
	ctx, server := tp.Tracer("test").Start(ctx, "InvokeAgentRuntime")
	out := caller.Clone()
	out.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	r := httptest.NewRequestWithContext(ctx, "POST", "/runtimes/x/invocations", strings.NewReader("{}"))
	w := httptest.NewRecorder()
	if err := proxy.Forward(w, r, proxy.Target{Transport: tr, Port: 8080, Path: "/invocations", Header: out}); err != nil {
		t.Fatal(err)
	}
	server.End()

	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != "CallAgent" {
		t.Fatalf("spans %v", spans)
	}
	call := spans[0]
	if call.SpanKind() != trace.SpanKindClient || call.Parent().SpanID() != server.SpanContext().SpanID() ||
		call.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("CallAgent kind %v parent %s trace %s", call.SpanKind(), call.Parent().SpanID(), call.SpanContext().TraceID())
	}
	sid := call.SpanContext().SpanID().String()
	if want := "00-0af7651916cd43dd8448eb211c80319c-" + sid + "-01"; got.Get("Traceparent") != want {
		t.Errorf("agent got traceparent %q, want %q", got.Get("Traceparent"), want)
	}
	if got.Get("Tracestate") != "vendor=x" || got.Get("Baggage") != "tenant=acme" {
		t.Errorf("agent got tracestate %q baggage %q", got.Get("Tracestate"), got.Get("Baggage"))
	}
	if want := "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=" + sid + ";Sampled=1"; got.Get("X-Amzn-Trace-Id") != want {
		t.Errorf("agent got X-Amzn-Trace-Id %q, want %q", got.Get("X-Amzn-Trace-Id"), want)
	}
	attrs := map[string]string{}
	for _, kv := range call.Attributes() {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	if attrs["http.response.status_code"] != "200" || attrs["url.path"] != "/invocations" || attrs["server.port"] != "8080" || attrs["http.request.method"] != "POST" {
		t.Errorf("CallAgent attributes %v", attrs)
	}
}

// TestForward_CallAgentSpanOfFailure: an agent error ends the span with an error status.
func TestForward_CallAgentSpanOfFailure(t *testing.T) {
	tr := agent(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, server := tp.Tracer("test").Start(t.Context(), "InvokeAgentRuntime")
	r := httptest.NewRequestWithContext(ctx, "POST", "/x", strings.NewReader("{}"))
	if err := proxy.Forward(httptest.NewRecorder(), r, proxy.Target{Transport: tr, Port: 8080, Path: "/invocations"}); err == nil {
		t.Fatal("Forward succeeded on a 500")
	}
	server.End()
	call := rec.Ended()[0]
	if call.Name() != "CallAgent" || call.Status().Code != codes.Error || !strings.Contains(call.Status().Description, "HTTP 500") {
		t.Errorf("CallAgent %s status %v", call.Name(), call.Status())
	}
}
