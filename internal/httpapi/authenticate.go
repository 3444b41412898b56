package httpapi

import (
	"log/slog"
	"net/http"

	"berth.dev/berth/internal/auth"
)

// Authenticator verifies a request and returns it with a replayable body.
type Authenticator interface {
	Authenticate(r *http.Request) (*http.Request, auth.Principal, error)
}

// Authenticate rejects requests that fail authn in the AWS error shape and passes the rest
// on with the principal in their context. The verified request's body is closed afterwards
// (for spooled bodies this removes the temporary file).
func Authenticate(authn Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, p, err := authn.Authenticate(r)
		if err != nil {
			WriteError(w, r, logger, err)
			return
		}
		defer r2.Body.Close()
		next.ServeHTTP(w, r2.WithContext(auth.WithPrincipal(r2.Context(), p)))
	})
}
