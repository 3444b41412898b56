package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// newAgentCoreServer serves a minimal AgentCore surface behind SigV4: ListAgentRuntimes
// answers an empty list and InvokeAgentRuntime echoes the payload. Auth failures are written
// in the restJson1 error format (X-Amzn-ErrorType plus __type and message).
func newAgentCoreServer(t *testing.T, v Authenticator) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /runtimes/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"agentRuntimes":[]}`)
	})
	mux.HandleFunc("POST /runtimes/{arn}/invocations", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("arn") != "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/a-0123456789" {
			http.Error(w, "wrong arn "+r.PathValue("arn"), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", r.Header.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"))
		_, _ = io.Copy(w, r.Body)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, _, err := v.Authenticate(r)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", ae.ErrorType())
			w.WriteHeader(ae.HTTPStatus())
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.ErrorType(), "message": ae.Message})
			return
		}
		defer func() { _ = out.Body.Close() }()
		mux.ServeHTTP(w, out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func controlClient(url, id, secretKey string) *bedrockagentcorecontrol.Client {
	return bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secretKey, ""),
		RetryMaxAttempts: 1,
	})
}

func TestSigV4_Authenticate_AWSSDKControlPlane(t *testing.T) {
	srv := newAgentCoreServer(t, newTestVerifier(t, func(o *SigV4Options) { o.Now = time.Now }))

	out, err := controlClient(srv.URL, testKeyID, testSecret).ListAgentRuntimes(t.Context(), &bedrockagentcorecontrol.ListAgentRuntimesInput{})
	if err != nil {
		t.Fatalf("ListAgentRuntimes with the right key: %v", err)
	}
	if len(out.AgentRuntimes) != 0 {
		t.Errorf("AgentRuntimes = %v, want empty", out.AgentRuntimes)
	}

	tests := []struct {
		name, id, secret, wantType string
	}{
		{"wrong secret", testKeyID, "not-the-secret", "InvalidSignatureException"},
		{"unknown key", "AKIAUNKNOWNEXAMPLE00", testSecret, "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := controlClient(srv.URL, tt.id, tt.secret).ListAgentRuntimes(t.Context(), &bedrockagentcorecontrol.ListAgentRuntimesInput{})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an API error", err)
			}
			if apiErr.ErrorCode() != tt.wantType {
				t.Errorf("error code = %q, want %q", apiErr.ErrorCode(), tt.wantType)
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Errorf("status = %v, want 403", err)
			}
		})
	}
}

func TestSigV4_Authenticate_AWSSDKDataPlaneLargePayload(t *testing.T) {
	spool := t.TempDir()
	srv := newAgentCoreServer(t, newTestVerifier(t, func(o *SigV4Options) {
		o.Now = time.Now
		o.SpoolDir = spool
	}))
	client := bedrockagentcore.New(bedrockagentcore.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		RetryMaxAttempts: 1,
	})
	payload := randomBytes(3 << 20)
	out, err := client.InvokeAgentRuntime(t.Context(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String("arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/a-0123456789"),
		Qualifier:        aws.String("DEFAULT"),
		RuntimeSessionId: aws.String("7b9d2c1e-0000-4000-8000-000000000001-abc"),
		ContentType:      aws.String("application/octet-stream"),
		Payload:          payload,
	})
	if err != nil {
		t.Fatalf("InvokeAgentRuntime: %v", err)
	}
	got, err := io.ReadAll(out.Response)
	if cerr := out.Response.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) || !bytes.Equal(got, payload) {
		t.Fatalf("echoed %d bytes differing from the %d-byte payload", len(got), len(payload))
	}
}

// s3Result is what the S3 test server saw of the last upload.
type s3Result struct {
	body     []byte
	mode     string
	trailers http.Header
	encoded  int64 // bytes of the body as sent
	err      error
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestSigV4_Authenticate_AWSSDKS3PutObject uploads with the real S3 client. Over plain HTTP
// it signs the payload's hex hash. Over TLS, with an unseekable body, it streams
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer: one 20 MiB chunk (larger than any
// buffer the decoder keeps) when the length is known, 64 KiB chunks when it is not.
func TestSigV4_Authenticate_AWSSDKS3PutObject(t *testing.T) {
	tests := []struct {
		name        string
		useTLS      bool
		size        int
		knownLength bool
	}{
		{"http (hex payload hash)", false, 300_000, true},
		{"https (aws-chunked, one 20 MiB chunk, checksum trailer)", true, 20 << 20, true},
		{"https (aws-chunked, length unknown: 64 KiB chunks, checksum trailer)", true, 20 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, func(o *SigV4Options) {
				o.Service = ServiceS3
				o.Now = time.Now
			})
			results := make(chan s3Result, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wire := &countingReader{r: r.Body}
				r.Body = struct {
					io.Reader
					io.Closer
				}{wire, r.Body}
				out, _, err := v.Authenticate(r)
				if err != nil {
					results <- s3Result{err: err}
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
				body, err := io.ReadAll(out.Body)
				results <- s3Result{body: body, mode: r.Header.Get("X-Amz-Content-Sha256"), trailers: out.Trailer.Clone(),
					encoded: wire.n, err: err}
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
			})
			var srv *httptest.Server
			if tt.useTLS {
				srv = httptest.NewTLSServer(h)
			} else {
				srv = httptest.NewServer(h)
			}
			t.Cleanup(srv.Close)

			client := s3.New(s3.Options{
				Region:           testRegion,
				BaseEndpoint:     aws.String(srv.URL),
				UsePathStyle:     true,
				HTTPClient:       srv.Client(),
				Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
				RetryMaxAttempts: 1,
				// Checksums on: over TLS the SDK then streams an unseekable body as aws-chunked
				// with a CRC32 trailer, one chunk when the length is known.
				RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
			})
			data := randomBytes(tt.size)
			var body io.Reader = bytes.NewReader(data)
			if tt.useTLS {
				body = struct{ io.Reader }{body} // not seekable: the SDK streams it with a trailer
			}
			in := &s3.PutObjectInput{
				Bucket: aws.String("artifacts"),
				Key:    aws.String("code/my agent+v1.zip"),
				Body:   body,
			}
			if tt.knownLength {
				in.ContentLength = aws.Int64(int64(len(data)))
			}
			_, err := client.PutObject(t.Context(), in)
			res := <-results
			if res.err != nil {
				t.Fatalf("server: %v", res.err)
			}
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if !bytes.Equal(res.body, data) {
				t.Fatalf("server read %d bytes, want the %d-byte object", len(res.body), len(data))
			}
			if tt.useTLS {
				if res.mode != streamingUnsignedTrail {
					t.Errorf("x-amz-content-sha256 = %q, want %s (the SDK changed its default?)", res.mode, streamingUnsignedTrail)
				}
				want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
				if got := res.trailers.Get("X-Amz-Checksum-Crc32"); got != want {
					t.Errorf("trailer x-amz-checksum-crc32 = %q, want %q", got, want)
				}
				// The framing is a few dozen bytes for one chunk, ~10 per chunk for 320 chunks.
				framing := res.encoded - int64(len(data))
				if oneChunk := framing < 200; oneChunk != tt.knownLength {
					t.Errorf("%d bytes of aws-chunked framing; want one chunk = %v", framing, tt.knownLength)
				}
			} else if res.mode != sha256Hex(data) {
				t.Errorf("x-amz-content-sha256 = %q, want the hex hash", res.mode)
			}
		})
	}
}
