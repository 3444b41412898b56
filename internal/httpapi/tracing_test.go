package httpapi_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
)

func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// fakeAuth accepts requests whose X-Key header is "good".
type fakeAuth struct{}

func (fakeAuth) Authenticate(r *http.Request) (*http.Request, auth.Principal, error) {
	if r.Header.Get("X-Key") != "good" {
		return nil, auth.Principal{}, fmt.Errorf("%w: bad key", errdefs.ErrUnauthenticated)
	}
	return r, auth.Principal{AccessKeyID: "AKIDTEST", Account: "000000000000"}, nil
}

// server builds the middleware stack of internal/server around a mux with one invoke route,
// one failing route and the health route, recording spans.
func server(t *testing.T) (*httptest.Server, *tracetest.SpanRecorder, *trace.SpanContext) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	logger := slog.New(slog.DiscardHandler)
	var seen trace.SpanContext // the current span the handler saw
	api := http.NewServeMux()
	api.Handle("POST /runtimes/{agentRuntimeArn}/invocations", httpapi.Handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		seen = trace.SpanContextFromContext(r.Context())
		_, _ = w.Write([]byte("ok"))
		return nil
	}))
	api.Handle("GET /runtimes/{agentRuntimeId}", httpapi.Handle(logger, func(http.ResponseWriter, *http.Request) error {
		return fmt.Errorf("%w: agent runtime x", errdefs.ErrNotFound)
	}))
	api.Handle("GET /berth/v1/custom", httpapi.Handle(logger, func(http.ResponseWriter, *http.Request) error {
		return errors.New("disk on fire")
	}))
	api.Handle("/", httpapi.UnknownOperation(logger))
	root := http.NewServeMux()
	root.HandleFunc("GET /berth/v1/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	root.Handle("/", httpapi.Authenticate(httpapi.TraceAuthenticator(fakeAuth{}), logger, api))
	h := httpapi.Trace(tp, httpapi.Recover(logger, root))
	srv := httptest.NewServer(httpapi.RequestID(h))
	t.Cleanup(srv.Close)
	return srv, rec, &seen
}

// answer is what do got back.
type answer struct {
	StatusCode int
	Header     http.Header
}

func do(t *testing.T, method, url string, h http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return answer{resp.StatusCode, resp.Header}
}

// TestTrace_InvokeContinuesCallerTrace: the server span of an invocation is a child of the
// caller's traceparent, named InvokeAgentRuntime, with the Authenticate span below it, and
// the handler runs with the server span current.
func TestTrace_InvokeContinuesCallerTrace(t *testing.T) {
	srv, rec, seen := server(t)
	resp := do(t, "POST", srv.URL+"/runtimes/arn%3Aaws/invocations", http.Header{
		"X-Key": {"good"}, "Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, "Baggage": {"tenant=acme"}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	authn, srvSpan := spans[0], spans[1]
	if srvSpan.Name() != "InvokeAgentRuntime" || srvSpan.SpanKind() != trace.SpanKindServer ||
		srvSpan.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || srvSpan.Parent().SpanID().String() != "b7ad6b7169203331" ||
		!srvSpan.Parent().IsRemote() {
		t.Errorf("server span %s kind %v trace %s parent %s", srvSpan.Name(), srvSpan.SpanKind(), srvSpan.SpanContext().TraceID(), srvSpan.Parent().SpanID())
	}
	a := attrsOf(srvSpan)
	if a["http.response.status_code"].AsInt64() != 200 || a["http.request.method"].AsString() != "POST" ||
		a["http.route"].AsString() != "/runtimes/{agentRuntimeArn}/invocations" || a["aws.request_id"].AsString() != resp.Header.Get("X-Amzn-Requestid") {
		t.Errorf("server span attributes %v", a)
	}
	if _, ok := a["error.type"]; ok || srvSpan.Status().Code != codes.Unset {
		t.Errorf("a 200 recorded an error: %v %v", a["error.type"], srvSpan.Status())
	}
	if authn.Name() != "Authenticate" || authn.Parent().SpanID() != srvSpan.SpanContext().SpanID() || attrsOf(authn)["aws.access_key_id"].AsString() != "AKIDTEST" {
		t.Errorf("authenticate span %s parent %s attrs %v", authn.Name(), authn.Parent().SpanID(), attrsOf(authn))
	}
	if seen.SpanID() != srvSpan.SpanContext().SpanID() {
		t.Errorf("the handler's current span is %s, want the server span %s", seen.SpanID(), srvSpan.SpanContext().SpanID())
	}
}

func TestTrace_Errors(t *testing.T) {
	srv, rec, _ := server(t)
	for _, tc := range []struct {
		method, path, key string
		status            int
		name, errType     string
		errStatus         bool
	}{
		{"GET", "/runtimes/x-0123456789", "good", 404, "GetAgentRuntime", "ResourceNotFoundException", false},
		{"GET", "/berth/v1/custom", "good", 500, "GET /berth/v1/custom", "InternalServerException", true},
		{"GET", "/runtimes/x-0123456789", "bad", 403, "GET /runtimes", "UnrecognizedClientException", false},
		{"PATCH", "/nowhere/at/all", "good", 404, "PATCH /nowhere", "UnknownOperationException", false},
	} {
		n := len(rec.Ended())
		if resp := do(t, tc.method, srv.URL+tc.path, http.Header{"X-Key": {tc.key}}); resp.StatusCode != tc.status {
			t.Fatalf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		var s sdktrace.ReadOnlySpan
		for _, e := range rec.Ended()[n:] {
			if e.SpanKind() == trace.SpanKindServer {
				s = e
			}
		}
		if s == nil {
			t.Fatalf("%s %s: no server span", tc.method, tc.path)
		}
		a := attrsOf(s)
		if s.Name() != tc.name || a["error.type"].AsString() != tc.errType || a["http.response.status_code"].AsInt64() != int64(tc.status) ||
			(s.Status().Code == codes.Error) != tc.errStatus {
			t.Errorf("%s %s: span %q attrs %v status %v", tc.method, tc.path, s.Name(), a, s.Status())
		}
	}
}

// TestTrace_XRayAndUntraced: an X-Amzn-Trace-Id parents the span when there is no
// traceparent; the health probe makes no span.
func TestTrace_XRayAndUntraced(t *testing.T) {
	srv, rec, _ := server(t)
	do(t, "POST", srv.URL+"/runtimes/a/invocations", http.Header{"X-Key": {"good"},
		"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}})
	spans := rec.Ended()
	s := spans[len(spans)-1]
	if s.SpanContext().TraceID().String() != "5759e988bd862e3fe1be46a994272793" || s.Parent().SpanID().String() != "53995c3f42cd8ad8" {
		t.Errorf("span trace %s parent %s", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	n := len(rec.Ended())
	do(t, "GET", srv.URL+"/berth/v1/health", nil)
	if got := len(rec.Ended()); got != n {
		t.Errorf("health made %d spans", got-n)
	}
}
