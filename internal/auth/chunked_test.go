package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

	"berth.dev/berth/internal/errdefs"
)

// The example of AWS's "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks" page: PUT /examplebucket/chunkObject.txt, 65536 + 1024 bytes of
// 'a', with the published seed and chunk signatures.
var (
	awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	awsExampleSigs = []string{
		"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", // seed
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", // 65536 bytes
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", // 1024 bytes
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9", // final
	}
)

// streamingRequest signs a streaming upload with the real SDK signer (seed signature) and
// frames data as aws-chunked with chunk signatures from the real SDK StreamSigner (an event
// stream signer with empty headers computes exactly the S3 chunk signature).
func streamingRequest(t *testing.T, host string, data []byte, chunkSize int, mode string, at time.Time, trailers [][2]string) *http.Request {
	t.Helper()
	signed := mode != streamingUnsignedTrail
	var chunks [][]byte
	for rest := data; len(rest) > 0; {
		n := min(chunkSize, len(rest))
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	chunks = append(chunks, nil) // final chunk

	// The body length must be known before signing, so frame with placeholder signatures
	// first; every signature has the same length.
	frame := func(sigs []string) []byte {
		var b bytes.Buffer
		for i, c := range chunks {
			if signed {
				fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(c), sigs[i])
			} else {
				fmt.Fprintf(&b, "%x\r\n", len(c))
			}
			if len(c) > 0 {
				b.Write(c)
				b.WriteString("\r\n")
			}
		}
		return b.Bytes()
	}
	placeholder := make([]string, len(chunks))
	for i := range placeholder {
		placeholder[i] = strings.Repeat("0", 64)
	}
	trailerBlock := func(lastSig string, key []byte) []byte {
		var b, canon bytes.Buffer
		for _, tr := range trailers {
			fmt.Fprintf(&b, "%s:%s\r\n", tr[0], tr[1])
			fmt.Fprintf(&canon, "%s:%s\n", tr[0], tr[1])
		}
		if mode == streamingSignedTrailer {
			sig := strings.Repeat("0", 64)
			if key != nil {
				sum := sha256.Sum256(canon.Bytes())
				m := hmac.New(sha256.New, key)
				m.Write([]byte(strings.Join([]string{"AWS4-HMAC-SHA256-TRAILER", formatAmzDate(at),
					at.Format(scopeDateFormat) + "/" + testRegion + "/s3/aws4_request", lastSig, hex.EncodeToString(sum[:])}, "\n")))
				sig = hex.EncodeToString(m.Sum(nil))
			}
			fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", sig)
		}
		b.WriteString("\r\n")
		return b.Bytes()
	}
	length := len(frame(placeholder)) + len(trailerBlock(placeholder[0], nil))

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+host+"/examplebucket/chunkObject.txt", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(length)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	if len(trailers) > 0 {
		req.Header.Set("X-Amz-Trailer", trailers[0][0])
	}
	signRequest(t, req, testCreds, mode, ServiceS3, testRegion, at, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

	sigs := placeholder
	if signed {
		a := req.Header.Get("Authorization")
		seed, err := hex.DecodeString(a[strings.LastIndex(a, "=")+1:])
		if err != nil {
			t.Fatal(err)
		}
		ss := v4.NewStreamSigner(testCreds, ServiceS3, testRegion, seed)
		sigs = make([]string, len(chunks))
		for i, c := range chunks {
			s, err := ss.GetSignature(t.Context(), nil, c, at)
			if err != nil {
				t.Fatal(err)
			}
			sigs[i] = hex.EncodeToString(s)
		}
	}
	key := signingKey(testSecret, credential{Date: at.Format(scopeDateFormat), Region: testRegion, Service: ServiceS3})
	body := append(frame(sigs), trailerBlock(sigs[len(sigs)-1], key)...)
	if len(body) != length {
		t.Fatalf("framed %d bytes, signed Content-Length %d", len(body), length)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req
}

func s3Verifier(t *testing.T, now time.Time) *SigV4 {
	return newTestVerifier(t, func(o *SigV4Options) {
		o.Service = ServiceS3
		o.Now = func() time.Time { return now }
	})
}

func TestSigV4_Authenticate_StreamingAWSExample(t *testing.T) {
	data := bytes.Repeat([]byte("a"), 65536+1024)
	req := streamingRequest(t, "s3.amazonaws.com", data, 65536, streamingSigned, awsExampleTime, nil)

	wire := wireBytes(t, req)
	for i, sig := range awsExampleSigs {
		if !bytes.Contains(wire, []byte(sig)) {
			t.Fatalf("signature %d (%s) of AWS's published example is not in the request the SDK built", i, sig)
		}
	}

	out, p, err := s3Verifier(t, awsExampleTime.Add(time.Minute)).Authenticate(fromWire(t, wire))
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	if p.AccessKeyID != testKeyID {
		t.Errorf("principal %+v", p)
	}
	if out.ContentLength != int64(len(data)) {
		t.Errorf("ContentLength = %d, want the decoded %d", out.ContentLength, len(data))
	}
	if ce := out.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding = %q, want aws-chunked removed", ce)
	}
	if got := readAllClose(t, out.Body); !bytes.Equal(got, data) {
		t.Errorf("decoded %d bytes, want the %d-byte object", len(got), len(data))
	}
}

func TestSigV4_Authenticate_StreamingModes(t *testing.T) {
	data := randomBytes(200_000)
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	tests := []struct {
		name     string
		mode     string
		trailers [][2]string
	}{
		{"signed chunks", streamingSigned, nil},
		{"signed chunks and signed trailer", streamingSignedTrailer, crc},
		{"unsigned chunks with trailer", streamingUnsignedTrail, crc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := streamingRequest(t, "berth.example", data, 64<<10, tt.mode, testNow, tt.trailers)
			out, _, err := s3Verifier(t, testNow).Authenticate(onWire(t, req))
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			if got := readAllClose(t, out.Body); !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want %d", len(got), len(data))
			}
			if tt.trailers != nil {
				if got := out.Trailer.Get("X-Amz-Checksum-Crc32"); got != "AAAAAA==" {
					t.Errorf("trailer x-amz-checksum-crc32 = %q", got)
				}
			}
		})
	}
}

