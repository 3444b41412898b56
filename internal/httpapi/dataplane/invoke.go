package dataplane

import (
	"context"
	"net/http"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/proxy"
	"berth.dev/berth/internal/session"
)

// invoke is InvokeAgentRuntime (AGENTCORE-WIRE.md §2.2).
func (a *API) invoke(w http.ResponseWriter, r *http.Request) error {
	addr, err := a.parseAddress(r)
	if err != nil {
		return err
	}
	sid, err := sessionID(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rt, ep, v, err := a.liveVersion(ctx, addr)
	if err != nil {
		return err
	}
	mcp, err := mcpRoute(r, v.Config, sid) // nil unless an MCP runtime (mcp.go)
	if err != nil {
		return err
	}
	if mcp != nil {
		sid = mcp.key
	}
	var allow []string
	if rh := v.Config.RequestHeaderConfiguration; rh != nil {
		allow = rh.RequestHeaderAllowlist
	}
	if err := validateHeaders(r, allow); err != nil {
		return err
	}
	key := session.Key{RuntimeID: addr.RuntimeID, Endpoint: addr.Endpoint, SessionID: sid}
	start := func(ctx context.Context) (session.Target, error) { return a.target(ctx, rt, ep, v) }
	if mcp != nil {
		if start, err = a.mcpStarter(ctx, key, mcp, start); err != nil {
			return err
		}
	}
	lease, err := a.sessions.Acquire(ctx, key, start)
	if err != nil {
		return err
	}
	defer lease.Release()
	// The session is pinned to the version it started with, which may be older than the
	// endpoint's live version now; route with that version's configuration.
	cfg := v.Config
	if lease.Version() != v.Number {
		res, err := a.svc.GetRuntime(ctx, addr.RuntimeID, lease.Version())
		if err != nil {
			return err
		}
		cfg = res.Version.Config
	}
	_, port, path := catalog.EffectiveProtocol(cfg)
	traceparent := r.Header.Get("Traceparent")
	if traceparent == "" {
		traceparent = newTraceparent()
	}
	echoHeaders(w, r, sid, traceparent)
	header := agentHeaders(r, sid, httpapi.RequestIDFrom(ctx), traceparent, cfg)
	var relay func(int) bool
	if mcp != nil {
		w, relay = mcp.adapt(w, r, header)
	}
	return proxy.Forward(w, r, proxy.Target{
		Transport:       lease.Transport(),
		Port:            port,
		Path:            path,
		Header:          header,
		ResponseHeaders: []string{"Mcp-Session-Id", "Mcp-Protocol-Version"},
		Abort:           lease.Done(),
		Relay:           relay,
	})
}
