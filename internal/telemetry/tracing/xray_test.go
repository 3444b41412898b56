package tracing_test

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/telemetry/tracing"
)

func TestParseXRay(t *testing.T) {
	for _, tc := range []struct {
		in        string
		ok        bool
		trace     string
		parent    string // "" when invalid
		notSample bool
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", true,
			"5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", false},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", true, "5759e988bd862e3fe1be46a994272793", "", false},
		{" root=1-5759E988-BD862E3FE1BE46A994272793 ; PARENT=53995C3F42CD8AD8 ; Sampled=0 ", true,
			"5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz;Sampled=?", true, "5759e988bd862e3fe1be46a994272793", "", false},
		{"Self=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a:1", true,
			"5759e988bd862e3fe1be46a994272793", "", false},
		{"Root=2-5759e988-bd862e3fe1be46a994272793", false, "", "", false}, // unknown version
		{"Root=1-5759e98-bd862e3fe1be46a994272793", false, "", "", false},  // short epoch
		{"Root=1-5759e988-bd862e3fe1be46a99427279z", false, "", "", false}, // not hex
		{"Root=1-00000000-000000000000000000000000", false, "", "", false}, // zero trace id
		{"Parent=53995c3f42cd8ad8;Sampled=1", false, "", "", false},        // no root
		{"", false, "", "", false},
	} {
		id, ok := tracing.ParseXRay(tc.in)
		if ok != tc.ok {
			t.Errorf("ParseXRay(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		parent := ""
		if id.ParentID.IsValid() {
			parent = id.ParentID.String()
		}
		if id.TraceID.String() != tc.trace || parent != tc.parent || id.NotSample != tc.notSample {
			t.Errorf("ParseXRay(%q) = %s %q %v, want %s %q %v", tc.in, id.TraceID, parent, id.NotSample, tc.trace, tc.parent, tc.notSample)
		}
	}
}

func TestFormatXRay_KeepsOtherFields(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	got := tracing.FormatXRay("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1", sc)
	want := "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1;Lineage=a87bd80c:1"
	if got != want {
		t.Errorf("FormatXRay = %q, want %q", got, want)
	}
	// What it writes reads back as the same span.
	id, ok := tracing.ParseXRay(got)
	if !ok || id.TraceID != tid || id.ParentID != sid || id.NotSample {
		t.Errorf("round trip: %+v %v", id, ok)
	}
}

func TestExtract(t *testing.T) {
	const (
		tp   = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	)
	for _, tc := range []struct {
		name          string
		h             http.Header
		trace, parent string
		sampled       bool
	}{
		{"traceparent", http.Header{"Traceparent": {tp}, "Tracestate": {"vendor=x"}}, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true},
		{"traceparent wins over x-ray", http.Header{"Traceparent": {tp}, "X-Amzn-Trace-Id": {xray}}, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true},
		{"x-ray", http.Header{"X-Amzn-Trace-Id": {xray}}, "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true},
		{"x-ray unsampled", http.Header{"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"}},
			"5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", false},
		{"bad traceparent falls back to x-ray", http.Header{"Traceparent": {"00-zz-b7ad6b7169203331-01"}, "X-Amzn-Trace-Id": {xray}},
			"5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true},
		{"nothing", http.Header{}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := trace.SpanContextFromContext(tracing.Extract(t.Context(), tc.h))
			if tc.trace == "" {
				if sc.IsValid() {
					t.Errorf("span context %v, want none", sc)
				}
				return
			}
			if sc.TraceID().String() != tc.trace || sc.SpanID().String() != tc.parent || sc.IsSampled() != tc.sampled || !sc.IsRemote() {
				t.Errorf("span context = %s %s sampled=%v remote=%v", sc.TraceID(), sc.SpanID(), sc.IsSampled(), sc.IsRemote())
			}
		})
	}
}

func TestInject_RewritesXRayOnlyWhenPresent(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ts, _ := trace.ParseTraceState("vendor=x")
	ctx := trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, TraceState: ts}))

	h := http.Header{"Traceparent": {"00-11111111111111111111111111111111-2222222222222222-01"}}
	tracing.Inject(ctx, h)
	if got := h.Get("Traceparent"); got != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
		t.Errorf("traceparent = %q", got)
	}
	if got := h.Get("Tracestate"); got != "vendor=x" {
		t.Errorf("tracestate = %q", got)
	}
	if _, ok := h["X-Amzn-Trace-Id"]; ok {
		t.Errorf("X-Amzn-Trace-Id added: %q", h.Get("X-Amzn-Trace-Id"))
	}

	h = http.Header{"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"}}
	tracing.Inject(ctx, h)
	if got := h.Get("X-Amzn-Trace-Id"); got != "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1" {
		t.Errorf("X-Amzn-Trace-Id = %q", got)
	}
	if got := tracing.Traceparent(ctx); got != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
		t.Errorf("Traceparent = %q", got)
	}
	if got := tracing.Traceparent(t.Context()); got != "" {
		t.Errorf("Traceparent without a span = %q", got)
	}
}
