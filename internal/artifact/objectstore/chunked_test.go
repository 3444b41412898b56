package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The worked examples of AWS's "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" pages (sigv4-streaming.html and
// sigv4-streaming-trailers.html): 66,560 bytes of 'a' as a 64 KiB and a 1 KiB chunk, with
// secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY on 20130524 in us-east-1.
const (
	docSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docAmzDate = "20130524T000000Z"
	docScope   = "20130524/us-east-1/s3/aws4_request"
)

type docExample struct {
	seed       string
	chunkSigs  [3]string
	trailers   string // the trailer lines, each ending in CRLF
	trailerSig string
}

var (
	docSigned = docExample{
		seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
		chunkSigs: [3]string{
			"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
			"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
			"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
		},
	}
	docSignedTrailer = docExample{
		seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
		chunkSigs: [3]string{
			"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
			"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
			"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
		},
		trailers:   "x-amz-checksum-crc32c:sOO8/Q==\r\n",
		trailerSig: "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
	}
)

func (e docExample) body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "10000;chunk-signature=%s\r\n%s\r\n", e.chunkSigs[0], strings.Repeat("a", 65536))
	fmt.Fprintf(&b, "400;chunk-signature=%s\r\n%s\r\n", e.chunkSigs[1], strings.Repeat("a", 1024))
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", e.chunkSigs[2])
	b.WriteString(e.trailers)
	if e.trailerSig != "" {
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", e.trailerSig)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func (e docExample) signer() *chunkSigner {
	return newChunkSigner(StreamingCredentials{
		SigningKey:    signingKey(docSecret, "20130524", "us-east-1", "s3"),
		AmzDate:       docAmzDate,
		Scope:         docScope,
		SeedSignature: e.seed,
	})
}

func TestChunkedReader_AWSExamples(t *testing.T) {
	want := strings.Repeat("a", 66560)
	tests := []struct {
		name     string
		ex       docExample
		trailer  bool
		tamper   func([]byte) []byte
		wantCode string
	}{
		{name: "signed", ex: docSigned},
		{name: "signed with trailer", ex: docSignedTrailer, trailer: true},
		{
			name: "a data byte changed", ex: docSigned, wantCode: "SignatureDoesNotMatch",
			tamper: func(b []byte) []byte { b[200] = 'b'; return b },
		},
		{
			name: "a chunk signature changed", ex: docSigned, wantCode: "SignatureDoesNotMatch",
			tamper: func(b []byte) []byte {
				return bytes.Replace(b, []byte("0055627c"), []byte("1055627c"), 1)
			},
		},
		{
			name: "the final chunk dropped", ex: docSigned, wantCode: "IncompleteBody",
			tamper: func(b []byte) []byte { return b[:bytes.LastIndex(b, []byte("0;chunk"))] },
		},
		{
			name: "the trailer value changed", ex: docSignedTrailer, trailer: true, wantCode: "SignatureDoesNotMatch",
			tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("sOO8/Q=="), []byte("AAAAAA=="), 1) },
		},
		{
			name: "the trailer signature removed", ex: docSignedTrailer, trailer: true, wantCode: "SignatureDoesNotMatch",
			tamper: func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature"))
				return append(b[:i:i], "\r\n"...)
			},
		},
		{
			name: "chunks reordered", ex: docSigned, wantCode: "SignatureDoesNotMatch",
			tamper: func(b []byte) []byte {
				first := b[:bytes.Index(b, []byte("400;"))]
				rest := b[len(first):]
				second := rest[:bytes.Index(rest, []byte("\r\n0;chunk"))+2]
				return append(append(append([]byte{}, second...), first...), rest[len(second):]...)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.ex.body()
			if tt.tamper != nil {
				body = tt.tamper(body)
			}
			cr := newChunkedReader(bytes.NewReader(body), tt.ex.signer(), tt.trailer)
			got, err := io.ReadAll(cr)
			if tt.wantCode != "" {
				ae, ok := errors.AsType[*apiError](err)
				if !ok || ae.code != tt.wantCode {
					t.Fatalf("ReadAll error = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if string(got) != want {
				t.Fatalf("decoded %d bytes, want 66560 'a's", len(got))
			}
			if tt.trailer {
				if v := cr.trailer("x-amz-checksum-crc32c"); v != "sOO8/Q==" {
					t.Errorf("trailer = %q", v)
				}
				c, err := newChecksum("x-amz-checksum-crc32c")
				if err != nil {
					t.Fatal(err)
				}
				c.h.Write(got)
				if !c.matches("sOO8/Q==") {
					t.Error("the documented CRC32C does not match the decoded bytes")
				}
			}
		})
	}
}

