package dataplane

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"berth.dev/berth/internal/client"
	"berth.dev/berth/internal/telemetry/tracestore"
)

// fakeTraces records the filter it was asked and the order of the calls.
type fakeTraces struct {
	got   tracestore.Filter
	order []string
}

func (f *fakeTraces) Query(_ context.Context, flt tracestore.Filter) ([]tracestore.Span, error) {
	f.got = flt
	f.order = append(f.order, "query")
	return []tracestore.Span{{
		TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331", Name: "InvokeAgentRuntime", Kind: "server",
		Start: time.Date(2026, 5, 1, 12, 0, 0, 1, time.UTC), End: time.Date(2026, 5, 1, 12, 0, 1, 0, time.UTC),
		StatusCode: "unset", Attributes: map[string]any{"session.id": "s"}, Source: tracestore.SourceServer,
	}}, nil
}

func (f *fakeTraces) FlushLocal(context.Context) error {
	f.order = append(f.order, "flush")
	return nil
}

func TestTraces_Query(t *testing.T) {
	ft := &fakeTraces{}
	h := Traces(ft, ft, slog.New(slog.DiscardHandler))
	r := httptest.NewRequest("GET", "/berth/v1/traces?session=s&runtime=arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/hello-0123456789&traceId=0AF7651916CD43DD8448EB211C80319C&limit=5", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := tracestore.Filter{SessionID: "s", RuntimeID: "hello-0123456789", TraceID: "0af7651916cd43dd8448eb211c80319c", Limit: 5}
	if ft.got != want {
		t.Errorf("filter %+v, want %+v", ft.got, want)
	}
	if len(ft.order) != 2 || ft.order[0] != "flush" {
		t.Errorf("calls %v, want a flush before the query", ft.order)
	}
	var out struct {
		Spans []client.Span `json:"spans"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Spans) != 1 || out.Spans[0].Start != "2026-05-01T12:00:00.000000001Z" || out.Spans[0].Status != "unset" ||
		out.Spans[0].Source != "server" || out.Spans[0].Attributes["session.id"] != "s" {
		t.Errorf("answer %+v", out.Spans)
	}
}

func TestTraces_BadQuery(t *testing.T) {
	ft := &fakeTraces{}
	h := Traces(ft, ft, slog.New(slog.DiscardHandler))
	for _, q := range []string{"traceId=xyz", "traceId=0af7651916cd43dd", "limit=0", "limit=1001", "limit=x", "runtime=not%20an%20id", "runtime=arn:nope"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/berth/v1/traces?"+q, nil))
		if w.Code != http.StatusBadRequest || w.Header().Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if len(ft.order) != 0 {
		t.Errorf("a bad query reached the store: %v", ft.order)
	}
}
