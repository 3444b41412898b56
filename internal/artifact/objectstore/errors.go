package objectstore

import (
	"errors"
	"fmt"
	"net/http"

	"berth.dev/berth/internal/errdefs"
)

// apiError is an S3 error: the HTTP status, the S3 error code and message the client sees,
// and the errdefs kind that Go callers test with errors.Is.
type apiError struct {
	status  int
	code    string
	message string
	kind    error
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// Unwrap returns the errdefs kind.
func (e *apiError) Unwrap() error { return e.kind }

func newAPIError(status int, code, message string, kind error) *apiError {
	return &apiError{status: status, code: code, message: message, kind: kind}
}

func errNoSuchBucket(bucket string) error {
	return newAPIError(http.StatusNotFound, "NoSuchBucket",
		fmt.Sprintf("The specified bucket does not exist: %s", bucket), errdefs.ErrNotFound)
}

func errNoSuchKey() error {
	return newAPIError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.",
		errdefs.ErrNotFound)
}

func errNoSuchVersion() error {
	return newAPIError(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.",
		errdefs.ErrNotFound)
}

func errBucketExists() error {
	return newAPIError(http.StatusConflict, "BucketAlreadyOwnedByYou",
		"Your previous request to create the named bucket succeeded and you already own it.",
		errdefs.ErrConflict)
}

func errBucketNotEmpty() error {
	return newAPIError(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.",
		errdefs.ErrConflict)
}

func errInvalidBucketName(bucket string) error {
	return newAPIError(http.StatusBadRequest, "InvalidBucketName",
		fmt.Sprintf("The specified bucket is not valid: %q", bucket), errdefs.ErrInvalidArgument)
}

func errInvalidArgument(format string, args ...any) error {
	return newAPIError(http.StatusBadRequest, "InvalidArgument", fmt.Sprintf(format, args...),
		errdefs.ErrInvalidArgument)
}

func errInvalidRequest(format string, args ...any) error {
	return newAPIError(http.StatusBadRequest, "InvalidRequest", fmt.Sprintf(format, args...),
		errdefs.ErrInvalidArgument)
}

func errNotImplemented(what string) error {
	return newAPIError(http.StatusNotImplemented, "NotImplemented",
		what+" is not implemented by Berth's object store.", errdefs.ErrInvalidArgument)
}

func errBadDigest(what string) error {
	return newAPIError(http.StatusBadRequest, "BadDigest",
		fmt.Sprintf("The %s you specified did not match the calculated checksum.", what),
		errdefs.ErrInvalidArgument)
}

func errInvalidDigest(what string) error {
	return newAPIError(http.StatusBadRequest, "InvalidDigest",
		fmt.Sprintf("The %s you specified is not valid.", what), errdefs.ErrInvalidArgument)
}

func errSHA256Mismatch() error {
	return newAPIError(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
		"The provided 'x-amz-content-sha256' header does not match what was computed.",
		errdefs.ErrInvalidArgument)
}

func errEntityTooLarge(limit int64) error {
	return newAPIError(http.StatusBadRequest, "EntityTooLarge",
		fmt.Sprintf("Your proposed upload exceeds the maximum allowed object size of %d bytes.", limit),
		errdefs.ErrInvalidArgument)
}

func errIncompleteBody() error {
	return newAPIError(http.StatusBadRequest, "IncompleteBody",
		"You did not provide the number of bytes specified by the Content-Length HTTP header.",
		errdefs.ErrInvalidArgument)
}

func errInvalidRange() error {
	return newAPIError(http.StatusRequestedRangeNotSatisfiable, "InvalidRange",
		"The requested range is not satisfiable", errdefs.ErrInvalidArgument)
}

func errPreconditionFailed() error {
	return newAPIError(http.StatusPreconditionFailed, "PreconditionFailed",
		"At least one of the pre-conditions you specified did not hold", errdefs.ErrConflict)
}

func errKeyTooLong() error {
	return newAPIError(http.StatusBadRequest, "KeyTooLongError", "Your key is too long.",
		errdefs.ErrInvalidArgument)
}

func errMetadataTooLarge() error {
	return newAPIError(http.StatusBadRequest, "MetadataTooLarge",
		"Your metadata headers exceed the maximum allowed metadata size.", errdefs.ErrInvalidArgument)
}

func errMethodNotAllowed() error {
	return newAPIError(http.StatusMethodNotAllowed, "MethodNotAllowed",
		"The specified method is not allowed against this resource.", errdefs.ErrInvalidArgument)
}

// toAPIError turns any error into the S3 error to send. The boolean is false for errors
// that are not the client's fault (they are answered as InternalError and logged).
func toAPIError(err error) (*apiError, bool) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae, true
	}
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return newAPIError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", nil), true
	case errors.Is(err, errdefs.ErrInvalidArgument):
		return newAPIError(http.StatusBadRequest, "InvalidArgument", err.Error(), nil), true
	case errors.Is(err, errdefs.ErrConflict):
		return newAPIError(http.StatusConflict, "OperationAborted",
			"A conflicting conditional operation is currently in progress against this resource.", nil), true
	}
	return newAPIError(http.StatusInternalServerError, "InternalError",
		"We encountered an internal error. Please try again.", nil), false
}
