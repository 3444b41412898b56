// Package errdefs defines the error kinds shared by every Berth package.
//
// Packages wrap one of these sentinels with context ("get runtime x: %w") and the HTTP
// edge (internal/httpapi) maps the kind to an AgentCore wire error exactly once. Test kinds
// with errors.Is, never by comparing messages.
package errdefs

import (
	"errors"
	"fmt"
	"strings"
)

// Error kinds. Each maps to one AgentCore error type at the wire edge.
var (
	ErrNotFound         = errors.New("not found")           // ResourceNotFoundException 404
	ErrConflict         = errors.New("conflict")            // ConflictException 409
	ErrInvalidArgument  = errors.New("invalid argument")    // ValidationException 400
	ErrUnauthenticated  = errors.New("unauthenticated")     // UnrecognizedClient / InvalidSignature 403
	ErrPermissionDenied = errors.New("permission denied")   // AccessDeniedException 403
	ErrQuotaExceeded    = errors.New("quota exceeded")      // ServiceQuotaExceededException 402
	ErrThrottled        = errors.New("throttled")           // ThrottlingException 429
	ErrUnavailable      = errors.New("unavailable")         // InternalServerException 500 (retryable)
	ErrRuntimeClient    = errors.New("agent runtime error") // RuntimeClientError 424
)

// Validation reasons, as the AgentCore ValidationExceptionReason enum spells them.
const (
	ReasonCannotParse           = "CannotParse"
	ReasonFieldValidationFailed = "FieldValidationFailed"
	ReasonIdempotentMismatch    = "IdempotentParameterMismatchException"
	ReasonResourceConflict      = "ResourceConflict"
)

// FieldError is one violated constraint, named by the wire member path ("agentRuntimeName",
// "lifecycleConfiguration.maxLifetime").
type FieldError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// ValidationError reports every violated constraint of one request at once. It matches
// ErrInvalidArgument under errors.Is.
type ValidationError struct {
	Reason string
	Fields []FieldError
	// Msg overrides the generated message when set.
	Msg string
}

// Error renders the message AWS uses: "N validation error(s) detected: Value at 'x' failed to
// satisfy constraint: ...".
func (e *ValidationError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	if len(e.Fields) == 0 {
		return "validation failed"
	}
	var b strings.Builder
	noun := "errors"
	if len(e.Fields) == 1 {
		noun = "error"
	}
	fmt.Fprintf(&b, "%d validation %s detected: ", len(e.Fields), noun)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "Value at '%s' failed to satisfy constraint: %s", f.Name, f.Message)
	}
	return b.String()
}

// Is makes a ValidationError match ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// Invalid returns a ValidationError with reason FieldValidationFailed for one field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{
		Reason: ReasonFieldValidationFailed,
		Fields: []FieldError{{Name: field, Message: fmt.Sprintf(format, args...)}},
	}
}

// Fields collects field errors while validating a request.
type Fields []FieldError

// Add records one violated constraint.
func (f *Fields) Add(name, format string, args ...any) {
	*f = append(*f, FieldError{Name: name, Message: fmt.Sprintf(format, args...)})
}

// Err returns a ValidationError if any constraint was violated, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Reason: ReasonFieldValidationFailed, Fields: f}
}
