package telemetry

import (
	"fmt"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// OTLPURL is where an OTLP/HTTP exporter sends signal ("traces", "metrics", "logs") given
// the receiver's base URL (telemetry.otlpEndpoint), as OTEL_EXPORTER_OTLP_ENDPOINT does.
func OTLPURL(base, signal string) string {
	return strings.TrimRight(base, "/") + "/v1/" + signal
}

// OTLPHeaders turns the key=value strings of telemetry.otlpHeaders into a header map.
func OTLPHeaders(kvs []string) (map[string]string, error) {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("otlp header %q is not key=value", kv)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// OTLPValue turns an OTLP attribute value into a plain Go value encoding/json can write:
// arrays become slices, key-value lists maps, bytes a byte slice (base64 in JSON).
func OTLPValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, OTLPValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		out := make(map[string]any, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			out[kv.GetKey()] = OTLPValue(kv.GetValue())
		}
		return out
	}
	return nil
}
