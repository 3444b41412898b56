package catalog

import "strings"

// customHeaderPrefix is the legacy prefix of caller headers AgentCore forwards.
const customHeaderPrefix = "x-amzn-bedrock-agentcore-runtime-custom-"

// restrictedHeaders may never be forwarded into an agent, allow-listed or not
// (AGENTCORE-WIRE.md §4.7): hop-by-hop and connection headers, content negotiation and
// caching, cookies and CORS, proxy and forwarding headers, WebSocket handshake headers, and
// the headers the platform itself sets.
var restrictedHeaders = map[string]bool{
	"accept": true, "accept-charset": true, "accept-encoding": true, "accept-language": true,
	"content-type": true, "content-length": true, "content-encoding": true, "content-md5": true,
	"cache-control": true, "pragma": true, "expires": true, "if-match": true, "if-none-match": true,
	"if-modified-since": true, "if-unmodified-since": true, "if-range": true, "range": true,
	"connection": true, "keep-alive": true, "upgrade": true, "te": true, "trailer": true,
	"transfer-encoding": true, "expect": true, "host": true, "user-agent": true,
	"cookie": true, "set-cookie": true, "origin": true, "referer": true,
	"forwarded": true, "via": true, "x-real-ip": true, "true-client-ip": true,
	"workloadaccesstoken": true, "oauth2callbackurl": true,
	"mcp-session-id": true, "mcp-protocol-version": true,
	"traceparent": true, "tracestate": true, "baggage": true,
}

// restrictedPrefixes are name prefixes that may never be forwarded.
var restrictedPrefixes = []string{"x-amz-", "proxy-", "x-forwarded-", "access-control-", "sec-websocket-", "sec-fetch-"}

// ForwardableHeader reports whether a caller header named name may be allow-listed into an
// agent, and why not. Authorization is forwardable only for runtimes with a JWT
// authorizer (the bearer token; never a SigV4 signature).
func ForwardableHeader(name string, jwtAuthorizer bool) (bool, string) {
	l := strings.ToLower(name)
	switch {
	case l == "authorization":
		if !jwtAuthorizer {
			return false, "Authorization can be forwarded only by runtimes with a customJWTAuthorizer"
		}
		return true, ""
	case strings.HasPrefix(l, "x-amzn-") && !strings.HasPrefix(l, customHeaderPrefix):
		return false, "names starting with X-Amzn- are reserved (except X-Amzn-Bedrock-AgentCore-Runtime-Custom-*)"
	case restrictedHeaders[l]:
		return false, "this header is restricted and is never forwarded"
	}
	for _, p := range restrictedPrefixes {
		if strings.HasPrefix(l, p) {
			return false, "headers starting with " + p + " are restricted and never forwarded"
		}
	}
	return true, ""
}

// hasJWTAuthorizer reports whether cfg configures a custom JWT authorizer.
func hasJWTAuthorizer(cfg *RuntimeConfig) bool {
	return cfg.AuthorizerConfiguration != nil && cfg.AuthorizerConfiguration.CustomJWTAuthorizer != nil
}

// HasJWTAuthorizer reports whether cfg configures a custom JWT authorizer.
func (cfg RuntimeConfig) HasJWTAuthorizer() bool { return hasJWTAuthorizer(&cfg) }
