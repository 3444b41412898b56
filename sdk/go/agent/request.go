package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// Header names of the AgentCore runtime contract.
const (
	HeaderSessionID         = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	HeaderRequestID         = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
	HeaderWorkloadToken     = "WorkloadAccessToken"
	HeaderIdentityWAT       = "X-Amz-Bedrock-AgentCore-Identity-WAT"
	HeaderOAuth2CallbackURL = "OAuth2CallbackUrl"
	// CustomHeaderPrefix is the legacy prefix of caller headers the platform forwards.
	CustomHeaderPrefix = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"

	legacyHeaderRequestID = "X-Amzn-Bedrock-AgentCore-Request-Id"
)

// Request is one invocation as the handler sees it.
type Request struct {
	// Payload is the request body, verbatim. It is valid JSON unless [WithRawPayload].
	Payload json.RawMessage
	// SessionID is the runtime session id ("" when the header is absent).
	SessionID string
	// RequestID is the platform's request id, or a new UUID when the header is absent.
	RequestID string
	// WorkloadAccessToken is from X-Amz-Bedrock-AgentCore-Identity-WAT, else
	// WorkloadAccessToken ("" when neither is present).
	WorkloadAccessToken string
	// OAuth2CallbackURL is from OAuth2CallbackUrl.
	OAuth2CallbackURL string
	// Forwarded holds Authorization plus every header AgentCore forwards to agents
	// (its request-header allow-list rules, see [IsForwardableHeader]).
	Forwarded http.Header
	// Header holds every request header.
	Header http.Header
	// HTTP is the underlying request (its body is already consumed).
	HTTP *http.Request
}

// Decode unmarshals the payload into v.
func (r Request) Decode(v any) error {
	if err := json.Unmarshal(r.Payload, v); err != nil {
		return fmt.Errorf("decode payload: %w", err)
	}
	return nil
}

type requestKey struct{}

func newRequest(r *http.Request, payload []byte) *Request {
	h := r.Header
	req := &Request{
		Payload:           payload,
		SessionID:         h.Get(HeaderSessionID),
		RequestID:         firstNonEmpty(h.Get(HeaderRequestID), h.Get(legacyHeaderRequestID)),
		OAuth2CallbackURL: h.Get(HeaderOAuth2CallbackURL),
		WorkloadAccessToken: firstNonEmpty(h.Get(HeaderIdentityWAT),
			h.Get(HeaderWorkloadToken)),
		Forwarded: http.Header{},
		Header:    h,
		HTTP:      r,
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	for name, values := range h {
		if strings.EqualFold(name, "Authorization") || IsForwardableHeader(name) {
			req.Forwarded[name] = values
		}
	}
	return req
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func withRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// FromContext returns the request a handler's context belongs to.
func FromContext(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(*Request)
	if !ok {
		return Request{}, false
	}
	return *r, true
}

func field(ctx context.Context, f func(*Request) string) string {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return f(r)
	}
	return ""
}

// SessionID returns the runtime session id of the request ctx belongs to ("" if none).
func SessionID(ctx context.Context) string {
	return field(ctx, func(r *Request) string { return r.SessionID })
}

// RequestID returns the request id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	return field(ctx, func(r *Request) string { return r.RequestID })
}

// WorkloadAccessToken returns the workload access token sent with the request.
func WorkloadAccessToken(ctx context.Context) string {
	return field(ctx, func(r *Request) string { return r.WorkloadAccessToken })
}

// OAuth2CallbackURL returns the OAuth2 callback URL sent with the request.
func OAuth2CallbackURL(ctx context.Context) string {
	return field(ctx, func(r *Request) string { return r.OAuth2CallbackURL })
}

// Headers returns every header of the request ctx belongs to (nil outside a request).
func Headers(ctx context.Context) http.Header {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r.Header
	}
	return nil
}

// IsForwardableHeader reports whether AgentCore forwards a request header with this name
// to agent code: not on the restricted list, not x-amz-*, and not x-amzn-* unless it has
// the [CustomHeaderPrefix].
func IsForwardableHeader(name string) bool {
	lower := strings.ToLower(name)
	if _, ok := restricted[lower]; ok || strings.HasPrefix(lower, "x-amz-") {
		return false
	}
	return !strings.HasPrefix(lower, "x-amzn-") || strings.HasPrefix(lower, strings.ToLower(CustomHeaderPrefix))
}

// restricted lists the headers the AgentCore request-header allow-list never forwards.
var restricted = func() map[string]struct{} {
	names := []string{
		"Proxy-Authorization", "WWW-Authenticate",
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Content-Type",
		"Content-Length", "Content-Encoding", "Content-Language", "Content-Location", "Content-Range",
		"Cache-Control", "ETag", "Expires", "If-Match", "If-Modified-Since", "If-None-Match",
		"If-Range", "If-Unmodified-Since", "Last-Modified", "Pragma", "Vary",
		"Connection", "Keep-Alive", "Proxy-Connection", "Upgrade",
		"Host", "User-Agent", "Referer", "From",
		"Range", "Accept-Ranges", "Transfer-Encoding", "TE", "Trailer", "Expect",
		"Server", "Date", "Location", "Retry-After",
		"Set-Cookie", "Cookie",
		"Content-Security-Policy", "Content-Security-Policy-Report-Only", "Strict-Transport-Security",
		"X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection", "Referrer-Policy",
		"Permissions-Policy", "Cross-Origin-Embedder-Policy", "Cross-Origin-Opener-Policy",
		"Cross-Origin-Resource-Policy",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
		"Access-Control-Request-Method", "Access-Control-Request-Headers", "Origin",
		"Accept-CH", "Accept-CH-Lifetime", "DPR", "Width", "Viewport-Width", "Downlink", "RTT", "Save-Data",
		"ECT", //nolint:misspell // the Client Hints header, not "etc"
		"Clear-Site-Data", "Feature-Policy", "Expect-CT", "Public-Key-Pins", "Public-Key-Pins-Report-Only",
		"Via", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP",
		"X-Requested-With", "X-CSRF-Token", "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP",
		"X-Originating-IP", "X-Source-IP", "X-Original-URL", "X-Original-Host", "X-Rewrite-URL",
		"CF-Ray", "CF-Connecting-IP", "X-Amz-Cf-Id", "X-Cache", "X-Served-By",
		":method", ":path", ":scheme", ":authority", ":status", "Link",
		"Sec-WebSocket-Key", "Sec-WebSocket-Accept", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
		"Sec-WebSocket-Extensions",
	}
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = struct{}{}
	}
	return m
}()
