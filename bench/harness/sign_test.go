package harness

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestPayloadHash_BodyKinds(t *testing.T) {
	body := "hello, agent"
	want := PayloadHash([]byte(body))
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		hash string
	}{
		{"no body", func() *http.Request { r, _ := http.NewRequest("GET", "http://x/", nil); return r }, PayloadHash(nil)},
		{"rewindable", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://x/", strings.NewReader(body))
			return r
		}, want},
		{"one-shot reader", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://x/", iotest.OneByteReader(strings.NewReader(body)))
			return r
		}, want},
		{"hash given", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://x/", iotest.ErrReader(io.ErrUnexpectedEOF))
			r.Header.Set(ContentSHA256Header, want)
			return r
		}, want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			got, err := payloadHash(req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.hash {
				t.Errorf("hash = %s, want %s", got, tc.hash)
			}
			if tc.name == "rewindable" || tc.name == "one-shot reader" {
				rest, err := io.ReadAll(req.Body)
				if err != nil || string(rest) != body {
					t.Errorf("body after hashing = %q, %v; want it intact", rest, err)
				}
			}
		})
	}
}

func TestSign_SetsAuthorization(t *testing.T) {
	req, err := http.NewRequest("POST", "http://127.0.0.1:1/runtimes/x/invocations", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sign(req, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	for _, want := range []string{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", "/" + Region + "/" + Service + "/aws4_request", "Signature="} {
		if !strings.Contains(auth, want) {
			t.Errorf("Authorization %q lacks %q", auth, want)
		}
	}
	if req.Header.Get("X-Amz-Date") == "" {
		t.Error("no X-Amz-Date")
	}
}
