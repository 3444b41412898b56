package dataplane

import (
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
	noteAddress(w, addr)
	sid, err := sessionID(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rt, ep, v, err := a.tracedLiveVersion(ctx, addr)
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
	if err := validateHeaders(r, forwardable(v.Config)); err != nil {
		return err
	}
	key := session.Key{RuntimeID: addr.RuntimeID, Endpoint: addr.Endpoint, SessionID: sid}
	annotate(ctx, addr, sid) // tracing.go
	start := a.startOn(rt, ep, v)
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
	cfg, err := a.pinnedConfig(ctx, addr.RuntimeID, lease, v)
	if err != nil {
		return err
	}
	_, port, path := catalog.EffectiveProtocol(cfg)
	traceparent := traceparentOf(ctx, r.Header)
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
