package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes of the OCI distribution specification.
const (
	codeBlobUnknown         = "BLOB_UNKNOWN"
	codeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	codeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	codeDigestInvalid       = "DIGEST_INVALID"
	codeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	codeManifestInvalid     = "MANIFEST_INVALID"
	codeManifestUnknown     = "MANIFEST_UNKNOWN"
	codeNameInvalid         = "NAME_INVALID"
	codeNameUnknown         = "NAME_UNKNOWN"
	codeSizeInvalid         = "SIZE_INVALID"
	codeUnauthorized        = "UNAUTHORIZED"
	codeUnsupported         = "UNSUPPORTED"
	codeRangeInvalid        = "RANGE_INVALID"
	codeInternal            = "INTERNAL_ERROR" // not in the spec; clients treat any 5xx as retryable
)

// regError is an error answered in the distribution JSON shape. cause, when set, is logged
// and never sent to the client.
type regError struct {
	status  int
	code    string
	message string
	cause   error
}

func (e *regError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.code, e.message, e.cause)
	}
	return e.code + ": " + e.message
}

func (e *regError) Unwrap() error { return e.cause }

func newError(status int, code, format string, args ...any) *regError {
	return &regError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func internalError(op string, err error) *regError {
	return &regError{status: http.StatusInternalServerError, code: codeInternal, message: op + " failed", cause: err}
}

var (
	errBlobUnknown     = newError(http.StatusNotFound, codeBlobUnknown, "blob unknown to registry")
	errManifestUnknown = newError(http.StatusNotFound, codeManifestUnknown, "manifest unknown")
	errUploadUnknown   = newError(http.StatusNotFound, codeBlobUploadUnknown, "blob upload unknown to registry")
	errUnauthorized    = newError(http.StatusUnauthorized, codeUnauthorized, "authentication required")
)

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// write sends the error as {"errors":[{"code":…,"message":…}]}.
func (e *regError) write(w http.ResponseWriter) {
	body, err := json.Marshal(errorBody{Errors: []errorEntry{{Code: e.code, Message: e.message}}})
	if err != nil { // cannot happen: two strings
		body = []byte(`{"errors":[{"code":"INTERNAL_ERROR","message":"encode error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}
