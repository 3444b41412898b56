// Package proxy streams one request into an agent inside a sandbox and the agent's answer
// back, unbuffered: request bodies of up to 100 MB flow through without being held in
// memory, and every chunk the agent writes (SSE events included) is flushed to the caller at
// once. It knows nothing about sessions or AgentCore; the data plane builds the outbound
// headers and maps errors.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/internal/errdefs"
)

// abortGrace is how long writes to the caller may still take once the session ended.
const abortGrace = 2 * time.Second

// Target is where and how to forward.
type Target struct {
	Transport http.RoundTripper // dials into the sandbox
	Port      int
	Path      string      // agent path, e.g. /invocations
	RawQuery  string      // query to send to the agent
	Header    http.Header // complete outbound request headers (the caller's are not copied)
	// ResponseHeaders lists the agent response headers passed back to the caller (canonical
	// names); Content-Type is always passed.
	ResponseHeaders []string
	// Abort, when closed, cancels the exchange (the session ended under it).
	Abort <-chan struct{}
	// Relay, if set, reports whether a non-2xx agent status reaches the caller as it is
	// (status, kept headers and body) instead of failing as a RuntimeClientError.
	Relay func(status int) bool
}

// Forward sends r's method and body to the agent and streams the response to w. A non-2xx
// answer from the agent (unless Relay passes it), or a failure before the response started,
// returns an error wrapping errdefs.ErrRuntimeClient and writes nothing; a failure after the
// response started aborts the connection (the caller sees a truncated stream, never a silent
// clean end).
//
// When Header asks for a protocol switch (Connection: Upgrade, Upgrade: websocket and the
// Sec-WebSocket-* handshake), the agent's 101 answer is passed back with its handshake
// headers, w is hijacked and the two connections are spliced both ways — bytes, frames and
// close codes untouched, each direction blocking on its reader — until either side closes
// or Abort; Forward returns then.
func Forward(w http.ResponseWriter, r *http.Request, t Target) (err error) {
	ctx, span := startCall(r.Context(), r, t) // trace.go: the CallAgent span
	defer func() { endCall(span, err) }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if t.Abort != nil {
		go func() {
			select {
			case <-t.Abort:
				cancel()
				// A write blocked on a client that stopped reading ignores the context; a
				// deadline ends it. The grace lets a client that does read receive what the
				// agent wrote before the session ended.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(abortGrace))
			case <-ctx.Done():
			}
		}()
	}
	var failure error
	keep := map[string]bool{"Content-Type": true}
	for _, h := range t.ResponseHeaders {
		keep[http.CanonicalHeaderKey(h)] = true
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &url.URL{Scheme: "http", Host: "agent:" + strconv.Itoa(t.Port), Path: t.Path, RawQuery: t.RawQuery}
			pr.Out.Host = "127.0.0.1:" + strconv.Itoa(t.Port)
			pr.Out.Header = t.Header.Clone()
			if pr.Out.Header == nil {
				pr.Out.Header = http.Header{}
			}
			injectCall(pr.Out)
		},
		Transport:     t.Transport,
		FlushInterval: -1, // flush every write: SSE and chunked answers stream as produced
		ModifyResponse: func(resp *http.Response) error {
			noteStatus(resp)
			if resp.StatusCode == http.StatusSwitchingProtocols && upgradeRequested(resp.Request) {
				keepUpgradeHeaders(resp.Header, keep)
				return nil // ReverseProxy splices the two connections, both ways
			}
			if (resp.StatusCode < 200 || resp.StatusCode > 299) && (t.Relay == nil || !t.Relay(resp.StatusCode)) {
				snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				_ = resp.Body.Close()
				return &agentStatusError{status: resp.StatusCode, body: string(snippet)}
			}
			for k := range resp.Header {
				if !keep[k] {
					delete(resp.Header, k)
				}
			}
			if resp.Header.Get("Content-Type") == "" {
				resp.Header.Set("Content-Type", "application/octet-stream")
			}
			return nil
		},
		ErrorHandler: func(_ http.ResponseWriter, _ *http.Request, err error) {
			failure = err
		},
	}
	rp.ServeHTTP(w, r.WithContext(ctx))
	if failure == nil {
		return nil
	}
	return classify(failure, t.Abort)
}

// upgradeRequested reports whether the outbound request asked for a protocol switch (a
// WebSocket handshake carries Connection: Upgrade and Upgrade: websocket).
func upgradeRequested(out *http.Request) bool {
	if out == nil || out.Header.Get("Upgrade") == "" {
		return false
	}
	for _, v := range out.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// keepUpgradeHeaders filters a 101 answer to the handshake headers (Upgrade, Connection,
// Sec-WebSocket-*) and the ones the caller asked for.
func keepUpgradeHeaders(h http.Header, keep map[string]bool) {
	for k := range h {
		if keep[k] || k == "Upgrade" || k == "Connection" || strings.HasPrefix(k, "Sec-Websocket-") {
			continue
		}
		delete(h, k)
	}
}

// agentStatusError is a non-2xx answer from the agent.
type agentStatusError struct {
	status int
	body   string
}

func (e *agentStatusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("the agent answered HTTP %d", e.status)
	}
	return fmt.Sprintf("the agent answered HTTP %d: %s", e.status, e.body)
}

// classify turns a transport failure into a RuntimeClientError that says what happened.
func classify(err error, abort <-chan struct{}) error {
	var se *agentStatusError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%w: %s", errdefs.ErrRuntimeClient, se.Error())
	case isClosed(abort):
		return fmt.Errorf("%w: the agent's session ended while handling the request", errdefs.ErrRuntimeClient)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("request cancelled: %w", err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: the agent refused the connection (is it listening on 0.0.0.0 on its port?)", errdefs.ErrRuntimeClient)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the agent closed the connection before answering (did it crash?)", errdefs.ErrRuntimeClient)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: the agent did not answer in time", errdefs.ErrRuntimeClient)
	}
	return fmt.Errorf("%w: forwarding to the agent failed: %w", errdefs.ErrRuntimeClient, err)
}

func isClosed(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