func TestSigV4_Authenticate_StreamingRejects(t *testing.T) {
	data := randomBytes(150_000)
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	tests := []struct {
		name     string
		mode     string
		trailers [][2]string
		mutate   func(body []byte) []byte
		wantCode Code  // an *Error when reading the body
		wantKind error // or an error kind
		early    bool  // the damage is in the first chunk, so not all data may be released
	}{
		{name: "chunk data changed", mode: streamingSigned, wantCode: CodeInvalidSignature, early: true, mutate: func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2 + 100
			b[i] ^= 1
			return b
		}},
		{name: "chunk signature changed", mode: streamingSigned, wantCode: CodeInvalidSignature, early: true, mutate: func(b []byte) []byte {
			i := bytes.Index(b, []byte("chunk-signature=")) + len("chunk-signature=")
			b[i] = map[bool]byte{true: 'b', false: 'a'}[b[i] == 'a']
			return b
		}},
		{name: "last chunk signature changed", mode: streamingSigned, wantCode: CodeInvalidSignature, mutate: func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("chunk-signature=")) + len("chunk-signature=")
			b[i] = map[bool]byte{true: 'b', false: 'a'}[b[i] == 'a']
			return b
		}},
		{name: "chunk signature missing", mode: streamingSigned, wantCode: CodeIncompleteSignature, mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte(";chunk-signature="), []byte(";chunk-signaturX="), 1)
		}},
		{name: "trailer value changed", mode: streamingSignedTrailer, trailers: crc, wantCode: CodeInvalidSignature, mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte("AAAAAA=="), []byte("AAAAAB=="), 1)
		}},
		{name: "trailer signature missing", mode: streamingSignedTrailer, trailers: crc, wantCode: CodeIncompleteSignature, mutate: func(b []byte) []byte {
			return bytes.Replace(b, []byte("x-amz-trailer-signature:"), []byte("x-amz-trailer-signaturX:"), 1)
		}},
		{name: "truncated body", mode: streamingSigned, wantKind: io.ErrUnexpectedEOF, mutate: func(b []byte) []byte {
			return b[:len(b)-10]
		}},
		{name: "data after the final chunk", mode: streamingSigned, wantKind: errdefs.ErrInvalidArgument, mutate: func(b []byte) []byte {
			return append(b[:len(b):len(b)], "xyz"...)
		}},
		{name: "unsigned stream truncated inside a chunk", mode: streamingUnsignedTrail, trailers: crc, wantKind: io.ErrUnexpectedEOF, mutate: func(b []byte) []byte {
			return b[:1000]
		}},
		{name: "unsigned chunk not followed by CRLF", mode: streamingUnsignedTrail, trailers: crc, wantKind: errdefs.ErrInvalidArgument, mutate: func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2 + 64<<10
			b[i] = 'X'
			return b
		}},
		{name: "unsigned stream shorter than X-Amz-Decoded-Content-Length", mode: streamingUnsignedTrail, trailers: crc, wantKind: errdefs.ErrInvalidArgument, mutate: func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n"))
			return append([]byte("ffff"), b[i:]...) // first chunk claims 65535 bytes, not 65536
		}},
		{name: "bad chunk size", mode: streamingUnsignedTrail, trailers: crc, wantKind: errdefs.ErrInvalidArgument, mutate: func(b []byte) []byte {
			return append([]byte("zz"), b[bytes.IndexByte(b, '\r'):]...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Mutate the body as received, after HTTP framing: the signed Content-Length still
			// describes the original body.
			sreq := onWire(t, streamingRequest(t, "berth.example", data, 64<<10, tt.mode, testNow, tt.trailers))
			body, err := io.ReadAll(sreq.Body)
			if err != nil {
				t.Fatal(err)
			}
			sreq.Body = io.NopCloser(bytes.NewReader(tt.mutate(body)))
			out, _, err := s3Verifier(t, testNow).Authenticate(sreq)
			if err != nil {
				t.Fatalf("authenticate (the seed signature is intact): %v", err)
			}
			got, err := io.ReadAll(out.Body)
			if err == nil {
				t.Fatalf("read the whole tampered body (%d bytes) without an error", len(got))
			}
			if tt.wantCode != "" {
				_ = wantCode(t, err, tt.wantCode)
			} else if !errors.Is(err, tt.wantKind) {
				t.Fatalf("read error = %v, want %v", err, tt.wantKind)
			}
			if tt.early && len(got) != 0 {
				t.Errorf("%d bytes of a chunk with a bad signature were released", len(got))
			}
		})
	}
}

func TestSigV4_Authenticate_StreamingNeedsHeaderAuth(t *testing.T) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://berth.example/b/k?X-Amz-Expires=60", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", streamingSigned)
	u, hdr, err := v4.NewSigner().PresignHTTP(t.Context(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, unsignedPayload, ServiceS3, testRegion, testNow, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	preq, err := http.NewRequestWithContext(t.Context(), http.MethodPut, u, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	preq.Header = hdr
	_, _, err = s3Verifier(t, testNow).Authenticate(onWire(t, preq))
	_ = wantCode(t, err, CodeIncompleteSignature)
}
