package telemetry

import (
	"fmt"
	"strings"
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
