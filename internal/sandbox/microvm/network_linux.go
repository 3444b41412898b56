package microvm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// Egress. With a network provider (Config.Network) every sandbox's QEMU runs in the
// network namespace the provider prepared for the sandbox's policy, with restrict=off:
// QEMU's user-mode network turns each connection and datagram of the guest into a socket
// of QEMU's own, so the guest reaches exactly what that namespace reaches (the provider's
// rules are the policy), and the gateway's address 10.0.2.2 is that namespace's
// 127.0.0.1, where the provider serves the DNS forwarder (PUBLIC) or the allowlist proxy
// (ALLOWLIST), and where Listen opens its listeners. In the guest, berth-guest relays the
// agent's loopback ports of those services to the gateway (guestapi.Network.Forwards); for
// PUBLIC the agent runs in the guest's own network namespace, with its route out.

// dnsPort is the port of the DNS forwarder a PUBLIC namespace serves on its 127.0.0.1 (see
// package egress), which the guest's resolv.conf names as 127.0.0.1.
const dnsPort = 53

// prepareNetwork returns the network of sandbox id under policy p, or nil without a
// provider.
func (d *Driver) prepareNetwork(ctx context.Context, id string, p sandbox.NetworkPolicy) (sandbox.Network, error) {
	if d.cfg.Network == nil {
		return nil, nil
	}
	n, err := d.cfg.Network.Prepare(ctx, id, p)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return n, nil
}

// closeNetwork closes n, if any.
func closeNetwork(n sandbox.Network) {
	if n != nil {
		_ = n.Close()
	}
}

// guestNetwork is what berth-guest must set up for mode in network n (nil: none, the
// guest's default of a loopback-only agent): PUBLIC runs the agent in the guest's own
// namespace and relays DNS; every mode relays the loopback proxies n's environment
// names (ALLOWLIST's HTTP_PROXY and friends).
func guestNetwork(mode sandbox.NetworkMode, n sandbox.Network) *guestapi.Network {
	if n == nil {
		return nil
	}
	g := &guestapi.Network{Public: mode == sandbox.NetworkPublic}
	if g.Public {
		g.Forwards = append(g.Forwards, guestapi.Forward{Addr: loopbackAddr(dnsPort), UDP: true})
	}
	for _, port := range loopbackProxyPorts(n.Env()) {
		f := guestapi.Forward{Addr: loopbackAddr(port)}
		if !slices.ContainsFunc(g.Forwards, func(o guestapi.Forward) bool { return o.Addr == f.Addr }) {
			g.Forwards = append(g.Forwards, f)
		}
	}
	return g
}

// loopbackProxyPorts returns the ports of the proxy variables in env whose URL is on
// 127.0.0.1: services of the session's network namespace the agent must reach on its own
// loopback.
func loopbackProxyPorts(env []string) []int {
	var ports []int
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(strings.ToUpper(k), "_PROXY") || strings.EqualFold(k, "NO_PROXY") {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Hostname() != "127.0.0.1" {
			continue
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil || port <= 0 || port > 65535 || slices.Contains(ports, port) {
			continue
		}
		ports = append(ports, port)
	}
	return ports
}

func loopbackAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// SandboxesListen implements sandbox.ListenerDriver: sandboxes can be listened in when
// the driver has a network provider, whose namespace QEMU runs in.
func (d *Driver) SandboxesListen() bool { return d.cfg.Network != nil }

// Listen implements sandbox.Listener: it listens on addr (127.0.0.1:port) in the
// sandbox's network namespace, which the guest reaches at the user-mode network's
// gateway, and has berth-guest serve the same port on the agent's loopback and relay it
// there. The caller closes the listener, at the latest when it stops the sandbox.
func (s *vmSandbox) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	if s.network == nil {
		return nil, fmt.Errorf("microvm: listen in %s: the driver has no network provider", s.id)
	}
	if network != "tcp" && network != "tcp4" {
		return nil, fmt.Errorf("microvm: listen on %s %s: %w: only tcp", network, addr, errdefs.ErrInvalidArgument)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap.Addr() != netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
		return nil, fmt.Errorf("microvm: listen on %s: %w: only 127.0.0.1:port (the address the guest's gateway leads to)", addr, errdefs.ErrInvalidArgument)
	}
	ln, err := sandbox.ListenIn(s.network, "tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := s.forward(ctx, guestapi.Forward{Addr: loopbackAddr(port)}); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// dialRelay connects to the host end of the relay's port forward, which is in the
// sandbox's network namespace when it has one.
func (s *vmSandbox) dialRelay(ctx context.Context) (net.Conn, error) {
	if s.network != nil {
		return s.network.Dial(ctx, "tcp", s.relay)
	}
	var dialer net.Dialer
	return dialer.DialContext(ctx, "tcp", s.relay)
}

var (
	_ sandbox.Listener       = (*vmSandbox)(nil)
	_ sandbox.ListenerDriver = (*Driver)(nil)
)
