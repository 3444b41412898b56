package objectstore

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doForCode sends req and returns the S3 error code of the answer ("" for a 2xx).
func doForCode(t *testing.T, ts *testServer, req *http.Request) string {
	t.Helper()
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode/100 == 2 {
		return ""
	}
	var doc errorDocument
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s %s: status %d with a non-XML body %q", req.Method, req.URL, resp.StatusCode, body)
	}
	return doc.Code
}

// headerOf returns the header holding name, value, name, value, ...
func headerOf(kv ...string) http.Header {
	out := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// rawResponse is one answer of the handler, reduced to what the tests compare.
type rawResponse struct {
	Status      int
	ContentType string
	Error       errorDocument
}

func rawDo(t *testing.T, ts *testServer, method, path string, header http.Header, body string) (rawResponse, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if resp.StatusCode >= 300 && len(b) > 0 {
		if !bytes.HasPrefix(b, []byte("<?xml")) {
			t.Errorf("%s %s: error body without an XML declaration: %q", method, path, b)
		}
		if err := xml.Unmarshal(b, &out.Error); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
		if out.Error.RequestID == "" || out.Error.RequestID != resp.Header.Get("X-Amz-Request-Id") {
			t.Errorf("RequestId %q does not match the x-amz-request-id header %q", out.Error.RequestID, resp.Header.Get("X-Amz-Request-Id"))
		}
		out.Error.RequestID = ""
		out.Error.XMLName = xml.Name{}
	}
	return out, resp.Header
}

// TestHandler_ServeHTTP_Errors checks S3's error shape and statuses for requests the SDK
// would refuse to build. The allow authenticator lets them through. (aws-chunked bodies,
// which only the SigV4 verifier decodes, are in TestHandler_PutObject_StreamingErrors.)
func TestHandler_ServeHTTP_Errors(t *testing.T) {
	ts := newTestServer(t, serverOptions{authn: "allow", opts: Options{MaxObjectSize: 1000}})
	if err := ts.store.CreateBucket(t.Context(), "errs"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.PutObject(t.Context(), "errs", "present", strings.NewReader("x"), ""); err != nil {
		t.Fatal(err)
	}
	xmlError := func(status int, code, message, resource string) rawResponse {
		return rawResponse{Status: status, ContentType: "application/xml",
			Error: errorDocument{Code: code, Message: message, Resource: resource}}
	}
	h := headerOf
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		want   rawResponse
	}{
		{"bucket name too short", "PUT", "/s3/ab", nil, "",
			xmlError(400, "InvalidBucketName", `The specified bucket is not valid: "ab"`, "/ab")},
		{"bucket name upper case", "PUT", "/s3/Bucket", nil, "",
			xmlError(400, "InvalidBucketName", `The specified bucket is not valid: "Bucket"`, "/Bucket")},
		{"bucket name like an IP", "PUT", "/s3/192.168.1.1", nil, "",
			xmlError(400, "InvalidBucketName", `The specified bucket is not valid: "192.168.1.1"`, "/192.168.1.1")},
		{"existing bucket", "PUT", "/s3/errs", nil, "",
			xmlError(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", "/errs")},
		{"malformed bucket configuration", "PUT", "/s3/newbucket", nil, "<CreateBucketConfiguration>",
			xmlError(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.", "/newbucket")},
		{"missing key", "GET", "/s3/errs/nope", nil, "",
			xmlError(404, "NoSuchKey", "The specified key does not exist.", "/errs/nope")},
		{"missing bucket", "GET", "/s3/nobucket/k", nil, "",
			xmlError(404, "NoSuchBucket", "The specified bucket does not exist: nobucket", "/nobucket/k")},
		{"HEAD has no body", "HEAD", "/s3/errs/nope", nil, "", rawResponse{Status: 404}},
		{"unknown subresource", "PUT", "/s3/errs?acl", nil, "",
			xmlError(501, "NotImplemented", `The "acl" subresource or parameter is not implemented by Berth's object store.`, "/errs")},
		{"DeleteObjects", "POST", "/s3/errs?delete", nil, "",
			xmlError(501, "NotImplemented", "DeleteObjects is not implemented by Berth's object store.", "/errs")},
		{"delete one version", "DELETE", "/s3/errs/present?versionId=x", nil, "",
			xmlError(501, "NotImplemented", "Deleting one object version is not implemented by Berth's object store.", "/errs/present")},
		{"method on the service", "DELETE", "/s3/", nil, "",
			xmlError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", "/")},
		{"list-type 3", "GET", "/s3/errs?list-type=3", nil, "",
			xmlError(400, "InvalidArgument", `Unsupported list-type "3".`, "/errs")},
		{"bad max-keys", "GET", "/s3/errs?list-type=2&max-keys=-1", nil, "",
			xmlError(400, "InvalidArgument", "Provided max-keys not an integer or within integer range.", "/errs")},
		{"bad encoding type", "GET", "/s3/errs?list-type=2&encoding-type=base64", nil, "",
			xmlError(400, "InvalidArgument", "Invalid Encoding Method specified in Request.", "/errs")},
		{"Content-MD5 mismatch", "PUT", "/s3/errs/md5", h("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="), "not empty",
			xmlError(400, "BadDigest", "The Content-MD5 you specified did not match the calculated checksum.", "/errs/md5")},
		{"Content-MD5 malformed", "PUT", "/s3/errs/md5", h("Content-MD5", "zzz"), "x",
			xmlError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.", "/errs/md5")},
		{"CRC32 mismatch", "PUT", "/s3/errs/crc", h("X-Amz-Checksum-Crc32", "AAAAAA=="), "hello",
			xmlError(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.", "/errs/crc")},
		{"two checksums", "PUT", "/s3/errs/crc", h("X-Amz-Checksum-Crc32", "NhCmhg==", "X-Amz-Checksum-Sha1", "x"), "hello",
			xmlError(400, "InvalidRequest", "Expecting a single x-amz-checksum- header.", "/errs/crc")},
		{"payload hash mismatch", "PUT", "/s3/errs/sha",
			h("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "not empty",
			xmlError(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", "/errs/sha")},
		{"bad payload hash", "PUT", "/s3/errs/sha", h("X-Amz-Content-Sha256", "nonsense"), "x",
			xmlError(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-…, or a valid sha256 value.", "/errs/sha")},
		{"SigV4a streaming", "PUT", "/s3/errs/sha", h("X-Amz-Content-Sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), "x",
			xmlError(501, "NotImplemented", "The payload signing mode STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD is not implemented by Berth's object store.", "/errs/sha")},
		{"too large", "PUT", "/s3/errs/big", nil, strings.Repeat("x", 1001),
			xmlError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size of 1000 bytes.", "/errs/big")},
		{"metadata too large", "PUT", "/s3/errs/meta", h("X-Amz-Meta-Big", strings.Repeat("m", 2100)), "x",
			xmlError(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", "/errs/meta")},
		{"key too long", "PUT", "/s3/errs/" + strings.Repeat("k", 1025), nil, "x",
			xmlError(400, "KeyTooLongError", "Your key is too long.", "/errs/"+strings.Repeat("k", 1025))},
		{"not under the prefix", "GET", "/s3x/errs", nil, "",
			xmlError(400, "InvalidArgument", "The path is not under /s3.", "/s3x/errs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := rawDo(t, ts, tt.method, tt.path, tt.header, tt.body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// None of the refused uploads left an object, a blob or a temporary file behind.
	objs, err := ts.store.list(t.Context(), "errs", listQuery{maxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.objects) != 1 || objs.objects[0].Key != "present" {
		t.Errorf("objects after refused uploads: %+v", objs.objects)
	}
	if files := filesUnder(t, ts.blobDir); len(files) != 1 {
		t.Errorf("files after refused uploads: %v, want only the blob of \"present\"", files)
	}
}

// TestHandler_ServeHTTP_Unauthenticated checks that a refused request reaches no storage.
func TestHandler_ServeHTTP_Unauthenticated(t *testing.T) {
	ts := newTestServer(t, serverOptions{authn: "deny"})
	ts.store.opts.MapAuthError = nil // the default answer: 403 AccessDenied
	for _, method := range []string{"PUT", "GET", "DELETE"} {
		got, _ := rawDo(t, ts, method, "/s3/newbucket", nil, "")
		want := rawResponse{Status: 403, ContentType: "application/xml",
			Error: errorDocument{Code: "AccessDenied", Message: "Access Denied", Resource: "/newbucket"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", method, diff)
		}
	}
	if b, err := ts.store.ListBuckets(t.Context()); err != nil || len(b) != 0 {
		t.Errorf("buckets after refused requests: %v, %v", b, err)
	}

	// With the real SigV4 verifier: an unsigned request is AccessDenied, through MapAuthError.
	ts = newTestServer(t, serverOptions{})
	got, _ := rawDo(t, ts, "PUT", "/s3/newbucket", nil, "")
	if got.Status != 403 || got.Error.Code != "AccessDenied" {
		t.Errorf("unsigned request: %+v, want 403 AccessDenied", got)
	}
	if b, err := ts.store.ListBuckets(t.Context()); err != nil || len(b) != 0 {
		t.Errorf("buckets after an unsigned request: %v, %v", b, err)
	}
}

// TestHandler_PutObject_ClientGoneMidBody cuts the connection halfway through a signed
// PutObject body (plain, and aws-chunked decoded by the SigV4 verifier): nothing may be
// stored and no temporary file may remain.
func TestHandler_PutObject_ClientGoneMidBody(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "aws-chunked"}[chunked], func(t *testing.T) {
			ts := newTestServer(t, serverOptions{})
			if err := ts.store.CreateBucket(t.Context(), "cut"); err != nil {
				t.Fatal(err)
			}
			// wire is the signed request as a client sends it, and where its body starts.
			wire := func(key string) ([]byte, int) {
				body := strings.Repeat("z", 1048576)
				if chunked {
					body = "ffde0\r\n" + body[:0xffde0] + "\r\n0\r\n\r\n"
				}
				req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, ts.srv.URL+"/s3/cut/"+key, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if chunked {
					req.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
					req.Header.Set("Content-Encoding", "aws-chunked")
					req.Header.Set("X-Amz-Decoded-Content-Length", "1048032")
				}
				signV4(t, req)
				var b bytes.Buffer
				if err := req.Write(&b); err != nil {
					t.Fatal(err)
				}
				return b.Bytes(), bytes.Index(b.Bytes(), []byte("\r\n\r\n")) + 4
			}
			send := func(b []byte) net.Conn {
				conn, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(b); err != nil {
					t.Fatal(err)
				}
				return conn
			}

			// The whole request is accepted, so the cut one below is refused for being cut.
			whole, _ := wire("whole")
			conn := send(whole)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			_ = conn.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the complete upload: status %d, want 200", resp.StatusCode)
			}

			half, head := wire("half")
			if err := send(half[:head+300_000]).Close(); err != nil {
				t.Fatal(err)
			}
			ts.srv.Close() // waits for the handler to finish
			if _, _, err := ts.store.OpenObject(t.Context(), "cut", "half", ""); err == nil {
				t.Error("a cut upload was stored")
			}
			if files := filesUnder(t, ts.blobDir); len(files) != 1 {
				t.Errorf("files left by a cut upload: %v, want only the blob of the complete one", files)
			}
		})
	}
}
