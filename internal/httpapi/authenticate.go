package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/errdefs"
)

// MaxPayload is the largest request body any AgentCore operation accepts (100 MB, as
// AWS's InvokeAgentRuntime payload limit).
const MaxPayload = 100_000_000

// Authenticator verifies a request and returns it with a replayable body.
type Authenticator interface {
	Authenticate(r *http.Request) (*http.Request, auth.Principal, error)
}

// Authenticate rejects requests that fail authn in the AWS error shape and passes the rest
// on with the principal in their context. The verified request's body is closed afterwards
// (for spooled bodies this removes the temporary file).
func Authenticate(authn Authenticator, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The verifier spools the body to hash it; bound it first.
		r.Body = http.MaxBytesReader(w, r.Body, MaxPayload)
		r2, p, err := authn.Authenticate(r)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = &errdefs.ValidationError{
					Reason: errdefs.ReasonFieldValidationFailed,
					Fields: []errdefs.FieldError{{Name: "payload", Message: fmt.Sprintf("Member must have length less than or equal to %d", MaxPayload)}},
				}
			}
			WriteError(w, r, logger, err)
			return
		}
		defer func() { _ = r2.Body.Close() }()
		next.ServeHTTP(w, r2.WithContext(auth.WithPrincipal(r2.Context(), p)))
	})
}