func TestChunkedReader_Unsigned(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      string
		trailers  map[string]string
		wantCode  string
		readSizes int
	}{
		{name: "sdk single chunk with trailer", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
			want: "hello", trailers: map[string]string{"x-amz-checksum-crc32": "NhCmhg=="}},
		{name: "several chunks", body: "3\r\nabc\r\n2\r\nde\r\nA\r\n0123456789\r\n0\r\n\r\n", want: "abcde0123456789"},
		{name: "upper-case hex and extensions ignored", body: "B;foo=bar\r\nhello world\r\n0\r\n\r\n", want: "hello world"},
		{name: "empty body", body: "0\r\n\r\n", want: ""},
		{name: "data longer than size", body: "3\r\nabcd\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "data shorter than size", body: "5\r\nabc\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "truncated data", body: "5\r\nab", wantCode: "IncompleteBody"},
		{name: "missing final chunk", body: "3\r\nabc\r\n", wantCode: "IncompleteBody"},
		{name: "missing final CRLF", body: "3\r\nabc\r\n0\r\n", wantCode: "IncompleteBody"},
		{name: "bare LF", body: "3\nabc\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "negative size", body: "-3\r\nabc\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "signed size", body: "+3\r\nabc\r\n0\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "huge size", body: "fffffffffffffffff\r\n", wantCode: "InvalidRequest"},
		{name: "overflowing size", body: "ffffffffffffffff\r\n", wantCode: "InvalidRequest"},
		{name: "empty size", body: "\r\nabc", wantCode: "InvalidRequest"},
		{name: "trailer without colon", body: "0\r\nnocolon\r\n\r\n", wantCode: "InvalidRequest"},
		{name: "too long line", body: strings.Repeat("1", 5000) + "\r\n", wantCode: "InvalidRequest"},
		{name: "too many trailers", body: "0\r\n" + strings.Repeat("x-a:b\r\n", 17) + "\r\n", wantCode: "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := newChunkedReader(strings.NewReader(tt.body), nil, false)
			// Read in small pieces to cross every boundary.
			var got bytes.Buffer
			buf := make([]byte, 3)
			var err error
			for {
				var n int
				n, err = cr.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if tt.wantCode != "" {
				ae, ok := errors.AsType[*apiError](err)
				if !ok || ae.code != tt.wantCode {
					t.Fatalf("error = %v, want %s", err, tt.wantCode)
				}
				if _, again := cr.Read(buf); !errors.Is(again, err) {
					t.Errorf("the error is not sticky: %v then %v", err, again)
				}
				return
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("error = %v, want io.EOF", err)
			}
			if got.String() != tt.want {
				t.Errorf("decoded %q, want %q", got.String(), tt.want)
			}
			for k, v := range tt.trailers {
				if cr.trailer(k) != v {
					t.Errorf("trailer %s = %q, want %q", k, cr.trailer(k), v)
				}
			}
		})
	}
}

