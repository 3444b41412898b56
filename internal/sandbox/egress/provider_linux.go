package egress

import (
	"context"
	"slices"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// Provider adapts a Manager to sandbox.NetworkProvider, the seam the drivers use.
func (m *Manager) Provider() sandbox.NetworkProvider { return provider{m} }

type provider struct{ m *Manager }

// Modes lists the modes that work on this host now, NONE first.
func (p provider) Modes() []sandbox.NetworkMode {
	var out []sandbox.NetworkMode
	for _, mode := range []sandbox.NetworkMode{sandbox.NetworkNone, sandbox.NetworkPublic, sandbox.NetworkAllowlist} {
		if p.m.Available(mode) == nil {
			out = append(out, mode)
		}
	}
	if !slices.Contains(out, sandbox.NetworkNone) {
		out = append([]sandbox.NetworkMode{sandbox.NetworkNone}, out...)
	}
	return out
}

func (p provider) Prepare(ctx context.Context, id string, pol sandbox.NetworkPolicy) (sandbox.Network, error) {
	n, err := p.m.Prepare(ctx, id, pol)
	if err != nil {
		return nil, err
	}
	return providedNetwork{NS: n.NS(), n: n}, nil
}

// providedNetwork is a Network whose namespace methods are its NS's and whose Env and Close
// are the egress Network's (Close releases the policy's resources and the namespace).
type providedNetwork struct {
	*netns.NS
	n *Network
}

func (p providedNetwork) Env() []string { return p.n.Env() }
func (p providedNetwork) Close() error  { return p.n.Close() }

var _ sandbox.Network = providedNetwork{}
