package auth

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// presignParams are the query parameters of a presigned (query-string) SigV4 request.
var presignParams = []string{queryAlgorithm, queryCredential, queryDate, queryExpires, querySignedHeaders, querySignature}

// isPresigned reports whether the query carries any SigV4 presign parameter.
func isPresigned(params []queryParam) bool {
	for _, p := range params {
		switch p.key {
		case queryAlgorithm, queryCredential, querySignature:
			return true
		}
	}
	return false
}

// parsePresigned reads the signature from the X-Amz-* query parameters. maxExpiry bounds
// X-Amz-Expires.
func parsePresigned(params []queryParam, maxExpiry time.Duration) (signature, *Error) {
	vals := make(map[string]string, len(presignParams))
	for _, p := range params {
		for _, name := range presignParams {
			if p.key != name {
				continue
			}
			if _, dup := vals[name]; dup {
				return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf("Query parameter %s appears more than once.", name))
			}
			vals[name] = p.value
		}
	}
	var missing []string
	for _, name := range presignParams {
		if _, ok := vals[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"Query-string authentication (AWS Signature Version 4) requires the %s parameters; missing: %s.",
			strings.Join(presignParams, ", "), strings.Join(missing, ", ")))
	}
	if vals[queryAlgorithm] != algorithm {
		return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"X-Amz-Algorithm %q is not supported; this server accepts only %s.", truncate(vals[queryAlgorithm], 40), algorithm))
	}
	cred, err := parseCredential(vals[queryCredential])
	if err != nil {
		return signature{}, err
	}
	signed, err := parseSignedHeaders(vals[querySignedHeaders])
	if err != nil {
		return signature{}, err
	}
	sig, err := parseSignature(vals[querySignature])
	if err != nil {
		return signature{}, err
	}
	t, ok := parseAmzDate(vals[queryDate])
	if !ok {
		return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"X-Amz-Date %q must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.", truncate(vals[queryDate], 40)))
	}
	secs, perr := strconv.ParseInt(vals[queryExpires], 10, 64)
	if perr != nil || secs < 1 {
		return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"X-Amz-Expires %q must be a positive number of seconds.", truncate(vals[queryExpires], 40)))
	}
	if limit := int64(maxExpiry / time.Second); secs > limit {
		return signature{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"X-Amz-Expires must be at most %d seconds on this server; got %d.", limit, secs))
	}
	return signature{
		cred:      cred,
		signed:    signed,
		signature: sig,
		amzDate:   vals[queryDate],
		time:      t,
		presigned: true,
		expires:   time.Duration(secs) * time.Second,
	}, nil
}
