package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Propagator is the propagation Berth speaks with callers and agents: W3C Trace Context
// (traceparent, tracestate) and W3C Baggage.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Extract returns ctx carrying the caller's trace context from h: traceparent and tracestate
// (the remote parent of the span started next) and baggage. Without a valid traceparent, an
// X-Amzn-Trace-Id is used: with a Parent field it is the remote parent; with only a Root,
// the span started next is a root span in that trace (see IDGenerator).
func Extract(ctx context.Context, h http.Header) context.Context {
	ctx = Propagator.Extract(ctx, propagation.HeaderCarrier(h))
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	x, ok := ParseXRay(h.Get(XRayHeader))
	if !ok {
		return ctx
	}
	if !x.ParentID.IsValid() {
		return context.WithValue(ctx, rootTraceKey{}, x.TraceID)
	}
	flags := trace.FlagsSampled
	if x.NotSample {
		flags = 0
	}
	return trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: x.TraceID, SpanID: x.ParentID, TraceFlags: flags, Remote: true,
	}))
}

// Inject writes the trace context of ctx's span into h (traceparent, tracestate, baggage),
// replacing what h had, and rewrites an X-Amzn-Trace-Id already in h to name the same span,
// so an agent that reads either continues the trace under that span. Without a valid span
// in ctx, h keeps its trace headers.
func Inject(ctx context.Context, h http.Header) {
	Propagator.Inject(ctx, propagation.HeaderCarrier(h))
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		if old := h.Get(XRayHeader); old != "" {
			h.Set(XRayHeader, FormatXRay(old, sc))
		}
	}
}

// Traceparent returns the W3C traceparent of ctx's span, or "" if it has none.
func Traceparent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}
