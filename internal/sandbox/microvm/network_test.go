//go:build linux

package microvm

import (
	"context"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// envNetwork is a sandbox.Network with a fixed environment; only Env is used.
type envNetwork struct{ env []string }

func (envNetwork) Do(func() error) error { return nil }
func (envNetwork) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, net.ErrClosed
}
func (envNetwork) Path() string    { return "" }
func (n envNetwork) Env() []string { return n.env }
func (envNetwork) Close() error    { return nil }

// The guest relays DNS for PUBLIC and the loopback proxy the network's environment names,
// once; without a network it gets nothing to do.
func TestGuestNetwork(t *testing.T) {
	proxyEnv := []string{
		"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128",
		"http_proxy=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128/",
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=127.0.0.1:9",
		"ALL_PROXY=http://proxy.example:8080", // not on the namespace's loopback
	}
	for name, tc := range map[string]struct {
		mode sandbox.NetworkMode
		n    sandbox.Network
		want *guestapi.Network
	}{
		"no provider": {sandbox.NetworkNone, nil, nil},
		"none":        {sandbox.NetworkNone, envNetwork{}, &guestapi.Network{}},
		"public": {sandbox.NetworkPublic, envNetwork{}, &guestapi.Network{
			Public: true, Forwards: []guestapi.Forward{{Addr: "127.0.0.1:53", UDP: true}},
		}},
		"allowlist": {sandbox.NetworkAllowlist, envNetwork{proxyEnv}, &guestapi.Network{
			Forwards: []guestapi.Forward{{Addr: "127.0.0.1:3128"}},
		}},
	} {
		if diff := cmp.Diff(tc.want, guestNetwork(tc.mode, tc.n)); diff != "" {
			t.Errorf("%s: guestNetwork (-want +got):\n%s", name, diff)
		}
	}
}
