package agentotlp

import (
	"encoding/hex"
	"strings"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"berth.dev/berth/internal/telemetry"
	"berth.dev/berth/internal/telemetry/tracestore"
)

// storeSpans converts OTLP spans into the trace store's form, source agent. Spans without a
// valid trace or span id are skipped.
func storeSpans(rs []*tracepb.ResourceSpans) []tracestore.Span {
	var out []tracestore.Span
	for _, r := range rs {
		res := attrMap(r.GetResource().GetAttributes())
		for _, ss := range r.GetScopeSpans() {
			scope := ss.GetScope().GetName()
			for _, sp := range ss.GetSpans() {
				if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
					continue
				}
				s := tracestore.Span{
					TraceID:    hex.EncodeToString(sp.GetTraceId()),
					SpanID:     hex.EncodeToString(sp.GetSpanId()),
					Name:       sp.GetName(),
					Kind:       spanKind(sp.GetKind()),
					Start:      time.Unix(0, int64(sp.GetStartTimeUnixNano())).UTC(),
					End:        time.Unix(0, int64(sp.GetEndTimeUnixNano())).UTC(),
					StatusCode: "unset",
					Attributes: attrMap(sp.GetAttributes()),
					Resource:   res,
					Scope:      scope,
					Source:     tracestore.SourceAgent,
				}
				if len(sp.GetParentSpanId()) == 8 {
					s.ParentSpanID = hex.EncodeToString(sp.GetParentSpanId())
				}
				switch sp.GetStatus().GetCode() {
				case tracepb.Status_STATUS_CODE_OK:
					s.StatusCode = "ok"
				case tracepb.Status_STATUS_CODE_ERROR:
					s.StatusCode, s.StatusMessage = "error", sp.GetStatus().GetMessage()
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// spanKind names k as the SDK does ("server", "client", …).
func spanKind(k tracepb.Span_SpanKind) string {
	if k == tracepb.Span_SPAN_KIND_UNSPECIFIED {
		return "unspecified"
	}
	return strings.ToLower(strings.TrimPrefix(k.String(), "SPAN_KIND_"))
}

// attrMap turns OTLP attributes into plain values.
func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = telemetry.OTLPValue(kv.GetValue())
	}
	return m
}
