// Package httpapi is Berth's wire layer shared by both planes: the handler type that returns
// errors, the single place errors become AgentCore restJson1 error responses, JSON request
// decoding, pagination tokens, and the middleware every request passes (request id, panic
// recovery, logging, SigV4 authentication). The operations themselves live in controlplane/
// and dataplane/; internal/server mounts them.
package httpapi

import (
	"log/slog"
	"net/http"
)

// HandlerFunc is an HTTP handler that returns an error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler, writing any returned error in the wire error shape. A
// handler that already wrote its response header must not return an error.
func Handle(logger *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nameSpan(r) // tracing.go: the span takes the operation's name
		if err := h(w, r); err != nil {
			recordError(r, err)
			WriteError(w, r, logger, err)
		}
	})
}

// unknownOperation answers requests no route matched, as AWS does.
type unknownOperation struct{}

func (unknownOperation) Error() string     { return "unknown operation" }
func (unknownOperation) ErrorType() string { return "UnknownOperationException" }
func (unknownOperation) HTTPStatus() int   { return http.StatusNotFound }

// UnknownOperation is the fallback handler for unmatched paths and methods.
func UnknownOperation(logger *slog.Logger) http.Handler {
	return Handle(logger, func(http.ResponseWriter, *http.Request) error { return unknownOperation{} })
}
