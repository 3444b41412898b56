package sandbox

import (
	"context"
	"fmt"
	"net"

	"berth.dev/berth/internal/errdefs"
)

// Listener is implemented by sandboxes in which Berth can open a listening socket that the
// agent reaches on its own loopback: the drivers whose agent runs in a Linux network
// namespace Berth holds (process, linuxns, and gvisor, whose sentry uses the namespace's
// network stack with --network=host), and microvm with a network provider (QEMU runs in
// the namespace, and berth-guest relays the port from the agent's loopback to it). Berth
// serves agent-facing services this way, such as the OTLP endpoint of
// internal/telemetry/agentotlp on 127.0.0.1:4318.
//
// The listener belongs to the sandbox's network namespace and keeps it alive while open:
// the caller must close it when it stops the sandbox, at the latest.
type Listener interface {
	// Listen opens a listener on addr ("127.0.0.1:4318": the host must be an IP literal)
	// inside the sandbox's network namespace; accepting works from any goroutine.
	Listen(ctx context.Context, network, addr string) (net.Listener, error)
}

// ListenerDriver is implemented by drivers every Sandbox of which implements Listener, so a
// caller can tell before Start (when it still chooses the agent's environment) whether it
// will be able to listen inside the sandbox.
type ListenerDriver interface {
	// SandboxesListen reports whether the sandboxes this driver starts implement Listener.
	SandboxesListen() bool
}

// ListenIn opens a listener on addr inside the network namespace that ns enters (a
// Network, or a netns.NS): the socket is created on a thread inside it, and keeps it;
// accepting works from any goroutine. The host of addr must be an IP literal (or empty),
// since name resolution would run outside.
func ListenIn(ns interface{ Do(func() error) error }, network, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s in network namespace: %w: %w", addr, errdefs.ErrInvalidArgument, err)
	}
	if host != "" && net.ParseIP(host) == nil {
		return nil, fmt.Errorf("listen on %s in network namespace: %w: host must be an IP literal", addr, errdefs.ErrInvalidArgument)
	}
	var l net.Listener
	err = ns.Do(func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		if l != nil {
			_ = l.Close()
		}
		return nil, fmt.Errorf("listen on %s in network namespace: %w", addr, err)
	}
	return l, nil
}
