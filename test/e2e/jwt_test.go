package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"berth.dev/berth/internal/auth/oidctest"
	"berth.dev/berth/test/testagent"
)

// bearerInvoke calls InvokeAgentRuntime over plain HTTP with a bearer token (or none), as
// AgentCore's toolkit does for JWT runtimes; it returns the status, error type and body.
func bearerInvoke(t *testing.T, ts *testServer, arn, token, payload string) (int, string, string) {
	t.Helper()
	u := ts.URL + "/runtimes/" + url.PathEscape(arn) + "/invocations?qualifier=DEFAULT"
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", sid("jwt"))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(body)
}

// TestJWT_InboundAuthModes: a runtime with a customJWTAuthorizer answers callers with a
// valid bearer token from its issuer and nobody else — SigV4 callers get "Authorization
// method mismatch", callers without a token 401, bad tokens 403 — while a runtime without
// one refuses bearer tokens (AGENTCORE-WIRE.md §2.2).
func TestJWT_InboundAuthModes(t *testing.T) {
	iss := oidctest.Start(t)
	ts := startServer(t)
	img := testagent.Image(t)
	secured := ts.deployImage(t, "jwt_agent", img, func(in *cp.CreateAgentRuntimeInput) {
		in.AuthorizerConfiguration = &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl:   aws.String(iss.DiscoveryURL),
			AllowedClients: []string{"berth-cli"},
		}}
	})
	plain := ts.deployImage(t, "sigv4_agent", img, nil)

	good := iss.Token(t, oidctest.Claims{Subject: "alice", ClientID: "berth-cli"})
	status, typ, body := bearerInvoke(t, ts, secured.ARN, good, `{"op":"incr"}`)
	if status != http.StatusOK {
		t.Fatalf("valid bearer: %d %s %s", status, typ, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || m["count"] != float64(1) {
		t.Fatalf("valid bearer: the agent answered %q", body)
	}

	for _, tc := range []struct {
		name, arn, token, typ string
		status                int
	}{
		{"no token", secured.ARN, "", "UnauthorizedException", http.StatusUnauthorized},
		{"client not allowed", secured.ARN, iss.Token(t, oidctest.Claims{ClientID: "other"}), "AccessDeniedException", http.StatusForbidden},
		{"unpublished key", secured.ARN, iss.ForeignToken(t, oidctest.Claims{ClientID: "berth-cli"}), "AccessDeniedException", http.StatusForbidden},
		{"bearer to a SigV4 runtime", plain.ARN, good, "AccessDeniedException", http.StatusForbidden},
		{"bearer to a runtime that does not exist", strings.Replace(plain.ARN, "sigv4_agent", "nobody", 1), good, "AccessDeniedException", http.StatusForbidden},
		{"no token to a SigV4 runtime", plain.ARN, "", "MissingAuthenticationTokenException", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, body := bearerInvoke(t, ts, tc.arn, tc.token, `{"op":"incr"}`)
			if status != tc.status || typ != tc.typ {
				t.Fatalf("got %d %s %s, want %d %s", status, typ, body, tc.status, tc.typ)
			}
		})
	}

	_, err := ts.Data().InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(secured.ARN), RuntimeSessionId: aws.String(sid("sigv4")), Payload: []byte(`{}`),
	})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("SigV4 call to a JWT runtime: %v, want AccessDeniedException (Authorization method mismatch)", err)
	}
	if n := count(t, ts.Data(), plain.ARN, sid("plain")); n != 1 {
		t.Fatalf("SigV4 call to a SigV4 runtime counted %d", n)
	}
}
