package tracestore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Query limits.
const (
	DefaultTraces = 20     // traces a query returns when Filter.Limit is 0
	MaxTraces     = 1000   // the most traces one query returns
	maxQuerySpans = 20_000 // the most spans one query returns
)

// The queries' fixed parts: Query adds conditions of its own making, and every value is a
// parameter.
const (
	traceSelect = `SELECT trace_id FROM spans`
	spanSelect  = `SELECT trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns,
		status_code, status_message, attributes, resource, scope, source FROM spans`
)

// Filter selects traces; zero fields match everything.
type Filter struct {
	SessionID string // a span of the trace has this session.id
	RuntimeID string // a span of the trace has this berth.runtime.id
	TraceID   string // 32 hex digits
	Limit     int    // the most recent traces to return: 0 means DefaultTraces, capped at MaxTraces
}

// Query returns every kept span of the most recently stored traces that have a span
// matching f: newest trace first, each trace's spans by start time.
func (s *Store) Query(ctx context.Context, f Filter) ([]Span, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultTraces
	}
	limit = min(limit, MaxTraces)
	cutoff := s.opts.Now().Add(-s.opts.Retention).UnixNano()
	where, args := []string{"stored_ns >= ?"}, []any{cutoff}
	for _, c := range []struct{ col, val string }{{"session_id", f.SessionID}, {"runtime_id", f.RuntimeID}, {"trace_id", strings.ToLower(f.TraceID)}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	query := traceSelect
	query += ` WHERE ` + strings.Join(where, ` AND `)
	query += ` GROUP BY trace_id ORDER BY MAX(seq) DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("query traces: %w", err)
	}
	var traces []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("query traces: %w", err)
		}
		traces = append(traces, id)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("query traces: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query traces: %w", err)
	}
	if len(traces) == 0 {
		return []Span{}, nil
	}
	return s.spansOf(ctx, traces, cutoff)
}

// spansOf reads the kept spans of traces, in the order of traces, each by start time.
func (s *Store) spansOf(ctx context.Context, traces []string, cutoff int64) ([]Span, error) {
	args := []any{cutoff}
	for _, t := range traces {
		args = append(args, t)
	}
	args = append(args, maxQuerySpans)
	query := spanSelect
	query += ` WHERE stored_ns >= ? AND trace_id IN (?` + strings.Repeat(`, ?`, len(traces)-1) + `)` // a parameter per trace
	query += ` ORDER BY start_ns, seq LIMIT ?`
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query spans: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Span{}
	for rows.Next() {
		var (
			sp             Span
			start, end     int64
			attrs, resJSON string
		)
		if err := rows.Scan(&sp.TraceID, &sp.SpanID, &sp.ParentSpanID, &sp.Name, &sp.Kind, &start, &end,
			&sp.StatusCode, &sp.StatusMessage, &attrs, &resJSON, &sp.Scope, &sp.Source); err != nil {
			return nil, fmt.Errorf("query spans: %w", err)
		}
		sp.Start, sp.End = time.Unix(0, start).UTC(), time.Unix(0, end).UTC()
		if sp.Attributes, err = decodeAttrs(attrs); err != nil {
			return nil, fmt.Errorf("span %s: attributes: %w", sp.SpanID, err)
		}
		if sp.Resource, err = decodeAttrs(resJSON); err != nil {
			return nil, fmt.Errorf("span %s: resource: %w", sp.SpanID, err)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query spans: %w", err)
	}
	rank := make(map[string]int, len(traces))
	for i, t := range traces {
		rank[t] = i
	}
	slices.SortStableFunc(out, func(a, b Span) int { return rank[a.TraceID] - rank[b.TraceID] })
	return out, nil
}

// decodeAttrs reads a JSON object of attributes, keeping integers exact (as json.Number).
func decodeAttrs(s string) (map[string]any, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
