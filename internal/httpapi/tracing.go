package httpapi

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/telemetry/tracing"
)

const tracerName = "berth.dev/berth/internal/httpapi"

// untraced paths make no span: probes and scrapes, and reading traces (which would fill the
// trace store with the act of reading it).
var untraced = map[string]bool{"/berth/v1/health": true, "/metrics": true, "/berth/v1/traces": true}

// Trace starts a server span for every request, the parent of every span made while serving
// it: the caller's traceparent/tracestate/baggage continue (or an X-Amzn-Trace-Id, see
// tracing.Extract). The span is named after the method and the area of the path ("PUT /s3",
// "GET /v2") until Handle names it after the AgentCore operation ("InvokeAgentRuntime"). It
// records the method, path, route, request id, status and, for errors, error.type (the
// X-Amzn-ErrorType of the answer); a 5xx sets the span's status to error. Put it inside
// RequestID.
func Trace(tp trace.TracerProvider, next http.Handler) http.Handler {
	tr := tp.Tracer(tracerName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if untraced[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		ctx := tracing.Extract(r.Context(), r.Header)
		ctx, span := tr.Start(ctx, r.Method+" "+area(r.URL.Path), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
				attribute.String("aws.request_id", RequestIDFrom(r.Context())),
				attribute.String("user_agent.original", r.UserAgent())))
		defer span.End()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 400 {
			typ := rec.Header().Get("X-Amzn-ErrorType")
			if typ == "" {
				typ = http.StatusText(status)
			}
			span.SetAttributes(attribute.String("error.type", typ))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// area is the first segment of path: the low-cardinality part a span is named after before
// its operation is known.
func area(path string) string {
	if i := strings.IndexByte(strings.TrimPrefix(path, "/"), '/'); i >= 0 {
		return path[:i+1]
	}
	return path
}

// operations name the routes' AgentCore operations (AGENTCORE-WIRE.md §2.1, §3.1), and
// Berth's own, by ServeMux pattern without its trailing "/{$}".
var operations = map[string]string{
	"PUT /runtimes":                                                           "CreateAgentRuntime",
	"POST /runtimes":                                                          "ListAgentRuntimes",
	"GET /runtimes/{agentRuntimeId}":                                          "GetAgentRuntime",
	"PUT /runtimes/{agentRuntimeId}":                                          "UpdateAgentRuntime",
	"DELETE /runtimes/{agentRuntimeId}":                                       "DeleteAgentRuntime",
	"POST /runtimes/{agentRuntimeId}/versions":                                "ListAgentRuntimeVersions",
	"PUT /runtimes/{agentRuntimeId}/runtime-endpoints":                        "CreateAgentRuntimeEndpoint",
	"POST /runtimes/{agentRuntimeId}/runtime-endpoints":                       "ListAgentRuntimeEndpoints",
	"GET /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}":         "GetAgentRuntimeEndpoint",
	"PUT /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}":         "UpdateAgentRuntimeEndpoint",
	"DELETE /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}":      "DeleteAgentRuntimeEndpoint",
	"POST /runtimes/{agentRuntimeArn}/invocations":                            "InvokeAgentRuntime",
	"GET /runtimes/{agentRuntimeArn}/invocations":                             "InvokeAgentRuntime",
	"DELETE /runtimes/{agentRuntimeArn}/invocations":                          "InvokeAgentRuntime",
	"POST /runtimes/{agentRuntimeArn}/stopruntimesession":                     "StopRuntimeSession",
	"GET /runtimes/{agentRuntimeArn}/ws":                                      "InvokeAgentRuntimeWebSocket",
	"POST /runtimes/{agentRuntimeArn}/commands":                               "InvokeAgentRuntimeCommand",
	"GET /runtimes/{agentRuntimeArn}/invocations/.well-known/agent-card.json": "GetAgentCard",
	"GET /berth/v1/sessions":                                                  "ListSessions",
	"GET /berth/v1/sessions/{id}":                                             "GetSession",
	"GET /berth/v1/usage":                                                     "GetUsage",
}

// nameSpan names the request's span after the operation its route serves (r.Pattern, set
// by the ServeMux), or after the route when it is not an AgentCore operation, and records
// the route as http.route.
func nameSpan(r *http.Request) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() || r.Pattern == "" {
		return
	}
	pattern := strings.TrimSuffix(r.Pattern, "/{$}")
	_, route, ok := strings.Cut(pattern, " ")
	if !ok {
		return // a catch-all without a method: an unknown operation keeps its provisional name
	}
	name, ok := operations[pattern]
	if !ok {
		name = pattern
	}
	span.SetName(name)
	span.SetAttributes(attribute.String("http.route", route))
}

// recordError notes on the request's span the error its handler returned (the internal
// cause: spans are for operators, the client sees the wire message only).
func recordError(r *http.Request, err error) {
	trace.SpanFromContext(r.Context()).RecordError(err)
}

// TraceAuthenticator wraps a with an "Authenticate" span, a child of the request's span,
// that records the access key id on success and the error type on failure.
func TraceAuthenticator(a Authenticator) Authenticator { return tracedAuth{a} }

type tracedAuth struct{ a Authenticator }

func (t tracedAuth) Authenticate(r *http.Request) (*http.Request, auth.Principal, error) {
	ctx, span := trace.SpanFromContext(r.Context()).TracerProvider().Tracer(tracerName).Start(r.Context(), "Authenticate",
		trace.WithAttributes(attribute.String("berth.auth.scheme", "sigv4")))
	defer span.End()
	r2, p, err := t.a.Authenticate(r.WithContext(ctx))
	if err != nil {
		_, body := Classify(err)
		span.SetAttributes(attribute.String("error.type", body.Type))
		span.SetStatus(codes.Error, body.Message)
		return r2, p, err
	}
	span.SetAttributes(attribute.String("aws.access_key_id", p.AccessKeyID))
	// The request goes on with the server span as its current span, not this one.
	return r2.WithContext(trace.ContextWithSpan(r2.Context(), trace.SpanFromContext(r.Context()))), p, nil
}
