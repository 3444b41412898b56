package auth

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSigV4_Authenticate_Rejects(t *testing.T) {
	body := []byte(`{"prompt":"hi"}`)
	target := testARNPath + "?qualifier=DEFAULT"
	sessionHeader := http.Header{"X-Amzn-Bedrock-Agentcore-Runtime-Session-Id": {"session-0000000000000000000000000000001"}}

	// signed builds a correctly signed request; mutate breaks it after signing.
	signed := func(t *testing.T, creds aws.Credentials, service, region string, at time.Time) *http.Request {
		return newSignedRequest(t, http.MethodPost, target, body, sessionHeader, creds, service, region, at)
	}
	ok := func(t *testing.T) *http.Request { return signed(t, testCreds, testService, testRegion, testNow) }

	tests := []struct {
		name      string
		req       func(t *testing.T) *http.Request
		want      Code
		inMessage []string // substrings the message must contain
	}{
		{name: "no signature at all", want: CodeMissingAuthenticationToken, req: func(t *testing.T) *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://berth.example"+target, bytes.NewReader(body))
			return req
		}},
		{name: "tampered signature", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			a := req.Header.Get("Authorization")
			last := a[len(a)-1]
			repl := byte('0')
			if last == '0' {
				repl = '1'
			}
			req.Header.Set("Authorization", a[:len(a)-1]+string(repl))
			return req
		}},
		{name: "wrong secret", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			return signed(t, aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret + "x"}, testService, testRegion, testNow)
		}},
		{name: "unknown access key", want: CodeUnrecognizedClient, inMessage: []string{"AKIAUNKNOWNEXAMPLE00"}, req: func(t *testing.T) *http.Request {
			return signed(t, aws.Credentials{AccessKeyID: "AKIAUNKNOWNEXAMPLE00", SecretAccessKey: testSecret}, testService, testRegion, testNow)
		}},
		{name: "disabled access key", want: CodeUnrecognizedClient, inMessage: []string{"disabled"}, req: func(t *testing.T) *http.Request {
			return signed(t, aws.Credentials{AccessKeyID: "AKIADISABLEDEXAMPLE1", SecretAccessKey: "disabled-secret"}, testService, testRegion, testNow)
		}},
		{name: "date 10 minutes old", want: CodeRequestExpired,
			inMessage: []string{"Signature expired: 20261121T100010Z is now earlier than 20261121T100510Z (20261121T101010Z - 5 min.)"},
			req: func(t *testing.T) *http.Request {
				return signed(t, testCreds, testService, testRegion, testNow.Add(-10*time.Minute))
			}},
		{name: "date 10 minutes ahead", want: CodeRequestExpired,
			inMessage: []string{"Signature not yet current: 20261121T102010Z is still later than 20261121T101510Z (20261121T101010Z + 5 min.)"},
			req: func(t *testing.T) *http.Request {
				return signed(t, testCreds, testService, testRegion, testNow.Add(10*time.Minute))
			}},
		{name: "wrong service", want: CodeInvalidSignature, inMessage: []string{"'bedrock-agentcore'", "'lambda'"}, req: func(t *testing.T) *http.Request {
			return signed(t, testCreds, "lambda", testRegion, testNow)
		}},
		{name: "wrong region", want: CodeInvalidSignature, inMessage: []string{"'us-east-1'", "'eu-west-3'"}, req: func(t *testing.T) *http.Request {
			return signed(t, testCreds, testService, "eu-west-3", testNow)
		}},
		{name: "body modified after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Body = io.NopCloser(bytes.NewReader([]byte(`{"prompt":"HI"}`)))
			return req
		}},
		{name: "body extended after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			longer := append(bytes.Clone(body), ' ')
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(longer)), int64(len(longer))
			return req
		}},
		{name: "signed header modified after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Set("X-Amzn-Bedrock-Agentcore-Runtime-Session-Id", "session-0000000000000000000000000000002")
			return req
		}},
		{name: "signed header removed after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Del("X-Amzn-Bedrock-Agentcore-Runtime-Session-Id")
			return req
		}},
		{name: "path modified after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawPath = strings.Replace(req.URL.RawPath, "a-0123456789", "a-0123456788", 1)
			req.URL.Path = strings.Replace(req.URL.Path, "a-0123456789", "a-0123456788", 1)
			return req
		}},
		{name: "path escaping changed after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawPath = strings.Replace(req.URL.RawPath, "%3A", "%3a", 1)
			return req
		}},
		{name: "query value modified after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawQuery = "qualifier=prod"
			return req
		}},
		{name: "query parameter added after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawQuery += "&extra=1"
			return req
		}},
		{name: "method changed after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Method = http.MethodPut
			return req
		}},
		{name: "host changed after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Host = "other.example"
			return req
		}},
		{name: "X-Amz-Date changed after signing", want: CodeInvalidSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Set("X-Amz-Date", "20261121T101011Z")
			return req
		}},
		{name: "X-Amz-Date missing", want: CodeIncompleteSignature, inMessage: []string{"'X-Amz-Date'"}, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Del("X-Amz-Date")
			return req
		}},
		{name: "X-Amz-Date malformed", want: CodeIncompleteSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Set("X-Amz-Date", "2026-11-21T10:10:10Z")
			return req
		}},
		{name: "credential date differs from X-Amz-Date", want: CodeInvalidSignature, inMessage: []string{"'20261120' != '20261121'"}, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20261121/", "/20261120/", 1))
			return req
		}},
		{name: "Authorization without Signature", want: CodeIncompleteSignature, inMessage: []string{"'Signature'"}, req: func(t *testing.T) *http.Request {
			req := ok(t)
			a := req.Header.Get("Authorization")
			req.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return req
		}},
		{name: "bearer token", want: CodeIncompleteSignature, inMessage: []string{"Bearer"}, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Set("Authorization", "Bearer eyJhbGciOi")
			return req
		}},
		{name: "two Authorization headers", want: CodeIncompleteSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.Header.Add("Authorization", req.Header.Get("Authorization"))
			return req
		}},
		{name: "header and query signature together", want: CodeIncompleteSignature, inMessage: []string{"Only one auth mechanism"}, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
			return req
		}},
		{name: "X-Amz-Content-Sha256 does not match the body", want: CodeContentSHA256Mismatch, req: func(t *testing.T) *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://berth.example"+target, bytes.NewReader(body))
			req.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("other")))
			signRequest(t, req, testCreds, sha256Hex([]byte("other")), testService, testRegion, testNow)
			return req
		}},
		{name: "unsigned payload is not accepted for this service", want: CodeIncompleteSignature, req: func(t *testing.T) *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://berth.example"+target, bytes.NewReader(body))
			req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
			signRequest(t, req, testCreds, unsignedPayload, testService, testRegion, testNow)
			return req
		}},
		{name: "malformed query string", want: CodeIncompleteSignature, req: func(t *testing.T) *http.Request {
			req := ok(t)
			req.URL.RawQuery = "qualifier=%zz"
			return req
		}},
	}
	v := newTestVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := wireBytes(t, tt.req(t))
			out, p, err := v.Authenticate(fromWire(t, wire))
			if err == nil {
				t.Fatalf("accepted (principal %+v, request %v)", p, out.URL)
			}
			ae := wantCode(t, err, tt.want)
			for _, s := range tt.inMessage {
				if !strings.Contains(ae.Message, s) {
					t.Errorf("message %q does not contain %q", ae.Message, s)
				}
			}
			if tt.want == CodeInvalidSignature && ae.Message == msgInvalidSignature {
				// The correct signature of the request as received must not be disclosed.
				recomputed := fromWire(t, wire)
				recomputed.Header.Del("Authorization")
				sig := expectedSignature(t, recomputed)
				if sig != "" && strings.Contains(ae.Error()+ae.CanonicalRequest+ae.StringToSign, sig) {
					t.Errorf("the error discloses the expected signature %s", sig)
				}
				if ae.CanonicalRequest == "" || ae.StringToSign == "" {
					t.Errorf("a signature mismatch carries no canonical request / string to sign for debugging")
				}
			}
		})
	}
}

