package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	scopeTerminator = "aws4_request"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
)

// credential is the parsed Credential value: "<key id>/<yyyymmdd>/<region>/<service>/aws4_request".
type credential struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
}

// scope returns the credential scope that goes into the string to sign.
func (c credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + scopeTerminator
}

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
type authorization struct {
	Credential    credential
	SignedHeaders []string // as listed by the client, lower case
	Signature     string   // 64 lower-case hex digits
}

// parseAuthorization parses an Authorization header value of the AWS4-HMAC-SHA256 scheme.
func parseAuthorization(v string) (authorization, *Error) {
	rest, ok := strings.CutPrefix(v, algorithm)
	if !ok || (rest != "" && rest[0] != ' ') {
		scheme, _, _ := strings.Cut(v, " ")
		return authorization{}, newError(CodeIncompleteSignature,
			fmt.Sprintf("Unsupported Authorization scheme %q; this server accepts only %s (AWS Signature Version 4).", truncate(scheme, 40), algorithm))
	}
	var a authorization
	var haveCred, haveHeaders, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, newError(CodeIncompleteSignature,
				fmt.Sprintf("Authorization header parameter %q is not of the form key=value.", truncate(part, 40)))
		}
		var perr *Error
		switch key {
		case "Credential":
			if haveCred {
				return authorization{}, duplicateParam(key)
			}
			haveCred = true
			a.Credential, perr = parseCredential(value)
		case "SignedHeaders":
			if haveHeaders {
				return authorization{}, duplicateParam(key)
			}
			haveHeaders = true
			a.SignedHeaders, perr = parseSignedHeaders(value)
		case "Signature":
			if haveSig {
				return authorization{}, duplicateParam(key)
			}
			haveSig = true
			a.Signature, perr = parseSignature(value)
		default:
			return authorization{}, newError(CodeIncompleteSignature,
				fmt.Sprintf("Authorization header has an unknown parameter %q; expected Credential, SignedHeaders and Signature.", truncate(key, 40)))
		}
		if perr != nil {
			return authorization{}, perr
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveHeaders {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return authorization{}, newError(CodeIncompleteSignature, strings.Join(missing, " "))
	}
	return a, nil
}

func duplicateParam(key string) *Error {
	return newError(CodeIncompleteSignature, fmt.Sprintf("Authorization header has parameter %q more than once.", key))
}

// parseCredential parses "<key id>/<yyyymmdd>/<region>/<service>/aws4_request".
func parseCredential(v string) (credential, *Error) {
	parts := strings.Split(v, "/")
	if len(parts) != 5 {
		return credential{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"Credential %q is malformed; expected \"<YOUR-ACCESS-KEY-ID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", truncate(v, 120)))
	}
	c := credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	switch {
	case c.AccessKeyID == "":
		return credential{}, newError(CodeIncompleteSignature, "Credential is missing the access key id.")
	case !validToken(c.AccessKeyID, 128):
		return credential{}, newError(CodeIncompleteSignature, "Credential has a malformed access key id.")
	case !validScopeDate(c.Date):
		return credential{}, newError(CodeIncompleteSignature,
			fmt.Sprintf("Credential date %q is not a valid YYYYMMDD date.", truncate(c.Date, 20)))
	case !validToken(c.Region, 64):
		return credential{}, newError(CodeIncompleteSignature, "Credential has a missing or malformed region.")
	case !validToken(c.Service, 64):
		return credential{}, newError(CodeIncompleteSignature, "Credential has a missing or malformed service.")
	case parts[4] != scopeTerminator:
		return credential{}, newError(CodeIncompleteSignature,
			fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not %q.", scopeTerminator, truncate(parts[4], 40)))
	}
	return c, nil
}

func validScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse(scopeDateFormat, s)
	return err == nil
}

// validToken reports whether s is 1..maxLen characters of [A-Za-z0-9._-].
func validToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isUnreserved(c) || c == '~' {
			return false
		}
	}
	return true
}

// parseSignedHeaders parses "host;x-amz-date" into its names. Names must be lower case, unique,
// and include host.
func parseSignedHeaders(v string) ([]string, *Error) {
	if v == "" {
		return nil, newError(CodeIncompleteSignature, "SignedHeaders is empty; it must list at least host.")
	}
	names := strings.Split(v, ";")
	if len(names) > 128 {
		return nil, newError(CodeIncompleteSignature, "SignedHeaders lists too many headers.")
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !validHeaderName(n) {
			return nil, newError(CodeIncompleteSignature,
				fmt.Sprintf("SignedHeaders entry %q is not a lower-case header name.", truncate(n, 60)))
		}
		if seen[n] {
			return nil, newError(CodeIncompleteSignature, fmt.Sprintf("SignedHeaders lists %q more than once.", n))
		}
		seen[n] = true
	}
	if !seen["host"] {
		return nil, newError(CodeIncompleteSignature, "SignedHeaders must include host.")
	}
	return names, nil
}

// validHeaderName reports whether s is a non-empty lower-case RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseSignature checks that v is 64 lower-case hex digits.
func parseSignature(v string) (string, *Error) {
	if !isLowerHex(v, 64) {
		return "", newError(CodeIncompleteSignature, "Signature must be 64 lower-case hexadecimal digits.")
	}
	return v, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseAmzDate parses an X-Amz-Date value (ISO 8601 basic, UTC).
func parseAmzDate(v string) (time.Time, bool) {
	if len(v) != len(amzDateFormat) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateFormat, v)
	return t, err == nil
}

// truncate shortens client-supplied text echoed in messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// signature is what a request claims, from either the Authorization header or the query.
type signature struct {
	cred      credential
	signed    []string
	signature string
	amzDate   string // the timestamp as it goes into the string to sign
	time      time.Time
	presigned bool
	expires   time.Duration // presigned only
}

// parseHeaderAuth reads the signature from the Authorization header and the signing time from
// X-Amz-Date (or, failing that, Date).
func parseHeaderAuth(r *http.Request, value string) (signature, *Error) {
	a, err := parseAuthorization(value)
	if err != nil {
		return signature{}, err
	}
	s := signature{cred: a.Credential, signed: a.SignedHeaders, signature: a.Signature}
	if v := r.Header.Get(headerAmzDate); v != "" {
		t, ok := parseAmzDate(v)
		if !ok {
			return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
				"X-Amz-Date %q must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.", truncate(v, 40)))
		}
		s.amzDate, s.time = v, t
		return s, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf("Date header %q is not an HTTP date.", truncate(v, 40)))
		}
		s.amzDate, s.time = formatAmzDate(t), t.UTC()
		return s, nil
	}
	return signature{}, newError(CodeIncompleteSignature,
		"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}
