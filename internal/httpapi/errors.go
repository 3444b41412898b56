package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"berth.dev/berth/internal/errdefs"
)

// WireError is an error that knows its AgentCore error type and HTTP status. Packages at the
// edge (auth) implement it; everything else uses errdefs kinds and is mapped by Classify.
type WireError interface {
	error
	ErrorType() string
	HTTPStatus() int
}

// Body is the restJson1 error body. __type duplicates the X-Amzn-ErrorType header, as
// recommended in AGENTCORE-WIRE.md §1.7.
type Body struct {
	Type      string               `json:"__type"`
	Message   string               `json:"message"`
	Reason    string               `json:"reason,omitempty"`
	FieldList []errdefs.FieldError `json:"fieldList,omitempty"`
}

// Classify maps any error to its wire status and body. Internal errors get a generic
// message; their cause is logged by WriteError, never sent.
func Classify(err error) (int, Body) {
	var ve *errdefs.ValidationError
	if errors.As(err, &ve) {
		reason := ve.Reason
		if reason == "" {
			reason = errdefs.ReasonFieldValidationFailed
		}
		return http.StatusBadRequest, Body{Type: "ValidationException", Message: ve.Error(), Reason: reason, FieldList: ve.Fields}
	}
	var we WireError
	if errors.As(err, &we) {
		return we.HTTPStatus(), Body{Type: we.ErrorType(), Message: we.Error()}
	}
	kinds := []struct {
		kind   error
		status int
		typ    string
	}{
		{errdefs.ErrInvalidArgument, http.StatusBadRequest, "ValidationException"},
		{errdefs.ErrNotFound, http.StatusNotFound, "ResourceNotFoundException"},
		{errdefs.ErrConflict, http.StatusConflict, "ConflictException"},
		{errdefs.ErrQuotaExceeded, http.StatusPaymentRequired, "ServiceQuotaExceededException"},
		{errdefs.ErrThrottled, http.StatusTooManyRequests, "ThrottlingException"},
		{errdefs.ErrPermissionDenied, http.StatusForbidden, "AccessDeniedException"},
		{errdefs.ErrUnauthenticated, http.StatusForbidden, "UnrecognizedClientException"},
		{errdefs.ErrRuntimeClient, http.StatusFailedDependency, "RuntimeClientError"},
	}
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			b := Body{Type: k.typ, Message: userMessage(err, k.kind)}
			if k.typ == "ValidationException" {
				b.Reason = errdefs.ReasonFieldValidationFailed
			}
			return k.status, b
		}
	}
	return http.StatusInternalServerError, Body{Type: "InternalServerException", Message: "internal server error"}
}

// userMessage strips the "kind: " prefix that fmt.Errorf("%w: detail", kind) produces.
func userMessage(err error, kind error) string {
	msg := err.Error()
	prefix := kind.Error() + ": "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

// WriteError writes err in the AgentCore error shape and logs it.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status, body := Classify(err)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	logger.Log(r.Context(), level, "request failed",
		"method", r.Method, "path", r.URL.Path, "status", status, "type", body.Type,
		"request_id", RequestIDFrom(r.Context()), "err", err)
	if status >= 500 {
		body.Message += " (request id " + RequestIDFrom(r.Context()) + ")"
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", body.Type)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// WriteJSON writes v as the JSON response with the given status. An error means nothing was
// written (v could not be encoded); once the header is sent, a failed write (the client went
// away) is not an error the caller could still report.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return nil
}

// requestIDKey carries the request id in the context.
type requestIDKey struct{}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
