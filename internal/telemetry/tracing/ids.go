package tracing

import (
	"context"
	"crypto/rand"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// rootTraceKey carries the trace id a new root span must use: the Root of an
// X-Amzn-Trace-Id that has no Parent.
type rootTraceKey struct{}

// IDGenerator makes random ids, except that a root span started with a context from Extract
// of an X-Amzn-Trace-Id without a Parent gets that header's trace id: the caller's X-Ray
// trace then holds Berth's spans although it named no parent segment.
type IDGenerator struct{}

var _ sdktrace.IDGenerator = IDGenerator{}

// NewIDs returns the ids of a new root span.
func (g IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if tid, ok := ctx.Value(rootTraceKey{}).(trace.TraceID); ok && tid.IsValid() {
		return tid, g.NewSpanID(ctx, tid)
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		_, _ = rand.Read(tid[:])
	}
	return tid, g.NewSpanID(ctx, tid)
}

// NewSpanID returns a random span id.
func (IDGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		_, _ = rand.Read(sid[:])
	}
	return sid
}
