package objectstore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signedStream builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PutObject the way a streaming
// client does: the AWS SDK's v4 signer signs the headers (the seed signature) and its
// StreamSigner, whose event-stream string to sign is the chunk string to sign when the
// "headers" are empty, signs every chunk.
func signedStream(t *testing.T, url string, data []byte, chunk int) *http.Request {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

	var sizes []int
	for rest := len(data); rest > 0; rest -= min(rest, chunk) {
		sizes = append(sizes, min(rest, chunk))
	}
	sizes = append(sizes, 0)
	encodedLen := 0
	for _, n := range sizes {
		encodedLen += len(fmt.Sprintf("%x;chunk-signature=", n)) + 64 + 2 + n + 2
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(encodedLen)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", streamingSigned)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, creds, req, streamingSigned, "s3", testRegion, now); err != nil {
		t.Fatalf("sign headers: %v", err)
	}
	authz := req.Header.Get("Authorization")
	seedBytes, err := hex.DecodeString(authz[strings.LastIndex(authz, "=")+1:])
	if err != nil {
		t.Fatalf("seed signature in %q: %v", authz, err)
	}
	ss := v4.NewStreamSigner(creds, "s3", testRegion, seedBytes)
	var body bytes.Buffer
	off := 0
	for _, n := range sizes {
		sig, err := ss.GetSignature(ctx, nil, data[off:off+n], now)
		if err != nil {
			t.Fatalf("sign chunk: %v", err)
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", n, sig)
		body.Write(data[off : off+n])
		body.WriteString("\r\n")
		off += n
	}
	if body.Len() != encodedLen {
		t.Fatalf("encoded %d bytes, computed %d", body.Len(), encodedLen)
	}
	req.Body = io.NopCloser(&body)
	return req
}

// TestHandler_PutObject_SignedStreaming sends signed aws-chunked bodies through
// internal/auth's SigV4 verifier, which decodes them and checks every chunk signature: a good
// body is stored, a tampered one is refused with nothing stored and no temporary file left.
func TestHandler_PutObject_SignedStreaming(t *testing.T) {
	data := randomBytes(9, 200_000)
	ts := newTestServer(t, serverOptions{})
	if err := ts.store.CreateBucket(t.Context(), "signed"); err != nil {
		t.Fatal(err)
	}

	req := signedStream(t, ts.srv.URL+"/s3/signed/chunked.bin", data, 65536)
	if code := doForCode(t, ts, req); code != "" {
		t.Fatalf("signed streaming PutObject: error %s", code)
	}
	rc, info, err := ts.store.OpenObject(t.Context(), "signed", "chunked.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || !bytes.Equal(got, data) || info.Size != int64(len(data)) {
		t.Fatalf("stored %d bytes (%v), want the %d sent", len(got), err, len(data))
	}

	// One flipped byte in the second chunk: refused, nothing stored, no temp file.
	req = signedStream(t, ts.srv.URL+"/s3/signed/tampered.bin", data, 65536)
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	raw[70_000] ^= 1
	req.Body = io.NopCloser(bytes.NewReader(raw))
	if code := doForCode(t, ts, req); code != "SignatureDoesNotMatch" {
		t.Errorf("tampered chunk: code %q, want SignatureDoesNotMatch", code)
	}
	if _, _, err := ts.store.OpenObject(t.Context(), "signed", "tampered.bin", ""); err == nil {
		t.Error("a tampered upload was stored")
	}
	if tmp := filesUnder(t, ts.store.blobs.tmp); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// TestHandler_PutObject_StreamingErrors sends aws-chunked bodies whose framing is intact but
// whose content is wrong, signed for the real SigV4 verifier: the verifier decodes them and
// the handler checks the trailing checksum and the length. An Authenticator that leaves a
// body encoded gets NotImplemented: the handler has no decoder of its own.
func TestHandler_PutObject_StreamingErrors(t *testing.T) {
	h := func(kv ...string) http.Header { // an unsigned-trailer aws-chunked PutObject
		return headerOf(append([]string{"X-Amz-Content-Sha256", streamingUnsignedTrailer, "Content-Encoding", "aws-chunked"}, kv...)...)
	}
	tests := []struct {
		name      string
		authn     string
		header    http.Header
		body      string
		wantCode  string
		wantStore string // what a good upload stored
	}{
		{name: "good body with its trailing checksum", header: h("X-Amz-Trailer", "x-amz-checksum-crc32"),
			body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", wantStore: "hello"},
		{name: "bad trailing checksum", header: h("X-Amz-Trailer", "x-amz-checksum-crc32"),
			body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", wantCode: "BadDigest"},
		{name: "trailer missing", header: h("X-Amz-Trailer", "x-amz-checksum-crc32"),
			body: "5\r\nhello\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "shorter than X-Amz-Decoded-Content-Length", header: h("X-Amz-Decoded-Content-Length", "6"),
			body: "5\r\nhello\r\n0\r\n\r\n", wantCode: "IncompleteBody"},
		{name: "truncated", header: h(), body: "5\r\nhel", wantCode: "IncompleteBody"},
		{name: "left encoded by the authenticator", authn: "allow", header: h(),
			body: "5\r\nhello\r\n0\r\n\r\n", wantCode: "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, serverOptions{authn: tt.authn})
			if err := ts.store.CreateBucket(t.Context(), "stream"); err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, ts.srv.URL+"/s3/stream/k", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header
			signV4(t, req)
			if code := doForCode(t, ts, req); code != tt.wantCode {
				t.Fatalf("PutObject: code %q, want %q", code, tt.wantCode)
			}
			rc, _, err := ts.store.OpenObject(t.Context(), "stream", "k", "")
			if tt.wantCode != "" {
				if err == nil {
					_ = rc.Close()
					t.Error("a refused upload was stored")
				}
				if files := filesUnder(t, ts.blobDir); len(files) != 0 {
					t.Errorf("files left by a refused upload: %v", files)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil || string(got) != tt.wantStore {
				t.Errorf("stored %q (%v), want %q", got, err, tt.wantStore)
			}
		})
	}
}
