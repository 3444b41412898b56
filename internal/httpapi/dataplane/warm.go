package dataplane

import (
	"context"
	"fmt"
)

// WarmEndpoint fills the warm pool of a runtime's endpoint with sandboxes of the version
// it serves now, so the first session after a deploy is a pool hit too. The server calls
// it when the control service reports an endpoint going live on a new version.
func (a *API) WarmEndpoint(ctx context.Context, runtimeID, endpoint string) error {
	rt, ep, v, err := a.readLiveVersion(ctx, address{RuntimeID: runtimeID, Endpoint: endpoint})
	if err != nil {
		return fmt.Errorf("warm %s endpoint %s: %w", runtimeID, endpoint, err)
	}
	tgt, err := a.target(ctx, rt, ep, v)
	if err != nil {
		return fmt.Errorf("warm %s endpoint %s: %w", runtimeID, endpoint, err)
	}
	return a.sessions.Warm(endpoint, tgt)
}

// RetireEndpoint empties the warm pool of a deleted endpoint and waits, up to ctx, for its
// sandboxes to stop.
func (a *API) RetireEndpoint(ctx context.Context, runtimeID, endpoint string) {
	a.sessions.Retire(ctx, runtimeID, endpoint)
}
