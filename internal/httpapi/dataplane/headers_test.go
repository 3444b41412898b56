package dataplane

import (
	"net/http/httptest"
	"testing"

	"berth.dev/berth/internal/catalog"
)

func TestAgentHeaders_NeverForwardsCredentials(t *testing.T) {
	cfg := catalog.RuntimeConfig{
		AuthorizerConfiguration: &catalog.AuthorizerConfiguration{CustomJWTAuthorizer: &catalog.CustomJWTAuthorizer{DiscoveryURL: "https://idp/.well-known/openid-configuration"}},
		RequestHeaderConfiguration: &catalog.RequestHeaderConfiguration{RequestHeaderAllowlist: []string{
			"Authorization", "X-Amz-Security-Token", "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", "Connection", "Upgrade",
			"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant",
		}},
	}
	r := httptest.NewRequest("POST", "/runtimes/x/invocations", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA…/20261121/us-east-1/bedrock-agentcore/aws4_request, Signature=abc")
	r.Header.Set("X-Amz-Security-Token", "secret-session-token")
	r.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", "spoofed")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "acme")
	out := agentHeaders(r, "sess", "real-request-id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", cfg)
	for _, banned := range []string{"Authorization", "X-Amz-Security-Token", "Connection", "Upgrade"} {
		if v := out.Get(banned); v != "" {
			t.Errorf("%s forwarded: %q", banned, v)
		}
	}
	if got := out.Get(requestIDHeader); got != "real-request-id" {
		t.Errorf("request id = %q, the caller replaced Berth's", got)
	}
	if out.Get("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant") != "acme" {
		t.Error("allowed custom header not forwarded")
	}
	r.Header.Set("Authorization", "Bearer eyJhbGciOi.payload.sig")
	out = agentHeaders(r, "sess", "real-request-id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", cfg)
	if out.Get("Authorization") != "Bearer eyJhbGciOi.payload.sig" {
		t.Error("a JWT runtime's bearer token was not forwarded")
	}
}
