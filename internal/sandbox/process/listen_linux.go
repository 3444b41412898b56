package process

import (
	"context"
	"fmt"
	"net"

	"berth.dev/berth/internal/sandbox"
)

// Listen opens a listener inside the sandbox's network namespace, on the agent's loopback
// (sandbox.Listener). The caller closes it, at the latest when it stops the sandbox.
func (s *processSandbox) Listen(_ context.Context, network, addr string) (net.Listener, error) {
	l, err := sandbox.ListenIn(s.ns, network, addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", s.id, err)
	}
	return l, nil
}

// SandboxesListen reports that every process sandbox implements sandbox.Listener.
func (*Driver) SandboxesListen() bool { return true }

var (
	_ sandbox.Listener       = (*processSandbox)(nil)
	_ sandbox.ListenerDriver = (*Driver)(nil)
)