// signedStream builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PutObject the way a streaming
// client does: the AWS SDK's v4 signer signs the headers (the seed signature) and its
// StreamSigner, whose event-stream string to sign is the chunk string to sign when the
// "headers" are empty, signs every chunk.
func signedStream(t *testing.T, url string, data []byte, chunk int, secret string) *http.Request {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}

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
	seed := between(req.Header.Get("Authorization")+",", "Signature=", ",")
	seedBytes := make([]byte, 32)
	if _, err := fmt.Sscanf(seed, "%x", &seedBytes); err != nil {
		t.Fatalf("seed signature %q: %v", seed, err)
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

// TestHandler_PutObject_SignedStreaming sends signed aws-chunked bodies through both
// authenticators: internal/auth's SigV4 (which decodes and verifies them itself) and the
// passthrough one (the handler's decoder verifies the chunks with StreamingCredentials).
func TestHandler_PutObject_SignedStreaming(t *testing.T) {
	data := randomBytes(9, 200_000)
	for _, authn := range []string{"sigv4", "passthrough"} {
		t.Run(authn, func(t *testing.T) {
			ts := newTestServer(t, serverOptions{authn: authn})
			if err := ts.store.CreateBucket(t.Context(), "signed"); err != nil {
				t.Fatal(err)
			}
			url := ts.srv.URL + "/s3/signed/chunked.bin"

			req := signedStream(t, url, data, 65536, testSecret)
			resp, err := ts.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("signed streaming PutObject: status %d", resp.StatusCode)
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
			req = signedStream(t, ts.srv.URL+"/s3/signed/tampered.bin", data, 65536, testSecret)
			raw, _ := io.ReadAll(req.Body)
			raw[70_000] ^= 1
			req.Body = io.NopCloser(bytes.NewReader(raw))
			code := doForCode(t, ts, req)
			if code != "SignatureDoesNotMatch" {
				t.Errorf("tampered chunk: code %q, want SignatureDoesNotMatch", code)
			}
			if _, _, err := ts.store.OpenObject(t.Context(), "signed", "tampered.bin", ""); err == nil {
				t.Error("a tampered upload was stored")
			}
			if tmp := filesUnder(t, ts.store.blobs.tmp); len(tmp) != 0 {
				t.Errorf("temporary files left: %v", tmp)
			}
		})
	}
	// Without StreamingCredentials, a signed body is refused before it is read.
	ts := newTestServer(t, serverOptions{authn: "passthrough"})
	if err := ts.store.CreateBucket(t.Context(), "signed"); err != nil {
		t.Fatal(err)
	}
	req := signedStream(t, ts.srv.URL+"/s3/signed/k", data, 65536, testSecret)
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	req.Header.Set("Authorization", "none")
	if code := doForCode(t, ts, req); code != "AccessDenied" {
		t.Errorf("signed body without credentials: code %q, want AccessDenied", code)
	}
}

// FuzzChunkedReader feeds arbitrary framing to the decoder: it must never panic or loop,
// and whatever it accepts must be the concatenation of the chunks it was given. Seeds
// include well-formed bodies built by the test's encoder.
func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	f.Add([]byte("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"))
	f.Add([]byte("0\r\n\r\n"))
	f.Add([]byte("10000;chunk-signature=x\r\n"))
	f.Add(docSigned.body()[:300])
	f.Fuzz(func(t *testing.T, body []byte) {
		cr := newChunkedReader(bytes.NewReader(body), nil, false)
		got, err := io.ReadAll(cr)
		if err != nil {
			if _, ok := errors.AsType[*apiError](err); !ok {
				t.Fatalf("error is not an S3 error: %v", err)
			}
			return
		}
		if len(got) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(body))
		}
		// Re-decode by a simple reference: strip the framing line by line.
		want, ok := referenceDecode(body)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("decoder accepted %q as %q; reference says %q (ok=%v)", body, got, want, ok)
		}
	})
}

// referenceDecode is a slow, obviously-correct aws-chunked decoder for the fuzz test.
func referenceDecode(b []byte) ([]byte, bool) {
	var out []byte
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		sizeText, _, _ := strings.Cut(string(b[:i]), ";")
		if sizeText == "" || len(sizeText) > 16 || strings.Trim(sizeText, "0123456789abcdefABCDEF") != "" {
			return nil, false
		}
		size64, err := strconv.ParseUint(sizeText, 16, 63)
		if err != nil || size64 > uint64(len(b)) {
			return nil, false
		}
		size := int(size64)
		b = b[i+2:]
		if size == 0 {
			return out, true
		}
		if len(b) < size+2 || string(b[size:size+2]) != "\r\n" {
			return nil, false
		}
		out = append(out, b[:size]...)
		b = b[size+2:]
	}
}
