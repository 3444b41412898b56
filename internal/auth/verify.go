package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/errdefs"
)

// KeyLookup finds the secret of an access key.
//
// LookupAccessKey returns an error wrapping errdefs.ErrNotFound for an unknown id and one
// wrapping errdefs.ErrPermissionDenied for a disabled key; SigV4 reports both as
// UnrecognizedClient. Any other error is an infrastructure failure and is passed through.
type KeyLookup interface {
	LookupAccessKey(ctx context.Context, id string) (secret, account string, err error)
}

// ServiceS3 is the signing name that selects S3 rules: the path is signed escaped once, and
// the payload hash comes from X-Amz-Content-Sha256.
const ServiceS3 = "s3"

// SigV4Options configures a SigV4 verifier.
type SigV4Options struct {
	// Service is the signing name requests must be scoped to: "bedrock-agentcore" (both
	// AgentCore planes) or "s3" (the object store). Required.
	Service string
	// Region is the only region requests may be scoped to, e.g. "us-east-1". Required.
	Region string
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// MaxSkew is how far the signing time may be from Now; default 5 minutes.
	MaxSkew time.Duration
	// MaxPresignExpiry is the largest X-Amz-Expires a presigned URL may carry; default
	// 300 seconds, or 7 days for S3.
	MaxPresignExpiry time.Duration
	// SpoolDir holds bodies larger than MemoryThreshold while they are verified (non-S3
	// only); default os.TempDir().
	SpoolDir string
	// MemoryThreshold is the largest body kept in memory; default 1 MiB.
	MemoryThreshold int64
}

// SigV4 verifies AWS Signature Version 4 requests. It is safe for concurrent use.
//
// For every service but S3 the body is part of the signature: Authenticate reads it whole
// (into memory up to MemoryThreshold, beyond that into an unlinked temporary file), checks
// the hash, and returns a request that replays it. For S3 the payload hash is whatever
// X-Amz-Content-Sha256 says and the body is not read: a hex hash is checked as the returned
// body is read (the final Read fails with CodeContentSHA256Mismatch), UNSIGNED-PAYLOAD passes
// the body through, and the aws-chunked streaming modes are decoded, with every chunk
// signature and the trailer signature verified, into the plain object bytes (ContentLength is
// then X-Amz-Decoded-Content-Length, "aws-chunked" is dropped from Content-Encoding, and the
// trailers, e.g. x-amz-checksum-crc32, appear in Request.Trailer once the body reaches EOF).
type SigV4 struct {
	keys KeyLookup
	opts SigV4Options
	s3   bool
}

var _ Authenticator = (*SigV4)(nil)

// NewSigV4 returns a verifier for one service and region.
func NewSigV4(keys KeyLookup, opts SigV4Options) (*SigV4, error) {
	if keys == nil {
		return nil, fmt.Errorf("new sigv4 verifier: %w: no key lookup", errdefs.ErrInvalidArgument)
	}
	if !validToken(opts.Service, 64) || !validToken(opts.Region, 64) {
		return nil, fmt.Errorf("new sigv4 verifier: %w: service %q and region %q must be non-empty [A-Za-z0-9._-]",
			errdefs.ErrInvalidArgument, opts.Service, opts.Region)
	}
	s3 := opts.Service == ServiceS3
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 5 * time.Minute
	}
	if opts.MaxPresignExpiry <= 0 {
		opts.MaxPresignExpiry = 300 * time.Second
		if s3 {
			opts.MaxPresignExpiry = 7 * 24 * time.Hour
		}
	}
	if opts.MemoryThreshold <= 0 {
		opts.MemoryThreshold = 1 << 20
	}
	return &SigV4{keys: keys, opts: opts, s3: s3}, nil
}

// Authenticate verifies r's signature. See Authenticator for the contract.
func (v *SigV4) Authenticate(r *http.Request) (*http.Request, Principal, error) {
	sig, err := v.parse(r)
	if err != nil {
		return nil, Principal{}, err
	}
	if err := v.checkScope(sig); err != nil {
		return nil, Principal{}, err
	}
	if err := v.checkTime(sig); err != nil {
		return nil, Principal{}, err
	}
	secret, account, lerr := v.keys.LookupAccessKey(r.Context(), sig.cred.AccessKeyID)
	switch {
	case errors.Is(lerr, errdefs.ErrNotFound):
		return nil, Principal{}, newError(CodeUnrecognizedClient, fmt.Sprintf(
			"The security token included in the request is invalid: access key id %s is not known to this server.", sig.cred.AccessKeyID))
	case errors.Is(lerr, errdefs.ErrPermissionDenied):
		return nil, Principal{}, newError(CodeUnrecognizedClient, fmt.Sprintf(
			"The security token included in the request is invalid: access key id %s is disabled.", sig.cred.AccessKeyID))
	case lerr != nil:
		return nil, Principal{}, fmt.Errorf("authenticate: look up access key %s: %w", sig.cred.AccessKeyID, lerr)
	}
	key := signingKey(secret, sig.cred)

	body, err := v.payload(r, sig, key)
	if err != nil {
		return nil, Principal{}, err
	}
	if err := v.checkSignature(r, sig, key, body.hashes); err != nil {
		if body.rc != nil {
			_ = body.rc.Close()
		}
		return nil, Principal{}, err
	}

	p := Principal{AccessKeyID: sig.cred.AccessKeyID, Account: account}
	out := r.WithContext(WithPrincipal(r.Context(), p))
	if body.rc != nil {
		out.Body = body.rc
		out.ContentLength = body.length
		if body.header != nil {
			out.Header = body.header
		}
		if body.trailer != nil {
			out.Trailer = body.trailer
		}
	}
	return out, p, nil
}

