package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"berth.dev/berth/internal/errdefs"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/bedrock-agentcore/aws4_request,SignedHeaders=content-length;content-type;host;x-amz-date,Signature=" + strings.Repeat("a", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=/20261121/us-east-1/x/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=A/B/C/D/E/F, SignedHeaders=host;host, Signature=zz")
	f.Add("AWS4-HMAC-SHA256Credential=x")
	f.Add("AWS4-HMAC-SHA256 ,,, Credential==, =, Signature")
	f.Add("Bearer eyJhbGciOiJSUzI1NiJ9")
	f.Add("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseAuthorization(header)
		if err != nil {
			if err.Code != CodeIncompleteSignature {
				t.Fatalf("parse error with code %s", err.Code)
			}
			return
		}
		if !isLowerHex(a.Signature, 64) {
			t.Fatalf("accepted signature %q", a.Signature)
		}
		if !validScopeDate(a.Credential.Date) || a.Credential.AccessKeyID == "" || a.Credential.Region == "" || a.Credential.Service == "" {
			t.Fatalf("accepted credential %+v", a.Credential)
		}
		hasHost := false
		for _, h := range a.SignedHeaders {
			hasHost = hasHost || h == "host"
			if h != strings.ToLower(h) || strings.ContainsAny(h, " ;:\r\n") {
				t.Fatalf("accepted signed header %q", h)
			}
		}
		if !hasHost {
			t.Fatalf("accepted SignedHeaders without host: %v", a.SignedHeaders)
		}
		// What was accepted renders back to a header that parses to the same thing.
		again := algorithm + " Credential=" + a.Credential.AccessKeyID + "/" + a.Credential.scope() +
			", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("re-rendered header %q does not parse: %v", again, err)
		}
		if b.Credential != a.Credential || b.Signature != a.Signature || strings.Join(b.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}

// fuzzMutations are changes after signing that must make verification fail.
const fuzzMutations = 8

// FuzzVerify signs random requests with the real AWS SDK signer, sends them through HTTP/1.1
// serialization and parsing, and checks that this package accepts every one of them, and
// refuses each after one meaningful change. mode bit 0 selects S3 signing rules; the other
// bits select the mutation.
func FuzzVerify(f *testing.F) {
	arn := "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/a-0123456789"
	f.Add("runtimes/"+arn+"/invocations", "qualifier=DEFAULT", "session-1", []byte(`{"prompt":"hi"}`), uint8(0))
	f.Add("runtimes/", "maxResults=10&nextToken=a%2Fb%2Bc%3D", "", []byte{}, uint8(2))
	f.Add("runtimes/x y/ünïcödé/~tilde_.-", "a=1&a=0&b=&c=x+y&d=%20", "  spaced   out  ", []byte("body"), uint8(4))
	f.Add("bucket/dir/file name+v1%.zip", "list-type=2&prefix=dir%2F", "\tvalue\t", []byte("object"), uint8(1))
	f.Add("bucket/a/../b//c/./d", "", "x", []byte(nil), uint8(3))
	f.Add("", "X-Amz-Meta=1&=empty-key", "v", []byte("0"), uint8(6))
	f.Add("runtimes/%41%2F/ws", "qualifier=%ZZ", "a;b,c", bytes.Repeat([]byte("z"), 5000), uint8(9))
	f.Add("bucket/k", "", "", []byte("x"), uint8(15))
	f.Fuzz(func(t *testing.T, path, query, headerValue string, body []byte, mode uint8) {
		s3 := mode&1 == 1
		if !validFuzzHeaderValue(headerValue) || len(path) > 2048 || len(query) > 2048 {
			t.Skip()
		}
		service := testService
		if s3 {
			service = ServiceS3
		}
		v := newTestVerifier(t, func(o *SigV4Options) {
			o.Service = service
			o.MemoryThreshold = 4096
			o.SpoolDir = t.TempDir()
		})

		build := func() *http.Request {
			segs := strings.Split(path, "/")
			raw := make([]string, len(segs))
			for i, s := range segs {
				raw[i] = uriEncode(s) // as SDKs encode path labels
			}
			u := &url.URL{Scheme: "http", Host: "berth.example", Path: "/" + path, RawPath: "/" + strings.Join(raw, "/")}
			vals, _ := url.ParseQuery(query)
			u.RawQuery = vals.Encode()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u.String(), bytes.NewReader(body))
			if err != nil {
				t.Skip()
			}
			req.Header.Set("X-Custom", headerValue)
			hash := sha256Hex(body)
			if s3 {
				req.Header.Set("X-Amz-Content-Sha256", hash)
			}
			signRequest(t, req, testCreds, hash, service, testRegion, testNow, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3 })
			// The signer rewrites the query canonically; send an equivalent, differently
			// encoded and ordered one ("+" for spaces, url.Values order).
			signedVals, _ := url.ParseQuery(req.URL.RawQuery)
			req.URL.RawQuery = signedVals.Encode()
			return req
		}

		req := build()
		sreq := fromWire(t, wireBytes(t, req))
		out, p, err := v.Authenticate(sreq)
		if err != nil {
			t.Fatalf("a request signed by the AWS SDK was refused: %v\npath %q query %q header %q", err, sreq.RequestURI, query, headerValue)
		}
		if p.AccessKeyID != testKeyID {
			t.Fatalf("principal %+v", p)
		}
		got, err := io.ReadAll(out.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("replayed body: %d bytes, %v; want %d bytes", len(got), err, len(body))
		}
		if err := out.Body.Close(); err != nil {
			t.Fatal(err)
		}

		req = build()
		what := mutate(req, int(mode>>1)%fuzzMutations)
		out, _, err = v.Authenticate(fromWire(t, wireBytes(t, req)))
		if err == nil {
			_, err = io.ReadAll(out.Body) // S3 checks a hex payload hash while the body is read
			_ = out.Body.Close()
		}
		if err == nil {
			t.Fatalf("accepted after %s", what)
		}
		if !isAuthError(err) {
			t.Fatalf("after %s: error %v is not an *auth.Error", what, err)
		}
	})
}

