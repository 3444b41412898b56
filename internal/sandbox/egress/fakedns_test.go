package egress_test

import (
	"net/netip"
	"testing"

	"berth.dev/berth/internal/sandbox/sandboxtest"
)

// fakeDNSAnswer is the A record the fake resolver gives every name.
var fakeDNSAnswer = netip.MustParseAddr("198.51.100.10")

// newFakeDNS starts an upstream resolver on the host's loopback, UDP and TCP on one port,
// that answers every A question with fakeDNSAnswer and counts queries.
func newFakeDNS(t testing.TB) *sandboxtest.DNSServer {
	t.Helper()
	return sandboxtest.StartDNS(t, nil, fakeDNSAnswer)
}

// dnsAnswer answers query q as the fake resolver does.
func dnsAnswer(q []byte) ([]byte, error) { return sandboxtest.DNSAnswer(q, nil, fakeDNSAnswer) }
