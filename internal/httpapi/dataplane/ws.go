package dataplane

import (
	"bufio"
	"fmt"
	"net"
	"net/http"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/proxy"
)

// wsPath is where an agent serves its WebSocket, on its HTTP port (AGENTCORE-WIRE.md §4.4).
const wsPath = "/ws"

// webSocket is InvokeAgentRuntimeWithWebSocketStream, GET /runtimes/{agentRuntimeArn}/ws
// (AGENTCORE-WIRE.md §2.6): the caller's WebSocket upgrade, authenticated by SigV4 headers
// or a presigned URL, is routed by session id to the same sandbox /invocations reaches and
// spliced to the agent's ws://…/ws, frames and close codes passing untouched both ways. The
// session stays active while the socket is open (the lease is held until it closes), and
// the socket is closed when the session ends. Errors before the upgrade are ordinary AWS
// error responses.
func (a *API) webSocket(w http.ResponseWriter, r *http.Request) error {
	addr, err := a.parseAddress(r)
	if err != nil {
		return err
	}
	noteAddress(w, addr)
	if err := checkHandshake(r.Header); err != nil {
		return err
	}
	ctx := r.Context()
	rt, ep, v, err := a.tracedLiveVersion(ctx, addr)
	if err != nil {
		return err
	}
	if err := wsProtocol(rt.ID, v.Config); err != nil {
		return err
	}
	allow := forwardable(v.Config)
	// A presigned URL carries the session id and custom headers as query parameters; from
	// here on they are headers, as if the caller had sent them so.
	in := r.WithContext(ctx)
	in.Header = wsInboundHeader(r, allow)
	sid, err := sessionID(in, true)
	if err != nil {
		return err
	}
	if err := validateHeaders(in, allow); err != nil {
		return err
	}
	lease, err := a.acquire(ctx, addr, sid, rt, ep, v)
	if err != nil {
		return err
	}
	// Held until the socket closes: an open WebSocket keeps its session active.
	defer lease.Release()
	cfg, err := a.pinnedConfig(ctx, addr.RuntimeID, lease, v)
	if err != nil {
		return err
	}
	if err := wsProtocol(rt.ID, cfg); err != nil {
		return err
	}
	_, port, _ := catalog.EffectiveProtocol(cfg)
	traceparent := traceparentOf(ctx, in.Header)
	echoHeaders(w, in, sid, traceparent)
	hw := &hijackWatch{ResponseWriter: w}
	err = proxy.Forward(hw, r, proxy.Target{
		Transport: lease.Transport(),
		Port:      port,
		Path:      wsPath, // the caller's query (auth, session id, headers) is not passed on
		Header:    wsAgentHeaders(in, sid, httpapi.RequestIDFrom(ctx), traceparent, cfg),
		Abort:     lease.Done(),
	})
	if hw.hijacked {
		// The upgrade happened: the connection belongs to the splice, which has ended; there
		// is no HTTP response left to write an error into.
		if err != nil {
			a.log.DebugContext(ctx, "websocket ended with an error", "runtime", addr.RuntimeID, "session", sid, "err", err)
		}
		return nil
	}
	return err
}

// wsProtocol refuses /ws for runtimes whose protocol has no WebSocket (MCP and A2A).
func wsProtocol(runtimeID string, cfg catalog.RuntimeConfig) error {
	switch protocol, _, _ := catalog.EffectiveProtocol(cfg); protocol {
	case "HTTP", "AGUI":
		return nil
	default:
		return &errdefs.ValidationError{Reason: errdefs.ReasonFieldValidationFailed, Msg: fmt.Sprintf(
			"WebSocket streaming (/ws) is for HTTP and AGUI runtimes; agent runtime %s uses the %s protocol", runtimeID, protocol)}
	}
}

// hijackWatch notes that the proxy took the connection over for a protocol switch.
type hijackWatch struct {
	http.ResponseWriter
	hijacked bool
}

// Hijack takes over the connection through the wrapped writer (via http.ResponseController).
func (h *hijackWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (h *hijackWatch) Unwrap() http.ResponseWriter { return h.ResponseWriter }

var _ http.Hijacker = (*hijackWatch)(nil)
