package dataplane

import (
	"context"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/session"
)

// The steps every operation that talks to an agent shares: get the session (starting it on
// the endpoint's live version), route with the configuration of the version the session is
// pinned to, and carry a trace context (tracing.go).

// startOn returns the start function of a new session on version v.
func (a *API) startOn(rt catalog.Runtime, ep catalog.Endpoint, v catalog.Version) func(context.Context) (session.Target, error) {
	return func(ctx context.Context) (session.Target, error) { return a.target(ctx, rt, ep, v) }
}

// acquire leases the session sid at addr, starting it on version v if it is not live.
func (a *API) acquire(ctx context.Context, addr address, sid string, rt catalog.Runtime, ep catalog.Endpoint, v catalog.Version) (*session.Lease, error) {
	annotate(ctx, addr, sid) // tracing.go
	return a.sessions.Acquire(ctx, session.Key{RuntimeID: addr.RuntimeID, Endpoint: addr.Endpoint, SessionID: sid}, a.startOn(rt, ep, v))
}

// pinnedConfig returns the configuration of the version lease's session runs. A session
// stays on the version its endpoint served when it started, which may be older than v, the
// endpoint's live version now.
func (a *API) pinnedConfig(ctx context.Context, runtimeID string, lease *session.Lease, v catalog.Version) (catalog.RuntimeConfig, error) {
	if lease.Version() == v.Number {
		return v.Config, nil
	}
	res, err := a.svc.GetRuntime(ctx, runtimeID, lease.Version())
	if err != nil {
		return catalog.RuntimeConfig{}, err
	}
	return res.Version.Config, nil
}
