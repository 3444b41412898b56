// Package otlptest is an OTLP/HTTP trace receiver for tests, built on the OpenTelemetry
// Collector's own OTLP packages (pdata's ptraceotlp, as the collector's otlpreceiver
// decodes): a real HTTP server on loopback that decodes POST /v1/traces — protobuf or
// JSON, optionally gzipped — and keeps every span it got. POST /v1/logs and /v1/metrics
// are answered 200 and dropped.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Span is one received span, flattened.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Attributes                    map[string]any
	Resource                      map[string]any
}

// Receiver is a running receiver.
type Receiver struct {
	URL string // base URL: spans are posted to URL/v1/traces

	mu      sync.Mutex
	spans   []Span
	headers []http.Header
	changed chan struct{} // closed and replaced at every request
}

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method != http.MethodPost:
		http.NotFound(w, req)
		return
	case req.URL.Path == "/v1/logs" || req.URL.Path == "/v1/metrics":
		// Accepted and dropped, as a collector without a pipeline for them would.
		_, _ = io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		return
	case req.URL.Path != "/v1/traces":
		http.NotFound(w, req)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	er := ptraceotlp.NewExportRequest()
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-protobuf"):
		err = er.UnmarshalProto(raw)
	case strings.HasPrefix(ct, "application/json"):
		err = er.UnmarshalJSON(raw)
	default:
		http.Error(w, "unsupported content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.add(er.Traces(), req.Header.Clone())
	resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (r *Receiver) add(td ptrace.Traces, h http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes().AsRaw()
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				parent := ""
				if !sp.ParentSpanID().IsEmpty() {
					parent = sp.ParentSpanID().String()
				}
				r.spans = append(r.spans, Span{TraceID: sp.TraceID().String(), SpanID: sp.SpanID().String(),
					ParentSpanID: parent, Name: sp.Name(), Attributes: sp.Attributes().AsRaw(), Resource: res})
			}
		}
	}
	r.headers = append(r.headers, h)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Spans returns every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Headers returns the headers of every export request received so far.
func (r *Receiver) Headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.headers...)
}

// WaitFor waits until done holds for the spans received so far and returns them; after
// timeout it fails the test, listing what it got.
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, done func([]Span) bool) []Span {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		spans, changed := append([]Span(nil), r.spans...), r.changed
		r.mu.Unlock()
		if done(spans) {
			return spans
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("OTLP receiver: condition not met after %v; received %d spans:\n%s", timeout, len(spans), Describe(spans))
			return nil
		}
	}
}

// Describe lists spans one a line, for failure messages.
func Describe(spans []Span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %s parent=%s %q attrs=%v resource=%v\n", s.TraceID, s.SpanID, s.ParentSpanID, s.Name, s.Attributes, s.Resource)
	}
	return b.String()
}
