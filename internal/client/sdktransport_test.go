package client

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// lateReadBody is a request body that records reads made after the round trip returned:
// the AWS SDK closes its body then, so such reads are what bufferedBodies must prevent.
type lateReadBody struct {
	data     []byte
	returned *atomic.Bool
	late     atomic.Int32
	closed   atomic.Bool
}

func (b *lateReadBody) Read(p []byte) (int, error) {
	if b.returned.Load() {
		b.late.Add(1)
	}
	if len(b.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *lateReadBody) Close() error { b.closed.Store(true); return nil }

func TestBufferedBodies_SendsACopyReadBeforeTheRoundTrip(t *testing.T) {
	var gotBody, gotLen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(string(b))
		gotLen.Store(r.Header.Get("Content-Length"))
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	var returned atomic.Bool
	body := &lateReadBody{data: []byte(`{"command":"echo hi"}`), returned: &returned}
	req, err := http.NewRequest(http.MethodPost, srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // unknown, as for a stream
	resp, err := SDKHTTPClient().Do(req)
	returned.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(out) != "ok" {
		t.Fatalf("answer %q, %v", out, err)
	}
	if n := body.late.Load(); n != 0 {
		t.Errorf("the request body was read %d times after the round trip returned", n)
	}
	if !body.closed.Load() {
		t.Error("the original body was not closed")
	}
	if gotBody.Load() != `{"command":"echo hi"}` || gotLen.Load() != strconv.Itoa(len(`{"command":"echo hi"}`)) {
		t.Errorf("server got body %q with Content-Length %q", gotBody.Load(), gotLen.Load())
	}
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
func (failingBody) Close() error             { return nil }

func TestBufferedBodies_ReadErrorFailsTheRequest(t *testing.T) {
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1", failingBody{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := SDKHTTPClient().Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("a body that cannot be read was sent")
	}
}
