package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"berth.dev/berth/internal/catalog"
)

// How long a discovery document is trusted, and how soon a failed fetch is tried again.
const (
	discoveryTTL   = time.Hour
	discoveryRetry = 10 * time.Second
)

// signingAlgs are the JWS algorithms a bearer token may be signed with.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// JWTVerifier checks bearer tokens against a runtime's customJWTAuthorizer: the token's
// signature with the issuer's keys (found through the authorizer's OpenID discovery URL,
// cached, re-fetched when a token names a key not seen yet), its issuer, expiry and
// not-before, and then the authorizer's rules — allowedAudience against "aud",
// allowedClients against "client_id" (or "azp"), allowedScopes against "scope"/"scp", and
// customClaims. It is safe for concurrent use.
type JWTVerifier struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	issuers map[string]*issuer // by discovery URL
}

// issuer is one discovery URL's issuer and key set.
type issuer struct {
	ready   chan struct{} // closed when the fetch below finished
	name    string
	keys    *oidc.RemoteKeySet
	err     error
	expires time.Time
}

// NewJWTVerifier returns a verifier that fetches discovery documents and keys with client
// (nil: a client with a 10 s timeout).
func NewJWTVerifier(client *http.Client) *JWTVerifier {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &JWTVerifier{client: client, now: time.Now, issuers: map[string]*issuer{}}
}

// Claims are the verified token's claims that Berth uses.
type Claims struct {
	Subject  string
	ClientID string
}

// Verify checks token against a. Failures are *Error with CodeBearerInvalid and say why
// without echoing the token; an unreachable issuer is one too (the caller cannot be
// authenticated), with the cause in the message.
func (v *JWTVerifier) Verify(ctx context.Context, a catalog.CustomJWTAuthorizer, token string) (Claims, error) {
	iss, err := v.issuer(ctx, a.DiscoveryURL)
	if err != nil {
		return Claims{}, newError(CodeBearerInvalid, fmt.Sprintf("the bearer token cannot be verified: %v", err))
	}
	verifier := oidc.NewVerifier(iss.name, iss.keys, &oidc.Config{
		SkipClientIDCheck: true, SupportedSigningAlgs: signingAlgs, Now: v.now,
	})
	idt, err := verifier.Verify(oidc.ClientContext(ctx, v.client), token)
	if err != nil {
		return Claims{}, newError(CodeBearerInvalid, "the bearer token is not valid: "+err.Error())
	}
	var raw map[string]any
	if err := idt.Claims(&raw); err != nil {
		return Claims{}, newError(CodeBearerInvalid, "the bearer token's claims cannot be read")
	}
	c := Claims{Subject: idt.Subject, ClientID: claimString(raw, "client_id")}
	if c.ClientID == "" {
		c.ClientID = claimString(raw, "azp")
	}
	if err := checkRules(a, idt.Audience, c.ClientID, raw); err != nil {
		return Claims{}, newError(CodeBearerInvalid, err.Error())
	}
	return c, nil
}

// checkRules applies the authorizer's audience, client, scope and claim rules.
func checkRules(a catalog.CustomJWTAuthorizer, aud []string, clientID string, raw map[string]any) error {
	if len(a.AllowedAudience) > 0 && !slices.ContainsFunc(aud, func(s string) bool { return slices.Contains(a.AllowedAudience, s) }) {
		return fmt.Errorf("the bearer token's audience %q is not allowed", aud)
	}
	if len(a.AllowedClients) > 0 && !slices.Contains(a.AllowedClients, clientID) {
		return fmt.Errorf("the bearer token's client %q is not allowed", clientID)
	}
	if len(a.AllowedScopes) > 0 {
		scopes := strings.Fields(claimString(raw, "scope"))
		scopes = append(scopes, claimStrings(raw, "scp")...)
		if !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(a.AllowedScopes, s) }) {
			return fmt.Errorf("the bearer token has none of the allowed scopes %q", a.AllowedScopes)
		}
	}
	for _, cc := range a.CustomClaims {
		if err := checkClaim(cc, raw); err != nil {
			return err
		}
	}
	return nil
}

