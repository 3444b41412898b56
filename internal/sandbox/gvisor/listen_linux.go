package gvisor

import (
	"context"
	"fmt"
	"net"

	"berth.dev/berth/internal/sandbox"
)

// Listen opens a listener inside the sandbox's network namespace (sandbox.Listener). The
// sentry runs with --network=host, so the agent's 127.0.0.1 is that namespace's loopback
// and the agent reaches the listener there. The caller closes it, at the latest when it
// stops the sandbox.
func (s *gvSandbox) Listen(_ context.Context, network, addr string) (net.Listener, error) {
	l, err := sandbox.ListenIn(s.t.net, network, addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", s.id, err)
	}
	return l, nil
}

// SandboxesListen reports that every gVisor sandbox implements sandbox.Listener.
func (*Driver) SandboxesListen() bool { return true }

var (
	_ sandbox.Listener       = (*gvSandbox)(nil)
	_ sandbox.ListenerDriver = (*Driver)(nil)
)
