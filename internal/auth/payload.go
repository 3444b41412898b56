package auth

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// payload decides which payload hashes the signature may cover and prepares the body to hand
// on. Only non-S3 bodies are read here; see SigV4 for the S3 modes.
func (v *SigV4) payload(r *http.Request, sig signature, key []byte) (verifiedBody, error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	if v.s3 {
		return v.s3Payload(r, sig, key)
	}

	claimed := r.Header.Get(headerContentSHA256)
	presignedUnsigned := sig.presigned && claimed == unsignedPayload
	if claimed != "" && !isLowerHex(claimed, 64) && !presignedUnsigned {
		return verifiedBody{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"X-Amz-Content-Sha256 %q is not supported by service %s; sign the SHA-256 of the payload.",
			truncate(claimed, 80), v.opts.Service))
	}
	rc, n, sum, err := spoolBody(body, v.opts.MemoryThreshold, v.opts.SpoolDir)
	if err != nil {
		return verifiedBody{}, fmt.Errorf("authenticate: %w", err)
	}
	if isLowerHex(claimed, 64) && claimed != sum {
		_ = rc.Close()
		return verifiedBody{}, newError(CodeContentSHA256Mismatch,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	hashes := []string{sum}
	if sig.presigned && n == 0 {
		// Presigners sign UNSIGNED-PAYLOAD (botocore) or the empty hash (some Go presigners).
		hashes = []string{unsignedPayload, sum}
	}
	return verifiedBody{hashes: hashes, rc: rc, length: n}, nil
}

func (v *SigV4) s3Payload(r *http.Request, sig signature, key []byte) (verifiedBody, error) {
	claimed := r.Header.Get(headerContentSHA256)
	if claimed == "" && sig.presigned {
		claimed = unsignedPayload
		if params, err := parseRawQuery(rawQueryOf(r)); err == nil {
			for _, p := range params {
				if p.key == headerContentSHA256 {
					claimed = p.value
				}
			}
		}
	}
	switch claimed {
	case "":
		return verifiedBody{}, newError(CodeIncompleteSignature,
			"Missing required header for this request: x-amz-content-sha256.")
	case unsignedPayload:
		return verifiedBody{hashes: []string{unsignedPayload}}, nil
	case streamingSigned, streamingSignedTrailer, streamingUnsignedTrail:
		if sig.presigned {
			return verifiedBody{}, newError(CodeIncompleteSignature, fmt.Sprintf(
				"x-amz-content-sha256 %s cannot be used with a presigned URL.", claimed))
		}
		return v.chunkedPayload(r, sig, key, claimed)
	}
	if !isLowerHex(claimed, 64) {
		return verifiedBody{}, newError(CodeIncompleteSignature, fmt.Sprintf(
			"x-amz-content-sha256 %q must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "+
				"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a lower-case hex SHA-256.",
			truncate(claimed, 80)))
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	return verifiedBody{hashes: []string{claimed}, rc: newHashCheckBody(body, claimed), length: r.ContentLength}, nil
}

func (v *SigV4) chunkedPayload(r *http.Request, sig signature, key []byte, mode string) (verifiedBody, error) {
	want := int64(-1)
	if s := r.Header.Get(headerDecodedLength); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return verifiedBody{}, newError(CodeIncompleteSignature, fmt.Sprintf(
				"X-Amz-Decoded-Content-Length %q is not a byte count.", truncate(s, 40)))
		}
		want = n
	}
	var signer *chunkSigner
	if mode != streamingUnsignedTrail {
		signer = &chunkSigner{key: key, amzDate: sig.amzDate, scope: sig.cred.scope(), prev: sig.signature}
	}
	header := r.Header.Clone()
	dropContentEncoding(header, "aws-chunked")
	trailer := make(http.Header)
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	rc := newChunkedBody(body, signer, mode != streamingSigned, want, trailer)
	return verifiedBody{hashes: []string{mode}, rc: rc, length: want, header: header, trailer: trailer}, nil
}

// dropContentEncoding removes one coding from Content-Encoding, deleting the header if it
// becomes empty.
func dropContentEncoding(h http.Header, coding string) {
	var keep []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, coding) {
				keep = append(keep, c)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(keep, ","))
}

func rawQueryOf(r *http.Request) string {
	_, q := rawTarget(r)
	return q
}
