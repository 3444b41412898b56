package image

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is a preparation failure. Reason is concise and written for a person: it becomes the
// version's failureReason. Kind is an errdefs kind; Err, when set, is the underlying cause.
// errors.Is matches both Kind and Err.
type Error struct {
	Reason string
	Kind   error
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// fail returns an *Error of kind with a formatted reason and an optional cause.
func fail(kind, cause error, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Kind: kind, Err: cause}
}

// maxReasonLen bounds a failure reason; causes from remote registries can be long.
const maxReasonLen = 1000

// FailureReason returns a concise human message for an error returned by Prepare: the
// reason of an *Error, or a generic message for an unexpected failure. It returns "" for nil.
func FailureReason(err error) string {
	if err == nil {
		return ""
	}
	var pe *Error
	switch {
	case errors.As(err, &pe):
		return truncate(pe.Reason)
	case errors.Is(err, context.Canceled):
		return "artifact preparation was cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "artifact preparation timed out"
	}
	return truncate("internal error while preparing the artifact: " + err.Error())
}

func truncate(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
