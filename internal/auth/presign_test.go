package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignURL presigns a request with the real SDK signer and returns the URL to send.
func presignURL(t *testing.T, method, rawURL string, expires int, payloadHash, service string, at time.Time, optFns ...func(*v4.SignerOptions)) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if expires > 0 {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
		req.URL.RawQuery = q.Encode()
	}
	u, _, err := v4.NewSigner().PresignHTTP(t.Context(), testCreds, req, payloadHash, service, testRegion, at, optFns...)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	return u
}

func TestSigV4_Authenticate_PresignedOverHTTP(t *testing.T) {
	now := time.Now().UTC()
	srv := newAuthServer(t, newTestVerifier(t, func(o *SigV4Options) { o.Now = time.Now }))
	tests := []struct {
		name        string
		path        string
		payloadHash string
	}{
		{"websocket URL with ARN, unsigned payload as botocore signs", testARNPath[:len(testARNPath)-len("/invocations")] + "/ws?qualifier=DEFAULT", unsignedPayload},
		{"empty payload hash as Go presigners sign", "/runtimes/my_agent-Ab12Cd34Ef/ws?qualifier=prod&x=a%20b", emptySHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := presignURL(t, http.MethodGet, srv.URL+tt.path, 300, tt.payloadHash, testService, now)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			status, res := doJSON(t, req)
			if !res.OK || res.AccessKeyID != testKeyID {
				t.Fatalf("status %d: %s: %s", status, res.Code, res.Message)
			}
		})
	}
}

func TestSigV4_Authenticate_PresignedRejects(t *testing.T) {
	base := "http://berth.example/runtimes/my_agent-Ab12Cd34Ef/ws?qualifier=DEFAULT"
	signedAt := testNow.Add(-time.Minute)
	tests := []struct {
		name      string
		service   string
		url       func(t *testing.T) string
		now       time.Time
		want      Code // "" = accepted
		inMessage string
	}{
		{name: "valid within its expiry", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt)
		}, now: testNow},
		{name: "expired", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt)
		}, now: signedAt.Add(301 * time.Second), want: CodePresignExpired, inMessage: "Request has expired"},
		{name: "used at its last valid second", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt)
		}, now: signedAt.Add(300 * time.Second)},
		{name: "X-Amz-Expires over the maximum", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 301, unsignedPayload, testService, signedAt)
		}, now: testNow, want: CodeIncompleteSignature, inMessage: "at most 300 seconds"},
		{name: "X-Amz-Expires missing", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 0, unsignedPayload, testService, signedAt)
		}, now: testNow, want: CodeIncompleteSignature, inMessage: "X-Amz-Expires"},
		{name: "signed in the future", url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, testNow.Add(10*time.Minute))
		}, now: testNow, want: CodeRequestExpired, inMessage: "not yet current"},
		{name: "tampered signature", url: func(t *testing.T) string {
			u := presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt)
			i := strings.Index(u, "X-Amz-Signature=") + len("X-Amz-Signature=")
			c := byte('a')
			if u[i] == 'a' {
				c = 'b'
			}
			return u[:i] + string(c) + u[i+1:]
		}, now: testNow, want: CodeInvalidSignature},
		{name: "query parameter changed", url: func(t *testing.T) string {
			return strings.Replace(presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt), "qualifier=DEFAULT", "qualifier=prod", 1)
		}, now: testNow, want: CodeInvalidSignature},
		{name: "expiry extended by the holder", url: func(t *testing.T) string {
			return strings.Replace(presignURL(t, http.MethodGet, base, 60, unsignedPayload, testService, signedAt), "X-Amz-Expires=60", "X-Amz-Expires=300", 1)
		}, now: testNow, want: CodeInvalidSignature},
		{name: "signature parameter twice", url: func(t *testing.T) string {
			u := presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt)
			return u + "&X-Amz-Signature=" + strings.Repeat("0", 64)
		}, now: testNow, want: CodeIncompleteSignature},
		{name: "wrong algorithm", url: func(t *testing.T) string {
			return strings.Replace(presignURL(t, http.MethodGet, base, 300, unsignedPayload, testService, signedAt), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)
		}, now: testNow, want: CodeIncompleteSignature},
		{name: "s3 allows a 7-day expiry", service: ServiceS3, url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, "http://berth.example/bucket/key.zip", 7*24*3600, unsignedPayload, ServiceS3, signedAt,
				func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		}, now: signedAt.Add(6 * 24 * time.Hour)},
		{name: "s3 refuses more than 7 days", service: ServiceS3, url: func(t *testing.T) string {
			return presignURL(t, http.MethodGet, "http://berth.example/bucket/key.zip", 7*24*3600+1, unsignedPayload, ServiceS3, signedAt,
				func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		}, now: testNow, want: CodeIncompleteSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, func(o *SigV4Options) {
				o.Now = func() time.Time { return tt.now }
				if tt.service != "" {
					o.Service = tt.service
				}
			})
			u := tt.url(t)
			if _, err := url.Parse(u); err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, p, err := v.Authenticate(onWire(t, req))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.AccessKeyID != testKeyID {
					t.Errorf("principal = %+v", p)
				}
				return
			}
			ae := wantCode(t, err, tt.want)
			if !strings.Contains(ae.Message, tt.inMessage) {
				t.Errorf("message %q does not contain %q", ae.Message, tt.inMessage)
			}
		})
	}
}
