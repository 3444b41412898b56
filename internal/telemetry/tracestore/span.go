// Package tracestore keeps Berth's recent spans — the server's own and those agents send to
// the OTLP endpoint inside their sandboxes — in a SQLite file of their own
// (<dataDir>/traces.db, apart from the main store and its migrations), so that
// GET /berth/v1/traces and `berth traces` show a session's trace tree without any other
// service.
//
// The store is bounded: spans are dropped Retention after Berth stored them, and beyond
// MaxSpans the oldest go first (MaxSpans 0 keeps none). Both bounds are applied on every
// write; queries never return a span past its retention either.
//
// Store is an sdktrace.SpanExporter (the server's spans reach it through a batch span
// processor) and takes agent spans, already converted, through Add. A span's session and
// runtime — the "session.id" and "berth.runtime.id" attributes of the span or of its
// resource — are indexed, and a query returns whole traces: every kept span of each trace
// that has a matching span.
package tracestore

import "time"

// Sources of a span.
const (
	SourceServer = "server" // made by the Berth server
	SourceAgent  = "agent"  // sent by an agent to the OTLP endpoint in its sandbox
)

// Attribute keys the store indexes; they are also the keys Berth stamps.
const (
	AttrSessionID      = "session.id" // AgentCore's convention: the runtime session id
	AttrRuntimeID      = "berth.runtime.id"
	AttrRuntimeVersion = "berth.runtime.version"
	AttrEndpoint       = "berth.endpoint"
)

// Span is one kept span.
type Span struct {
	TraceID      string // 32 lowercase hex digits
	SpanID       string // 16 lowercase hex digits
	ParentSpanID string // "" for a root span
	Name         string
	Kind         string // internal, server, client, producer, consumer, or unspecified
	Start, End   time.Time
	// StatusCode is unset, ok or error; StatusMessage describes an error.
	StatusCode    string
	StatusMessage string
	Attributes    map[string]any // values: string, bool, int64, float64, or slices and maps of them
	Resource      map[string]any // the attributes of the resource that made the span
	Scope         string         // instrumentation scope name
	Source        string         // SourceServer or SourceAgent
}

// SessionID is the span's runtime session id: its own session.id attribute, else its
// resource's.
func (s Span) SessionID() string { return s.attr(AttrSessionID) }

// RuntimeID is the span's agent runtime id (berth.runtime.id), from the span or its resource.
func (s Span) RuntimeID() string { return s.attr(AttrRuntimeID) }

func (s Span) attr(key string) string {
	if v, ok := s.Attributes[key].(string); ok && v != "" {
		return v
	}
	if v, ok := s.Resource[key].(string); ok {
		return v
	}
	return ""
}
