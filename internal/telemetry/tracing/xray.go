package tracing

import (
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// XRayHeader is AWS X-Ray's trace header, which AgentCore accepts on InvokeAgentRuntime as
// traceId (AGENTCORE-WIRE.md §7.3).
const XRayHeader = "X-Amzn-Trace-Id"

// XRayID is what an X-Amzn-Trace-Id header says: the trace (Root=1-xxxxxxxx-yyyy…, whose 8
// and 24 hex digits are the 32 of the W3C trace id), the caller's segment (Parent=16 hex
// digits, optional) and the sampling decision (Sampled=0 says no; 1, "?" or no field say
// yes).
type XRayID struct {
	TraceID   trace.TraceID
	ParentID  trace.SpanID // invalid (zero) when the header has no Parent
	NotSample bool
}

// ParseXRay reads an X-Amzn-Trace-Id value such as
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1". It reports
// false unless the value has a valid Root; an invalid Parent is ignored.
func ParseXRay(v string) (XRayID, bool) {
	var id XRayID
	root := false
	for field := range strings.SplitSeq(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "root":
			id.TraceID, root = parseXRayRoot(strings.TrimSpace(val))
		case "parent":
			if b, err := hex.DecodeString(strings.TrimSpace(val)); err == nil && len(b) == 8 {
				copy(id.ParentID[:], b)
			}
		case "sampled":
			id.NotSample = strings.TrimSpace(val) == "0"
		}
	}
	if !root {
		return XRayID{}, false
	}
	return id, true
}

// parseXRayRoot reads "1-<8 hex>-<24 hex>".
func parseXRayRoot(v string) (trace.TraceID, bool) {
	parts := strings.Split(v, "-")
	if len(parts) != 3 || parts[0] != "1" || len(parts[1]) != 8 || len(parts[2]) != 24 {
		return trace.TraceID{}, false
	}
	b, err := hex.DecodeString(parts[1] + parts[2])
	if err != nil {
		return trace.TraceID{}, false
	}
	var id trace.TraceID
	copy(id[:], b)
	return id, id.IsValid()
}

// FormatXRay rewrites the X-Amzn-Trace-Id value old to name span context sc: its Root,
// Parent and Sampled fields are replaced, other fields (Lineage, Self, …) are kept.
func FormatXRay(old string, sc trace.SpanContext) string {
	tid := sc.TraceID().String()
	sampled := "0"
	if sc.IsSampled() {
		sampled = "1"
	}
	out := []string{"Root=1-" + tid[:8] + "-" + tid[8:], "Parent=" + sc.SpanID().String(), "Sampled=" + sampled}
	for field := range strings.SplitSeq(old, ";") {
		k, _, ok := strings.Cut(strings.TrimSpace(field), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "root", "parent", "sampled":
			continue
		}
		if ok {
			out = append(out, strings.TrimSpace(field))
		}
	}
	return strings.Join(out, ";")
}
