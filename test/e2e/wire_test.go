package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// reply is a read and closed HTTP response.
type reply struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

func readReply(t *testing.T, resp *http.Response) *reply {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &reply{StatusCode: resp.StatusCode, Header: resp.Header, Body: raw}
}

// signedRequest sends a SigV4-signed request with the given credentials and signing time.
func signedRequest(t *testing.T, method, url, body string, creds aws.Credentials, at time.Time) *reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req) //nolint:bodyclose // closed by readReply
	if err != nil {
		t.Fatal(err)
	}
	return readReply(t, resp)
}

func errorType(t *testing.T, resp *reply) (string, map[string]any) {
	t.Helper()
	var body map[string]any
	_ = json.Unmarshal(resp.Body, &body)
	if h, b := resp.Header.Get("X-Amzn-ErrorType"), body["__type"]; h != "" && b != h {
		t.Errorf("X-Amzn-ErrorType %q but __type %v", h, b)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId header")
	}
	return resp.Header.Get("X-Amzn-ErrorType"), body
}

// TestWire_TrailingSlashBothForms: both path forms are served, never redirected.
func TestWire_TrailingSlashBothForms(t *testing.T) {
	ts := startServer(t)
	for _, path := range []string{"/runtimes/", "/runtimes"} {
		resp := signedRequest(t, "POST", ts.URL+path+"?maxResults=5", "", ts.Creds, time.Now())
		raw := resp.Body
		if resp.StatusCode != 200 || !strings.Contains(string(raw), `"agentRuntimes":[]`) {
			t.Errorf("POST %s = %d %s", path, resp.StatusCode, raw)
		}
	}
	for _, path := range []string{"/runtimes/abc-0123456789/", "/runtimes/abc-0123456789"} {
		resp := signedRequest(t, "GET", ts.URL+path, "", ts.Creds, time.Now())
		typ, _ := errorType(t, resp)
		if resp.StatusCode != 404 || typ != "ResourceNotFoundException" {
			t.Errorf("GET %s = %d %s, want 404 ResourceNotFoundException", path, resp.StatusCode, typ)
		}
	}
	resp := signedRequest(t, "PATCH", ts.URL+"/runtimes/abc-0123456789/", "", ts.Creds, time.Now())
	if typ, _ := errorType(t, resp); resp.StatusCode != 404 || typ != "UnknownOperationException" {
		t.Errorf("PATCH = %d %s, want 404 UnknownOperationException", resp.StatusCode, typ)
	}
	resp = signedRequest(t, "PUT", ts.URL+"/runtimes/", "{not json", ts.Creds, time.Now())
	if typ, body := errorType(t, resp); resp.StatusCode != 400 || typ != "ValidationException" || body["reason"] != "CannotParse" {
		t.Errorf("bad JSON = %d %s %v", resp.StatusCode, typ, body)
	}
}

// TestWire_SignatureRejected: tampered signature, wrong secret, unknown key and a
// 10-minute-old date are refused with 403 and an AWS error type; health needs no auth.
func TestWire_SignatureRejected(t *testing.T) {
	ts := startServer(t)
	wrong := ts.Creds
	wrong.SecretAccessKey = otherFirstChar(wrong.SecretAccessKey)
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: ts.Creds.SecretAccessKey}
	cases := []struct {
		name  string
		creds aws.Credentials
		at    time.Time
		mut   func(*http.Request)
	}{
		{"wrong secret", wrong, time.Now(), nil},
		{"unknown key", unknown, time.Now(), nil},
		{"ten minutes old", ts.Creds, time.Now().Add(-10 * time.Minute), nil},
		{"ten minutes ahead", ts.Creds, time.Now().Add(10 * time.Minute), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := signedRequest(t, "POST", ts.URL+"/runtimes/", "", tc.creds, tc.at)
			typ, body := errorType(t, resp)
			if resp.StatusCode != 403 || typ == "" {
				t.Errorf("status %d type %q body %v, want 403 with an error type", resp.StatusCode, typ, body)
			}
		})
	}
	t.Run("tampered signature", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.URL+"/runtimes/", nil)
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), ts.Creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		h := req.Header.Get("Authorization")
		last := h[len(h)-1]
		repl := byte('0')
		if last == '0' {
			repl = '1'
		}
		req.Header.Set("Authorization", h[:len(h)-1]+string(repl))
		r, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by readReply
		if err != nil {
			t.Fatal(err)
		}
		resp := readReply(t, r)
		if typ, _ := errorType(t, resp); resp.StatusCode != 403 || typ != "InvalidSignatureException" {
			t.Errorf("status %d type %q, want 403 InvalidSignatureException", resp.StatusCode, typ)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		r, err := http.Post(ts.URL+"/runtimes/", "application/json", nil) //nolint:bodyclose // closed by readReply
		if err != nil {
			t.Fatal(err)
		}
		resp := readReply(t, r)
		if typ, _ := errorType(t, resp); resp.StatusCode != 403 || typ != "MissingAuthenticationTokenException" {
			t.Errorf("status %d type %q, want 403 MissingAuthenticationTokenException", resp.StatusCode, typ)
		}
	})
	t.Run("sdk with wrong secret", func(t *testing.T) {
		_, err := ts.ControlWith(wrong).ListAgentRuntimes(context.Background(), &cp.ListAgentRuntimesInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
			t.Errorf("SDK error = %v, want InvalidSignatureException", err)
		}
	})
	resp, err := http.Get(ts.URL + "/berth/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health = %d", resp.StatusCode)
	}
}

// TestWire_S3KeysAreNotCleaned: object keys with "..", "//" and "./" reach the object store
// as sent (ServeMux would otherwise clean and redirect them).
func TestWire_S3KeysAreNotCleaned(t *testing.T) {
	ts := startServer(t)
	for _, key := range []string{"a/b/../c.zip", "x//y.zip", "./dot.zip"} {
		ts.upload(t, "keys", key, agentZip(t, "main.py"))
	}
	out, err := ts.s3(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("keys")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out.Contents {
		got = append(got, aws.ToString(o.Key))
	}
	if want := "[./dot.zip a/b/../c.zip x//y.zip]"; fmt.Sprint(got) != want {
		t.Errorf("keys = %v, want %s", got, want)
	}
}

// otherFirstChar returns s with its first character replaced by a different one, so the
// result never equals s.
func otherFirstChar(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}
