package dataplane

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

const requestIDHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"

// traceHeaders pass into the agent and are echoed to the caller.
var traceHeaders = []struct {
	name  string
	field string
	max   int
}{
	{"X-Amzn-Trace-Id", "traceId", 128},
	{"Traceparent", "traceParent", 128},
	{"Tracestate", "traceState", 512},
	{"Baggage", "baggage", 8192},
}

// passHeaders go into the agent unchanged when present.
var passHeaders = []struct {
	name  string
	field string
	max   int
}{
	{"Content-Type", "contentType", 256},
	{"Accept", "accept", 256},
	{"Mcp-Session-Id", "mcpSessionId", 1024},
	{"Mcp-Protocol-Version", "mcpProtocolVersion", 1024},
	{"Mcp-Method", "mcpMethod", 1024},
	{"Mcp-Name", "mcpName", 1024},
	{"X-Amzn-Bedrock-AgentCore-Runtime-User-Id", "runtimeUserId", 1024},
}

// maxCustomHeader bounds an allow-listed header value (AGENTCORE-WIRE.md §2.10).
const maxCustomHeader = 4096

func newSessionID() string { return uuid.NewString() }

// newTraceparent makes a W3C traceparent with fresh ids, sampled.
func newTraceparent() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// validateHeaders checks the modelled header constraints, reporting every violation.
func validateHeaders(r *http.Request, allow []string) error {
	var f errdefs.Fields
	checkHeaders(r, allow, 0, &f)
	return f.Err()
}

// checkHeaders adds a violation to f for every header longer than the model allows. A
// traceMax above 0 replaces the trace headers' limits (InvokeAgentRuntimeCommand allows
// 1024 for each).
func checkHeaders(r *http.Request, allow []string, traceMax int, f *errdefs.Fields) {
	check := func(name, field string, limit int) {
		if v, ok := r.Header[name]; ok && len(v[0]) > limit {
			f.Add(field, "Member must have length less than or equal to %d", limit)
		}
	}
	for _, h := range passHeaders {
		check(h.name, h.field, h.max)
	}
	for _, h := range traceHeaders {
		limit := h.max
		if traceMax > 0 {
			limit = traceMax
		}
		check(h.name, h.field, limit)
	}
	for _, name := range allow {
		if v := r.Header.Get(name); len(v) > maxCustomHeader {
			f.Add(name, "Header value must have length less than or equal to %d", maxCustomHeader)
		}
	}
}

// agentHeaders builds the complete header set sent into the agent (§4.7): the platform's
// own headers, trace context, the modelled pass-through headers and the runtime's
// allow-listed headers. Nothing else of the caller's request reaches the agent — in
// particular never its SigV4 Authorization.
func agentHeaders(r *http.Request, sessionID, requestID, traceparent string, cfg catalog.RuntimeConfig) http.Header {
	out := http.Header{}
	for _, h := range passHeaders {
		if v := r.Header.Get(h.name); v != "" {
			out.Set(h.name, v)
		}
	}
	if out.Get("Content-Type") == "" {
		out.Set("Content-Type", "application/octet-stream")
	}
	for _, h := range traceHeaders {
		if v := r.Header.Get(h.name); v != "" {
			out.Set(h.name, v)
		}
	}
	out.Set("Traceparent", traceparent)
	out.Set(sessionHeader, sessionID)
	out.Set(requestIDHeader, requestID)
	for _, name := range forwardable(cfg) {
		v, ok := r.Header[http.CanonicalHeaderKey(name)]
		if !ok {
			continue
		}
		if strings.EqualFold(name, "Authorization") && !isBearer(v) {
			continue // only a JWT bearer may be forwarded, never a SigV4 signature
		}
		out[http.CanonicalHeaderKey(name)] = v
	}
	return out
}

// forwardable returns the runtime's allow-listed headers that may reach the agent. The
// catalog rejects the others when the runtime is created or updated; this guards configs
// stored before that rule.
func forwardable(cfg catalog.RuntimeConfig) []string {
	if cfg.RequestHeaderConfiguration == nil {
		return nil
	}
	var out []string
	for _, name := range cfg.RequestHeaderConfiguration.RequestHeaderAllowlist {
		if ok, _ := catalog.ForwardableHeader(name, cfg.HasJWTAuthorizer()); ok {
			out = append(out, name)
		}
	}
	return out
}

func isBearer(v []string) bool {
	return len(v) == 1 && len(v[0]) > 7 && strings.EqualFold(v[0][:7], "Bearer ")
}

// echoHeaders sets the response headers the caller gets in addition to the agent's.
func echoHeaders(w http.ResponseWriter, r *http.Request, sessionID, traceparent string) {
	h := w.Header()
	h.Set(sessionHeader, sessionID)
	for _, t := range traceHeaders {
		if v := r.Header.Get(t.name); v != "" {
			h.Set(t.name, v)
		}
	}
	h.Set("Traceparent", traceparent)
}
