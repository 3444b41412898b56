package dataplane

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

const testSession = "session-ws-0123456789-0123456789-0123456789"

func wsRequest(query url.Values, header map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/runtimes/rt-0123456789/ws?"+query.Encode(), nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestWSInboundHeader_QueryParameters(t *testing.T) {
	allow := []string{"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "X-Team", "Authorization"}
	tests := []struct {
		name   string
		query  url.Values
		header map[string]string
		want   map[string]string // header → value; "" means absent
	}{
		{
			name:  "session id and custom headers from a presigned URL",
			query: url.Values{sessionHeader: {testSession}, "x-team": {"blue"}, "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant": {"acme"}},
			want: map[string]string{sessionHeader: testSession, "X-Team": "blue",
				"X-Amzn-Bedrock-Agentcore-Runtime-Custom-Tenant": "acme"},
		},
		{
			name:   "a real header wins over the query parameter",
			query:  url.Values{sessionHeader: {"from-query-0123456789-0123456789-0123456789"}},
			header: map[string]string{sessionHeader: testSession},
			want:   map[string]string{sessionHeader: testSession},
		},
		{
			name:  "trace context and user id",
			query: url.Values{"traceparent": {"00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"}, "X-Amzn-Bedrock-AgentCore-Runtime-User-Id": {"u1"}},
			want: map[string]string{"Traceparent": "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
				"X-Amzn-Bedrock-Agentcore-Runtime-User-Id": "u1"},
		},
		{
			name: "auth, qualifier and unlisted parameters stay out",
			query: url.Values{"X-Amz-Signature": {"abc"}, "X-Amz-Credential": {"k/20260101/us-east-1/bedrock-agentcore/aws4_request"},
				"Authorization": {"Bearer x"}, "qualifier": {"DEFAULT"}, "X-Other": {"no"}},
			want: map[string]string{"X-Amz-Signature": "", "X-Amz-Credential": "", "Authorization": "", "Qualifier": "", "X-Other": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := wsInboundHeader(wsRequest(tt.query, tt.header), allow)
			got := map[string]string{}
			for k := range tt.want {
				got[k] = h.Get(k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWSAgentHeaders_Handshake(t *testing.T) {
	cfg := catalog.RuntimeConfig{RequestHeaderConfiguration: &catalog.RequestHeaderConfiguration{
		RequestHeaderAllowlist: []string{"X-Team"},
	}}
	r := wsRequest(url.Values{"X-Team": {"blue"}, "X-Amz-Signature": {"abc"}}, map[string]string{
		"Connection": "keep-alive, Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "chat", "Origin": "http://evil.example",
		"Authorization": "AWS4-HMAC-SHA256 Credential=…", "X-Amz-Date": "20260101T000000Z", "Cookie": "a=b",
	})
	r.Header = wsInboundHeader(r, []string{"X-Team"})
	got := wsAgentHeaders(r, testSession, "req-1", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01", cfg)
	want := http.Header{
		"Connection":                             {"Upgrade"},
		"Upgrade":                                {"websocket"},
		"Sec-Websocket-Key":                      {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version":                  {"13"},
		"Sec-Websocket-Protocol":                 {"chat"},
		"Traceparent":                            {"00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"},
		"X-Team":                                 {"blue"},
		http.CanonicalHeaderKey(sessionHeader):   {testSession},
		http.CanonicalHeaderKey(requestIDHeader): {"req-1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent headers (-want +got):\n%s", diff)
	}
}

func TestCheckHandshake_Cases(t *testing.T) {
	ok := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "k", "Sec-WebSocket-Version": "13"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		header map[string]string
		valid  bool
	}{
		{"upgrade", ok, true},
		{"connection token list, any case", with("Connection", "keep-alive, upgrade"), true},
		{"no upgrade", with("Upgrade", ""), false},
		{"other protocol", with("Upgrade", "h2c"), false},
		{"no connection upgrade", with("Connection", "keep-alive"), false},
		{"no key", with("Sec-WebSocket-Key", ""), false},
		{"old version", with("Sec-WebSocket-Version", "8"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHandshake(wsRequest(nil, tt.header).Header)
			if tt.valid != (err == nil) {
				t.Fatalf("checkHandshake = %v, want valid %v", err, tt.valid)
			}
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %v is not a validation error", err)
			}
		})
	}
}

func TestWSProtocol_Cases(t *testing.T) {
	for _, tt := range []struct {
		protocol string
		valid    bool
	}{{"", true}, {"HTTP", true}, {"AGUI", true}, {"MCP", false}, {"A2A", false}} {
		t.Run(tt.protocol, func(t *testing.T) {
			cfg := catalog.RuntimeConfig{}
			if tt.protocol != "" {
				cfg.ProtocolConfiguration = &catalog.ProtocolConfiguration{ServerProtocol: tt.protocol}
			}
			err := wsProtocol("rt-0123456789", cfg)
			if tt.valid != (err == nil) {
				t.Errorf("wsProtocol(%s) = %v, want valid %v", tt.protocol, err, tt.valid)
			}
		})
	}
}
