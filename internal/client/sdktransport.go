package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// bufferedBodies is the HTTP transport of SDKHTTPClient. It reads each request body into
// memory before sending it, and sends that copy.
//
// The SDK's HTTP handler closes the request body as soon as the response headers arrive.
// net/http may still be reading the body then (after writing the last byte it reads once
// more, to see the end), and the SDK's closed body answers that read with an error; the
// transport then closes the connection, under a response still streaming — an event stream
// of InvokeAgentRuntimeCommand, an SSE answer — which ends with "use of closed network
// connection". A body of our own, which nobody closes early, avoids that race.
type bufferedBodies struct{ next http.RoundTripper }

func (t bufferedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.next.RoundTrip(r)
	}
	raw, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	if r2.ContentLength < 0 && len(r.TransferEncoding) == 0 {
		r2.ContentLength = int64(len(raw))
	}
	return t.next.RoundTrip(r2)
}

// SDKHTTPClient is an HTTP client for AWS SDK for Go clients that talk to Berth (the CLI's,
// and any Go program's that loops on invocations over a fast link): the race described at
// bufferedBodies shows on loopback, where the answer comes back within microseconds, and
// seldom across a network. Request bodies are held in memory, so it is not for uploads
// larger than the memory to spare.
func SDKHTTPClient() *http.Client {
	return &http.Client{Transport: bufferedBodies{next: http.DefaultTransport.(*http.Transport).Clone()}}
}
