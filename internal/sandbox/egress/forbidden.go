package egress

import (
	"net"
	"net/netip"
)

// forbiddenV4 are the IPv4 ranges no sandbox may reach, whatever its mode: everything that
// is not the public internet. TEST-NET ranges (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24) are deliberately absent: they stand in for "the internet" in tests.
var forbiddenV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, including 169.254.169.254 metadata
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking, often used inside networks
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, including 255.255.255.255
}

// ForbiddenPrefixes returns the built-in IPv4 ranges that sandboxes never reach. IPv6 is
// refused entirely.
func ForbiddenPrefixes() []netip.Prefix {
	return append([]netip.Prefix(nil), forbiddenV4...)
}

// addrGuard decides which resolved addresses the allowlist proxy may dial.
type addrGuard struct {
	blocked []netip.Prefix // forbiddenV4 plus the configured extras and the sandbox subnet
	// local lists the host's own addresses; nil means net.InterfaceAddrs.
	local func() ([]netip.Addr, error)
}

// allowed reports whether a may be dialed: IPv4, outside every blocked range, and not an
// address of this host.
func (g addrGuard) allowed(a netip.Addr) (bool, error) {
	a = a.Unmap()
	if !a.Is4() {
		return false, nil
	}
	for _, p := range g.blocked {
		if p.Contains(a) {
			return false, nil
		}
	}
	local := g.local
	if local == nil {
		local = hostAddrs
	}
	own, err := local()
	if err != nil {
		return false, err
	}
	for _, o := range own {
		if o.Unmap() == a {
			return false, nil
		}
	}
	return true, nil
}

// hostAddrs lists the addresses of every interface in the calling thread's network
// namespace (the host's, for Berth's own goroutines).
func hostAddrs() ([]netip.Addr, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}
