package agent

import (
	"fmt"
	"net/http"
)

// HTTPError is an error a handler returns to answer with a chosen status and
// {"error": Message} — the counterpart of Starlette's HTTPException.
type HTTPError struct {
	Status  int
	Message string
	Err     error // optional cause, for errors.Is/As and logs; not sent to the client
}

// Error returns an [*HTTPError] with the given status and message.
func Error(status int, message string) *HTTPError {
	return &HTTPError{Status: status, Message: message}
}

// Errorf is [Error] with a formatted message; a %w verb sets Err.
func Errorf(status int, format string, args ...any) *HTTPError {
	err := fmt.Errorf(format, args...)
	return &HTTPError{Status: status, Message: err.Error(), Err: err}
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }
