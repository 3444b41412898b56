package tracestore

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

var _ sdktrace.SpanExporter = (*Store)(nil)

// ExportSpans stores the server's spans (sdktrace.SpanExporter), source SourceServer.
func (s *Store) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]Span, 0, len(spans))
	for _, ro := range spans {
		out = append(out, FromSDK(ro))
	}
	if err := s.Add(ctx, out); err != nil {
		s.opts.Logger.WarnContext(ctx, "keep server spans", "spans", len(out), "err", err)
		return err
	}
	return nil
}

// Shutdown does nothing: the store outlives the span processors and is closed by Close.
func (s *Store) Shutdown(context.Context) error { return nil }

// FromSDK converts a span the OpenTelemetry SDK ended into a server Span.
func FromSDK(ro sdktrace.ReadOnlySpan) Span {
	sc := ro.SpanContext()
	sp := Span{
		TraceID:    sc.TraceID().String(),
		SpanID:     sc.SpanID().String(),
		Name:       ro.Name(),
		Kind:       ro.SpanKind().String(),
		Start:      ro.StartTime(),
		End:        ro.EndTime(),
		StatusCode: "unset",
		Attributes: attrMap(ro.Attributes()),
		Scope:      ro.InstrumentationScope().Name,
		Source:     SourceServer,
	}
	if p := ro.Parent(); p.SpanID().IsValid() {
		sp.ParentSpanID = p.SpanID().String()
	}
	switch st := ro.Status(); st.Code {
	case codes.Error:
		sp.StatusCode, sp.StatusMessage = "error", st.Description
	case codes.Ok:
		sp.StatusCode = "ok"
	}
	if r := ro.Resource(); r != nil {
		sp.Resource = attrMap(r.Attributes())
	}
	return sp
}

// attrMap turns OpenTelemetry attributes into plain values.
func attrMap(kvs []attribute.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}
