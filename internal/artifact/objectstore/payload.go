package objectstore

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxMetadataSize is S3's limit on the user metadata of one object (names plus values).
const maxMetadataSize = 2 << 10

// putObject serves PutObject.
func (h *handler) putObject(w http.ResponseWriter, r *http.Request, t target) error {
	meta, err := userMetadata(r.Header)
	if err != nil {
		return err
	}
	in := putInput{bucket: t.bucket, key: t.key, contentType: r.Header.Get("Content-Type"), metadata: meta}
	body, echo, err := preparePayload(r, &in)
	if err != nil {
		return err
	}
	obj, err := h.s.put(r.Context(), in, body)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", obj.ETag)
	w.Header().Set("X-Amz-Version-Id", obj.VersionID)
	if echo != nil {
		echo(w.Header())
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// The x-amz-content-sha256 values that select how a PutObject body is sent.
const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
)

// preparePayload works out how a PutObject body is sent and which digests the client
// declared for it. It returns the reader of the object's content, fills in in.size,
// in.hashers and in.verify, and returns a function that adds the verified checksum to the
// response. aws-chunked bodies arrive decoded by the Authenticator (see Authenticator).
func preparePayload(r *http.Request, in *putInput) (io.Reader, func(http.Header), error) {
	var checks []func(putSums) error
	in.size = r.ContentLength

	switch mode := r.Header.Get("X-Amz-Content-Sha256"); mode {
	case "", unsignedPayload:
	case streamingUnsignedTrailer, streamingSigned, streamingSignedTrailer:
		if hasCoding(r.Header, "aws-chunked") {
			// Only the Authenticator can check chunk signatures; it had to decode the body.
			return nil, nil, errNotImplemented("Decoding an aws-chunked body the authenticator left encoded")
		}
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" && in.size < 0 {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, nil, errInvalidArgument("X-Amz-Decoded-Content-Length is not a valid length.")
			}
			in.size = n
		}
	default:
		if strings.HasPrefix(mode, "STREAMING-") {
			return nil, nil, errNotImplemented("The payload signing mode " + mode)
		}
		want, err := hex.DecodeString(mode)
		if err != nil || len(want) != 32 {
			return nil, nil, errInvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-…, or a valid sha256 value.")
		}
		checks = append(checks, func(s putSums) error {
			if !bytes.Equal(s.sha256, want) {
				return errSHA256Mismatch()
			}
			return nil
		})
	}

	if v := r.Header.Get("Content-MD5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != 16 {
			return nil, nil, errInvalidDigest("Content-MD5")
		}
		checks = append(checks, func(s putSums) error {
			if !bytes.Equal(s.md5, want) {
				return errBadDigest("Content-MD5")
			}
			return nil
		})
	}

	echo, err := checksumChecks(r, in, &checks)
	if err != nil {
		return nil, nil, err
	}
	in.verify = func(s putSums) error {
		for _, check := range checks {
			if err := check(s); err != nil {
				return err
			}
		}
		return nil
	}
	return r.Body, echo, nil
}

// checksumChecks arranges for the x-amz-checksum-* value, sent as a header or as the
// aws-chunked trailer named by X-Amz-Trailer (in r.Trailer once the body is read), to be
// verified.
func checksumChecks(r *http.Request, in *putInput, checks *[]func(putSums) error) (func(http.Header), error) {
	hc, value, err := headerChecksum(r.Header)
	if err != nil {
		return nil, err
	}
	trailerName := strings.TrimSpace(r.Header.Get("X-Amz-Trailer"))
	if trailerName != "" {
		if !strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			return nil, errInvalidRequest("X-Amz-Trailer needs an aws-chunked body.")
		}
		if strings.Contains(trailerName, ",") || hc != nil {
			return nil, errInvalidRequest("Expecting a single x-amz-checksum- header.")
		}
		tc, err := newChecksum(trailerName)
		if err != nil {
			return nil, err
		}
		in.hashers = append(in.hashers, tc.h)
		trailer := func() string { return r.Trailer.Get(tc.header) }
		*checks = append(*checks, func(putSums) error {
			v := trailer()
			if v == "" {
				return errInvalidRequest("The trailing %s was not sent.", tc.header)
			}
			if !tc.matches(v) {
				return errBadDigest(strings.ToUpper(tc.algorithm))
			}
			return nil
		})
		return func(h http.Header) { h.Set(tc.header, trailer()) }, nil
	}
	if hc == nil {
		return nil, nil
	}
	in.hashers = append(in.hashers, hc.h)
	*checks = append(*checks, func(putSums) error {
		if !hc.matches(value) {
			return errBadDigest(strings.ToUpper(hc.algorithm))
		}
		return nil
	})
	return func(h http.Header) { h.Set(hc.header, value) }, nil
}

// userMetadata collects x-amz-meta-* headers, names lower-cased without the prefix.
func userMetadata(h http.Header) (map[string]string, error) {
	var meta map[string]string
	total := 0
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok || name == "" {
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		v := strings.Join(vs, ",")
		meta[name] = v
		total += len(name) + len(v)
	}
	if total > maxMetadataSize {
		return nil, errMetadataTooLarge()
	}
	return meta, nil
}

// hasCoding reports whether Content-Encoding lists coding.
func hasCoding(h http.Header, coding string) bool {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(c), coding) {
				return true
			}
		}
	}
	return false
}