// parse finds the signature in the Authorization header or the query string.
func (v *SigV4) parse(r *http.Request) (signature, error) {
	_, rawQuery := rawTarget(r)
	params, qerr := parseRawQuery(rawQuery)
	authz := r.Header.Values("Authorization")
	presigned := qerr == nil && isPresigned(params)
	if qerr != nil && strings.Contains(rawQuery, "X-Amz-") {
		presigned = true // a malformed query that tries to carry a signature
	}
	switch {
	case len(authz) > 1:
		return signature{}, newError(CodeIncompleteSignature, "The request carries more than one Authorization header.")
	case len(authz) == 1 && presigned:
		return signature{}, newError(CodeIncompleteSignature,
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(authz) == 0 && !presigned:
		return signature{}, newError(CodeMissingAuthenticationToken, msgMissingToken)
	}
	if qerr != nil {
		return signature{}, newError(CodeIncompleteSignature,
			"The query string is malformed (a bad %-escape or a ';'), so it cannot be signed.")
	}
	if presigned {
		sig, err := parsePresigned(params, v.opts.MaxPresignExpiry)
		if err != nil {
			return signature{}, err
		}
		return sig, nil
	}
	sig, err := parseHeaderAuth(r, authz[0])
	if err != nil {
		return signature{}, err
	}
	return sig, nil
}

func (v *SigV4) checkScope(sig signature) error {
	c := sig.cred
	if c.Service != v.opts.Service {
		return newError(CodeInvalidSignature, fmt.Sprintf(
			"Credential should be scoped to correct service: '%s'; the request was signed for '%s'.", v.opts.Service, c.Service))
	}
	if c.Region != v.opts.Region {
		return newError(CodeInvalidSignature, fmt.Sprintf(
			"Credential should be scoped to a valid region: this server's region is '%s', but the request was signed for '%s'. "+
				"Set the SDK's region (AWS_REGION) to '%s'.", v.opts.Region, c.Region, v.opts.Region))
	}
	if d := sig.time.Format(scopeDateFormat); d != c.Date {
		return newError(CodeInvalidSignature, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			c.Date, d, sig.amzDate))
	}
	return nil
}

func (v *SigV4) checkTime(sig signature) error {
	now := v.opts.Now().UTC()
	skew := v.opts.MaxSkew
	if sig.time.After(now.Add(skew)) {
		return newError(CodeRequestExpired, fmt.Sprintf(
			"Signature not yet current: %s is still later than %s (%s + %s)",
			sig.amzDate, formatAmzDate(now.Add(skew)), formatAmzDate(now), skewText(skew)))
	}
	if sig.presigned {
		if end := sig.time.Add(sig.expires); now.After(end) {
			return newError(CodePresignExpired, fmt.Sprintf(
				"Request has expired: the presigned URL was valid until %s (X-Amz-Date %s + X-Amz-Expires %d), and it is now %s.",
				formatAmzDate(end), sig.amzDate, int64(sig.expires/time.Second), formatAmzDate(now)))
		}
		return nil
	}
	if sig.time.Before(now.Add(-skew)) {
		return newError(CodeRequestExpired, fmt.Sprintf(
			"Signature expired: %s is now earlier than %s (%s - %s)",
			sig.amzDate, formatAmzDate(now.Add(-skew)), formatAmzDate(now), skewText(skew)))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String()
}

// checkSignature rebuilds the canonical request for each acceptable payload hash and compares
// the resulting signature with the client's.
func (v *SigV4) checkSignature(r *http.Request, sig signature, key []byte, hashes []string) error {
	path, rawQuery := rawTarget(r)
	params, _ := parseRawQuery(rawQuery) // already parsed successfully in parse
	skip := ""
	if sig.presigned {
		skip = querySignature
	}
	uri := canonicalURI(path, v.s3)
	query := canonicalQuery(params, skip)
	headers := canonicalHeaders(r, sig.signed)
	var first *Error
	for _, h := range hashes {
		creq := canonicalRequest(r.Method, uri, query, headers, sig.signed, h)
		sts := stringToSign(sig.amzDate, sig.cred.scope(), creq)
		if signatureMatches(key, sts, sig.signature) {
			return nil
		}
		if first == nil {
			first = &Error{Code: CodeInvalidSignature, Message: msgInvalidSignature, CanonicalRequest: creq, StringToSign: sts}
		}
	}
	if first == nil { // no candidate hash; cannot happen, but never return a typed nil
		return newError(CodeInvalidSignature, msgInvalidSignature)
	}
	return first
}

// verifiedBody is the body to hand on and the payload hashes the signature may use.
type verifiedBody struct {
	hashes  []string
	rc      io.ReadCloser // nil: leave r.Body as it is
	length  int64
	header  http.Header // replacement headers, when decoding changed them
	trailer http.Header
}
