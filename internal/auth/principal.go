package auth

import (
	"context"
	"net/http"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	AccessKeyID string // SigV4 callers
	Account     string

	// Bearer is a bearer token not yet verified: on routes where the runtime decides how
	// callers authenticate (see RuntimeDecides), its JWT authorizer checks it.
	Bearer string
	// Unsigned is why an unsigned request on such a route failed SigV4; it is the answer
	// unless the runtime has a JWT authorizer (which then asks for a token).
	Unsigned error
}

// Verified reports whether p is an authenticated caller, not one whose request is left to
// the runtime's authorizer.
func (p Principal) Verified() bool { return p.Bearer == "" && p.Unsigned == nil }

// Authenticator authenticates one inbound request.
//
// Authenticate may read the request body (SigV4 hashes it); it then returns a request whose
// Body replays the same bytes, whose context carries the Principal (see PrincipalFrom), and
// which the caller must use instead of r. The caller should Close the returned Body when the
// request is done; that releases any spooled copy.
//
// A failure to authenticate is an *Error (errors.Is(err, errdefs.ErrUnauthenticated)). Any
// other error is an infrastructure failure (key store unreachable, body read failed, spool
// disk full) and wraps its cause, e.g. *http.MaxBytesError.
type Authenticator interface {
	Authenticate(r *http.Request) (*http.Request, Principal, error)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
