package sandboxtest

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/internal/sandbox"
)

// modes returns the egress modes to try: NONE, and PUBLIC when the driver offers it.
func (h *harness) modes() []sandbox.NetworkMode {
	modes := []sandbox.NetworkMode{sandbox.NetworkNone}
	if slices.Contains(h.d.Capabilities().Egress, sandbox.NetworkPublic) {
		modes = append(modes, sandbox.NetworkPublic)
	}
	return modes
}

// startMode starts a marked sandbox of Options.Spec with the egress mode set.
func (h *harness) startMode(mode sandbox.NetworkMode) *marked {
	h.t.Helper()
	spec := h.spec()
	spec.Network = sandbox.NetworkPolicy{Mode: mode}
	return h.startMarked(spec)
}

// Another session's agent port is out of reach: 127.0.0.1:8080 in B is B itself, and A's
// addresses, whatever their form, do not lead to A.
func testOtherSessionPorts(h *harness) {
	a, b := h.startMarked(sandbox.Spec{}), h.startMarked(sandbox.Spec{})
	aid, bid := h.id(a), h.id(b)
	port := strconv.Itoa(AgentPort)
	own := net.JoinHostPort("127.0.0.1", port)
	targets := []string{own, "127.0.0.2:" + port, "0.0.0.0:" + port, "[::1]:" + port}
	for _, cidrs := range h.addrs(a) {
		for _, c := range cidrs {
			if p, err := netip.ParsePrefix(c); err == nil && !p.Addr().IsLoopback() {
				targets = append(targets, netip.AddrPortFrom(p.Addr(), AgentPort).String())
			}
		}
	}
	for _, r := range h.connect(b, targets, idRequest()) {
		switch {
		case strings.Contains(r.Received, aid.Nonce):
			h.t.Errorf("sandbox B reached sandbox A's agent at %s", r.Addr)
		case r.Addr == own && !strings.Contains(r.Received, bid.Nonce):
			h.t.Errorf("sandbox B's %s did not lead to its own agent (%s, received %q): the connect probe does not work here", own, r.attempt, r.Received)
		}
	}
}

// The host's services are out of reach: listeners on its loopback (IPv4, IPv6) and on its
// primary addresses, in every egress mode.
func testHostServices(h *harness) {
	services := []*service{listenHost(h.t, "127.0.0.1:0", "host loopback")}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		services = append(services, serve(h.t, ln, "host IPv6 loopback"))
	}
	for _, a := range primaryAddrs(h.t) {
		services = append(services, listenHost(h.t, netip.AddrPortFrom(a, 0).String(), "host address"))
	}
	var addrs []string
	for _, s := range services {
		s.checkFromHost(h.t)
		addrs = append(addrs, s.Addr())
	}
	for _, mode := range h.modes() {
		s := h.startMode(mode)
		for _, r := range h.connect(s, addrs, "") {
			if r.OK {
				h.t.Errorf("a sandbox with egress %s reached the host's service at %s (received %q)", mode, r.Addr, r.Received)
			}
		}
	}
	for _, s := range services {
		if n := s.accepts.Load(); n != 0 {
			h.t.Errorf("the host's service at %s accepted %d connections from sandboxes", s.Addr(), n)
		}
	}
}

// metadataAddr is the cloud metadata service's address.
var metadataAddr = netip.MustParseAddr("169.254.169.254")

// The cloud metadata address is out of reach. If the host reaches a metadata service
// there, that is the target; otherwise the test creates one (a test host).
func testMetadata(h *harness) {
	target := netip.AddrPortFrom(metadataAddr, 80).String()
	var fake *testHost
	if c, err := net.DialTimeout("tcp", target, connectTimeout); err == nil {
		_ = c.Close()
		h.t.Logf("the host reaches a metadata service at %s: sandboxes must not", target)
	} else {
		fake = newTestHost(h.t, metadataAddr, 80, "metadata", nil)
	}
	for _, mode := range h.modes() {
		s := h.startMode(mode)
		for _, r := range h.connect(s, []string{target, "[fd00:ec2::254]:80"}, "") {
			if r.OK {
				h.t.Errorf("a sandbox with egress %s reached the metadata address %s (received %q)", mode, r.Addr, r.Received)
			}
		}
	}
	if fake != nil && fake.accepts.Load() != 0 {
		h.t.Errorf("the test's metadata service accepted %d connections from sandboxes", fake.accepts.Load())
	}
}

// Egress policy: with NONE nothing outside is reachable; with PUBLIC an internet host is,
// and hosts in private ranges (each routed from the host, as a LAN would be) are not.
func testEgressPolicy(h *harness) {
	prefixes := map[string]netip.Prefix{
		"internet":           netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 stands for the internet
		"private 10/8":       netip.MustParsePrefix("10.0.0.0/8"),
		"private 172.16/12":  netip.MustParsePrefix("172.16.0.0/12"),
		"private 192.168/16": netip.MustParsePrefix("192.168.0.0/16"),
	}
	hosts := map[string]*testHost{}
	var addrs []string
	for _, name := range slices.Sorted(maps.Keys(prefixes)) {
		p := prefixes[name]
		th := newTestHost(h.t, randomAddr(p), 80, name, func() netip.Addr { return randomAddr(p) })
		hosts[th.Addr()] = th
		addrs = append(addrs, th.Addr())
	}
	none := h.startMode(sandbox.NetworkNone)
	for _, r := range h.connect(none, addrs, "") {
		if r.OK {
			h.t.Errorf("a sandbox with egress NONE reached the %s host %s", hosts[r.Addr].name, r.Addr)
		}
	}
	if !slices.Contains(h.modes(), sandbox.NetworkPublic) {
		h.t.Skipf("driver %s does not offer PUBLIC egress: the PUBLIC cases are skipped", h.d.Name())
	}
	public := h.startMode(sandbox.NetworkPublic)
	for _, r := range h.connect(public, addrs, "") {
		th := hosts[r.Addr]
		internet := th.name == "internet"
		switch {
		case internet && (!r.OK || r.Received != th.banner):
			h.t.Errorf("a sandbox with egress PUBLIC cannot reach the internet host %s: %s, received %q", r.Addr, r.attempt, r.Received)
		case !internet && r.OK:
			h.t.Errorf("a sandbox with egress PUBLIC reached the %s host %s", th.name, r.Addr)
		}
	}
}
