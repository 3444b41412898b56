package client

import (
	"context"
	"net/url"
	"strconv"
)

// Span is one span Berth kept: the server's own or one an agent sent to the OTLP endpoint in
// its sandbox. It is the wire shape of GET /berth/v1/traces, declared once: the server's
// handler writes it too.
type Span struct {
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId,omitempty"`
	Name         string `json:"name"`
	// Kind is internal, server, client, producer, consumer or unspecified.
	Kind  string `json:"kind"`
	Start string `json:"start"` // RFC 3339 with nanoseconds
	End   string `json:"end"`
	// Status is unset, ok or error; StatusMessage says what the error was.
	Status        string         `json:"status"`
	StatusMessage string         `json:"statusMessage,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	Resource      map[string]any `json:"resource,omitempty"`
	Scope         string         `json:"scope,omitempty"` // instrumentation scope
	Source        string         `json:"source"`          // "server" or "agent"
}

// TraceFilter narrows ListTraces; zero values match everything.
type TraceFilter struct {
	SessionID string // runtime session id (session.id)
	RuntimeID string // agentRuntimeId
	TraceID   string // 32 hex digits
	Limit     int    // the most recent traces to return; 0 is the server's default (20)
}

// ListTraces returns every kept span of the most recent traces matching f: newest trace
// first, each trace's spans by start time.
func (c *Client) ListTraces(ctx context.Context, f TraceFilter) ([]Span, error) {
	q := url.Values{}
	for k, v := range map[string]string{"session": f.SessionID, "runtime": f.RuntimeID, "traceId": f.TraceID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out struct {
		Spans []Span `json:"spans"`
	}
	if err := c.get(ctx, "/berth/v1/traces", q, &out); err != nil {
		return nil, err
	}
	if out.Spans == nil {
		out.Spans = []Span{}
	}
	return out.Spans, nil
}