// checkClaim applies one customClaims rule: EQUALS (the claim is the string, or the
// string list exactly), CONTAINS (a list claim holds the string), CONTAINS_ANY (a list
// claim holds one of the strings).
func checkClaim(cc catalog.CustomClaim, raw map[string]any) error {
	name := cc.InboundTokenClaimName
	rule := cc.AuthorizingClaimMatchValue
	if rule == nil || rule.ClaimMatchValue == nil {
		if _, ok := raw[name]; !ok {
			return fmt.Errorf("the bearer token has no claim %q", name)
		}
		return nil
	}
	want := rule.ClaimMatchValue
	got := claimStrings(raw, name)
	if cc.InboundTokenClaimValueType == "STRING" {
		got = nil
		if s := claimString(raw, name); s != "" {
			got = []string{s}
		}
	}
	var ok bool
	switch rule.ClaimMatchOperator {
	case "EQUALS":
		if want.MatchValueString != nil {
			ok = len(got) == 1 && got[0] == *want.MatchValueString
		} else {
			ok = slices.Equal(got, want.MatchValueStringList)
		}
	case "CONTAINS":
		ok = want.MatchValueString != nil && slices.Contains(got, *want.MatchValueString)
	case "CONTAINS_ANY":
		ok = slices.ContainsFunc(want.MatchValueStringList, func(s string) bool { return slices.Contains(got, s) })
	}
	if !ok {
		return fmt.Errorf("the bearer token's claim %q does not match the authorizer's rule (%s)", name, rule.ClaimMatchOperator)
	}
	return nil
}

func claimString(raw map[string]any, name string) string {
	s, _ := raw[name].(string)
	return s
}

// claimStrings reads a claim that is a string or a list of strings.
func claimStrings(raw map[string]any, name string) []string {
	switch v := raw[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// issuer returns the issuer and keys of a discovery URL, fetching the document once per
// discoveryTTL; concurrent callers share one fetch.
func (v *JWTVerifier) issuer(ctx context.Context, discoveryURL string) (*issuer, error) {
	v.mu.Lock()
	iss := v.issuers[discoveryURL]
	if iss != nil {
		select {
		case <-iss.ready:
			if v.now().After(iss.expires) {
				iss = nil
			}
		default:
		}
	}
	if iss == nil {
		iss = &issuer{ready: make(chan struct{})}
		v.issuers[discoveryURL] = iss
		v.mu.Unlock()
		v.fetch(iss, discoveryURL)
	} else {
		v.mu.Unlock()
	}
	select {
	case <-iss.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return iss, iss.err
}

// fetch reads the discovery document into iss and closes iss.ready. Its context is not a
// request's: the key set it makes lives on and fetches keys when they rotate.
func (v *JWTVerifier) fetch(iss *issuer, discoveryURL string) {
	defer close(iss.ready)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := v.discover(ctx, discoveryURL)
	if err != nil {
		iss.err, iss.expires = err, v.now().Add(discoveryRetry)
		return
	}
	iss.name = doc.Issuer
	iss.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), v.client), doc.JWKSURI)
	iss.expires = v.now().Add(discoveryTTL)
}

type discoveryDoc struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

func (v *JWTVerifier) discover(ctx context.Context, discoveryURL string) (discoveryDoc, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discoveryURL, nil)
	if err != nil {
		return discoveryDoc{}, fmt.Errorf("discovery URL %s: %w", discoveryURL, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return discoveryDoc{}, fmt.Errorf("fetch %s: %w", discoveryURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return discoveryDoc{}, fmt.Errorf("fetch %s: status %d", discoveryURL, resp.StatusCode)
	}
	var doc discoveryDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return discoveryDoc{}, fmt.Errorf("decode %s: %w", discoveryURL, err)
	}
	if doc.Issuer == "" || doc.JWKSURI == "" {
		return discoveryDoc{}, fmt.Errorf("%s names no issuer or jwks_uri", discoveryURL)
	}
	return doc, nil
}
