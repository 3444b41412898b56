package dataplane

import (
	"net/http"
	"slices"
	"strings"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

// wsHandshakeHeaders are the caller's WebSocket handshake headers passed to the agent, which
// negotiates directly with the caller: Berth splices bytes and never parses frames.
var wsHandshakeHeaders = []string{"Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"}

// checkHandshake requires a WebSocket upgrade request (RFC 6455 §4.1).
func checkHandshake(h http.Header) error {
	switch {
	case !strings.EqualFold(h.Get("Upgrade"), "websocket") || !hasToken(h.Values("Connection"), "upgrade"):
		return &errdefs.ValidationError{Reason: errdefs.ReasonFieldValidationFailed,
			Msg: "GET /runtimes/{agentRuntimeArn}/ws must be a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket)"}
	case h.Get("Sec-WebSocket-Key") == "":
		return errdefs.Invalid("Sec-WebSocket-Key", "Member must not be null in a WebSocket upgrade request")
	case h.Get("Sec-WebSocket-Version") != "13":
		return errdefs.Invalid("Sec-WebSocket-Version", "Member must be 13")
	}
	return nil
}

// hasToken reports whether a comma-separated header carries token (case-insensitively).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// wsInboundHeader is the caller's header set with the header-named query parameters of a
// presigned URL folded in (AGENTCORE-WIRE.md §2.6): the session id, the user id, trace
// context and the runtime's allow-listed headers may arrive as query parameters named like
// the headers (case-insensitively). A header the caller also sent as a real header keeps
// the header's value. Authorization and X-Amz-* parameters never become headers.
func wsInboundHeader(r *http.Request, allow []string) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	names := []string{sessionHeader, "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"}
	for _, t := range traceHeaders {
		names = append(names, t.name)
	}
	names = append(names, allow...)
	for key, vals := range r.URL.Query() {
		if len(vals) == 0 || strings.EqualFold(key, "Authorization") || hasPrefixFold(key, "X-Amz-") {
			continue
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, key) }) {
			continue
		}
		if ck := http.CanonicalHeaderKey(key); len(h[ck]) == 0 {
			h[ck] = slices.Clone(vals)
		}
	}
	return h
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// wsAgentHeaders is the complete header set of the upgrade request sent into the agent: the
// same platform, trace, pass-through and allow-listed headers as an invocation (§4.4, §4.7)
// plus the WebSocket handshake. A Content-Type is passed only when the caller sent one.
func wsAgentHeaders(in *http.Request, sessionID, requestID, traceparent string, cfg catalog.RuntimeConfig) http.Header {
	out := agentHeaders(in, sessionID, requestID, traceparent, cfg)
	if in.Header.Get("Content-Type") == "" {
		out.Del("Content-Type")
	}
	out.Set("Connection", "Upgrade")
	out.Set("Upgrade", "websocket")
	for _, name := range wsHandshakeHeaders {
		if v := in.Header.Values(name); len(v) > 0 {
			out[http.CanonicalHeaderKey(name)] = slices.Clone(v)
		}
	}
	return out
}
