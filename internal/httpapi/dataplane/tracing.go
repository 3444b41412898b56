package dataplane

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/telemetry/tracing"
)

// The data plane's part of a request's trace (see internal/httpapi.Trace for the server
// span): the server span learns the session and runtime it serves, and endpoint resolution
// gets a span of its own. Session acquisition (internal/session) and the proxied call
// (internal/proxy) make theirs.

const tracerName = "berth.dev/berth/internal/httpapi/dataplane"

// annotate records on the request's span which runtime, endpoint and session it serves:
// session.id is AgentCore's attribute for the runtime session id, and what
// GET /berth/v1/traces?session= finds traces by.
func annotate(ctx context.Context, addr address, sid string) {
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String("session.id", sid),
		attribute.String("berth.runtime.id", addr.RuntimeID),
		attribute.String("berth.endpoint", addr.Endpoint))
}

// tracedLiveVersion is liveVersion (endpoint resolution and the caller check) inside a
// ResolveEndpoint span that records the version resolved.
func (a *API) tracedLiveVersion(ctx context.Context, addr address) (catalog.Runtime, catalog.Endpoint, catalog.Version, error) {
	ctx, span := trace.SpanFromContext(ctx).TracerProvider().Tracer(tracerName).Start(ctx, "ResolveEndpoint",
		trace.WithAttributes(attribute.String("berth.runtime.id", addr.RuntimeID), attribute.String("berth.endpoint", addr.Endpoint)))
	defer span.End()
	rt, ep, v, err := a.liveVersion(ctx, addr)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	} else {
		span.SetAttributes(attribute.String("berth.runtime.version", strconv.Itoa(v.Number)))
	}
	return rt, ep, v, err
}

// traceparentOf returns the traceparent echoed to the caller and passed to the agent: the
// caller's own, else that of the request's server span, else a new one. (The proxy then
// replaces the agent's copy with its own span's: see internal/proxy.)
func traceparentOf(ctx context.Context, h http.Header) string {
	if tp := h.Get("Traceparent"); tp != "" {
		return tp
	}
	if tp := tracing.Traceparent(ctx); tp != "" {
		return tp
	}
	return newTraceparent()
}
