package sandbox

import (
	"context"
	"net"
)

// Network is the network namespace a sandbox runs in, prepared for its egress policy.
type Network interface {
	// Do runs fn on an OS thread inside the namespace; processes fn forks belong to it.
	Do(fn func() error) error
	// Dial connects to addr (an IP literal and port) from inside the namespace.
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
	// Path names the namespace for other programs (an OCI runtime's network namespace).
	Path() string
	// Env lists variables the agent needs for this policy (HTTPS_PROXY for an allowlist).
	Env() []string
	// Close releases the namespace and everything the policy set up for it.
	Close() error
}

// NetworkProvider prepares sandbox networks; drivers that isolate the network use one so
// that egress policy is implemented once.
type NetworkProvider interface {
	// Modes lists the egress modes it can enforce on this host.
	Modes() []NetworkMode
	// Prepare returns the network for sandbox id under policy p.
	Prepare(ctx context.Context, id string, p NetworkPolicy) (Network, error)
}

// EgressModes are the modes a driver with provider p (nil: none) can enforce: NetworkNone
// alone without a provider.
func EgressModes(p NetworkProvider) []NetworkMode {
	if p == nil {
		return []NetworkMode{NetworkNone}
	}
	return p.Modes()
}
