package auth

import (
	"net/http"

	"berth.dev/berth/internal/errdefs"
)

// Code classifies an authentication failure.
type Code string

// Authentication failure codes.
const (
	// CodeMissingAuthenticationToken: the request carries no signature at all.
	CodeMissingAuthenticationToken Code = "MissingAuthenticationToken"
	// CodeIncompleteSignature: the signature is malformed or a required part is missing
	// (Authorization parameters, X-Amz-Date, X-Amz-Content-Sha256 for S3, presign parameters).
	CodeIncompleteSignature Code = "IncompleteSignature"
	// CodeUnrecognizedClient: the access key id is unknown or disabled.
	CodeUnrecognizedClient Code = "UnrecognizedClient"
	// CodeInvalidSignature: the signature does not match, or it is scoped to another region
	// or service.
	CodeInvalidSignature Code = "InvalidSignature"
	// CodeRequestExpired: the signing time is too far from the server's clock.
	CodeRequestExpired Code = "RequestExpired"
	// CodePresignExpired: a presigned URL was used after X-Amz-Date + X-Amz-Expires.
	CodePresignExpired Code = "PresignExpired"
	// CodeContentSHA256Mismatch: the body does not match X-Amz-Content-Sha256.
	CodeContentSHA256Mismatch Code = "ContentSHA256Mismatch"
	// CodeBearerMissing: the runtime has a JWT authorizer and the request carries no token.
	CodeBearerMissing Code = "BearerMissing"
	// CodeBearerInvalid: the bearer token failed the runtime's JWT authorizer.
	CodeBearerInvalid Code = "BearerInvalid"
	// CodeMethodMismatch: SigV4 for a runtime with a JWT authorizer, or a bearer token for one
	// without (AgentCore's "Authorization method mismatch").
	CodeMethodMismatch Code = "MethodMismatch"
)

// ErrorType returns the AWS error shape name for JSON (restJson1) services, as sent in
// X-Amzn-ErrorType and "__type". Clock-skew failures use InvalidSignatureException, as AWS
// does, so SDKs recognise them and correct their clock from the response Date header.
func (c Code) ErrorType() string {
	switch c {
	case CodeMissingAuthenticationToken:
		return "MissingAuthenticationTokenException"
	case CodeIncompleteSignature:
		return "IncompleteSignatureException"
	case CodeUnrecognizedClient:
		return "UnrecognizedClientException"
	case CodeBearerMissing:
		return "UnauthorizedException"
	case CodeBearerInvalid, CodeMethodMismatch:
		return "AccessDeniedException"
	default:
		return "InvalidSignatureException"
	}
}

// HTTPStatus returns the status for JSON services: 400 for IncompleteSignature, 401 for a
// missing bearer token, else 403.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeIncompleteSignature:
		return http.StatusBadRequest
	case CodeBearerMissing:
		return http.StatusUnauthorized
	default:
		return http.StatusForbidden
	}
}

// S3Code returns the S3 error code for the same failure.
func (c Code) S3Code() string {
	switch c {
	case CodeMissingAuthenticationToken:
		return "AccessDenied"
	case CodeIncompleteSignature:
		return "AuthorizationHeaderMalformed"
	case CodeUnrecognizedClient:
		return "InvalidAccessKeyId"
	case CodeRequestExpired:
		return "RequestTimeTooSkewed"
	case CodePresignExpired:
		return "AccessDenied"
	case CodeContentSHA256Mismatch:
		return "XAmzContentSHA256Mismatch"
	default:
		return "SignatureDoesNotMatch"
	}
}

// S3Status returns the HTTP status S3 uses with S3Code.
func (c Code) S3Status() int {
	switch c {
	case CodeIncompleteSignature, CodeContentSHA256Mismatch:
		return http.StatusBadRequest
	default:
		return http.StatusForbidden
	}
}

// Error is an authentication failure. It matches errdefs.ErrUnauthenticated under errors.Is.
type Error struct {
	Code    Code
	Message string

	// CanonicalRequest and StringToSign are what the server computed when a signature did
	// not match. They hold nothing secret (the client can compute both) and help debugging;
	// S3 returns them in SignatureDoesNotMatch errors. Empty for other failures.
	CanonicalRequest string
	StringToSign     string
}

// Error returns the message, which is what goes on the wire next to ErrorType (the code is
// carried by ErrorType and Code, so edges can use an *Error as is).
func (e *Error) Error() string { return e.Message }

// Unwrap makes every *Error match errdefs.ErrUnauthenticated.
func (e *Error) Unwrap() error { return errdefs.ErrUnauthenticated }

// ErrorType returns e.Code.ErrorType().
func (e *Error) ErrorType() string { return e.Code.ErrorType() }

// HTTPStatus returns e.Code.HTTPStatus().
func (e *Error) HTTPStatus() int { return e.Code.HTTPStatus() }

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// AWS's own messages, reused so that clients and people recognise them.
const (
	msgMissingToken     = "Missing Authentication Token"
	msgInvalidSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
