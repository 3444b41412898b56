package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"berth.dev/berth/internal/catalog"
)

// RuntimeDecides authenticates requests whose target runtime chooses how its callers
// authenticate (AGENTCORE-WIRE.md §2.2: a runtime with a customJWTAuthorizer accepts only
// bearer tokens, any other only SigV4). On routes where Decides is true it does not judge
// bearer tokens and unsigned requests itself: it passes them on with Principal.Bearer or
// Principal.Unsigned set, and the data plane, once it knows the runtime, verifies the token
// or rejects the request (Principal.Verified is false until then). Every other request,
// and every signed one, goes to SigV4.
type RuntimeDecides struct {
	SigV4   Authenticator
	Decides func(*http.Request) bool
}

// Authenticate implements Authenticator.
func (d RuntimeDecides) Authenticate(r *http.Request) (*http.Request, Principal, error) {
	if !d.Decides(r) {
		return d.SigV4.Authenticate(r)
	}
	if token, ok := BearerToken(r); ok {
		p := Principal{Bearer: token}
		return r.WithContext(WithPrincipal(r.Context(), p)), p, nil
	}
	r2, p, err := d.SigV4.Authenticate(r)
	var ae *Error
	if errors.As(err, &ae) && ae.Code == CodeMissingAuthenticationToken {
		// SigV4 stops at the missing signature, before reading the body.
		p := Principal{Unsigned: err}
		return r.WithContext(WithPrincipal(r.Context(), p)), p, nil
	}
	return r2, p, err
}

// wsBearerProtocol is the WebSocket subprotocol prefix browsers use to send a bearer token
// (AGENTCORE-WIRE.md §2.5): "base64UrlBearerAuthorization.<base64url(token)>".
const wsBearerProtocol = "base64UrlBearerAuthorization." //nolint:gosec // G101: a protocol name, not a credential

// BearerToken returns the request's bearer token: from "Authorization: Bearer <token>", or
// for a WebSocket upgrade from the base64UrlBearerAuthorization subprotocol.
func BearerToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		if t := strings.TrimSpace(h[7:]); t != "" {
			return t, true
		}
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			if enc, ok := strings.CutPrefix(p, wsBearerProtocol); ok {
				if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "=")); err == nil && len(raw) > 0 {
					return string(raw), true
				}
			}
		}
	}
	return "", false
}

// Decide judges a request that reached a runtime's route, once the runtime is known:
// authorizer is the live version's customJWTAuthorizer (nil: SigV4 only), and resolved
// says whether the runtime and endpoint were found (if not, an unverified caller learns
// nothing about them: it gets the answer a runtime without an authorizer would give).
//   - a SigV4 caller passes unless the runtime has an authorizer (method mismatch);
//   - a bearer token is verified against the authorizer (mismatch if there is none);
//   - an unsigned request gets 401 from a runtime with an authorizer, else SigV4's error.
func (v *JWTVerifier) Decide(ctx context.Context, p Principal, authorizer *catalog.CustomJWTAuthorizer, resolved bool) error {
	if p.Verified() {
		if resolved && authorizer != nil {
			return newError(CodeMethodMismatch, "Authorization method mismatch: this agent runtime has a JWT authorizer and accepts only 'Authorization: Bearer <token>' (the AWS SDKs always sign with SigV4; send the request over plain HTTP(S))")
		}
		return nil
	}
	if !resolved || authorizer == nil {
		if p.Unsigned != nil {
			return p.Unsigned
		}
		return newError(CodeMethodMismatch, "Authorization method mismatch: this agent runtime accepts only SigV4-signed requests, not bearer tokens")
	}
	if p.Bearer == "" {
		return newError(CodeBearerMissing, "this agent runtime requires 'Authorization: Bearer <token>' issued by its JWT authorizer")
	}
	_, err := v.Verify(ctx, *authorizer, p.Bearer)
	return err
}
