package dataplane

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// instrument records each call of an agent-facing operation in the metrics (Options.Metrics):
// the call, its latency and outcome by runtime and endpoint, and the body bytes proxied. The
// runtime and endpoint are the address the handler parsed and passed on with noteAddress;
// a call whose address did not parse has empty ones.
func (a *API) instrument(operation string, next http.Handler) http.Handler {
	mt := a.opts.Metrics
	if mt == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &countingWriter{ResponseWriter: w}
		var body *countingBody
		if r.Body != nil {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		next.ServeHTTP(cw, r)
		status := cw.status
		if status == 0 {
			status = http.StatusOK
		}
		ctx := r.Context()
		mt.Call(ctx, operation, cw.addr.RuntimeID, cw.addr.Endpoint, status, time.Since(start))
		if status < 400 {
			if body != nil {
				mt.ProxyBytes(ctx, "request", body.n.Load())
			}
			mt.ProxyBytes(ctx, "response", cw.n)
		}
	})
}

// countingWriter notes the status and counts the body bytes written; addr is the request's
// address, from noteAddress.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	addr   address
}

// noteAddress passes the address an instrumented handler parsed on to instrument, for the
// metrics' labels, so that it is not parsed twice. w is the handler's own writer; when
// metrics are off it is not a countingWriter and this does nothing.
func noteAddress(w http.ResponseWriter, addr address) {
	if cw, ok := w.(*countingWriter); ok {
		cw.addr = addr
	}
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, deadlines and Hijack of the real writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// countingBody counts the request body bytes read. The proxy's transport may still be
// reading it after the handler has returned (an agent that answers before reading the whole
// body), hence the atomic count.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
