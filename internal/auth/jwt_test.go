package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/auth/oidctest"
	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

func code(t *testing.T, err error) auth.Code {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *auth.Error", err)
	}
	if !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("error %v does not match ErrUnauthenticated", err)
	}
	return ae.Code
}

func TestJWTVerifier_Rules(t *testing.T) {
	iss := oidctest.Start(t)
	v := auth.NewJWTVerifier(nil)
	str := func(s string) *string { return &s }
	base := catalog.CustomJWTAuthorizer{DiscoveryURL: iss.DiscoveryURL}
	withAud := base
	withAud.AllowedAudience = []string{"agents"}
	withClient := base
	withClient.AllowedClients = []string{"cli", "web"}
	withScope := base
	withScope.AllowedScopes = []string{"agent/invoke"}
	withClaim := base
	withClaim.CustomClaims = []catalog.CustomClaim{{
		InboundTokenClaimName: "groups", InboundTokenClaimValueType: "STRING_ARRAY",
		AuthorizingClaimMatchValue: &catalog.ClaimMatchValueRule{ClaimMatchOperator: "CONTAINS_ANY",
			ClaimMatchValue: &catalog.ClaimMatchValue{MatchValueStringList: []string{"admins", "ops"}}},
	}}
	withEquals := base
	withEquals.CustomClaims = []catalog.CustomClaim{{
		InboundTokenClaimName: "tenant", InboundTokenClaimValueType: "STRING",
		AuthorizingClaimMatchValue: &catalog.ClaimMatchValueRule{ClaimMatchOperator: "EQUALS",
			ClaimMatchValue: &catalog.ClaimMatchValue{MatchValueString: str("acme")}},
	}}
	cases := []struct {
		name  string
		a     catalog.CustomJWTAuthorizer
		token string
		ok    bool
		says  string
	}{
		{"plain", base, iss.Token(t, oidctest.Claims{Subject: "u1"}), true, ""},
		{"audience allowed", withAud, iss.Token(t, oidctest.Claims{Audience: []string{"x", "agents"}}), true, ""},
		{"audience refused", withAud, iss.Token(t, oidctest.Claims{Audience: []string{"other"}}), false, "audience"},
		{"client allowed", withClient, iss.Token(t, oidctest.Claims{ClientID: "web"}), true, ""},
		{"client by azp", withClient, iss.Token(t, oidctest.Claims{Extra: map[string]any{"azp": "cli"}}), true, ""},
		{"client refused", withClient, iss.Token(t, oidctest.Claims{ClientID: "evil"}), false, "client"},
		{"scope allowed", withScope, iss.Token(t, oidctest.Claims{Scope: "openid agent/invoke"}), true, ""},
		{"scope missing", withScope, iss.Token(t, oidctest.Claims{Scope: "openid"}), false, "scopes"},
		{"claim contains any", withClaim, iss.Token(t, oidctest.Claims{Extra: map[string]any{"groups": []string{"dev", "ops"}}}), true, ""},
		{"claim no match", withClaim, iss.Token(t, oidctest.Claims{Extra: map[string]any{"groups": []string{"dev"}}}), false, "groups"},
		{"claim equals", withEquals, iss.Token(t, oidctest.Claims{Extra: map[string]any{"tenant": "acme"}}), true, ""},
		{"claim not equal", withEquals, iss.Token(t, oidctest.Claims{Extra: map[string]any{"tenant": "other"}}), false, "tenant"},
		{"expired", base, iss.Token(t, oidctest.Claims{Expiry: time.Now().Add(-time.Minute)}), false, "expired"},
		{"other issuer", base, iss.Token(t, oidctest.Claims{Issuer: "https://evil.example"}), false, "different provider"},
		{"unpublished key", base, iss.ForeignToken(t, oidctest.Claims{}), false, "not valid"},
		{"garbage", base, "not.a.jwt", false, "not valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.a, tc.token)
			if tc.ok {
				if err != nil {
					t.Fatalf("Verify = %v, want ok", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			if c := code(t, err); c != auth.CodeBearerInvalid {
				t.Errorf("code %s, want %s", c, auth.CodeBearerInvalid)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

func TestJWTVerifier_UnreachableIssuer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	v := auth.NewJWTVerifier(nil)
	_, err := v.Verify(context.Background(), catalog.CustomJWTAuthorizer{DiscoveryURL: srv.URL + "/.well-known/openid-configuration"}, "a.b.c")
	if err == nil || code(t, err) != auth.CodeBearerInvalid || !strings.Contains(err.Error(), "cannot be verified") {
		t.Fatalf("Verify with an unreachable issuer = %v", err)
	}
}

// TestDecide covers the exclusive auth modes of AGENTCORE-WIRE.md §2.2.
func TestDecide(t *testing.T) {
	iss := oidctest.Start(t)
	v := auth.NewJWTVerifier(nil)
	jwtRuntime := &catalog.CustomJWTAuthorizer{DiscoveryURL: iss.DiscoveryURL}
	signed := auth.Principal{AccessKeyID: "AKID", Account: "000000000000"}
	missing := errors.New("missing authentication token")
	good := iss.Token(t, oidctest.Claims{Subject: "u"})
	ctx := context.Background()
	cases := []struct {
		name       string
		p          auth.Principal
		authorizer *catalog.CustomJWTAuthorizer
		resolved   bool
		want       auth.Code // "" = allowed
		wantErr    error
	}{
		{"sigv4 to a sigv4 runtime", signed, nil, true, "", nil},
		{"sigv4 to a jwt runtime", signed, jwtRuntime, true, auth.CodeMethodMismatch, nil},
		{"sigv4, runtime not found", signed, nil, false, "", nil},
		{"bearer to a jwt runtime", auth.Principal{Bearer: good}, jwtRuntime, true, "", nil},
		{"bad bearer to a jwt runtime", auth.Principal{Bearer: "x.y.z"}, jwtRuntime, true, auth.CodeBearerInvalid, nil},
		{"bearer to a sigv4 runtime", auth.Principal{Bearer: good}, nil, true, auth.CodeMethodMismatch, nil},
		{"bearer, runtime not found", auth.Principal{Bearer: good}, nil, false, auth.CodeMethodMismatch, nil},
		{"unsigned to a jwt runtime", auth.Principal{Unsigned: missing}, jwtRuntime, true, auth.CodeBearerMissing, nil},
		{"unsigned to a sigv4 runtime", auth.Principal{Unsigned: missing}, nil, true, "", missing},
		{"unsigned, runtime not found", auth.Principal{Unsigned: missing}, jwtRuntime, false, "", missing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Decide(ctx, tc.p, tc.authorizer, tc.resolved)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decide = %v, want %v", err, tc.wantErr)
				}
			case tc.want == "":
				if err != nil {
					t.Fatalf("Decide = %v, want allowed", err)
				}
			default:
				if err == nil {
					t.Fatal("Decide allowed the request")
				}
				if c := code(t, err); c != tc.want {
					t.Fatalf("Decide code %s (%v), want %s", c, err, tc.want)
				}
			}
		})
	}
}

// sigv4Stub stands in for the SigV4 verifier behind RuntimeDecides: it records whether it
// was asked and fails like SigV4 does for a request without a signature.
type sigv4Stub struct{ asked int }

func (s *sigv4Stub) Authenticate(r *http.Request) (*http.Request, auth.Principal, error) {
	s.asked++
	if r.Header.Get("Authorization") == "" {
		return nil, auth.Principal{}, &auth.Error{Code: auth.CodeMissingAuthenticationToken, Message: "Missing Authentication Token"}
	}
	return r, auth.Principal{AccessKeyID: "AKID"}, nil
}

func TestRuntimeDecides(t *testing.T) {
	stub := &sigv4Stub{}
	d := auth.RuntimeDecides{SigV4: stub, Decides: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/invocations") }}
	req := func(path string, h map[string]string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	_, p, err := d.Authenticate(req("/runtimes/x/invocations", map[string]string{"Authorization": "Bearer tok"}))
	if err != nil || p.Bearer != "tok" || p.Verified() || stub.asked != 0 {
		t.Fatalf("bearer on a runtime route: %+v %v (sigv4 asked %d)", p, err, stub.asked)
	}
	_, p, err = d.Authenticate(req("/runtimes/x/invocations", nil))
	if err != nil || p.Unsigned == nil || p.Verified() {
		t.Fatalf("unsigned on a runtime route: %+v %v", p, err)
	}
	_, p, err = d.Authenticate(req("/runtimes/x/invocations", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=…"}))
	if err != nil || !p.Verified() || p.AccessKeyID != "AKID" {
		t.Fatalf("signed on a runtime route: %+v %v", p, err)
	}
	if _, _, err = d.Authenticate(req("/runtimes", map[string]string{"Authorization": "Bearer tok"})); err != nil {
		t.Fatalf("a bearer elsewhere went to SigV4 and was %v (the stub accepts any Authorization)", err)
	}
	if _, _, err = d.Authenticate(req("/runtimes", nil)); err == nil {
		t.Fatal("an unsigned request elsewhere was let through")
	}
	ws := req("/runtimes/x/invocations", map[string]string{
		"Sec-WebSocket-Protocol": "base64UrlBearerAuthorization." + base64.RawURLEncoding.EncodeToString([]byte("ws-token")) + ", base64UrlBearerAuthorization",
	})
	if tok, ok := auth.BearerToken(ws); !ok || tok != "ws-token" {
		t.Fatalf("BearerToken from the WebSocket subprotocol = %q %v", tok, ok)
	}
}
