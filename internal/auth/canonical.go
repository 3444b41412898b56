package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file builds the SigV4 canonical request from the request as received. It is written
// independently of the AWS SDK signer and checked against it by the tests.

// Payload hash values other than a hex SHA-256.
const (
	unsignedPayload         = "UNSIGNED-PAYLOAD"
	streamingSigned         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrail  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256             = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	headerContentSHA256     = "X-Amz-Content-Sha256"
	headerAmzDate           = "X-Amz-Date"
	headerDecodedLength     = "X-Amz-Decoded-Content-Length"
	queryAlgorithm          = "X-Amz-Algorithm"
	queryCredential         = "X-Amz-Credential" //nolint:gosec // G101: a parameter name, not a credential
	queryDate               = "X-Amz-Date"
	queryExpires            = "X-Amz-Expires"
	querySignedHeaders      = "X-Amz-SignedHeaders"
	querySignature          = "X-Amz-Signature"
	streamingChunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD"
	streamingTrailerAlgo    = "AWS4-HMAC-SHA256-TRAILER"
)

// rawTarget returns the escaped path and raw query exactly as the client sent them: from
// RequestURI for server requests in origin form, else from r.URL.
func rawTarget(r *http.Request) (path, query string) {
	if strings.HasPrefix(r.RequestURI, "/") {
		path, query, _ = strings.Cut(r.RequestURI, "?")
	} else {
		path, query = r.URL.EscapedPath(), r.URL.RawQuery
	}
	if path == "" {
		path = "/"
	}
	return path, query
}

// canonicalURI returns the canonical URI of an escaped path. Every AWS service except S3
// signs the escaped path escaped once more (so "%3A" is signed as "%253A"); S3 signs it as is.
func canonicalURI(escapedPath string, singleEscape bool) string {
	if singleEscape {
		return escapedPath
	}
	return percentEncode(escapedPath, true)
}

// uriEncode percent-encodes every byte outside the unreserved set, "/" included.
func uriEncode(s string) string { return percentEncode(s, false) }

// percentEncode escapes every byte outside A-Z a-z 0-9 - . _ ~ (and "/" when keepSlash) as
// %XX with upper-case hex.
func percentEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c, keepSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xf])
	}
	return b.String()
}

func keep(c byte, keepSlash bool) bool { return isUnreserved(c) || (keepSlash && c == '/') }

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

type queryParam struct{ key, value string }

var errMalformedQuery = errors.New("malformed query string")

// parseRawQuery decodes a raw query as url.ParseQuery does ("+" is a space, empty segments
// are skipped), but fails instead of silently dropping malformed pairs, so that no parameter
// the handler sees can escape the signature.
func parseRawQuery(raw string) ([]queryParam, error) {
	var params []queryParam
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		if strings.Contains(seg, ";") {
			return nil, errMalformedQuery
		}
		k, v, _ := strings.Cut(seg, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errMalformedQuery
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errMalformedQuery
		}
		params = append(params, queryParam{key, value})
	}
	return params, nil
}

// canonicalQuery encodes each name and value, sorts by encoded name then value, and joins
// them; parameters named skip (the presigned signature itself) are left out.
func canonicalQuery(params []queryParam, skip string) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryParam{uriEncode(p.key), uriEncode(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// canonicalHeaders renders "name:value\n" for each signed header, in the order listed.
// Values are trimmed, runs of spaces collapse to one, and repeated headers join with ",".
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(collapseSpaces(v)))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// headerValues returns the received values of a header, including those net/http moves out
// of Header (Host, Transfer-Encoding, and Content-Length when it is implied).
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		return []string{r.Host}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	case "transfer-encoding":
		if v := r.Header.Values("Transfer-Encoding"); len(v) > 0 {
			return v
		}
		return []string{strings.Join(r.TransferEncoding, ",")}
	}
	return r.Header.Values(name)
}

func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalRequest joins the six parts of a SigV4 canonical request.
func canonicalRequest(method, uri, query, headers string, signed []string, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + strings.Join(signed, ";") + "\n" + payloadHash
}

// stringToSign is "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives kSigning from the secret and the credential scope.
func signingKey(secret string, c credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signatureMatches compares the hex signature of sts under key with the one the client sent,
// in constant time.
func signatureMatches(key []byte, sts, got string) bool {
	want := hex.EncodeToString(hmacSHA256(key, sts))
	return hmac.Equal([]byte(want), []byte(got))
}

// formatAmzDate formats t as an X-Amz-Date value.
func formatAmzDate(t time.Time) string { return t.UTC().Format(amzDateFormat) }
