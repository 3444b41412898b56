// Package auth authenticates inbound requests: AWS Signature Version 4 (header and presigned
// query forms, including S3's single-escaped paths, payload hash modes and aws-chunked
// streaming uploads), the access keys SigV4 checks against, and the first-start bootstrap
// that creates the admin key and writes an AWS shared-credentials file for it.
//
// Every failure is an *Error carrying a Code that maps to the AWS error type (JSON planes)
// and the S3 error code; all of them match errdefs.ErrUnauthenticated under errors.Is.
// Messages help the caller fix the request but never contain a secret or the expected
// signature.
package auth
