package proxy

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/telemetry/tracing"
)

// The proxied call is a client span, "CallAgent", a child of the request's span (its tracer
// is found through that span: a request without one records nothing). Its context replaces
// the trace headers of the request into the agent — traceparent, tracestate, baggage, and
// an X-Amzn-Trace-Id the caller sent — so the agent's own spans become its children.

const tracerName = "berth.dev/berth/internal/proxy"

// startCall starts the CallAgent span of t.
func startCall(ctx context.Context, r *http.Request, t Target) (context.Context, trace.Span) {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer(tracerName).Start(ctx, "CallAgent",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", t.Path),
			attribute.Int("server.port", t.Port),
			attribute.Bool("berth.proxy.upgrade", upgradeRequested(&http.Request{Header: t.Header}))))
}

// injectCall writes the CallAgent span's context into the request to the agent.
func injectCall(out *http.Request) { tracing.Inject(out.Context(), out.Header) }

// noteStatus records the agent's answer on the span.
func noteStatus(resp *http.Response) {
	if resp.Request != nil {
		trace.SpanFromContext(resp.Request.Context()).SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	}
}

// endCall ends the span with Forward's outcome.
func endCall(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