// mutate changes a signed request in one way that must invalidate it, and names the change.
func mutate(req *http.Request, which int) string {
	switch which {
	case 0:
		b, _ := io.ReadAll(req.Body)
		if len(b) == 0 {
			b = []byte{'!'}
		} else {
			b[len(b)/2] ^= 0x20
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return "changing the body"
	case 1:
		req.Header.Set("X-Custom", req.Header.Get("X-Custom")+"x")
		return "changing a signed header"
	case 2:
		req.URL.Path += "/x"
		req.URL.RawPath += "/x"
		return "extending the path"
	case 3:
		req.URL.RawQuery += "&zz=1"
		return "adding a query parameter"
	case 4:
		a := req.Header.Get("Authorization")
		c := byte('0')
		if a[len(a)-1] == '0' {
			c = '1'
		}
		req.Header.Set("Authorization", a[:len(a)-1]+string(c))
		return "changing the signature"
	case 5:
		req.Method = http.MethodPut
		return "changing the method"
	case 6:
		req.Header.Set("X-Amz-Date", formatAmzDate(testNow.Add(time.Second)))
		return "changing X-Amz-Date"
	default:
		req.Host = "other.example"
		return "changing the host"
	}
}

func isAuthError(err error) bool {
	var ae *Error
	return errors.As(err, &ae)
}

// validFuzzHeaderValue reports whether v can travel as an HTTP/1.1 header value.
func validFuzzHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return len(v) < 1024
}

// FuzzChunkedBody feeds arbitrary aws-chunked framing to the decoder, unsigned and signed
// (with the AWS example's signer): it must never panic or loop, every failure must be an
// *Error or wrap errdefs.ErrInvalidArgument, and whatever it accepts must be the
// concatenation of the chunks it was given.
func FuzzChunkedBody(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), false)
	f.Add([]byte("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), false)
	f.Add([]byte("0\r\n\r\n"), false)
	f.Add([]byte("10000;chunk-signature=x\r\n"), true)
	f.Add(docSigned.body()[:300], true)
	f.Add(docSigned.body(), true)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		var signer *chunkSigner
		if signed {
			signer = docSigned.signer()
		}
		cb := newChunkedBody(io.NopCloser(bytes.NewReader(body)), signer, !signed, -1, make(http.Header))
		got, err := io.ReadAll(cb)
		if err != nil {
			if !isAuthError(err) && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error is neither an *Error nor ErrInvalidArgument: %v", err)
			}
			return
		}
		want, ok := referenceDecode(body)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("decoder accepted %q as %q; reference says %q (ok=%v)", body, got, want, ok)
		}
	})
}

// referenceDecode is a slow, obviously-correct aws-chunked decoder for the fuzz test: it
// strips the framing line by line, ignoring chunk extensions and everything after the final
// chunk.
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
