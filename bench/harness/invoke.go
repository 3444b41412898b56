package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"
)

// SessionHeader carries the runtime session id of an invocation.
const SessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

// NewSessionID returns a fresh runtime session id ("bench-" and 32 hex digits; the wire
// requires 33 to 256 characters).
func NewSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "bench-" + hex.EncodeToString(b[:])
}

// InvokeURL is the InvokeAgentRuntime URL of arn's DEFAULT endpoint.
func (e *Env) InvokeURL(arn string) string {
	return e.BaseURL + "/runtimes/" + url.PathEscape(arn) + "/invocations?qualifier=DEFAULT"
}

// NewInvokeRequest builds an unsigned InvokeAgentRuntime request for session sessionID
// (send it with Client, or Sign it and send it with Raw).
func (e *Env) NewInvokeRequest(ctx context.Context, arn, sessionID, contentType string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.InvokeURL(arn), body)
	if err != nil {
		return nil, fmt.Errorf("invoke request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(SessionHeader, sessionID)
	return req, nil
}

// Timing is what one timed invocation measured.
type Timing struct {
	// TTFB runs from just before the request is written (after signing) until the first
	// byte of the response arrives.
	TTFB time.Duration
	// Total runs from the same start until the whole body has been read.
	Total time.Duration
	// Bytes is the length of the response body.
	Bytes int64
	// Body is the response body when it is at most 64 KiB, else nil.
	Body []byte
}

// Invoke sends body (of contentType) to arn's session sessionID and reads the whole answer.
// It signs first and then starts the clock, so Timing holds no signing time. A non-2xx
// answer is an error.
func (e *Env) Invoke(ctx context.Context, arn, sessionID, contentType string, body []byte) (Timing, error) {
	req, err := e.NewInvokeRequest(ctx, arn, sessionID, contentType, bytes.NewReader(body))
	if err != nil {
		return Timing{}, err
	}
	return e.Timed(req)
}

// Timed signs req, sends it with Raw, and times the first byte and the whole body.
func (e *Env) Timed(req *http.Request) (Timing, error) {
	if err := e.Sign(req); err != nil {
		return Timing{}, err
	}
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	start := time.Now()
	resp, err := e.Raw.Do(req)
	if err != nil {
		return Timing{}, fmt.Errorf("invoke %s: %w", req.URL.Path, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&limitedBuffer{b: &buf, max: 64 << 10}, resp.Body)
	end := time.Now()
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Timing{}, fmt.Errorf("invoke %s: read answer: %w", req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return Timing{}, fmt.Errorf("invoke %s: status %d: %.300s", req.URL.Path, resp.StatusCode, buf.String())
	}
	t := Timing{TTFB: first.Sub(start), Total: end.Sub(start), Bytes: n}
	if n <= 64<<10 {
		t.Body = buf.Bytes()
	}
	return t, nil
}

// limitedBuffer keeps the first max bytes written and counts the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// StopSession ends arn's session sessionID (StopRuntimeSession) and waits for the answer.
func (e *Env) StopSession(ctx context.Context, arn, sessionID string) error {
	u := e.BaseURL + "/runtimes/" + url.PathEscape(arn) + "/stopruntimesession?qualifier=DEFAULT"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte("{}")))
	if err != nil {
		return fmt.Errorf("stop session: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SessionHeader, sessionID)
	resp, err := e.Client.Do(req)
	if err != nil {
		return fmt.Errorf("stop session %s: %w", sessionID, err)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err := resp.Body.Close(); err != nil {
		return fmt.Errorf("stop session %s: %w", sessionID, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stop session %s: status %d: %s", sessionID, resp.StatusCode, raw)
	}
	return nil
}