// expectedSignature returns the signature the server would accept for req (re-signed by the
// real signer with the test key at the request's own X-Amz-Date), or "" if req has no date.
func expectedSignature(t *testing.T, req *http.Request) string {
	t.Helper()
	at, ok := parseAmzDate(req.Header.Get("X-Amz-Date"))
	if !ok {
		return ""
	}
	c := req.Clone(t.Context())
	c.RequestURI = ""
	c.URL.Scheme, c.URL.Host = "http", req.Host
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	c.Body = io.NopCloser(bytes.NewReader(b))
	signRequest(t, c, testCreds, sha256Hex(b), testService, testRegion, at)
	a := c.Header.Get("Authorization")
	return a[strings.LastIndex(a, "=")+1:]
}

func TestCode_Mappings(t *testing.T) {
	tests := []struct {
		code      Code
		errorType string
		status    int
		s3Code    string
		s3Status  int
	}{
		{CodeMissingAuthenticationToken, "MissingAuthenticationTokenException", 403, "AccessDenied", 403},
		{CodeIncompleteSignature, "IncompleteSignatureException", 400, "AuthorizationHeaderMalformed", 400},
		{CodeUnrecognizedClient, "UnrecognizedClientException", 403, "InvalidAccessKeyId", 403},
		{CodeInvalidSignature, "InvalidSignatureException", 403, "SignatureDoesNotMatch", 403},
		{CodeRequestExpired, "InvalidSignatureException", 403, "RequestTimeTooSkewed", 403},
		{CodePresignExpired, "InvalidSignatureException", 403, "AccessDenied", 403},
		{CodeContentSHA256Mismatch, "InvalidSignatureException", 403, "XAmzContentSHA256Mismatch", 400},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			e := &Error{Code: tt.code, Message: "m"}
			got := []any{e.ErrorType(), e.HTTPStatus(), tt.code.S3Code(), tt.code.S3Status()}
			want := []any{tt.errorType, tt.status, tt.s3Code, tt.s3Status}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("mapping %d = %v, want %v", i, got[i], want[i])
				}
			}
			if e.Error() != "m" {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

// The disclosure check above is only meaningful if expectedSignature reproduces the signature
// of an untouched request.
func TestExpectedSignatureHelper_ReproducesSignature(t *testing.T) {
	req := newSignedRequest(t, http.MethodPost, testARNPath+"?qualifier=DEFAULT", []byte("x"), nil, testCreds, testService, testRegion, testNow)
	a := req.Header.Get("Authorization")
	want := a[strings.LastIndex(a, "=")+1:]
	sreq := onWire(t, req)
	sreq.Header.Del("Authorization")
	if got := expectedSignature(t, sreq); got != want {
		t.Fatalf("expectedSignature = %q, want %q", got, want)
	}
}
