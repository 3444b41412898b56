package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"berth.dev/berth/internal/errdefs"
)

const (
	testRegion  = "us-east-1"
	testService = "bedrock-agentcore"
	testKeyID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testAccount = "000000000000"
	testARNPath = "/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A000000000000%3Aruntime%2Fa-0123456789/invocations"
)

// testNow is the fixed server clock of most tests.
var testNow = time.Date(2026, 11, 21, 10, 10, 10, 0, time.UTC)

var testCreds = aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

// staticKeys is a KeyLookup over a fixed map.
type staticKeys map[string]staticKey

type staticKey struct {
	secret, account string
	disabled        bool
}

func (s staticKeys) LookupAccessKey(_ context.Context, id string) (string, string, error) {
	k, ok := s[id]
	switch {
	case !ok:
		return "", "", fmt.Errorf("key %s: %w", id, errdefs.ErrNotFound)
	case k.disabled:
		return "", "", fmt.Errorf("key %s: %w", id, errdefs.ErrPermissionDenied)
	}
	return k.secret, k.account, nil
}

func testKeys() staticKeys {
	return staticKeys{
		testKeyID:              {secret: testSecret, account: testAccount},
		"AKIADISABLEDEXAMPLE1": {secret: "disabled-secret", account: testAccount, disabled: true},
	}
}

// newTestVerifier returns a verifier for testService in testRegion at testNow, with
// adjustments applied to the options.
func newTestVerifier(t testing.TB, adjust ...func(*SigV4Options)) *SigV4 {
	t.Helper()
	opts := SigV4Options{Service: testService, Region: testRegion, Now: func() time.Time { return testNow }}
	for _, f := range adjust {
		f(&opts)
	}
	v, err := NewSigV4(testKeys(), opts)
	if err != nil {
		t.Fatalf("NewSigV4: %v", err)
	}
	return v
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signRequest signs req in place with the real AWS SDK signer.
func signRequest(t testing.TB, req *http.Request, creds aws.Credentials, payloadHash, service, region string, at time.Time, optFns ...func(*v4.SignerOptions)) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, payloadHash, service, region, at, optFns...); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// newSignedRequest builds a request to http://berth.example (optionally with a body) and
// signs it for service/region with the real signer.
func newSignedRequest(t testing.TB, method, target string, body []byte, header http.Header, creds aws.Credentials, service, region string, at time.Time) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://berth.example"+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	signRequest(t, req, creds, sha256Hex(body), service, region, at)
	return req
}

// onWire sends req through HTTP/1.1 serialization and parsing, returning the request as a
// server handler would see it (RequestURI, Host, header canonicalization, body framing).
func onWire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	return fromWire(t, wireBytes(t, req))
}

// wireBytes serializes req as a client sends it.
func wireBytes(t testing.TB, req *http.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	return buf.Bytes()
}

// fromWire parses a serialized request as a server does.
func fromWire(t testing.TB, b []byte) *http.Request {
	t.Helper()
	sreq, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	return sreq
}

// wantCode fails unless err is an *Error with the given code.
func wantCode(t testing.TB, err error, code Code) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *auth.Error with code %s", err, err, code)
	}
	if ae.Code != code {
		t.Fatalf("code = %s (%s), want %s", ae.Code, ae.Message, code)
	}
	if !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("errors.Is(err, ErrUnauthenticated) = false for %v", err)
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(ae.CanonicalRequest+ae.StringToSign, testSecret) {
		t.Errorf("error leaks the secret: %v", err)
	}
	return ae
}

func readAllClose(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("close body: %v", err)
	}
	return b
}
