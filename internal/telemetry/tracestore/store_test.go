package tracestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/telemetry/tracestore"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, path string, opts tracestore.Options) *tracestore.Store {
	t.Helper()
	s, err := tracestore.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// span makes a span of trace number tr, span number n, with attributes.
func span(tr, n int, parent int, attrs map[string]any) tracestore.Span {
	sp := tracestore.Span{
		TraceID: fmt.Sprintf("%032x", tr), SpanID: fmt.Sprintf("%016x", tr<<8|n), Name: fmt.Sprintf("op-%d-%d", tr, n),
		Kind: "internal", Start: time.Unix(1000+int64(n), 0).UTC(), End: time.Unix(1001+int64(n), 0).UTC(),
		StatusCode: "unset", Attributes: attrs, Source: tracestore.SourceAgent,
	}
	if parent >= 0 {
		sp.ParentSpanID = fmt.Sprintf("%016x", tr<<8|parent)
	}
	return sp
}

func query(t *testing.T, s *tracestore.Store, f tracestore.Filter) []tracestore.Span {
	t.Helper()
	out, err := s.Query(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names(spans []tracestore.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func TestStore_Query_WholeTracesNewestFirst(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 100})
	ctx := t.Context()
	// Trace 1: a session's root and a child without the session attribute; trace 2: another
	// session's; trace 3: the first session again, stored last.
	if err := s.Add(ctx, []tracestore.Span{
		span(1, 0, -1, map[string]any{"session.id": "sess-a", "berth.runtime.id": "rt-1"}),
		span(1, 1, 0, nil),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, []tracestore.Span{span(2, 0, -1, map[string]any{"session.id": "sess-b", "berth.runtime.id": "rt-2"})}); err != nil {
		t.Fatal(err)
	}
	res := span(3, 0, -1, nil)
	res.Resource = map[string]any{"session.id": "sess-a", "berth.runtime.id": "rt-1"} // from the resource
	if err := s.Add(ctx, []tracestore.Span{res, span(3, 1, 0, map[string]any{"n": int64(1) << 60})}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		f    tracestore.Filter
		want []string
	}{
		{"session", tracestore.Filter{SessionID: "sess-a"}, []string{"op-3-0", "op-3-1", "op-1-0", "op-1-1"}},
		{"runtime", tracestore.Filter{RuntimeID: "rt-2"}, []string{"op-2-0"}},
		{"trace", tracestore.Filter{TraceID: fmt.Sprintf("%032X", 1)}, []string{"op-1-0", "op-1-1"}},
		{"all", tracestore.Filter{}, []string{"op-3-0", "op-3-1", "op-2-0", "op-1-0", "op-1-1"}},
		{"limit", tracestore.Filter{Limit: 1}, []string{"op-3-0", "op-3-1"}},
		{"no match", tracestore.Filter{SessionID: "nobody"}, []string{}},
		{"both", tracestore.Filter{SessionID: "sess-a", RuntimeID: "rt-2"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := names(query(t, s, tc.f))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Query(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}

	got := query(t, s, tracestore.Filter{TraceID: fmt.Sprintf("%032x", 3)})
	if got[0].ParentSpanID != "" || got[1].ParentSpanID != got[0].SpanID {
		t.Errorf("parents: %q %q (root %q)", got[0].ParentSpanID, got[1].ParentSpanID, got[0].SpanID)
	}
	if n, ok := got[1].Attributes["n"].(json.Number); !ok || n.String() != fmt.Sprint(int64(1)<<60) {
		t.Errorf("integer attribute = %#v, want exact %d", got[1].Attributes["n"], int64(1)<<60)
	}
	if got[0].Resource["session.id"] != "sess-a" || !got[0].Start.Equal(time.Unix(1000, 0)) || got[0].Source != tracestore.SourceAgent {
		t.Errorf("span read back = %+v", got[0])
	}
}

func TestStore_Add_MaxSpansDropsOldest(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 5})
	for i := range 4 {
		if err := s.Add(t.Context(), []tracestore.Span{span(i+1, 0, -1, nil), span(i+1, 1, 0, nil)}); err != nil {
			t.Fatal(err)
		}
	}
	// 8 spans went in; the newest 5 stay: half of trace 2 (its second span), traces 3 and 4.
	got := names(query(t, s, tracestore.Filter{Limit: 100}))
	want := []string{"op-4-0", "op-4-1", "op-3-0", "op-3-1", "op-2-1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	// One batch larger than the bound keeps its newest spans only.
	batch := make([]tracestore.Span, 0, 7)
	for n := range 7 {
		batch = append(batch, span(9, n, -1, nil))
	}
	if err := s.Add(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	got = names(query(t, s, tracestore.Filter{Limit: 100}))
	want = []string{"op-9-2", "op-9-3", "op-9-4", "op-9-5", "op-9-6"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}

func TestStore_Add_RetentionDropsExpired(t *testing.T) {
	c := &clock{now: time.Unix(1_000_000, 0)}
	s := open(t, filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Minute, MaxSpans: 100, Now: c.Now})
	if err := s.Add(t.Context(), []tracestore.Span{span(1, 0, -1, nil)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(40 * time.Second)
	if err := s.Add(t.Context(), []tracestore.Span{span(2, 0, -1, nil)}); err != nil {
		t.Fatal(err)
	}
	if got := names(query(t, s, tracestore.Filter{})); fmt.Sprint(got) != "[op-2-0 op-1-0]" {
		t.Fatalf("before expiry: %v", got)
	}
	// Past trace 1's retention, queries no longer return it even before the next write...
	c.Advance(30 * time.Second)
	if got := names(query(t, s, tracestore.Filter{})); fmt.Sprint(got) != "[op-2-0]" {
		t.Errorf("after trace 1 expired: %v", got)
	}
	// ...and the next write deletes it.
	if err := s.Add(t.Context(), []tracestore.Span{span(3, 0, -1, nil)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(-time.Hour) // a query with a clock far back would see every row still stored
	if got := names(query(t, s, tracestore.Filter{})); fmt.Sprint(got) != "[op-3-0 op-2-0]" {
		t.Errorf("rows stored after the write: %v", got)
	}
}

func TestStore_MaxSpansZeroKeepsNone(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 0})
	if err := s.Add(t.Context(), []tracestore.Span{span(1, 0, -1, nil)}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, s, tracestore.Filter{}); len(got) != 0 {
		t.Errorf("kept %v", names(got))
	}
}

func TestStore_SurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	s, err := tracestore.Open(t.Context(), path, tracestore.Options{Retention: time.Hour, MaxSpans: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(t.Context(), []tracestore.Span{span(1, 0, -1, nil)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, tracestore.Options{Retention: time.Hour, MaxSpans: 10})
	if got := names(query(t, s, tracestore.Filter{})); fmt.Sprint(got) != "[op-1-0]" {
		t.Errorf("after reopen: %v", got)
	}
}

func TestOpen_BadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		path string
		opts tracestore.Options
	}{
		{filepath.Join(dir, "a.db"), tracestore.Options{Retention: 0, MaxSpans: 1}},
		{filepath.Join(dir, "b.db"), tracestore.Options{Retention: time.Hour, MaxSpans: -1}},
		{"file:x.db?mode=memory", tracestore.Options{Retention: time.Hour}},
	} {
		if s, err := tracestore.Open(context.Background(), tc.path, tc.opts); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q, %+v) succeeded", tc.path, tc.opts)
		}
	}
}

// TestStore_ExportSpans: spans the SDK ends reach the store as server spans, with parent,
// kind, status, attributes and resource.
func TestStore_ExportSpans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "traces.db"), tracestore.Options{Retention: time.Hour, MaxSpans: 100})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(s))
	tr := tp.Tracer("berth-test")
	ctx, root := tr.Start(t.Context(), "InvokeAgentRuntime", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("session.id", "sess-x"), attribute.Int("http.response.status_code", 500)))
	_, child := tr.Start(ctx, "CallAgent", trace.WithSpanKind(trace.SpanKindClient))
	child.SetStatus(codes.Error, "agent crashed")
	child.End()
	root.End()
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := query(t, s, tracestore.Filter{SessionID: "sess-x"})
	if len(got) != 2 {
		t.Fatalf("got %d spans: %v", len(got), names(got))
	}
	r, c := got[0], got[1]
	if r.Name != "InvokeAgentRuntime" || r.Kind != "server" || r.ParentSpanID != "" || r.Source != tracestore.SourceServer ||
		r.TraceID != root.SpanContext().TraceID().String() || r.Attributes["http.response.status_code"].(json.Number).String() != "500" {
		t.Errorf("root = %+v", r)
	}
	if c.Name != "CallAgent" || c.Kind != "client" || c.ParentSpanID != r.SpanID || c.StatusCode != "error" || c.StatusMessage != "agent crashed" {
		t.Errorf("child = %+v", c)
	}
	if c.Resource["telemetry.sdk.language"] != "go" || c.Scope != "berth-test" {
		t.Errorf("resource %v scope %q", c.Resource, c.Scope)
	}
}
