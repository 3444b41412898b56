// Package oidctest is an OpenID issuer for tests: a real HTTP server on loopback serving a
// discovery document and a JWKS, and a signer for the tokens it issues. Runtimes with a
// customJWTAuthorizer point their discoveryUrl at it.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a running test issuer.
type Issuer struct {
	URL          string // the issuer ("iss")
	DiscoveryURL string // URL/.well-known/openid-configuration
	key          *rsa.PrivateKey
	keyID        string
}

// Start serves an issuer until the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{key: key, keyID: "test-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: iss.keyID, Algorithm: string(jose.RS256), Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	iss.DiscoveryURL = srv.URL + "/.well-known/openid-configuration"
	return iss
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Claims are the claims of a token; zero fields are left out. Extra adds any other claim.
type Claims struct {
	Subject  string
	Audience []string
	ClientID string
	Scope    string
	Expiry   time.Time // zero: an hour from now
	Issuer   string    // zero: the issuer's URL
	Extra    map[string]any
}

// Token signs c with the issuer's key.
func (iss *Issuer) Token(t testing.TB, c Claims) string {
	t.Helper()
	return sign(t, iss.key, iss.keyID, iss.claims(c))
}

// ForeignToken signs c like Token but with a key the issuer does not publish.
func (iss *Issuer) ForeignToken(t testing.TB, c Claims) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, key, iss.keyID, iss.claims(c))
}

func (iss *Issuer) claims(c Claims) map[string]any {
	now := time.Now()
	m := map[string]any{"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix()}
	for k, v := range c.Extra {
		m[k] = v
	}
	m["iss"] = iss.URL
	if c.Issuer != "" {
		m["iss"] = c.Issuer
	}
	m["exp"] = now.Add(time.Hour).Unix()
	if !c.Expiry.IsZero() {
		m["exp"] = c.Expiry.Unix()
	}
	if c.Subject != "" {
		m["sub"] = c.Subject
	}
	if len(c.Audience) > 0 {
		m["aud"] = c.Audience
	}
	if c.ClientID != "" {
		m["client_id"] = c.ClientID
	}
	if c.Scope != "" {
		m["scope"] = c.Scope
	}
	return m
}

func sign(t testing.TB, key *rsa.PrivateKey, keyID string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
