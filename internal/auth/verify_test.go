package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

// authResult is what the test server reports about one request.
type authResult struct {
	OK          bool   `json:"ok"`
	Code        Code   `json:"code,omitempty"`
	Message     string `json:"message,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	Account     string `json:"account,omitempty"`
	BodySHA256  string `json:"bodySha256,omitempty"`
	BodyLen     int    `json:"bodyLen"`
	Spooled     bool   `json:"spooled"` // the replayed body came from a spool file
	CtxKeyID    string `json:"ctxKeyId,omitempty"`
}

// newAuthServer starts a loopback server that authenticates every request with v and answers
// with an authResult; the replayed body is read in full and closed.
func newAuthServer(t *testing.T, v Authenticator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res authResult
		out, p, err := v.Authenticate(r)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			res.Code, res.Message = ae.Code, ae.Message
			w.WriteHeader(ae.HTTPStatus())
			_ = json.NewEncoder(w).Encode(res)
			return
		}
		_, res.Spooled = out.Body.(*fileBody)
		body, rerr := io.ReadAll(out.Body)
		if cerr := out.Body.Close(); rerr == nil {
			rerr = cerr
		}
		if rerr != nil {
			http.Error(w, rerr.Error(), http.StatusInternalServerError)
			return
		}
		ctxP, _ := PrincipalFrom(out.Context())
		res.OK, res.AccessKeyID, res.Account, res.CtxKeyID = true, p.AccessKeyID, p.Account, ctxP.AccessKeyID
		res.BodySHA256, res.BodyLen = sha256Hex(body), len(body)
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func doJSON(t *testing.T, req *http.Request) (int, authResult) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("do: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var res authResult
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, res
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestSigV4_Authenticate_RealSignerOverHTTP(t *testing.T) {
	spool := t.TempDir()
	now := time.Now().UTC()
	v := newTestVerifier(t, func(o *SigV4Options) {
		o.Now = time.Now
		o.SpoolDir = spool
	})
	srv := newAuthServer(t, v)

	tests := []struct {
		name        string
		method      string
		target      string
		body        []byte
		header      http.Header
		wantSpooled bool
	}{
		{name: "invoke with percent-encoded ARN and qualifier", method: http.MethodPost,
			target: testARNPath + "?qualifier=DEFAULT", body: []byte(`{"prompt":"hello"}`),
			header: http.Header{"Content-Type": {"application/json"}, "X-Amzn-Bedrock-Agentcore-Runtime-Session-Id": {"7b9d2c1e-0000-4000-8000-000000000001"}}},
		{name: "empty body", method: http.MethodPost, target: testARNPath + "?qualifier=DEFAULT", body: []byte{}},
		{name: "no body GET with trailing slash", method: http.MethodGet, target: "/runtimes/my_agent-Ab12Cd34Ef/"},
		{name: "3 MiB body spooled to disk", method: http.MethodPost, target: testARNPath, body: randomBytes(3 << 20),
			header: http.Header{"Content-Type": {"application/octet-stream"}}, wantSpooled: true},
		{name: "body exactly at the memory threshold", method: http.MethodPost, target: "/runtimes/", body: randomBytes(1 << 20)},
		{name: "body one byte over the threshold", method: http.MethodPost, target: "/runtimes/", body: randomBytes(1<<20 + 1), wantSpooled: true},
		{name: "query needing encoding, repeated keys, empty value", method: http.MethodGet,
			target: "/runtimes/?maxResults=10&nextToken=a%2Fb%2Bc%3D%3D&z=&a=2&a=1&sp=x%20y&tilde=~_-."},
		{name: "path with spaces, unicode and reserved characters", method: http.MethodGet,
			target: "/runtimes/a%20b/%E2%9C%93/c%21%27%28%29%2A/d%3Bx%3De/"},
		{name: "header values with inner and outer spaces, repeated header", method: http.MethodPut, target: "/runtimes/x/",
			body: []byte("{}"), header: http.Header{"X-Amz-Meta-Note": {"  a   b  c  "}, "X-Custom": {"one", "two  three"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader
			if tt.body != nil {
				rd = bytes.NewReader(tt.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.target, rd)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				for _, val := range vs {
					req.Header.Add(k, val)
				}
			}
			signRequest(t, req, testCreds, sha256Hex(tt.body), testService, testRegion, now)

			status, res := doJSON(t, req)
			want := authResult{OK: true, AccessKeyID: testKeyID, Account: testAccount, CtxKeyID: testKeyID,
				BodySHA256: sha256Hex(tt.body), BodyLen: len(tt.body), Spooled: tt.wantSpooled}
			if status != http.StatusOK {
				t.Fatalf("status %d: %s: %s", status, res.Code, res.Message)
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
	entries, err := os.ReadDir(spool)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("spool dir still holds %d files after the requests finished", len(entries))
	}
}

func TestSigV4_Authenticate_S3SigningOverHTTP(t *testing.T) {
	v := newTestVerifier(t, func(o *SigV4Options) {
		o.Service = ServiceS3
		o.Now = time.Now
	})
	srv := newAuthServer(t, v)
	s3 := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

	body := []byte("object bytes\n")
	tests := []struct {
		name        string
		method      string
		target      string
		body        []byte
		contentHash string
		signedHash  string
		wantCode    Code
	}{
		{"put with hex payload hash", http.MethodPut, "/artifacts/code/agent.zip", body, sha256Hex(body), sha256Hex(body), ""},
		{"key with escaped characters is signed escaped once", http.MethodPut,
			"/artifacts/dir/my%20file%2Bv1%25%E2%9C%93.zip", body, sha256Hex(body), sha256Hex(body), ""},
		{"unsigned payload", http.MethodPut, "/artifacts/u.bin", body, unsignedPayload, unsignedPayload, ""},
		{"list with query", http.MethodGet, "/artifacts?list-type=2&prefix=code%2F&max-keys=10", nil, sha256Hex(nil), sha256Hex(nil), ""},
		{"missing x-amz-content-sha256", http.MethodGet, "/artifacts/k", nil, "", sha256Hex(nil), CodeIncompleteSignature},
		{"unknown x-amz-content-sha256 mode", http.MethodGet, "/artifacts/k", nil, "SOMETHING-ELSE", "SOMETHING-ELSE", CodeIncompleteSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader
			if tt.body != nil {
				rd = bytes.NewReader(tt.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.target, rd)
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentHash != "" {
				req.Header.Set("X-Amz-Content-Sha256", tt.contentHash)
			}
			signRequest(t, req, testCreds, tt.signedHash, ServiceS3, testRegion, time.Now(), s3)
			status, res := doJSON(t, req)
			if tt.wantCode != "" {
				if res.Code != tt.wantCode {
					t.Fatalf("status %d code %s (%s), want %s", status, res.Code, res.Message, tt.wantCode)
				}
				return
			}
			if !res.OK {
				t.Fatalf("status %d: %s: %s", status, res.Code, res.Message)
			}
			if res.BodySHA256 != sha256Hex(tt.body) {
				t.Errorf("handler read a different body")
			}
		})
	}

	t.Run("the same request signed with double escaping is refused by s3", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/artifacts/a%20b", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(nil))
		signRequest(t, req, testCreds, sha256Hex(nil), ServiceS3, testRegion, time.Now()) // no DisableURIPathEscaping
		if _, res := doJSON(t, req); res.Code != CodeInvalidSignature {
			t.Fatalf("code = %q, want InvalidSignature", res.Code)
		}
	})
}

func TestSigV4_Authenticate_S3HexHashCheckedAtEOF(t *testing.T) {
	v := newTestVerifier(t, func(o *SigV4Options) { o.Service = ServiceS3 })
	signed := []byte("the signed content")
	req := newS3Request(t, http.MethodPut, "/b/k", []byte("THE SENT CONTENT!!"), sha256Hex(signed))
	out, _, err := v.Authenticate(onWire(t, req))
	if err != nil {
		t.Fatalf("authenticate (the header is signed, the body is only checked when read): %v", err)
	}
	_, err = io.ReadAll(out.Body)
	_ = wantCode(t, err, CodeContentSHA256Mismatch)
	if got := CodeContentSHA256Mismatch.S3Code(); got != "XAmzContentSHA256Mismatch" {
		t.Errorf("S3Code = %s", got)
	}

	req = newS3Request(t, http.MethodPut, "/b/k", signed, sha256Hex(signed))
	out, _, err = v.Authenticate(onWire(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAllClose(t, out.Body); !bytes.Equal(got, signed) {
		t.Errorf("body = %q, want %q", got, signed)
	}
}

// newS3Request builds and signs an S3-style request (single escaping, X-Amz-Content-Sha256).
func newS3Request(t *testing.T, method, target string, body []byte, contentHash string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://berth.example"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", contentHash)
	signRequest(t, req, testCreds, contentHash, ServiceS3, testRegion, testNow, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	return req
}

func TestSigV4_Authenticate_ReturnsErrorsForBrokenBodies(t *testing.T) {
	v := newTestVerifier(t)
	req := newSignedRequest(t, http.MethodPost, "/runtimes/", []byte("abc"), nil, testCreds, testService, testRegion, testNow)
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader("ab"), errReader{}))
	_, _, err := v.Authenticate(req)
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("err = %v, want the body read error", err)
	}
	var ae *Error
	if errors.As(err, &ae) {
		t.Errorf("a body read failure is reported as an auth failure: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }
