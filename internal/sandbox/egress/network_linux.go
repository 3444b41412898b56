package egress

import (
	"net/netip"
	"slices"
	"sync"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// Network is the network of one sandbox: the namespace to fork it into, and what else its
// mode needs (the veth pair and DNS forwarder of PUBLIC, the proxy of ALLOWLIST).
type Network struct {
	mode    sandbox.NetworkMode
	id      string
	ns      *netns.NS
	addr    netip.Addr
	env     []string
	owner   *Manager
	release func() error

	once sync.Once
	err  error
}

// NS is the network namespace to start the sandbox in. It stays valid until Close.
func (n *Network) NS() *netns.NS { return n.ns }

// Mode is the mode the Network was prepared for (NONE for an empty mode).
func (n *Network) Mode() sandbox.NetworkMode { return n.mode }

// Env is what the sandbox's environment needs for this mode, as KEY=VALUE: the proxy
// variables (HTTP_PROXY, HTTPS_PROXY, their lowercase forms, NO_PROXY and no_proxy) for
// ALLOWLIST, nothing otherwise. Append it after the runtime's own variables so it wins.
func (n *Network) Env() []string { return slices.Clone(n.env) }

// Addr is the sandbox's own address on eth0 for PUBLIC, and the zero Addr otherwise.
func (n *Network) Addr() netip.Addr { return n.addr }

// Close destroys the network: proxy or DNS forwarder, veth pair, namespace descriptor.
// Processes still inside lose their network. It is idempotent; the namespace is never
// handed out again.
func (n *Network) Close() error {
	n.once.Do(func() {
		n.err = n.release()
		if n.owner != nil {
			n.owner.untrack(n)
		}
	})
	return n.err
}
